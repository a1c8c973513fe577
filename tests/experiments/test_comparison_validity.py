import numpy as np

from neurocircuits.experiments import run_experiment
from neurocircuits.experiments.comparison_validity import make_representations


def test_comparison_validity_quick(tmp_path):
    res = run_experiment("comparison-validity", "quick", seed=0, out=tmp_path)
    assert res.all_hold, [c.name for c in res.failed_claims()]
    m = res.metrics["mean_scores"]
    assert m["linear CKA"]["B"] > m["linear CKA"]["A"]
    assert m["ridge predictivity R²"]["A"] > m["ridge predictivity R²"]["B"]
    assert res.metrics["fraction_inverted"] == 1.0
    assert (tmp_path / "comparison-validity" / "figures" / "measures_disagree.png").exists()


def test_ground_truth_construction():
    rng = np.random.default_rng(0)
    x, a, b, k = make_representations(100, 10, 30, 0.8, rng)
    assert x.shape == a.shape == b.shape == (100, 30)
    # A is an invertible linear map of X: least squares recovers X exactly
    coef = np.linalg.lstsq(a, x, rcond=None)[0]
    assert np.abs(a @ coef - x).max() < 1e-8
    xc = x - x.mean(0)
    s = np.linalg.svd(xc, compute_uv=False) ** 2
    assert np.cumsum(s)[k - 1] / s.sum() >= 0.8 > np.cumsum(s)[k - 2] / s.sum()
