import math

import numpy as np
import pytest
from scipy import special

from neurocircuits.analysis.powerlaw import (
    compare_distributions,
    fit_discrete_lognormal,
    fit_power_law,
    power_law_cdf,
    power_law_gof,
    power_law_pmf,
    sample_discrete_power_law,
)


def test_pmf_normalised_and_matches_enumeration():
    # truncated support: brute-force normalisation
    k = np.arange(3, 501)
    p = power_law_pmf(k, 1.7, xmin=3, xmax=500)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    ref = k ** -1.7 / np.sum(k ** -1.7)
    np.testing.assert_allclose(p, ref, rtol=1e-10)
    # untruncated: partial sum plus the analytic tail zeta(a, K+1)
    k = np.arange(2, 100001)
    p = power_law_pmf(k, 2.2, xmin=2)
    assert p.sum() + special.zeta(2.2, 100001) / special.zeta(2.2, 2) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(power_law_cdf(k[:50], 2.2, 2), np.cumsum(p[:50]), rtol=1e-10)


def test_sampler_matches_pmf():
    x = sample_discrete_power_law(2.0, 200_000, xmin=2, seed=1)
    assert x.min() >= 2
    emp = np.array([(x == v).mean() for v in range(2, 8)])
    exact = power_law_pmf(np.arange(2, 8), 2.0, xmin=2)
    se = np.sqrt(exact * (1 - exact) / x.size)
    assert np.all(np.abs(emp - exact) < 5 * se)
    xt = sample_discrete_power_law(1.5, 50_000, xmin=1, xmax=40, seed=2)
    assert xt.max() <= 40
    np.testing.assert_array_equal(sample_discrete_power_law(1.5, 100, seed=7), sample_discrete_power_law(1.5, 100, seed=7))


def test_mle_equals_brute_force_maximum_and_se_equals_fisher_sum():
    x = sample_discrete_power_law(1.8, 3000, xmin=1, xmax=200, seed=3)
    f = fit_power_law(x, xmin=1, xmax=200)
    grid = np.linspace(1.5, 2.1, 6001)
    k = np.arange(1, 201, dtype=float)
    logz = np.log(np.array([np.sum(k ** -a) for a in grid]))
    ll = -x.size * logz - grid * np.log(x).sum()
    assert f.alpha == pytest.approx(grid[np.argmax(ll)], abs=2e-4)
    assert f.loglik == pytest.approx(ll.max(), abs=1e-2)
    # Fisher information = Var[log x] under the fitted model, by direct summation
    pk = k ** -f.alpha / np.sum(k ** -f.alpha)
    var = np.sum(pk * np.log(k) ** 2) - np.sum(pk * np.log(k)) ** 2
    assert f.sigma == pytest.approx(1 / math.sqrt(x.size * var), rel=1e-4)


def test_ks_distance_equals_supremum_over_all_integers():
    x = sample_discrete_power_law(2.0, 400, xmin=3, xmax=300, seed=4)
    f = fit_power_law(x, xmin=3, xmax=300)
    grid = np.arange(1, 301)
    femp = np.searchsorted(np.sort(x), grid, side="right") / x.size
    fmod = np.cumsum(power_law_pmf(grid, f.alpha, 3, 300))
    assert f.ks == pytest.approx(np.abs(femp - fmod).max(), abs=1e-12)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 2.7])
def test_recovers_alpha_within_standard_error(alpha):
    x = sample_discrete_power_law(alpha, 20_000, xmin=1, seed=int(alpha * 10))
    f = fit_power_law(x, xmin=1)
    assert abs(f.alpha - alpha) < 4 * f.sigma
    assert f.sigma == pytest.approx((alpha - 1) / math.sqrt(x.size), rel=0.6)


def test_xmin_scan_finds_the_start_of_the_tail():
    rng = np.random.default_rng(5)
    body = rng.integers(1, 20, size=4000)            # uniform body below 20
    tail = sample_discrete_power_law(2.3, 6000, xmin=20, seed=6)
    f = fit_power_law(np.concatenate([body, tail]))
    assert 15 <= f.xmin <= 30
    assert abs(f.alpha - 2.3) < 4 * f.sigma + 0.02
    assert f.ks_scan.min() == f.ks


def test_truncated_fit_recovers_alpha():
    x = sample_discrete_power_law(1.3, 20_000, xmin=1, xmax=1000, seed=8)
    f = fit_power_law(x, xmin=1, xmax=1000)
    assert abs(f.alpha - 1.3) < 4 * f.sigma


def test_likelihood_ratio_prefers_the_true_family():
    rng = np.random.default_rng(9)
    expo = np.floor(rng.exponential(8.0, 5000)).astype(int) + 1
    fe = fit_power_law(expo, xmin=1)
    assert compare_distributions(expo, fe, "exponential").preferred == "exponential"
    logn = np.floor(np.exp(rng.normal(3.0, 0.6, 5000))).astype(int)
    logn = logn[logn >= 1]
    fl = fit_power_law(logn, xmin=1)
    lr = compare_distributions(logn, fl, "lognormal")
    assert lr.preferred == "lognormal" and lr.R < 0 and lr.p < 0.01
    ln = fit_discrete_lognormal(logn, xmin=1)
    assert ln["mu"] == pytest.approx(3.0, abs=0.1) and ln["s"] == pytest.approx(0.6, abs=0.05)
    pl = sample_discrete_power_law(2.0, 5000, xmin=1, seed=10)
    fp = fit_power_law(pl, xmin=1)
    lr = compare_distributions(pl, fp, "exponential")
    assert lr.preferred == "power_law" and lr.R > 0
    assert 0 <= lr.p <= 1 and math.isfinite(lr.normalized)


def test_gof_bootstrap_accepts_power_law_rejects_exponential():
    pl = sample_discrete_power_law(2.0, 1000, xmin=1, seed=11)
    f = fit_power_law(pl, xmin=1)
    assert power_law_gof(pl, f, n_boot=40, seed=0) > 0.1
    rng = np.random.default_rng(12)
    ex = np.floor(rng.exponential(5.0, 1000)).astype(int) + 1
    fe = fit_power_law(ex, xmin=1)
    assert power_law_gof(ex, fe, n_boot=40, seed=0) < 0.1


def test_bad_input():
    with pytest.raises(ValueError, match="empty"):
        fit_power_law([])
    with pytest.raises(ValueError, match=">= 1"):
        fit_power_law([0, 1, 2] * 30)
    with pytest.raises(ValueError, match="NaN"):
        fit_power_law(np.array([1.0, np.nan] * 30))
    with pytest.raises(TypeError, match="integers"):
        fit_power_law(np.array([1.5, 2.0] * 30))
    with pytest.raises(ValueError, match="min_tail"):
        fit_power_law([1, 2, 3, 4])
    with pytest.raises(ValueError, match="min_tail"):
        fit_power_law(np.arange(1, 100), xmin=90)
    with pytest.raises(ValueError, match="xmax"):
        fit_power_law(np.arange(1, 100), xmin=10, xmax=5)
    with pytest.raises(ValueError, match="not identifiable"):
        fit_power_law([3] * 100, xmin=3)
    with pytest.raises(ValueError, match="min_tail"):
        fit_power_law([3] * 100)
    with pytest.raises(ValueError, match="alpha"):
        power_law_pmf([1, 2], 1.0)
    with pytest.raises(ValueError, match="alpha"):
        sample_discrete_power_law(0.5, 10)
    f = fit_power_law(np.arange(1, 100), xmin=1)
    with pytest.raises(ValueError, match="alternative"):
        compare_distributions(np.arange(1, 100), f, "gamma")
