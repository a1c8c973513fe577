import sys

import numpy as np
import pytest

from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.io import from_neo, read_nwb_units, to_neo, write_nwb_units


def _recording(seed=0, n=7, dur=1234.5):
    rng = np.random.default_rng(seed)
    n_sp = 400
    t = rng.uniform(0, dur, n_sp)
    t[:5] = 0.1 * np.arange(5)  # times on a grid, and a few shared times across neurons
    t[5:8] = 17.3
    i = rng.integers(0, n - 1, n_sp)  # the last neuron stays silent: n_neurons must survive anyway
    st = SpikeTrains.from_arrays(t, i, n, dur)
    order = np.lexsort((st.ids, st.times_ms))
    return st, st.times_ms[order], st.ids[order]


def test_neo_round_trip_exact():
    neo = pytest.importorskip("neo", reason="neo is not installed (pip install neurocircuits[io])")
    pq = pytest.importorskip("quantities", reason="quantities is not installed (pip install neurocircuits[io])")
    st, t, i = _recording()
    trains = to_neo(st)
    assert len(trains) == st.n_neurons and all(isinstance(tr, neo.SpikeTrain) for tr in trains)
    assert trains[3].annotations["neuron_id"] == 3 and trains[3].units == pq.ms
    assert float(trains[0].t_stop) == st.duration_ms and trains[-1].size == 0
    back = from_neo(trains)
    np.testing.assert_array_equal(back.times_ms, t)  # ms stays ms: bit-exact
    np.testing.assert_array_equal(back.ids, i)
    assert back.n_neurons == st.n_neurons and back.duration_ms == st.duration_ms
    # trains in seconds, listed out of order, ids from the annotation
    sec = [neo.SpikeTrain(tr.rescale(pq.s), t_stop=tr.t_stop.rescale(pq.s), neuron_id=k)
           for k, tr in reversed(list(enumerate(trains)))]
    b2 = from_neo(sec)
    np.testing.assert_allclose(b2.times_ms, t, rtol=4 * np.finfo(float).eps, atol=0)
    np.testing.assert_array_equal(b2.ids, i)
    assert b2.duration_ms == pytest.approx(st.duration_ms, rel=1e-15)


def test_neo_bad_input():
    neo = pytest.importorskip("neo", reason="neo is not installed (pip install neurocircuits[io])")
    pq = pytest.importorskip("quantities", reason="quantities is not installed (pip install neurocircuits[io])")
    with pytest.raises(ValueError, match="empty"):
        from_neo([])
    with pytest.raises(TypeError, match=r"trains\[0\]"):
        from_neo([np.arange(3.0)])
    a = neo.SpikeTrain([1.0] * pq.ms, t_stop=10 * pq.ms, neuron_id=2)
    with pytest.raises(ValueError, match="neuron_id 2"):
        from_neo([a, a])
    with pytest.raises(TypeError, match="SpikeTrains"):
        to_neo([1.0, 2.0])
    with pytest.raises(ValueError, match=">= 0"):  # the recording starts at 0 ms
        from_neo([neo.SpikeTrain([-5.0] * pq.ms, t_start=-10 * pq.ms, t_stop=10 * pq.ms)])


def test_nwb_round_trip(tmp_path):
    pytest.importorskip("pynwb", reason="pynwb is not installed (pip install neurocircuits[io])")
    st, t, i = _recording(seed=1)
    path = write_nwb_units(st, tmp_path / "rec.nwb")
    back = read_nwb_units(path)
    np.testing.assert_allclose(back.times_ms, t, rtol=4 * np.finfo(float).eps, atol=0)  # ms -> s -> ms
    np.testing.assert_array_equal(back.ids, i)
    assert back.n_neurons == st.n_neurons
    assert back.duration_ms == pytest.approx(st.duration_ms, rel=4 * np.finfo(float).eps)
    with pytest.raises(FileExistsError, match="overwrite"):
        write_nwb_units(st, path)
    write_nwb_units(st.select(neurons=[0, 1], t_start_ms=0.0, t_stop_ms=100.0), path, overwrite=True)
    small = read_nwb_units(path)
    assert small.n_neurons == 2 and small.duration_ms == pytest.approx(100.0)
    with pytest.raises(FileNotFoundError, match="no NWB file"):
        read_nwb_units(tmp_path / "missing.nwb")


def test_missing_packages_give_install_hint(monkeypatch):
    for mod in ("neo", "pynwb", "quantities"):
        monkeypatch.setitem(sys.modules, mod, None)  # makes `import mod` raise ImportError
    st = SpikeTrains.from_arrays([1.0], [0], 1, 10.0)
    with pytest.raises(ImportError, match=r"pip install neurocircuits\[io\]"):
        to_neo(st)
    with pytest.raises(ImportError, match=r"'pynwb'.*pip install neurocircuits\[io\]"):
        write_nwb_units(st, "unused.nwb")
