"""Neuronal avalanches: detection from binned population activity, size and duration
distributions, and the crackling-noise scaling relation.

Definition (Beggs & Plenz 2003, J. Neurosci. 23:11167, doi:10.1523/JNEUROSCI.23-35-11167.2003):
the population's events are binned with width ``Δt`` (default: the population's mean
inter-event interval, ``Δt = (t_last - t_first) / (n_spikes - 1)``); an avalanche is a maximal
run of consecutive non-empty bins bounded by empty bins. Its size ``S`` is the number of events
in it and its duration ``T`` the number of bins (``T Δt`` in ms).

At criticality ``P(S) ~ S^-α_S``, ``P(T) ~ T^-α_T`` and the mean size at fixed duration scales
as ``<S>(T) ~ T^γ`` with the crackling-noise relation (Sethna, Dahmen & Myers 2001, Nature
410:242, arXiv:cond-mat/0102091; Friedman et al. 2012, PRL 108:208102)::

    γ = (α_T - 1) / (α_S - 1)

For a critical (mean-field) branching process α_S = 3/2, α_T = 2 and γ = 2.

Detection is one compiled pass over the sorted spike times (in blocks: bins computed vectorised,
then scanned) or over the counts, with memory proportional to the number of avalanches (at most
half the number of bins): no binned array is built from a recording.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from neurocircuits.analysis.powerlaw import PowerLawFit, fit_power_law
from neurocircuits.data.spikes import EDGE_TOLERANCE, SpikeTrains
from neurocircuits.validation import check_float, check_int

__all__ = [
    "Avalanches",
    "CracklingResult",
    "detect_avalanches",
    "avalanches_from_counts",
    "avalanches_from_times",
    "mean_interevent_interval",
    "crackling_relation",
]


@dataclass(frozen=True)
class Avalanches:
    """Avalanches of one recording.

    sizes: events per avalanche (int64); durations: bins per avalanche (int64); starts: index of
    the first bin of each; bin_ms: bin width (ms; 1.0 with ``unit="bins"`` for counts without a
    time unit); n_bins: bins in the recording; n_events: events counted (all bins);
    edges_dropped: avalanches touching the first or last bin that were left out.
    """

    sizes: np.ndarray
    durations: np.ndarray
    starts: np.ndarray
    bin_ms: float
    n_bins: int
    n_events: int
    edges_dropped: int = 0

    def __len__(self) -> int:
        return int(self.sizes.size)

    @property
    def durations_ms(self) -> np.ndarray:
        return self.durations * self.bin_ms

    def summary(self) -> dict:
        n = len(self)
        return {"n_avalanches": n, "bin_ms": self.bin_ms, "n_bins": self.n_bins,
                "mean_size": float(self.sizes.mean()) if n else 0.0,
                "mean_duration_bins": float(self.durations.mean()) if n else 0.0,
                "max_size": int(self.sizes.max()) if n else 0}


# ---------------------------------------------------------------------------------------------
# compiled kernels
@numba.njit(cache=True)
def _grow(a, n):
    return _grow_to(a, n, max(2 * a.size, 16))


# Spikes are handled in blocks of this many: a block's bin indices are computed in a vectorised
# loop (no dependency from one spike to the next), then scanned for avalanche boundaries.
_BLOCK = 2048


@numba.njit(cache=True)
def _append(sizes, durs, starts, n, ls, ld, lst, k):
    """Append the first k entries of the block buffers to the growing outputs."""
    if n + k > sizes.size:
        cap = max(2 * sizes.size, n + k)
        sizes, durs, starts = _grow_to(sizes, n, cap), _grow_to(durs, n, cap), _grow_to(starts, n, cap)
    sizes[n:n + k] = ls[:k]
    durs[n:n + k] = ld[:k]
    starts[n:n + k] = lst[:k]
    return sizes, durs, starts


@numba.njit(cache=True)
def _grow_to(a, n, cap):
    b = np.empty(cap, dtype=a.dtype)
    b[:n] = a[:n]
    return b


@numba.njit(cache=True, inline="always")
def _bin_of(t, bin_ms, last):
    """Bin of time t: floor(t / bin_ms + tol), clipped to the last bin."""
    return min(np.int64(t / bin_ms + EDGE_TOLERANCE), last)


@numba.njit(cache=True)
def _first_bad(times, i0, i1):
    """First index in [i0, i1) that is below its predecessor, NaN or +inf, and its status
    (1 unsorted, 2 non-finite); (-1, 0) if none."""
    prev = times[i0 - 1] if i0 > 0 else -np.inf
    for i in range(i0, i1):
        t = times[i]
        if not (t >= prev):
            return i, (2 if not np.isfinite(t) else 1)
        if t == np.inf:
            return i, 2
        prev = t
    return -1, 0


@numba.njit(cache=True)
def _kernel_times(times, bin_ms, n_bins, check):
    """Avalanches of sorted times, bin b = floor(t / bin_ms + tol) clipped to n_bins - 1 (tol =
    ``EDGE_TOLERANCE``, as in ``SpikeTrains.population_counts``).

    Block by block: first the bin of every spike of the block, in a loop without a dependency
    between spikes (so it vectorises; with ``check`` the same loop counts times that are below
    their predecessor, NaN or +inf), then a scan that only compares each bin with the previous
    one. A bin more than one past the previous closes an avalanche. Returns sizes, durations,
    starts, and the status 1 (unsorted) or 2 (non-finite) with the first offending index
    (times before it are processed; the bins computed for bad values are never read). Times
    must be >= 0, which the caller checks: the first bin then always opens an avalanche."""
    sizes = np.empty(1024, np.int64)
    durs = np.empty(1024, np.int64)
    starts = np.empty(1024, np.int64)
    bb = np.empty(_BLOCK, np.int64)
    ls = np.empty(_BLOCK, np.int64)  # avalanches closed within the block
    ld = np.empty(_BLOCK, np.int64)
    lst = np.empty(_BLOCK, np.int64)
    n = 0
    cur = np.int64(-2)
    start = np.int64(-1)
    size = np.int64(0)
    last = n_bins - 1
    status = 0
    bad = -1
    nt = times.size
    for b0 in range(0, nt, _BLOCK):
        m = min(_BLOCK, nt - b0)
        if check:
            nbad = 0
            j0 = 0
            if b0 == 0:
                x = times[0]
                nbad += np.int64(not (x < np.inf))
                bb[0] = _bin_of(x, bin_ms, last)
                j0 = 1
            for j in range(j0, m):
                x = times[b0 + j]
                nbad += np.int64(not (x >= times[b0 + j - 1])) + np.int64(not (x < np.inf))
                bb[j] = _bin_of(x, bin_ms, last)
            if nbad > 0:
                bad, status = _first_bad(times, b0, b0 + m)
                m = bad - b0  # the bins before it are valid
        else:
            for j in range(m):
                bb[j] = _bin_of(times[b0 + j], bin_ms, last)
        k = 0
        for j in range(m):
            b = bb[j]
            if b > cur + 1:  # an empty bin lies between: close the running avalanche
                ls[k] = size
                ld[k] = cur - start + 1
                lst[k] = start
                k += np.int64(size > 0)
                start = b
                size = 0
            size += 1
            cur = b
        sizes, durs, starts = _append(sizes, durs, starts, n, ls, ld, lst, k)
        n += k
        if status != 0:
            break
    if size > 0 and status == 0:
        ls[0] = size
        ld[0] = cur - start + 1
        lst[0] = start
        sizes, durs, starts = _append(sizes, durs, starts, n, ls, ld, lst, 1)
        n += 1
    return sizes[:n].copy(), durs[:n].copy(), starts[:n].copy(), status, bad


@numba.njit(cache=True)
def _kernel_counts(counts):
    cap = 1024
    sizes = np.empty(cap, np.int64)
    durs = np.empty(cap, np.int64)
    starts = np.empty(cap, np.int64)
    n = 0
    size = np.int64(0)
    start = np.int64(-1)
    for t in range(counts.size):
        c = counts[t]
        if c > 0:
            if size == 0:
                start = t
            size += c
        elif size > 0:
            if n == sizes.size:
                sizes = _grow(sizes, n)
                durs = _grow(durs, n)
                starts = _grow(starts, n)
            sizes[n] = size
            durs[n] = t - start
            starts[n] = start
            n += 1
            size = 0
    if size > 0:
        if n == sizes.size:
            sizes = _grow(sizes, n)
            durs = _grow(durs, n)
            starts = _grow(starts, n)
        sizes[n] = size
        durs[n] = counts.size - start
        starts[n] = start
        n += 1
    return sizes[:n].copy(), durs[:n].copy(), starts[:n].copy()


def _finish(sizes, durs, starts, bin_ms, n_bins, n_events, drop_edges) -> Avalanches:
    dropped = 0
    if drop_edges and sizes.size:
        keep = (starts > 0) & (starts + durs < n_bins)
        dropped = int(sizes.size - keep.sum())
        sizes, durs, starts = sizes[keep], durs[keep], starts[keep]
    return Avalanches(sizes, durs, starts, float(bin_ms), int(n_bins), int(n_events), dropped)


# ---------------------------------------------------------------------------------------------
def mean_interevent_interval(times_ms) -> float:
    """Mean interval (ms) between consecutive events of the pooled population:
    ``(t_last - t_first) / (n - 1)`` for sorted times. Needs two distinct times."""
    t = np.asarray(times_ms, dtype=np.float64)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"need at least 2 events to define a mean inter-event interval, got {t.size}")
    span = float(t[-1] - t[0])
    if not math.isfinite(span) or span <= 0:
        raise ValueError(f"mean inter-event interval needs t_last > t_first, got span {span} ms")
    return span / (t.size - 1)


def avalanches_from_counts(counts, *, bin_ms: float = 1.0, drop_edges: bool = False) -> Avalanches:
    """Avalanches of a 1-D array of event counts per bin (non-negative integers).

    ``bin_ms`` only labels the bins' width. ``drop_edges=True`` leaves out avalanches touching
    the first or last bin (they may be cut by the recording's ends)."""
    c = np.asarray(counts)
    if c.ndim != 1:
        raise ValueError(f"counts must be 1-D [n_bins], got shape {c.shape}")
    if c.size == 0:
        raise ValueError("counts is empty: need at least one bin")
    if c.dtype.kind == "f":
        if not np.isfinite(c).all():
            raise ValueError("counts contains NaN or infinite values")
        if not np.all(c == np.round(c)):
            raise TypeError("counts must hold integers, got non-integer floats")
    elif c.dtype.kind not in "iub":
        raise TypeError(f"counts must be an integer array, got dtype {c.dtype}")
    c = c.astype(np.int64)
    if c.min() < 0:
        raise ValueError(f"counts must be >= 0, got minimum {c.min()}")
    bin_ms = check_float("bin_ms", bin_ms, positive=True)
    s, d, st = _kernel_counts(c)
    return _finish(s, d, st, bin_ms, c.size, int(c.sum()), drop_edges)


def avalanches_from_times(times_ms, duration_ms: float, bin_ms: float | None = None, *,
                          drop_edges: bool = False, check_sorted: bool = True) -> Avalanches:
    """Avalanches of pooled event times (ms, ascending, in ``[0, duration_ms)``) in one pass.

    ``check_sorted=True`` verifies ascending, finite times inside the same compiled pass (no
    extra pass, no temporaries); pass False only for input known to be sorted (a SpikeTrains).

    ``bin_ms=None`` uses the mean inter-event interval. Bins are ``[k Δt, (k+1) Δt)``; the last
    bin may be partial (as in ``SpikeTrains.population_counts``)."""
    t = np.asarray(times_ms)
    if t.ndim != 1:
        raise ValueError(f"times_ms must be 1-D, got shape {t.shape}")
    if t.dtype.kind not in "fiu":
        raise TypeError(f"times_ms must be numeric, got dtype {t.dtype}")
    t = t.astype(np.float64, copy=False)
    dur = check_float("duration_ms", duration_ms, positive=True)
    if t.size == 0:
        raise ValueError("the recording has no events: avalanches are undefined")
    if not (math.isfinite(t[0]) and math.isfinite(t[-1])):
        raise ValueError("times_ms contains NaN or infinite values")
    if t[0] < 0:
        raise ValueError(f"event times must be >= 0 ms, got {t[0]}")
    if t[-1] >= dur:
        raise ValueError(f"event times must be < duration_ms = {dur}, got {t[-1]}")
    if bin_ms is None:
        bin_ms = mean_interevent_interval(t)
    else:
        bin_ms = check_float("bin_ms", bin_ms, positive=True)
    n_bins = int(math.ceil(dur / bin_ms - 1e-9))
    s, d, st, status, bad = _kernel_times(t, bin_ms, n_bins, bool(check_sorted))
    if status == 1:
        raise ValueError(f"times_ms must be sorted ascending: times_ms[{bad}] = {t[bad]} < times_ms[{bad - 1}] "
                         f"= {t[bad - 1]}")
    if status == 2:
        raise ValueError(f"times_ms contains NaN or infinite values (first at index {bad})")
    return _finish(s, d, st, bin_ms, n_bins, t.size, drop_edges)


def detect_avalanches(data, bin_ms: float | None = None, *, drop_edges: bool = False,
                      neurons=None) -> Avalanches:
    """Avalanches of a :class:`SpikeTrains` recording (optionally of a subset of ``neurons``) or
    of a 1-D count array.

    For recordings ``bin_ms=None`` takes the population's mean inter-event interval; for count
    arrays the bins are the array's (``bin_ms`` defaults to 1 and only labels them)."""
    if isinstance(data, SpikeTrains):
        st = data if neurons is None else data.select(neurons)
        if st.n_spikes == 0:
            raise ValueError("the recording has no spikes: avalanches are undefined")
        # SpikeTrains guarantees sorted, finite, in-range times
        return avalanches_from_times(st.times_ms, st.duration_ms, bin_ms, drop_edges=drop_edges,
                                     check_sorted=False)
    if neurons is not None:
        raise ValueError("neurons= applies to SpikeTrains recordings only")
    return avalanches_from_counts(data, bin_ms=1.0 if bin_ms is None else bin_ms, drop_edges=drop_edges)


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CracklingResult:
    """Crackling-noise check.

    gamma_fit: slope of log <S> against log T (least squares over durations in
    [t_min, t_max] with at least ``min_count`` avalanches each); gamma_se: its standard error;
    gamma_pred: (α_T - 1) / (α_S - 1); size_fit/duration_fit: the power-law fits used;
    durations/mean_sizes: the <S>(T) curve (all durations)."""

    gamma_fit: float
    gamma_se: float
    gamma_pred: float
    size_fit: PowerLawFit
    duration_fit: PowerLawFit
    durations: np.ndarray
    mean_sizes: np.ndarray
    counts: np.ndarray
    fit_range: tuple

    @property
    def difference(self) -> float:
        return self.gamma_fit - self.gamma_pred

    def to_dict(self) -> dict:
        return {"gamma_fit": self.gamma_fit, "gamma_se": self.gamma_se, "gamma_pred": self.gamma_pred,
                "alpha_size": self.size_fit.alpha, "alpha_size_se": self.size_fit.sigma,
                "xmin_size": self.size_fit.xmin, "alpha_duration": self.duration_fit.alpha,
                "alpha_duration_se": self.duration_fit.sigma, "xmin_duration": self.duration_fit.xmin,
                "fit_range": list(self.fit_range)}


def mean_size_by_duration(sizes, durations):
    """Distinct durations, the mean size of the avalanches of each, and their number."""
    s = np.asarray(sizes, dtype=np.float64)
    d = np.asarray(durations, dtype=np.int64)
    u, inv, cnt = np.unique(d, return_inverse=True, return_counts=True)
    tot = np.bincount(inv, weights=s)
    return u, tot / cnt, cnt


def crackling_relation(av_or_sizes, durations=None, *, size_fit: PowerLawFit | None = None,
                       duration_fit: PowerLawFit | None = None, t_min: int | None = None,
                       t_max: int | None = None, min_count: int = 10,
                       size_xmax: int | None = None, duration_xmax: int | None = None) -> CracklingResult:
    """Fit ``<S>(T) ~ T^γ`` and compare with ``(α_T - 1)/(α_S - 1)``.

    Pass an :class:`Avalanches` or arrays ``sizes, durations``. Exponents come from
    :func:`fit_power_law` (x_min by KS) unless fits are given. ``t_min`` defaults to the duration
    fit's x_min and ``t_max`` to the largest duration having ``min_count`` avalanches. At least 3
    durations must lie in the range."""
    if isinstance(av_or_sizes, Avalanches):
        sizes, durations = av_or_sizes.sizes, av_or_sizes.durations
    else:
        if durations is None:
            raise ValueError("pass an Avalanches or both sizes and durations")
        sizes = av_or_sizes
    sizes = np.asarray(sizes)
    durations = np.asarray(durations)
    if sizes.shape != durations.shape or sizes.ndim != 1:
        raise ValueError(f"sizes and durations must be 1-D of equal length, got {sizes.shape} and "
                         f"{durations.shape}")
    min_count = check_int("min_count", min_count, min_value=1)
    fs = size_fit if size_fit is not None else fit_power_law(sizes, xmax=size_xmax)
    fd = duration_fit if duration_fit is not None else fit_power_law(durations, xmax=duration_xmax)
    u, ms, cnt = mean_size_by_duration(sizes, durations)
    lo = fd.xmin if t_min is None else check_int("t_min", t_min, min_value=1)
    ok = cnt >= min_count
    hi = (int(u[ok].max()) if ok.any() else lo) if t_max is None else check_int("t_max", t_max, min_value=1)
    sel = ok & (u >= lo) & (u <= hi)
    if sel.sum() < 3:
        raise ValueError(f"need at least 3 durations in [{lo}, {hi}] with >= {min_count} avalanches "
                         f"each to fit <S>(T), got {int(sel.sum())}")
    lx, ly = np.log(u[sel].astype(np.float64)), np.log(ms[sel])
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    dof = max(lx.size - 2, 1)
    se = math.sqrt(float(resid @ resid) / dof / float(((lx - lx.mean()) ** 2).sum()))
    pred = (fd.alpha - 1.0) / (fs.alpha - 1.0)
    return CracklingResult(float(coef[0]), se, pred, fs, fd, u, ms, cnt, (int(lo), int(hi)))
