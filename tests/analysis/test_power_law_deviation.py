"""The deviation of a distribution from its best power law over a percentile range (the κ of
Safavi et al. 2024) and the curvature that tells a bump from a cutoff, against direct
computation and against processes whose regime is known."""

import math

import numpy as np
import pytest

from neurocircuits.analysis.powerlaw import (fit_power_law, power_law_deviation, power_law_pmf,
                                             sample_discrete_power_law)
from neurocircuits.sim.branching import galton_watson_avalanches


def test_matches_direct_computation():
    rng = np.random.default_rng(3)
    x = np.concatenate([sample_discrete_power_law(1.7, 3000, seed=4), rng.integers(20, 60, 300)])
    r = power_law_deviation(x, upper_percentile=95, bins_per_decade=5)
    xmax = int(np.sort(x)[math.ceil(0.95 * x.size) - 1])  # smallest value with F(x) >= 0.95
    assert r.xmax == xmax
    x_in = x[x <= xmax]
    alpha = fit_power_law(x_in, xmin=1, xmax=xmax).alpha
    assert r.alpha == pytest.approx(alpha, abs=1e-6)
    ratios, centres = [], []
    for lo, hi in zip(r.edges[:-1], r.edges[1:]):
        k = np.arange(lo, hi)
        emp = np.mean((x_in >= lo) & (x_in < hi))
        mod = power_law_pmf(k, alpha, 1, xmax).sum()
        ratios.append(math.log10(emp / mod) if emp > 0 else np.nan)
        centres.append(math.sqrt(lo * (hi - 1)))
    ratios = np.array(ratios)
    np.testing.assert_allclose(r.log_ratio, ratios, atol=1e-6)
    mods = [power_law_pmf(np.arange(lo, hi), alpha, 1, xmax).sum() for lo, hi in zip(r.edges[:-1], r.edges[1:])]
    np.testing.assert_allclose(r.model_probability, mods, rtol=1e-6)
    assert r.deviation == pytest.approx(np.nanmean(np.abs(ratios)), abs=1e-6)
    u = (np.log10(centres) - 0.5 * math.log10(xmax)) / (0.5 * math.log10(xmax))
    ok = np.isfinite(ratios)
    c2 = np.polyfit(u[ok], ratios[ok], 2)[0]
    assert r.curvature == pytest.approx(c2, abs=1e-6)
    assert r.edges[0] == 1 and r.edges[-1] == xmax + 1
    assert r.n_range == x_in.size and r.n_total == x.size


def test_power_law_is_flat():
    r = power_law_deviation(sample_discrete_power_law(1.5, 100_000, seed=1), n_boot=100, seed=0)
    assert r.deviation < 0.03
    assert abs(r.curvature) < 0.05
    assert r.curvature_ci[0] < 0 < r.curvature_ci[1]


def test_branching_regimes():
    """Subcritical branching bends the size law down; a critical one is nearly straight; a bump
    of system-wide events bends it up."""
    sub = galton_watson_avalanches(0.8, 50_000, max_size=10**4, seed=2)[0]
    crit_s, _, tr = galton_watson_avalanches(1.0, 50_000, max_size=10**4, seed=2)
    r_sub = power_law_deviation(sub, n_boot=50, seed=0)
    r_crit = power_law_deviation(crit_s[~tr])
    assert r_sub.curvature_ci[1] < -0.1
    assert abs(r_crit.curvature) < 0.06
    assert r_crit.deviation < r_sub.deviation
    rng = np.random.default_rng(5)
    bump = np.concatenate([sample_discrete_power_law(1.5, 40_000, xmax=300, seed=6),
                           np.rint(rng.normal(1000, 80, 10_000)).astype(np.int64)])
    r_bump = power_law_deviation(bump, n_boot=50, seed=0)
    assert r_bump.curvature_ci[0] > 0.2
    assert r_bump.deviation > r_crit.deviation


def test_wide_range_costs_one_term_per_bin():
    """A heavy tail reaching 10^9 is binned, not enumerated value by value."""
    x = sample_discrete_power_law(1.2, 200_000, seed=1)
    r = power_law_deviation(x)
    assert r.xmax > 10**8 and r.edges.size < 120
    assert r.deviation < 0.03 and abs(r.curvature) < 0.05


def test_bootstrap_is_reproducible():
    x = galton_watson_avalanches(0.9, 5000, seed=1)[0]
    a = power_law_deviation(x, n_boot=30, seed=7)
    b = power_law_deviation(x, n_boot=30, seed=7)
    assert a.curvature_ci == b.curvature_ci
    assert a.curvature_ci[0] < a.curvature_ci[1]


def test_bad_input():
    x = sample_discrete_power_law(1.5, 1000, seed=1)
    with pytest.raises(ValueError, match="upper_percentile"):
        power_law_deviation(x, upper_percentile=0)
    with pytest.raises(ValueError, match="upper_percentile"):
        power_law_deviation(x, upper_percentile=101)
    with pytest.raises(ValueError, match="not above xmin"):
        power_law_deviation(np.ones(100, int))
    with pytest.raises(ValueError, match="confidence"):
        power_law_deviation(x, confidence=1.0)
    with pytest.raises(ValueError, match="n_boot"):
        power_law_deviation(x, n_boot=-1)
    with pytest.raises(ValueError, match="distinct values"):
        power_law_deviation(np.array([1, 2] * 50))
    with pytest.raises(ValueError, match="empty"):
        power_law_deviation(np.array([], int))
    with pytest.raises(ValueError, match=">= 1"):
        power_law_deviation(np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="NaN"):
        power_law_deviation(np.array([1.0, 2.0, np.nan]))
    with pytest.raises(TypeError, match="integers"):
        power_law_deviation(np.array([1.5, 2.0, 3.0]))
    with pytest.raises(ValueError, match="bins_per_decade"):
        power_law_deviation(x, bins_per_decade=0)
