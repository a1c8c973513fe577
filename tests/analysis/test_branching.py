import numpy as np
import pytest
from scipy import special

from neurocircuits.analysis.branching import (
    branching_ratio_naive,
    mr_estimator,
    regression_slopes,
    shew_kappa,
)
from neurocircuits.analysis.powerlaw import fit_power_law, sample_discrete_power_law
from neurocircuits.sim.branching import (
    branching_network,
    driven_branching_process,
    galton_watson_avalanches,
    subsample_counts,
)


def test_regression_slopes_match_polyfit():
    a = driven_branching_process(0.8, 5.0, 5000, seed=0)
    r = regression_slopes(a, 3)
    for k in (1, 2, 3):
        assert r[k - 1] == pytest.approx(np.polyfit(a[:-k], a[k:], 1)[0], rel=1e-10)


def test_driven_process_stationary_mean_and_seed():
    a = driven_branching_process(0.9, 10.0, 100_000, seed=1)
    assert a.mean() == pytest.approx(100.0, rel=0.03)
    np.testing.assert_array_equal(a[:100], driven_branching_process(0.9, 10.0, 100_000, seed=1)[:100])
    assert not np.array_equal(a[:100], driven_branching_process(0.9, 10.0, 100_000, seed=2)[:100])


@pytest.mark.parametrize("m,frac", [(0.9, 0.05), (0.98, 0.1), (0.98, 0.05)])
def test_mr_estimator_recovers_m_under_subsampling(m, frac):
    a = driven_branching_process(m, 400 * (1 - m), 100_000, seed=int(100 * m + 1000 * frac))
    sub = subsample_counts(a, frac, seed=3)
    naive = branching_ratio_naive(sub)
    mr = mr_estimator(sub, k_max=int(4 / (1 - m)))
    assert abs(mr.m - m) / m < 0.02
    assert naive < 0.8 * m  # the conventional estimator is badly biased
    assert mr.b == pytest.approx(naive / mr.m, rel=0.2)
    assert branching_ratio_naive(a) == pytest.approx(m, abs=0.01)  # full sampling: fine


def test_mr_on_network_unit_subsample_matches_full_activity():
    run = branching_network(10_000, 10, 0.95, 2e-4, 30_000, record=0.05, seed=4)
    m_full = branching_ratio_naive(run.counts)
    assert run.recorded.size == 500
    mr = mr_estimator(run.sub_counts, k_max=80)
    assert abs(mr.m - m_full) / m_full < 0.02
    assert branching_ratio_naive(run.sub_counts) < 0.6 * m_full
    assert m_full == pytest.approx(0.95, abs=0.02)


def test_galton_watson_means_and_critical_exponents():
    s, d, tr = galton_watson_avalanches(0.5, 50_000, seed=5)
    assert s.mean() == pytest.approx(2.0, rel=0.03)  # E[S] = 1 / (1 - m)
    sb, _, _ = galton_watson_avalanches(0.5, 50_000, offspring="binomial", k=4, seed=5)
    assert sb.mean() == pytest.approx(2.0, rel=0.03)
    s, d, tr = galton_watson_avalanches(1.0, 50_000, offspring="binomial", k=10, max_size=10**6, seed=6)
    fs, fd = fit_power_law(s[~tr]), fit_power_law(d[~tr])
    assert fs.alpha == pytest.approx(1.5, abs=0.1)
    assert fd.alpha == pytest.approx(2.0, abs=0.15)


def test_network_targets_distinct_without_self():
    from neurocircuits.sim.branching import _random_targets

    t = _random_targets(50, 49, np.random.default_rng(0))  # every other unit exactly once
    for u in range(50):
        assert sorted(t[u]) == [v for v in range(50) if v != u]
    t = _random_targets(1000, 10, np.random.default_rng(1))
    assert all(len(set(row)) == 10 for row in t) and not (t == np.arange(1000)[:, None]).any()
    # in-degrees are those of uniform sampling: mean K
    assert np.bincount(t.ravel(), minlength=1000).mean() == 10


def test_network_recording_and_refractoriness():
    run = branching_network(200, 5, 1.5, 0.01, 2000, refractory_steps=2, record_spikes=True, seed=7)
    st = run.spikes
    assert st.n_spikes == run.counts.sum()
    np.testing.assert_array_equal(st.population_counts(1.0), run.counts)
    # no unit is active twice within refractory_steps + 1 steps
    for tr in st.trains()[:50]:
        if tr.size > 1:
            assert np.diff(tr).min() >= 3
    # spontaneous activity alone (sigma = 0): density h
    quiet = branching_network(1000, 5, 0.0, 0.02, 5000, seed=8)
    assert quiet.density.mean() == pytest.approx(0.02, rel=0.03)


def test_shew_kappa():
    # reference CDF against a brute-force sum
    x = sample_discrete_power_law(1.5, 100_000, xmin=1, xmax=1000, seed=9)
    k = shew_kappa(x, size_min=1, size_max=1000)
    assert k == pytest.approx(1.0, abs=0.02)
    rng = np.random.default_rng(10)
    sub = np.floor(rng.exponential(3.0, 20_000)).astype(int) + 1
    assert shew_kappa(sub, size_min=1, size_max=1000) < 0.97  # subcritical: excess of small sizes
    sup = np.concatenate([x[:5000], rng.integers(500, 1000, 5000)])
    assert shew_kappa(sup, size_min=1, size_max=1000) > 1.2
    pts = np.unique(np.round(np.geomspace(1, 50, 10)).astype(int))
    s = np.arange(1, 51)
    ref = np.cumsum(s ** -1.5) / np.sum(s ** -1.5)
    data = np.repeat(s, 3)
    emp = np.searchsorted(np.sort(data), pts, side="right") / data.size
    assert shew_kappa(data, size_max=50) == pytest.approx(1 + np.mean(ref[pts - 1] - emp), abs=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="1-D"):
        regression_slopes(np.ones((3, 3)), 1)
    with pytest.raises(ValueError, match="NaN"):
        branching_ratio_naive(np.array([1.0, np.nan, 2.0, 3.0]))
    with pytest.raises(ValueError, match="constant"):
        branching_ratio_naive(np.ones(100))
    with pytest.raises(ValueError, match="k_max"):
        mr_estimator(np.arange(10), k_max=20)
    with pytest.raises(ValueError, match="at least 2"):
        shew_kappa([3])
    with pytest.raises(ValueError, match="size_max"):
        shew_kappa([3, 3, 3])
    with pytest.raises(ValueError, match=">= 1"):
        shew_kappa([0, 3, 3])
    with pytest.raises(ValueError, match="sigma <= k"):
        branching_network(100, 5, 6.0, 0.0, 10)
    with pytest.raises(ValueError, match="h"):
        branching_network(100, 5, 1.0, 1.5, 10)
    with pytest.raises(ValueError, match="n_units"):
        branching_network(0, 5, 1.0, 0.1, 10)
    with pytest.raises(ValueError, match="offspring"):
        galton_watson_avalanches(1.0, 10, offspring="geometric")
    with pytest.raises(ValueError, match="m"):
        driven_branching_process(-0.5, 1.0, 10)
    with pytest.raises(ValueError, match="fraction"):
        subsample_counts(np.arange(5), 1.5)
    with pytest.raises(ValueError, match="record"):
        branching_network(100, 5, 1.0, 0.1, 10, record=[200])
    assert special.zeta(1.5, 1) > 0  # scipy's Hurwitz zeta is available
