import numpy as np
import pytest

from neurocircuits.data.spikes import SpikeTrains


def make():
    return SpikeTrains.from_arrays([5.0, 1.0, 3.0, 9.5, 2.0], [1, 0, 2, 0, 0], n_neurons=3, duration_ms=10.0)


def test_sorted_and_counts():
    st = make()
    assert np.all(np.diff(st.times_ms) >= 0)
    assert st.n_spikes == 5
    np.testing.assert_allclose(st.rates_hz(), [3 / 0.01, 1 / 0.01, 1 / 0.01])
    np.testing.assert_array_equal(st.population_counts(5.0), [3, 2])
    b = st.binned(5.0)
    assert b.shape == (2, 3) and b.sum() == 5
    np.testing.assert_array_equal(b[:, 0], [2, 1])
    np.testing.assert_array_equal(st.binned(5.0, neurons=[2, 0]), b[:, [2, 0]])


def test_raster_round_trip():
    rng = np.random.default_rng(0)
    raster = (rng.random((50, 7)) < 0.2).astype(int)
    raster[3, 2] = 2
    st = SpikeTrains.from_raster(raster, dt_ms=1.0)
    np.testing.assert_array_equal(st.binned(1.0), raster)


def test_isi_cv_of_regular_train_is_zero():
    st = SpikeTrains.from_arrays(np.arange(10) * 10.0, np.zeros(10, int), 2, 100.0)
    cv = st.isi_cv()
    assert cv[0] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(cv[1])  # silent neuron: documented NaN


def test_select_window_and_neurons():
    st = make().select(neurons=[0], t_start_ms=1.5, t_stop_ms=10.0)
    assert st.n_neurons == 1 and st.duration_ms == 8.5
    np.testing.assert_allclose(st.times_ms, [0.5, 8.0])


def test_npz_round_trip(tmp_path):
    st = make()
    path = st.save(tmp_path / "rec.npz")
    back = SpikeTrains.load(path)
    np.testing.assert_array_equal(back.times_ms, st.times_ms)
    np.testing.assert_array_equal(back.ids, st.ids)
    assert back.n_neurons == 3 and back.duration_ms == 10.0


@pytest.mark.parametrize(
    "times, ids, n, dur, match",
    [
        ([1.0, -1.0], [0, 0], 2, 10.0, ">= 0"),
        ([1.0, 12.0], [0, 0], 2, 10.0, "duration_ms"),
        ([1.0, 2.0], [0, 5], 2, 10.0, r"\[0, 2\)"),
        ([1.0, np.nan], [0, 0], 2, 10.0, "NaN"),
        ([1.0], [0, 1], 2, 10.0, "equal length"),
        ([1.0], [0], 0, 10.0, "n_neurons"),
        ([1.0], [0], 2, -1.0, "duration_ms"),
    ],
)
def test_bad_input(times, ids, n, dur, match):
    with pytest.raises(ValueError, match=match):
        SpikeTrains.from_arrays(times, ids, n, dur)


def test_unsorted_rejected_by_plain_constructor():
    with pytest.raises(ValueError, match="sorted"):
        SpikeTrains(np.array([2.0, 1.0]), np.array([0, 0]), 1, 5.0)


def test_bad_bin_width():
    with pytest.raises(ValueError, match="bin_ms"):
        make().population_counts(0.0)
