"""``SpikeTrains`` to and from lists of Neo ``SpikeTrain`` objects.

Neo (Garcia et al. 2014, Front. Neuroinform. 8:10, doi:10.3389/fninf.2014.00010) holds one
``SpikeTrain`` per unit: a ``quantities`` array of spike times with units, ``t_start`` and
``t_stop``. :func:`to_neo` writes one train per neuron (neurons without spikes included), times
in milliseconds on ``[0, duration_ms]``, the neuron id in ``name`` and in the annotation
``neuron_id``; :func:`from_neo` reads such a list back (or any list of trains), converting
times to milliseconds.
"""

from __future__ import annotations

import numpy as np

from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.io._optional import require
from neurocircuits.validation import check_float, check_int

__all__ = ["to_neo", "from_neo"]

_PURPOSE = "conversion to and from Neo"


def to_neo(spikes: SpikeTrains) -> list:
    """One ``neo.SpikeTrain`` per neuron, ``i = 0..n_neurons-1``: times in ms, ``t_start = 0 ms``,
    ``t_stop = duration_ms``, ``name = str(i)``, annotation ``neuron_id = i``."""
    if not isinstance(spikes, SpikeTrains):
        raise TypeError(f"spikes must be a SpikeTrains, got {type(spikes).__name__}")
    neo = require("neo", _PURPOSE)
    pq = require("quantities", _PURPOSE)
    out = []
    for i, tr in enumerate(spikes.trains()):
        out.append(neo.SpikeTrain(np.asarray(tr, dtype=np.float64) * pq.ms, t_start=0.0 * pq.ms,
                                  t_stop=spikes.duration_ms * pq.ms, name=str(i), neuron_id=i))
    return out


def from_neo(trains, *, n_neurons: int | None = None, duration_ms: float | None = None) -> SpikeTrains:
    """``SpikeTrains`` from a list of ``neo.SpikeTrain``.

    The neuron id of a train is its annotation ``neuron_id`` when present, otherwise its position
    in the list; ids must be distinct. ``n_neurons`` defaults to the largest id + 1 (at least the
    number of trains), ``duration_ms`` to the largest ``t_stop``. Times are converted to ms; they
    must be >= 0 (the recording starts at 0 ms) and below the duration."""
    neo = require("neo", _PURPOSE)
    pq = require("quantities", _PURPOSE)
    if isinstance(trains, neo.SpikeTrain):
        trains = [trains]
    trains = list(trains)
    if not trains:
        raise ValueError("trains is empty: expected a non-empty list of neo.SpikeTrain")
    times, ids, seen = [], [], set()
    t_stop = 0.0
    for k, tr in enumerate(trains):
        if not isinstance(tr, neo.SpikeTrain):
            raise TypeError(f"trains[{k}] must be a neo.SpikeTrain, got {type(tr).__name__}")
        nid = tr.annotations.get("neuron_id", k)
        nid = check_int(f"neuron_id of trains[{k}]", int(nid) if isinstance(nid, np.integer) else nid, min_value=0)
        if nid in seen:
            raise ValueError(f"neuron_id {nid} appears in more than one train (trains[{k}])")
        seen.add(nid)
        t = np.asarray(tr.rescale(pq.ms).magnitude, dtype=np.float64).ravel()
        times.append(t)
        ids.append(np.full(t.size, nid, dtype=np.int64))
        t_stop = max(t_stop, float(tr.t_stop.rescale(pq.ms).magnitude))
    n = max(max(seen) + 1, len(trains)) if n_neurons is None else check_int("n_neurons", n_neurons, min_value=1)
    dur = t_stop if duration_ms is None else check_float("duration_ms", duration_ms, positive=True)
    t = np.concatenate(times)
    i = np.concatenate(ids)
    order = np.lexsort((i, t))  # by time, then id: a deterministic order for equal times
    return SpikeTrains(t[order], i[order], n, dur)
