import math

import numpy as np
import pytest

from neurocircuits.experiments import run_experiment
from neurocircuits.experiments.criticality_coding import simulate_scn


def test_criticality_coding_quick(tmp_path):
    res = run_experiment("criticality-coding", scale="quick", seed=0, out=tmp_path)
    claims = {c.name: c for c in res.claims}
    # branching-process controls through the same analysis
    for name in ("control: critical branching process alpha_S", "control: critical branching process alpha_T",
                 "control: critical branching process gamma = <S>(T) exponent"):
        assert claims[name].holds, (name, claims[name].measured)
    # low noise: synchronous volleys, supercritical; coding error minimal at intermediate noise
    assert claims["Shew's kappa at the lowest noise (supercritical)"].holds
    assert claims["coding error is minimal at an intermediate noise (index of minimum, interior)"].holds
    levels = res.metrics["levels"]
    mse = np.array([r["mse"] for r in levels])
    assert mse.argmin() not in (0, len(mse) - 1) and mse.min() < 0.5 * mse[0]
    assert all(math.isfinite(r["kappa"]) and r["n_avalanches"] > 50 for r in levels)
    # diagnostics of the high-noise side: several spikes per one-step bin, and a rate-matched
    # Poisson surrogate binned the same way is itself above kappa = 1
    for r in levels:
        assert r["bin_ms"] >= 0.1 - 1e-12 and r["events_per_bin"] > 0 and r["fano"] > 0
    assert levels[-1]["events_per_bin"] > 1.0 and levels[-1]["kappa_poisson_surrogate"] > 1.0
    assert levels[0]["kappa"] > levels[0]["kappa_poisson_surrogate"]  # low noise: synchrony, not chance
    assert (tmp_path / "criticality-coding" / "figures" / "error_and_kappa_vs_noise.png").exists()


def test_scn_tracks_signal_and_rejects_bad_input():
    st, mse = simulate_scn(50, 0.5 / 50**2 * 3, 500.0, seed=1)
    assert mse < 0.3 and st.n_spikes > 0
    st2, mse2 = simulate_scn(50, 0.5 / 50**2 * 3, 500.0, seed=1)
    np.testing.assert_array_equal(st.times_ms, st2.times_ms)
    with pytest.raises(ValueError, match="noise"):
        simulate_scn(50, -1.0, 100.0)
    with pytest.raises(ValueError, match="dt_ms"):
        simulate_scn(50, 0.0, 100.0, dt_ms=0.0)
    with pytest.raises(ValueError, match="n_neurons"):
        simulate_scn(0, 0.0, 100.0)
