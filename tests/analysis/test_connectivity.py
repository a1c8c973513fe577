import numpy as np
import pytest

from neurocircuits.analysis.connectivity import (
    average_precision,
    ccg_scores,
    fit_poisson_glm,
    history_features,
    roc_auc,
    score_edges,
)
from neurocircuits.sim.linear_rate import simulate_glm_network


def test_roc_auc_and_ap_against_brute_force():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 5, 60).astype(float)  # many ties
    lab = rng.random(60) < 0.4
    pos, neg = s[lab], s[~lab]
    brute = np.mean([(p > q) + 0.5 * (p == q) for p in pos for q in neg])
    assert roc_auc(s, lab) == pytest.approx(brute)
    from sklearn.metrics import average_precision_score, roc_auc_score
    assert roc_auc(s, lab) == pytest.approx(roc_auc_score(lab, s))
    s2 = rng.standard_normal(60)  # no ties: AP equals sklearn's
    assert average_precision(s2, lab) == pytest.approx(average_precision_score(lab, s2))
    assert roc_auc(lab.astype(float), lab) == 1.0


def test_history_features_closed_form():
    y = np.zeros((6, 2))
    y[1, 0] = 1
    y[3, 1] = 2
    h = history_features(y, tau_bins=2.0)
    d = np.exp(-0.5)
    np.testing.assert_allclose(h[:, 0], [0, 0, 1, d, d**2, d**3])
    np.testing.assert_allclose(h[:, 1], [0, 0, 0, 0, 2, 2 * d])


def test_glm_recovers_weights_of_glm_network():
    rng = np.random.default_rng(1)
    n = 12
    w = (rng.random((n, n)) < 0.2) * np.where(np.arange(n) < 9, 0.7, -1.4)[None, :]
    np.fill_diagonal(w, 0)
    st = simulate_glm_network(w, 15.0, 60_000.0, dt_ms=1.0, tau_syn_ms=5.0, seed=2)
    assert st.mean_rate_hz() == pytest.approx(15.0, rel=0.4)
    y = st.binned(1.0)
    w_hat, b_hat = fit_poisson_glm(y, tau_bins=5.0, l2=1.0)
    off = ~np.eye(n, dtype=bool)
    assert np.corrcoef(w_hat[off], w[off])[0, 1] > 0.9
    assert np.exp(b_hat).mean() * 1000 == pytest.approx(15.0, rel=0.15)  # baseline rate, Hz
    assert score_edges(w_hat, w)["auc"] > 0.95
    assert score_edges(ccg_scores(y, max_lag_bins=15), w)["auc"] > 0.85
    # same seed, same spikes
    st2 = simulate_glm_network(w, 15.0, 1000.0, seed=5)
    st3 = simulate_glm_network(w, 15.0, 1000.0, seed=5)
    assert np.array_equal(st2.times_ms, st3.times_ms) and np.array_equal(st2.ids, st3.ids)


def test_glm_gradient_matches_finite_differences():
    # A tiny problem where L-BFGS converges: the gradient of the penalised likelihood vanishes.
    rng = np.random.default_rng(3)
    y = rng.poisson(0.2, size=(3000, 3)).astype(float)
    w_hat, b_hat = fit_poisson_glm(y, tau_bins=2.0, l2=5.0, tol=1e-10, max_iter=500)
    h = history_features(y, 2.0)

    def objective(w_, b_):
        eta = h @ w_.T + b_
        return float((np.exp(eta) - y * eta).sum() + 0.5 * 5.0 * (w_ * w_).sum())

    f0 = objective(w_hat, b_hat)
    eps = 1e-5
    for i, j in [(0, 1), (2, 0), (1, 1)]:
        dw = np.zeros_like(w_hat)
        dw[i, j] = eps
        grad = (objective(w_hat + dw, b_hat) - objective(w_hat - dw, b_hat)) / (2 * eps)
        assert abs(grad) < 1e-3 * max(1.0, abs(f0) / y.shape[0])


def test_ccg_detects_a_planted_lag():
    rng = np.random.default_rng(4)
    y = (rng.random((20000, 3)) < 0.02).astype(int)
    y[2:, 1] |= y[:-2, 0]  # neuron 0 drives neuron 1 at lag 2
    z = ccg_scores(y, max_lag_bins=3)
    assert z[1, 0] > 10 and abs(z[0, 1]) < 4 and abs(z[2, 0]) < 4
    assert np.all(np.diag(z) == 0)


def test_bad_input():
    with pytest.raises(ValueError, match="both positive and negative"):
        roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="equal size"):
        roc_auc([0.1, 0.2], [1])
    with pytest.raises(ValueError, match="0/1"):
        roc_auc([0.1, 0.2], [2, 0])
    with pytest.raises(ValueError, match="never spike"):
        fit_poisson_glm(np.zeros((100, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        ccg_scores(-np.ones((10, 3)))
    with pytest.raises(ValueError, match="NaN"):
        ccg_scores(np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match="bin_ms"):
        ccg_scores(simulate_glm_network(np.zeros((2, 2)), 5.0, 100.0), bin_ms=0.0)
    with pytest.raises(ValueError, match="square"):
        score_edges(np.zeros((3, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="rate_hz"):
        simulate_glm_network(np.zeros((2, 2)), -1.0, 100.0)
    with pytest.raises(ValueError, match="tau_syn_ms"):
        simulate_glm_network(np.zeros((2, 2)), 1.0, 100.0, tau_syn_ms=0.0)
    with pytest.raises(ValueError, match="ran away"):
        simulate_glm_network(np.full((3, 3), 3.0), 50.0, 2000.0)
