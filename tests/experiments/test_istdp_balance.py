import numpy as np

from neurocircuits.experiments import run_experiment


def test_istdp_balance_quick(tmp_path):
    res = run_experiment("istdp-balance", "quick", seed=0, out=tmp_path)
    m = res.metrics
    assert len(res.claims) == 5
    # the two starts are far apart and end near rho0 = 3 Hz
    assert m["weak_first_rate_hz"] > 10.0 and m["strong_first_rate_hz"] < 1.0
    for name in ("weak", "strong"):
        assert abs(m[f"{name}_final_rate_hz"] - 3.0) < 0.5, m
        assert abs(m[f"{name}_final_ratio_I_over_E"] - 1.0) < 0.1, m
    # inhibition grew from the weak start and shrank from the strong start
    assert m["weak_w_end"] > 10 * m["weak_w_start"]
    assert m["strong_w_end"] < 0.8 * m["strong_w_start"]
    assert np.isfinite(m["weak_rate_per_s"]).all()
    assert res.all_hold
