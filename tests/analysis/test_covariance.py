import math

import numpy as np
import pytest

from neurocircuits.analysis.covariance import (
    CovarianceAccumulator,
    bulk_radius_from_statistics,
    count_covariance,
    covariance_statistics,
    estimate_bulk_radius,
)
from neurocircuits.analysis.dimensionality import participation_ratio, pca_variance_explained
from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.sim.linear_rate import (
    bulk_radius,
    ei_connectivity,
    linear_network_window_counts,
    long_window_covariance,
    random_connectivity,
    simulate_linear_network,
)


def test_streaming_matches_numpy_cov_for_counts_and_floats():
    rng = np.random.default_rng(0)
    counts = rng.poisson(2.0, size=(1003, 7))
    for chunk in (1, 64, 5000):
        c = count_covariance(counts, chunk_bins=chunk)
        np.testing.assert_allclose(c, np.cov(counts.T), rtol=1e-10, atol=1e-12)
    x = rng.standard_normal((500, 5)) * 3 + 1e6  # large mean: stable merge
    np.testing.assert_allclose(count_covariance(x, chunk_bins=37), np.cov(x.T), rtol=1e-7, atol=1e-7)


def test_spiketrains_covariance_equals_binned_covariance():
    rng = np.random.default_rng(1)
    n, dur = 6, 1000.0
    t = rng.uniform(0, dur, 3000)
    i = rng.integers(0, n, 3000)
    st = SpikeTrains.from_arrays(t, i, n, dur)
    ref = np.cov(st.binned(10.0).T)
    np.testing.assert_allclose(count_covariance(st, bin_ms=10.0, chunk_bins=7), ref, rtol=1e-12, atol=1e-12)
    sub = [4, 1]
    np.testing.assert_allclose(count_covariance(st, bin_ms=10.0, neurons=sub, chunk_bins=3),
                               np.cov(st.binned(10.0, neurons=sub).T), rtol=1e-12, atol=1e-12)


def test_statistics_brute_force():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((5, 5))
    c = a @ a.T
    st = covariance_statistics(c)
    off = c[~np.eye(5, dtype=bool)]
    assert st.mean_auto == pytest.approx(np.diag(c).mean())
    assert st.mean_cross == pytest.approx(off.mean())
    assert st.cross_var == pytest.approx(off.var())
    assert st.cross_sd == pytest.approx(off.std())


def test_wishart_bias_correction_is_unbiased():
    # Many small Gaussian samples: corrected δc² averages to the true one, raw one is inflated.
    rng = np.random.default_rng(3)
    n, k = 20, 30
    a = rng.standard_normal((n, n)) / np.sqrt(n)
    c_true = a @ a.T + np.eye(n)
    true = covariance_statistics(c_true).cross_var
    chol = np.linalg.cholesky(c_true)
    raw, cor = [], []
    for _ in range(400):
        x = rng.standard_normal((k, n)) @ chol.T
        c = np.cov(x.T)
        raw.append(covariance_statistics(c).cross_var)
        cor.append(covariance_statistics(c, n_samples=k).cross_var)
    assert np.mean(raw) > 1.5 * true
    assert np.mean(cor) == pytest.approx(true, rel=0.05)


def test_estimator_formula_and_closed_form():
    # R² = 1 - sqrt(a²/(a² + N δc²)) inverted by hand
    r = 0.7
    x = 1 / (1 - r * r) ** 2 - 1
    assert bulk_radius_from_statistics(2.0, x * 4.0 / 100, 100) == pytest.approx(r, abs=1e-12)
    w = random_connectivity(600, 0.5, seed=4)
    assert bulk_radius(w) == pytest.approx(0.5)
    c = long_window_covariance(w)
    np.testing.assert_allclose(c, np.linalg.inv(np.eye(600) - w) @ np.linalg.inv(np.eye(600) - w).T,
                               rtol=1e-9, atol=1e-12)
    assert estimate_bulk_radius(c) == pytest.approx(0.5, abs=0.015)
    sub = np.random.default_rng(0).choice(600, 120, replace=False)
    assert estimate_bulk_radius(c[np.ix_(sub, sub)], n_network=600) == pytest.approx(0.5, abs=0.02)
    we = ei_connectivity(600, 0.5, seed=5)
    assert bulk_radius(we) == pytest.approx(0.5)
    assert np.all(we[:, :480] >= 0) and np.all(we[:, 480:] <= 0)


def test_simulated_window_covariance_matches_closed_form():
    w = random_connectivity(40, 0.6, seed=6)
    x = linear_network_window_counts(w, 4000, 50, n_parallel=200, seed=7)
    c = count_covariance(x) / 50
    ref = long_window_covariance(w, noise_var=2.0)  # noise variance 2 σ² / h with σ = h = 1
    assert np.abs(c - ref).max() < 0.12 * np.abs(ref).max()
    assert np.corrcoef(c.ravel(), ref.ravel())[0, 1] > 0.98
    tr = simulate_linear_network(w, 20, seed=1, n_burn=5)
    assert tr.shape == (20, 40) and np.isfinite(tr).all()
    assert np.array_equal(tr, simulate_linear_network(w, 20, seed=1, n_burn=5))


def test_participation_ratio_and_pca():
    lam = np.array([4.0, 1.0, 1.0, 0.0])
    c = np.diag(lam)
    assert participation_ratio(c, covariance=True) == pytest.approx(36 / 18)
    np.testing.assert_allclose(pca_variance_explained(c, covariance=True), lam / 6)
    assert pca_variance_explained(c, covariance=True, cumulative=True)[-1] == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20000, 10))
    assert participation_ratio(x) == pytest.approx(10, rel=0.02)
    q, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    assert participation_ratio(x @ q) == pytest.approx(participation_ratio(x), rel=1e-9)


def test_bad_input():
    with pytest.raises(ValueError, match="2 samples"):
        count_covariance(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="shape"):
        count_covariance(np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        count_covariance(np.array([[1.0, np.nan], [0.0, 1.0], [1.0, 1.0]]))
    st = SpikeTrains.from_arrays([1.0], [0], 2, 100.0)
    with pytest.raises(ValueError, match="bin_ms"):
        count_covariance(st, bin_ms=0.0)
    with pytest.raises(ValueError, match="bin_ms is required"):
        count_covariance(st)
    with pytest.raises(ValueError, match="at least 2 bins"):
        count_covariance(st, bin_ms=100.0)
    acc = CovarianceAccumulator(3)
    with pytest.raises(ValueError, match="chunk must be"):
        acc.update(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="more than 1"):
        acc.covariance()
    with pytest.raises(ValueError, match="square"):
        covariance_statistics(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="N >= 2"):
        covariance_statistics(np.ones((1, 1)))
    with pytest.raises(ValueError, match="mean autocovariance"):
        estimate_bulk_radius(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n_network"):
        estimate_bulk_radius(np.eye(4), n_network=2)
    with pytest.raises(ValueError, match="radius"):
        random_connectivity(10, -0.1)
    with pytest.raises(ValueError, match="unstable"):
        simulate_linear_network(np.eye(3) * 1.5, 10)
    with pytest.raises(ValueError, match="zero variance"):
        participation_ratio(np.ones((5, 3)))
    assert math.isfinite(estimate_bulk_radius(np.eye(4)))  # no cross-covariance: R = 0
    assert estimate_bulk_radius(np.eye(4)) == 0.0
