import numpy as np

from neurocircuits.experiments import run_experiment
from neurocircuits.experiments.ground_truth_connectivity import make_circuit


def test_ground_truth_connectivity_quick(tmp_path):
    res = run_experiment("ground-truth-connectivity", "quick", seed=0, out=tmp_path)
    assert res.all_hold, [(c.name, c.measured) for c in res.failed_claims()]
    aucs = [r["glm"]["auc"] for r in res.metrics["by_duration"]]
    assert aucs[-1] > aucs[0]
    assert all(0.5 <= r["glm"]["auc"] <= 1.0 for r in res.metrics["by_observed"])
    assert res.metrics["mean_rate_hz"] > 5


def test_circuit_obeys_dale():
    w = make_circuit(20, 0.3, np.random.default_rng(0))
    assert np.all(np.diag(w) == 0)
    assert np.all(w[:, :16] >= 0) and np.all(w[:, 16:] <= 0)
