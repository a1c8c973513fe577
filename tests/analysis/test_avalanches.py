import numpy as np
import pytest

from neurocircuits.analysis.avalanches import (
    avalanches_from_counts,
    avalanches_from_times,
    crackling_relation,
    detect_avalanches,
    mean_interevent_interval,
)
from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.sim.branching import galton_watson_avalanches


def _reference(counts):
    """Plain-Python avalanche detection: runs of non-empty bins."""
    out, cur = [], None
    for t, c in enumerate(counts):
        if c > 0:
            cur = [t, 0, 0] if cur is None else cur
            cur[1] += c
            cur[2] += 1
        elif cur is not None:
            out.append(cur)
            cur = None
    if cur is not None:
        out.append(cur)
    return out


def test_counts_by_hand_and_edges():
    av = avalanches_from_counts([0, 2, 3, 0, 0, 1, 0, 4], bin_ms=2.0)
    np.testing.assert_array_equal(av.sizes, [5, 1, 4])
    np.testing.assert_array_equal(av.durations, [2, 1, 1])
    np.testing.assert_array_equal(av.starts, [1, 5, 7])
    np.testing.assert_array_equal(av.durations_ms, [4.0, 2.0, 2.0])
    assert av.n_events == 10 and av.n_bins == 8
    av2 = avalanches_from_counts([0, 2, 3, 0, 0, 1, 0, 4], drop_edges=True)
    np.testing.assert_array_equal(av2.sizes, [5, 1])
    assert av2.edges_dropped == 1
    assert len(avalanches_from_counts([0, 0, 0])) == 0  # documented: no avalanches, not an error


def test_times_kernel_matches_reference_on_random_recordings():
    rng = np.random.default_rng(0)
    for trial in range(5):
        n, dur = 50, 2000.0
        rate = rng.uniform(0.2, 3.0) * 1e-3 * n  # spikes per ms
        k = rng.poisson(rate * dur) + 2
        st = SpikeTrains.from_arrays(rng.uniform(0, dur, k), rng.integers(0, n, k), n, dur)
        for bin_ms in (None, 0.7, 4.0):
            av = detect_avalanches(st, bin_ms)
            b = mean_interevent_interval(st.times_ms) if bin_ms is None else bin_ms
            assert av.bin_ms == pytest.approx(b)
            ref = _reference(st.population_counts(b))
            np.testing.assert_array_equal(av.starts, [r[0] for r in ref])
            np.testing.assert_array_equal(av.sizes, [r[1] for r in ref])
            np.testing.assert_array_equal(av.durations, [r[2] for r in ref])
            assert av.sizes.sum() == st.n_spikes
            av_c = detect_avalanches(st.population_counts(b))
            np.testing.assert_array_equal(av.sizes, av_c.sizes)


def test_default_bin_is_mean_interevent_interval_and_neuron_subset():
    st = SpikeTrains.from_arrays([1.0, 2.0, 4.0, 9.0, 9.5], [0, 1, 0, 2, 1], 3, 10.0)
    assert mean_interevent_interval(st.times_ms) == pytest.approx(8.5 / 4)
    av = detect_avalanches(st)
    assert av.bin_ms == pytest.approx(2.125)
    sub = detect_avalanches(st, 1.0, neurons=[0])
    np.testing.assert_array_equal(sub.sizes, [1, 1])


def test_bad_input():
    with pytest.raises(ValueError, match="no spikes"):
        detect_avalanches(SpikeTrains(np.array([]), np.array([], dtype=int), 3, 10.0))
    with pytest.raises(ValueError, match="sorted"):
        avalanches_from_times([3.0, 1.0, 2.0], 10.0, 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        avalanches_from_times([-1.0, 1.0], 10.0, 1.0)
    with pytest.raises(ValueError, match="duration_ms"):
        avalanches_from_times([1.0, 11.0], 10.0, 1.0)
    with pytest.raises(ValueError, match="bin_ms"):
        avalanches_from_times([1.0, 2.0], 10.0, 0.0)
    with pytest.raises(ValueError, match="bin_ms"):
        avalanches_from_counts([1, 2], bin_ms=-1.0)
    with pytest.raises(ValueError, match="2 events"):
        avalanches_from_times([1.0], 10.0)
    with pytest.raises(ValueError, match="t_last > t_first"):
        avalanches_from_times([1.0, 1.0], 10.0)
    with pytest.raises(ValueError, match="NaN"):
        avalanches_from_counts([1.0, np.nan])
    with pytest.raises(ValueError, match=">= 0"):
        avalanches_from_counts([1, -2])
    with pytest.raises(ValueError, match="1-D"):
        avalanches_from_counts(np.ones((3, 3), int))
    with pytest.raises(ValueError, match="empty"):
        avalanches_from_counts([])
    with pytest.raises(ValueError, match="ids"):
        SpikeTrains(np.array([1.0]), np.array([5]), 3, 10.0)  # ids >= n rejected by the recording


def test_critical_branching_exponents_and_crackling_relation():
    s, d, tr = galton_watson_avalanches(1.0, 60_000, max_size=10**6, seed=1)
    cr = crackling_relation(s[~tr], d[~tr])
    assert cr.size_fit.alpha == pytest.approx(1.5, abs=0.1)
    assert cr.duration_fit.alpha == pytest.approx(2.0, abs=0.15)
    assert cr.gamma_fit == pytest.approx(2.0, abs=0.15)
    assert abs(cr.gamma_fit - cr.gamma_pred) < 0.2
    # <S>(T) by brute force at one duration
    t0 = cr.durations[5]
    assert cr.mean_sizes[5] == pytest.approx(s[~tr][d[~tr] == t0].mean())
    with pytest.raises(ValueError, match="3 durations"):
        crackling_relation(s[:300], d[:300], t_min=1, t_max=2)


def test_grid_times_on_bin_edges_match_population_counts():
    # times on a 0.1 ms grid binned at 0.2 / 0.3 ms: many lie exactly on (rounded) bin edges
    rng = np.random.default_rng(3)
    steps = np.sort(rng.integers(0, 5000, 4000))
    st = SpikeTrains(steps * 0.1, rng.integers(0, 10, steps.size), 10, 500.0)
    for b in (0.1, 0.2, 0.3, 0.7):
        av = detect_avalanches(st, b)
        ref = _reference(st.population_counts(b))
        np.testing.assert_array_equal(av.sizes, [r[1] for r in ref])
        np.testing.assert_array_equal(av.starts, [r[0] for r in ref])


def test_unsorted_or_nan_inside_is_caught_in_the_pass():
    with pytest.raises(ValueError, match=r"sorted ascending: times_ms\[2\]"):
        avalanches_from_times([0.5, 3.0, 2.0, 4.0], 10.0, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        avalanches_from_times([0.5, np.nan, 4.0], 10.0, 1.0)


def test_times_kernel_across_blocks_and_bad_values_at_block_edges():
    # the compiled pass works in blocks of 2048 spikes: recordings of several blocks, and bad
    # values just before, on and after a block boundary, are found at their exact index
    rng = np.random.default_rng(5)
    n, dur = 100, 3000.0
    k = 9_000
    st = SpikeTrains.from_arrays(rng.uniform(0, dur, k), rng.integers(0, n, k), n, dur)
    for bin_ms in (None, 0.05, 1.0):
        av = detect_avalanches(st, bin_ms)
        b = mean_interevent_interval(st.times_ms) if bin_ms is None else bin_ms
        ref = _reference(st.population_counts(b))
        np.testing.assert_array_equal(av.starts, [r[0] for r in ref])
        np.testing.assert_array_equal(av.sizes, [r[1] for r in ref])
        np.testing.assert_array_equal(av.durations, [r[2] for r in ref])
    t0 = st.times_ms
    for pos in (2047, 2048, 2049, 6143, 6144):
        t = t0.copy()
        t[pos] = t[pos - 1] - 1e-3
        with pytest.raises(ValueError, match=rf"sorted ascending: times_ms\[{pos}\]"):
            avalanches_from_times(t, dur, 1.0)
        for v in (np.nan, np.inf):
            t = t0.copy()
            t[pos] = v
            with pytest.raises(ValueError, match=rf"NaN or infinite values \(first at index {pos}\)"):
                avalanches_from_times(t, dur, 1.0)
