"""``SpikeTrains`` to and from the units table of an NWB file.

Neurodata Without Borders (Rübel et al. 2022, eLife 11:e78362, doi:10.7554/eLife.78362) stores
sorted spikes in the ``units`` table of an ``NWBFile``: one row per unit with its ``id``, a
ragged ``spike_times`` column in **seconds**, and optionally ``obs_intervals``, the time
intervals (s) in which the unit was observed. :func:`write_nwb_units` writes one row per neuron
(id = neuron id, neurons without spikes included) with ``obs_intervals = [[0, duration_ms/1000]]``,
so that :func:`read_nwb_units` recovers ``n_neurons`` and ``duration_ms``. Times go through the
conversion ``t_s = t_ms / 1000`` and back, exact to float64 rounding (a few ulp).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.io._optional import require
from neurocircuits.validation import check_float, check_int

__all__ = ["write_nwb_units", "read_nwb_units"]

_PURPOSE = "reading and writing NWB files"


def write_nwb_units(spikes: SpikeTrains, path, *, identifier: str = "neurocircuits-spiketrains",
                    session_description: str = "spike trains written by neurocircuits",
                    session_start_time: datetime | None = None, overwrite: bool = False) -> Path:
    """Write an NWB file holding ``spikes`` as its units table; returns the path.

    ``session_start_time`` defaults to 1970-01-01 UTC (a fixed value, so the same recording
    gives the same file contents); pass the real start of the recording when it is known.
    An existing file is only replaced with ``overwrite=True``."""
    if not isinstance(spikes, SpikeTrains):
        raise TypeError(f"spikes must be a SpikeTrains, got {type(spikes).__name__}")
    pynwb = require("pynwb", _PURPOSE)
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    if session_start_time is None:
        session_start_time = datetime(1970, 1, 1, tzinfo=timezone.utc)
    if session_start_time.tzinfo is None:
        raise ValueError(f"session_start_time must be timezone-aware, got {session_start_time!r}")
    nwb = pynwb.NWBFile(session_description=session_description, identifier=identifier,
                        session_start_time=session_start_time)
    dur_s = spikes.duration_ms / 1000.0
    for i, tr in enumerate(spikes.trains()):
        nwb.add_unit(id=i, spike_times=np.asarray(tr, dtype=np.float64) / 1000.0, obs_intervals=[[0.0, dur_s]])
    with pynwb.NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def read_nwb_units(path, *, n_neurons: int | None = None, duration_ms: float | None = None) -> SpikeTrains:
    """``SpikeTrains`` from the units table of an NWB file (spike times in s, converted to ms).

    Neuron ids are the units' ids (non-negative integers). ``n_neurons`` defaults to the largest
    id + 1 (at least the number of units); ``duration_ms`` to the end of the latest
    ``obs_intervals`` when the table has that column, otherwise it must be given. Spike times
    must lie in ``[0, duration_ms)``."""
    pynwb = require("pynwb", _PURPOSE)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no NWB file at {path}")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        units = nwb.units
        if units is None or len(units) == 0:
            raise ValueError(f"{path} has no units table (or an empty one): expected sorted spikes in nwb.units")
        uid = np.asarray(units.id[:], dtype=np.int64)
        if uid.min() < 0:
            raise ValueError(f"unit ids must be >= 0 to serve as neuron ids, got {uid.min()}")
        times, ids = [], []
        for row, nid in enumerate(uid):
            t = np.asarray(units["spike_times"][row], dtype=np.float64) * 1000.0
            times.append(t)
            ids.append(np.full(t.size, nid, dtype=np.int64))
        end_s = None
        if "obs_intervals" in units.colnames:
            ends = [np.asarray(units["obs_intervals"][row], dtype=np.float64).reshape(-1, 2)[:, 1].max()
                    for row in range(len(uid)) if len(units["obs_intervals"][row])]
            end_s = max(ends) if ends else None
    if duration_ms is not None:
        dur = check_float("duration_ms", duration_ms, positive=True)
    elif end_s is not None:
        dur = float(end_s) * 1000.0
        t_last = max((float(t[-1]) for t in times if t.size), default=-1.0)
        if dur <= t_last <= dur * (1 + 8 * np.finfo(np.float64).eps):
            # s -> ms rounding made the last spike touch the end of the interval: keep [0, dur)
            dur = float(np.nextafter(t_last, np.inf))
    else:
        raise ValueError(f"{path}: the units table has no obs_intervals; pass duration_ms")
    n = max(int(uid.max()) + 1, uid.size) if n_neurons is None else check_int("n_neurons", n_neurons, min_value=1)
    t = np.concatenate(times)
    i = np.concatenate(ids)
    order = np.lexsort((i, t))
    return SpikeTrains(t[order], i[order], n, dur)
