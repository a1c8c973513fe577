"""``SpikeTrains``: the recording format shared by simulation, training and analysis.

A recording of ``n_neurons`` neurons over ``[0, duration_ms)`` is two parallel arrays: spike
times (ms, sorted ascending) and neuron ids (integers in ``[0, n_neurons)``). Analysis reads only
this (or arrays derived from it), never a simulator's internals. Saved as ``.npz`` without pickle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurocircuits.validation import check_float, check_int


#: Times within this fraction of a bin below a bin edge count as on the edge: spike times on a
#: simulation grid (k dt) divided by a bin of m steps can land a rounding error below an integer
#: (0.9 / 0.30000000000000004 = 2.9999999999999996) and would otherwise fall into the previous bin.
EDGE_TOLERANCE = 1e-9


def bin_index(times_ms, bin_ms: float) -> np.ndarray:
    """Bin of each time for bins ``[k Δt, (k+1) Δt)``: floor(t / Δt + EDGE_TOLERANCE) (int64)."""
    return (np.asarray(times_ms, dtype=np.float64) / bin_ms + EDGE_TOLERANCE).astype(np.int64)


@dataclass(frozen=True)
class SpikeTrains:
    """Spike times ``times_ms`` (float64, ascending) of neurons ``ids`` (int64) out of
    ``n_neurons``, recorded over ``[0, duration_ms)``.

    Construct with :meth:`from_arrays` to sort and validate unsorted input; the plain
    constructor validates but does not sort (it rejects unsorted times).
    """

    times_ms: np.ndarray
    ids: np.ndarray
    n_neurons: int
    duration_ms: float

    def __post_init__(self) -> None:
        n = check_int("n_neurons", self.n_neurons, min_value=1)
        dur = check_float("duration_ms", self.duration_ms, positive=True)
        t = np.asarray(self.times_ms, dtype=np.float64)
        i = np.asarray(self.ids)
        if t.ndim != 1 or i.ndim != 1 or t.shape != i.shape:
            raise ValueError(f"times_ms and ids must be 1-D arrays of equal length, got shapes "
                             f"{t.shape} and {i.shape}")
        if i.size and i.dtype.kind not in "iu":
            if not np.all(np.equal(np.mod(i, 1), 0)):
                raise TypeError(f"ids must be integers, got dtype {i.dtype}")
        i = i.astype(np.int64)
        if t.size:
            if not np.isfinite(t).all():
                raise ValueError("times_ms contains NaN or infinite values")
            if t[0] < 0 or t.min() < 0:
                raise ValueError(f"spike times must be >= 0 ms, got minimum {t.min()}")
            if t.max() >= dur:
                raise ValueError(f"spike times must be < duration_ms = {dur}, got maximum {t.max()}")
            if np.any(np.diff(t) < 0):
                raise ValueError("times_ms must be sorted ascending (use SpikeTrains.from_arrays to sort)")
            if i.min() < 0 or i.max() >= n:
                bad = i[(i < 0) | (i >= n)][0]
                raise ValueError(f"neuron ids must lie in [0, {n}), got {bad}")
        t.setflags(write=False)
        i.setflags(write=False)
        object.__setattr__(self, "times_ms", t)
        object.__setattr__(self, "ids", i)
        object.__setattr__(self, "n_neurons", n)
        object.__setattr__(self, "duration_ms", dur)

    # construction -------------------------------------------------------------------------
    @classmethod
    def from_arrays(cls, times_ms, ids, n_neurons: int, duration_ms: float) -> "SpikeTrains":
        """Sort by time (stable, so equal times keep their id order) and validate."""
        t = np.asarray(times_ms, dtype=np.float64).ravel()
        i = np.asarray(ids).ravel()
        if t.shape != i.shape:
            raise ValueError(f"times_ms and ids must have equal length, got {t.size} and {i.size}")
        order = np.argsort(t, kind="stable")
        return cls(t[order], i[order], n_neurons, duration_ms)

    @classmethod
    def from_raster(cls, raster, dt_ms: float) -> "SpikeTrains":
        """From a ``[T, N]`` array of spike counts / booleans; bin k becomes time k * dt_ms.
        A bin holding c > 1 spikes gives c spikes at that time."""
        dt = check_float("dt_ms", dt_ms, positive=True)
        r = np.asarray(raster)
        if r.ndim != 2:
            raise ValueError(f"raster must be [T, N], got shape {r.shape}")
        if r.shape[0] == 0 or r.shape[1] == 0:
            raise ValueError(f"raster must have T > 0 and N > 0, got shape {r.shape}")
        counts = r.astype(np.int64)
        if np.any(counts < 0):
            raise ValueError("raster must hold non-negative spike counts")
        steps, ids = np.nonzero(counts)
        reps = counts[steps, ids]
        return cls(np.repeat(steps * dt, reps), np.repeat(ids, reps), r.shape[1], r.shape[0] * dt)

    # basic properties ---------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.times_ms.size)

    @property
    def n_spikes(self) -> int:
        return len(self)

    def rates_hz(self) -> np.ndarray:
        """Mean firing rate of each neuron over the recording, in Hz."""
        counts = np.bincount(self.ids, minlength=self.n_neurons)
        return counts / (self.duration_ms * 1e-3)

    def mean_rate_hz(self) -> float:
        return float(self.n_spikes / self.n_neurons / (self.duration_ms * 1e-3))

    def bin_edges(self, bin_ms: float) -> np.ndarray:
        b = check_float("bin_ms", bin_ms, positive=True)
        n_bins = int(np.ceil(self.duration_ms / b - 1e-9))
        return np.arange(n_bins + 1) * b

    def population_counts(self, bin_ms: float) -> np.ndarray:
        """Spikes of all neurons per time bin, ``[n_bins]`` (int64); O(n_bins) memory."""
        edges = self.bin_edges(bin_ms)
        idx = np.minimum(bin_index(self.times_ms, bin_ms), edges.size - 2)
        return np.bincount(idx, minlength=edges.size - 1)

    def binned(self, bin_ms: float, neurons=None) -> np.ndarray:
        """Spike counts ``[n_bins, n]`` per time bin and neuron (all neurons, or those listed)."""
        edges = self.bin_edges(bin_ms)
        n_bins = edges.size - 1
        idx = np.minimum(bin_index(self.times_ms, bin_ms), n_bins - 1)
        if neurons is None:
            out = np.zeros((n_bins, self.n_neurons), dtype=np.int64)
            np.add.at(out, (idx, self.ids), 1)
            return out
        sel = np.asarray(neurons, dtype=np.int64)
        if sel.ndim != 1 or (sel.size and (sel.min() < 0 or sel.max() >= self.n_neurons)):
            raise ValueError(f"neurons must be a 1-D list of ids in [0, {self.n_neurons})")
        pos = np.full(self.n_neurons, -1, dtype=np.int64)
        pos[sel] = np.arange(sel.size)
        keep = pos[self.ids] >= 0
        out = np.zeros((n_bins, sel.size), dtype=np.int64)
        np.add.at(out, (idx[keep], pos[self.ids[keep]]), 1)
        return out

    def trains(self) -> list[np.ndarray]:
        """Spike times of each neuron, a list of ``n_neurons`` sorted arrays."""
        order = np.argsort(self.ids, kind="stable")
        splits = np.cumsum(np.bincount(self.ids, minlength=self.n_neurons))[:-1]
        return np.split(self.times_ms[order], splits)

    def isi_cv(self, min_spikes: int = 3) -> np.ndarray:
        """Coefficient of variation of the inter-spike intervals of each neuron; NaN for neurons
        with fewer than ``min_spikes`` spikes (documented, not silent: use ``np.nanmean``)."""
        check_int("min_spikes", min_spikes, min_value=3)
        cv = np.full(self.n_neurons, np.nan)
        for k, tr in enumerate(self.trains()):
            if tr.size >= min_spikes:
                isi = np.diff(tr)
                m = isi.mean()
                cv[k] = isi.std() / m if m > 0 else np.nan
        return cv

    def select(self, neurons=None, t_start_ms: float = 0.0, t_stop_ms: float | None = None) -> "SpikeTrains":
        """A sub-recording: chosen neurons (renumbered 0..len-1 in the given order) and a time
        window, shifted to start at 0."""
        stop = self.duration_ms if t_stop_ms is None else float(t_stop_ms)
        if not 0 <= t_start_ms < stop <= self.duration_ms:
            raise ValueError(f"window [{t_start_ms}, {stop}) must lie inside [0, {self.duration_ms}] "
                             "and be non-empty")
        m = (self.times_ms >= t_start_ms) & (self.times_ms < stop)
        t, i = self.times_ms[m] - t_start_ms, self.ids[m]
        n = self.n_neurons
        if neurons is not None:
            sel = np.asarray(neurons, dtype=np.int64)
            if sel.ndim != 1 or sel.size == 0 or sel.min() < 0 or sel.max() >= n:
                raise ValueError(f"neurons must be a non-empty 1-D list of ids in [0, {n})")
            pos = np.full(n, -1, dtype=np.int64)
            pos[sel] = np.arange(sel.size)
            keep = pos[i] >= 0
            t, i, n = t[keep], pos[i[keep]], sel.size
        return SpikeTrains(t, i, n, stop - t_start_ms)

    # I/O ------------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write ``.npz`` (no pickle)."""
        path = Path(path)
        np.savez_compressed(path, times_ms=self.times_ms, ids=self.ids,
                            n_neurons=np.int64(self.n_neurons), duration_ms=np.float64(self.duration_ms))
        return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")

    @classmethod
    def load(cls, path) -> "SpikeTrains":
        with np.load(Path(path), allow_pickle=False) as f:
            return cls(f["times_ms"], f["ids"], int(f["n_neurons"]), float(f["duration_ms"]))

    def __repr__(self) -> str:
        return (f"SpikeTrains({self.n_spikes} spikes, {self.n_neurons} neurons, "
                f"{self.duration_ms:g} ms, {self.mean_rate_hz():.3g} Hz)")
