import numpy as np

from neurocircuits.experiments import run_experiment


def test_quasicriticality_quick(tmp_path):
    res = run_experiment("quasicriticality", scale="quick", seed=0, out=tmp_path)
    m = res.metrics
    sig = np.array(m["sigma_peak"])
    assert len(sig) == len(m["drives"]) == 3
    # the measured branching ratio at the peak falls below 1 and decreases with drive
    assert np.all(np.diff(sig) < 0) and sig[-1] < 1.0
    # ... while the control parameter at the peak rises above 1
    assert np.all(np.array(m["kappa_peak"]) > 1.0)
    assert all(c.holds for c in res.claims), [c.name for c in res.failed_claims()]
    assert (tmp_path / "quasicriticality" / "figures" / "susceptibility_curves.png").exists()
    chi = np.array(m["chi"])
    assert np.isfinite(chi).all() and chi.min() >= 0
