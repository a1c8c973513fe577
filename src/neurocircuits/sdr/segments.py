"""Dendritic segments: K threshold units, each with its own synapses on presynaptic cells.

Segment k holds synapses on a set D_k of distinct presynaptic cells (|D_k| = s_k) and fires for
an input SDR A when its overlap reaches its threshold (Ahmad & Hawkins 2016, arXiv:1601.00720,
§2.1, Eq. 1):

    overlap_k(A) = |D_k ∩ A|,        fired_k(A) = overlap_k(A) >= θ_k.

Matching is done the way sparse systems do it: an index from every presynaptic cell to the
segments it synapses onto (CSR: ``cell_ptr[c]..cell_ptr[c+1]`` into ``cell_segments``). For each
input only the synapses of its active cells are visited, so the work is proportional to the
number of *active synapses*, Σ_{c ∈ A} deg(c) ≈ a·Σ_k s_k / n, not to the n × K of a dense
product. The compiled kernel (Numba) makes one pass over the active synapses of an input;
counters carry an epoch tag, so no per-input O(K) clearing is needed. Batches are split into
chunks run by a pool of Python threads (the kernel releases the GIL; ``num_threads`` defaults to
``torch.get_num_threads()``), which keeps clear of the OpenMP runtime torch uses: with Numba's
own OpenMP layer, small torch operations after a parallel region were measured two orders of
magnitude slower here.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple, Sequence

import numpy as np
import torch
from numba import njit

from neurocircuits.sdr.ops import _check_rows
from neurocircuits.validation import check_int, check_tensor

__all__ = ["DendriticSegments", "SegmentMatch"]


_MAX_SYNAPSES = 65534  # per segment: overlaps and thresholds fit in 16 bits


class SegmentMatch(NamedTuple):
    """``fired``: bool ``[B, K]``; ``overlaps``: int32 ``[B, K]`` (None unless asked for)."""

    fired: torch.Tensor
    overlaps: torch.Tensor | None


# Two copies of one kernel: the overlap field of the counter word is 8 bits (segments of up to
# 254 synapses, uint8 thresholds) or 16 bits (up to 65,534 synapses, uint16 thresholds). The
# field width must be a compile-time constant for the compiler to keep the inner loop tight
# (measured: 2.5-3.5x faster than a run-time width or int32 thresholds).
@njit(cache=True, nogil=True)
def _match_kernel8(cell_ptr, cell_seg, theta, row_ptr, cells, n_seg, start, stop, chunk,
                   want_fired, want_overlaps, want_counts, fired, overlaps, counts):
    """Inputs ``start..stop-1`` (rows of the CSR ``row_ptr``/``cells``), one pass over their
    active synapses. The counter word of segment k is (epoch << 8) | overlap, the epoch being
    the input's number within the chunk: a counter left by an earlier input reads as stale and
    restarts, so nothing is cleared between inputs. A segment fires when its overlap reaches
    θ_k, exactly once per input since the count rises by one. Releases the GIL: chunks of a
    batch run in parallel threads."""
    cnt = np.zeros(n_seg, np.int32)
    sh = np.int32(8)
    low = np.int32((1 << 8) - 1)
    max_epoch = np.int32((1 << (31 - 8)) - 1)
    one = np.int32(1)
    epoch = np.int32(0)
    for b in range(start, stop):
        epoch += one
        if epoch > max_epoch:  # wrap-around: clear and restart the epochs
            cnt[:] = 0
            epoch = one
        tag = np.int32(epoch << sh)
        for i in range(row_ptr[b], row_ptr[b + 1]):
            cell = cells[i]
            for j in range(cell_ptr[cell], cell_ptr[cell + 1]):
                k = cell_seg[j]
                w = cnt[k]
                w = (w if (w >> sh) == epoch else tag) + one
                cnt[k] = w
                ov = w & low
                if want_overlaps:
                    overlaps[b, k] = ov
                if ov == theta[k]:
                    if want_fired:
                        fired[b, k] = True
                    if want_counts:
                        counts[chunk, k] += 1


@njit(cache=True, nogil=True)
def _match_kernel16(cell_ptr, cell_seg, theta, row_ptr, cells, n_seg, start, stop, chunk,
                    want_fired, want_overlaps, want_counts, fired, overlaps, counts):
    """:func:`_match_kernel8` with a 16-bit overlap field (segments of up to 65,534 synapses)."""
    cnt = np.zeros(n_seg, np.int32)
    sh = np.int32(16)
    low = np.int32((1 << 16) - 1)
    max_epoch = np.int32((1 << (31 - 16)) - 1)
    one = np.int32(1)
    epoch = np.int32(0)
    for b in range(start, stop):
        epoch += one
        if epoch > max_epoch:  # wrap-around: clear and restart the epochs
            cnt[:] = 0
            epoch = one
        tag = np.int32(epoch << sh)
        for i in range(row_ptr[b], row_ptr[b + 1]):
            cell = cells[i]
            for j in range(cell_ptr[cell], cell_ptr[cell + 1]):
                k = cell_seg[j]
                w = cnt[k]
                w = (w if (w >> sh) == epoch else tag) + one
                cnt[k] = w
                ov = w & low
                if want_overlaps:
                    overlaps[b, k] = ov
                if ov == theta[k]:
                    if want_fired:
                        fired[b, k] = True
                    if want_counts:
                        counts[chunk, k] += 1


@njit(cache=True)
def _build_index(flat, sizes, n_cells):
    """CSR index cell -> segment ids (segment ids ascending within a cell) by a counting sort,
    and the first repeated (segment, cell) pair if any (-1, -1 otherwise). O(synapses + n)."""
    ptr = np.zeros(n_cells + 1, np.int64)
    for c in flat:
        ptr[c + 1] += 1
    for c in range(n_cells):
        ptr[c + 1] += ptr[c]
    fill = ptr[:-1].copy()
    cell_seg = np.empty(flat.shape[0], np.int32)
    stamp = np.full(n_cells, -1, np.int64)
    pos = 0
    for k in range(sizes.shape[0]):
        for _ in range(sizes[k]):
            c = flat[pos]
            pos += 1
            if stamp[c] == k:
                return ptr, cell_seg, k, c
            stamp[c] = k
            cell_seg[fill[c]] = k
            fill[c] += 1
    return ptr, cell_seg, -1, -1


_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0


def _pool(threads: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE < threads:
        if _POOL is not None:
            _POOL.shutdown(wait=True)
        _POOL = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="segments")
        _POOL_SIZE = threads
    return _POOL


class DendriticSegments:
    """K dendritic segments over ``n_cells`` presynaptic cells.

    Parameters
    ----------
    n_cells:
        Number of presynaptic cells n (cell ids are 0..n−1).
    synapses:
        Presynaptic cell ids of every segment: an integer tensor ``[K, s]`` (all segments with
        ``s`` synapses) or a sequence of K 1-D integer tensors (variable sizes). Ids must be in
        range and distinct within a segment; every segment needs at least one synapse.
    theta:
        Spike threshold in synapses (>= 1): one int for all segments or an int tensor ``[K]``.

    Inputs to :meth:`match`, :meth:`overlaps` and :meth:`fire_counts` are SDRs in index form
    (int ``[B, a]`` or ``[a]``, distinct ids per row) or dense form (bool ``[B, n]`` or ``[n]``).
    """

    def __init__(self, n_cells: int, synapses, theta) -> None:
        self.n_cells = check_int("n_cells", n_cells, min_value=1)
        flat, sizes = self._flatten(synapses)
        self._build(flat, sizes, theta)

    @classmethod
    def from_dense(cls, mask: torch.Tensor, theta) -> "DendriticSegments":
        """Segments from a bool connectivity mask ``[K, n_cells]`` (row k = cells segment k
        synapses onto), e.g. the union of several SDRs (paper §3.3)."""
        check_tensor("mask", mask, ndim=2, dtype_kind="bool")
        k, n = mask.shape
        if k < 1 or n < 1:
            raise ValueError(f"mask must have at least one segment and one cell, got shape {tuple(mask.shape)}")
        sizes = mask.sum(1)
        if bool((sizes == 0).any()):
            raise ValueError(f"segment {int((sizes == 0).nonzero()[0, 0])} has no synapses; every "
                             "segment needs at least one")
        self = cls.__new__(cls)
        self.n_cells = n
        self._build(mask.nonzero()[:, 1], sizes.long(), theta)
        return self

    def _build(self, flat: torch.Tensor, sizes: torch.Tensor, theta) -> None:
        k = sizes.numel()
        self.n_segments = k
        self.sizes = sizes
        if flat.numel():
            lo, hi = int(flat.min()), int(flat.max())
            if lo < 0 or hi >= self.n_cells:
                raise ValueError(f"synapses hold cell ids in [{lo}, {hi}], expected ids in "
                                 f"[0, {self.n_cells})")
        flat_np = flat.numpy().astype(np.int64)
        ptr, cell_seg, dup_seg, dup_cell = _build_index(flat_np, sizes.numpy().astype(np.int64),
                                                        self.n_cells)
        if dup_seg >= 0:
            raise ValueError(f"segment {dup_seg} has two synapses on cell {dup_cell}; synapses of a "
                             "segment must be distinct")
        self.theta = self._thresholds(theta, k)
        self._cell_ptr = ptr
        self._cell_seg = cell_seg
        self._flat = flat
        self._seg_ptr = torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)])
        max_size = int(sizes.max())
        if max_size > _MAX_SYNAPSES:
            raise ValueError(f"a segment may hold at most {_MAX_SYNAPSES} synapses, got {max_size}")
        # thresholds above the segment size can never be reached: store min(θ, s + 1), which
        # fits the overlap field of the counter word (8 bits up to 254 synapses, else 16)
        self._small = max_size <= 254
        theta_eff = torch.minimum(self.theta, sizes + 1).numpy()
        self._theta_np = theta_eff.astype(np.uint8 if self._small else np.uint16)

    # -- construction helpers ----------------------------------------------------------------
    @staticmethod
    def _flatten(synapses):
        if isinstance(synapses, torch.Tensor):
            check_tensor("synapses", synapses, ndim=2, dtype_kind="int")
            k, s = synapses.shape
            if k < 1:
                raise ValueError(f"synapses must describe at least one segment, got shape "
                                 f"{tuple(synapses.shape)}")
            if s < 1:
                raise ValueError(f"every segment needs at least one synapse, got shape "
                                 f"{tuple(synapses.shape)}")
            return synapses.reshape(-1).long(), torch.full((k,), s, dtype=torch.long)
        if isinstance(synapses, (str, bytes)) or not isinstance(synapses, Sequence):
            raise TypeError("synapses must be an integer tensor [K, s] or a sequence of 1-D "
                            f"integer tensors, got {type(synapses).__name__}")
        if len(synapses) == 0:
            raise ValueError("synapses must describe at least one segment, got an empty sequence")
        parts, sizes = [], []
        for i, seg in enumerate(synapses):
            check_tensor(f"synapses[{i}]", seg, ndim=1, dtype_kind="int")
            if seg.numel() == 0:
                raise ValueError(f"segment {i} has no synapses; every segment needs at least one")
            parts.append(seg.long())
            sizes.append(seg.numel())
        return torch.cat(parts), torch.tensor(sizes, dtype=torch.long)

    @staticmethod
    def _thresholds(theta, k: int) -> torch.Tensor:
        if isinstance(theta, torch.Tensor):
            check_tensor("theta", theta, ndim=(0, 1), dtype_kind="int")
            t = theta.long().reshape(-1)
            if t.numel() == 1:
                t = t.expand(k).clone()
            if t.numel() != k:
                raise ValueError(f"theta has {t.numel()} entries, expected one per segment ({k})")
            if bool((t < 1).any()):
                raise ValueError(f"theta must be >= 1 for every segment, got minimum {int(t.min())}")
            return t
        t = check_int("theta", theta, min_value=1)
        return torch.full((k,), t, dtype=torch.long)

    # -- views -------------------------------------------------------------------------------
    def segment(self, k: int) -> torch.Tensor:
        """Presynaptic cell ids of segment ``k`` (as given)."""
        k = check_int("k", k, min_value=0, max_value=self.n_segments - 1)
        return self._flat[self._seg_ptr[k]:self._seg_ptr[k + 1]].clone()

    @property
    def n_synapses(self) -> int:
        return int(self._flat.numel())

    def to_dense(self, dtype=torch.float32) -> torch.Tensor:
        """Connectivity matrix W ``[n_cells, K]`` with W[c, k] = 1 when segment k synapses onto
        cell c: the dense reference, overlaps = A @ W."""
        w = torch.zeros(self.n_cells, self.n_segments, dtype=dtype)
        seg_of = torch.repeat_interleave(torch.arange(self.n_segments), self.sizes)
        w[self._flat, seg_of] = 1
        return w

    def __repr__(self) -> str:
        s = self.sizes
        size = f"s={int(s[0])}" if bool((s == s[0]).all()) else f"s={int(s.min())}..{int(s.max())}"
        return f"DendriticSegments(n_cells={self.n_cells}, K={self.n_segments}, {size})"

    # -- matching ----------------------------------------------------------------------------
    def _inputs(self, active):
        """CSR (row_ptr, cells) of a batch of SDRs, and whether the input was a single SDR."""
        if not isinstance(active, torch.Tensor):
            raise TypeError(f"active must be a torch.Tensor, got {type(active).__name__}")
        single = active.dim() == 1
        if active.dtype == torch.bool:
            check_tensor("active", active, ndim=(1, 2), dtype_kind="bool")
            x = active.view(1, -1) if single else active
            if x.shape[1] != self.n_cells:
                raise ValueError(f"active has {x.shape[1]} cells in dense form, expected "
                                 f"n_cells = {self.n_cells}")
            nz = x.nonzero()
            cells = nz[:, 1].numpy().astype(np.int64)
            per_row = torch.bincount(nz[:, 0], minlength=x.shape[0])
        else:
            check_tensor("active", active, ndim=(1, 2), dtype_kind="int")
            x = active.view(1, -1) if single else active
            if x.numel():
                lo, hi, bad = _check_rows(np.ascontiguousarray(x.long().numpy()), self.n_cells)
                if lo < 0 or hi >= self.n_cells:
                    raise ValueError(f"active holds cell ids in [{lo}, {hi}], expected ids in "
                                     f"[0, {self.n_cells})")
                if bad >= 0:
                    raise ValueError(f"active repeats a cell id within an SDR (row {bad}); ids "
                                     "must be distinct")
            cells = x.reshape(-1).numpy().astype(np.int64)
            per_row = torch.full((x.shape[0],), x.shape[1], dtype=torch.long)
        row_ptr = np.zeros(x.shape[0] + 1, dtype=np.int64)
        row_ptr[1:] = per_row.cumsum(0).numpy()
        return row_ptr, cells, single

    def _run(self, active, want_fired, want_overlaps, want_counts, num_threads):
        row_ptr, cells, single = self._inputs(active)
        b, k = row_ptr.shape[0] - 1, self.n_segments
        if num_threads is None:
            num_threads = torch.get_num_threads()
        num_threads = check_int("num_threads", num_threads, min_value=1)
        n_chunks = max(1, min(b, num_threads))
        fired = np.zeros((b, k) if want_fired else (0, 0), dtype=np.bool_)
        overlaps = np.zeros((b, k) if want_overlaps else (0, 0), dtype=np.int32)
        counts = np.zeros((n_chunks, k) if want_counts else (0, 0), dtype=np.int64)
        bounds = [(c * b) // n_chunks for c in range(n_chunks + 1)]
        kernel = _match_kernel8 if self._small else _match_kernel16
        args = (self._cell_ptr, self._cell_seg, self._theta_np, row_ptr, cells, k)
        flags = (want_fired, want_overlaps, want_counts, fired, overlaps, counts)
        if n_chunks == 1:
            kernel(*args, 0, b, 0, *flags)
        else:
            futures = [_pool(n_chunks).submit(kernel, *args, bounds[c], bounds[c + 1], c, *flags)
                       for c in range(n_chunks)]
            for f in futures:
                f.result()
        return fired, overlaps, counts, single

    def match(self, active, return_overlaps: bool = False, num_threads: int | None = None) -> SegmentMatch:
        """Which segments fire for each input: ``fired[b, k] = |D_k ∩ A_b| >= θ_k``. With
        ``return_overlaps`` also the overlap counts ``[B, K]`` (int32). A single SDR (1-D input)
        gives ``[K]`` outputs."""
        fired, overlaps, _, single = self._run(active, True, bool(return_overlaps), False, num_threads)
        f = torch.from_numpy(fired)
        o = torch.from_numpy(overlaps) if return_overlaps else None
        if single:
            f = f[0]
            o = o[0] if o is not None else None
        return SegmentMatch(f, o)

    def overlaps(self, active, num_threads: int | None = None) -> torch.Tensor:
        """Overlap counts |D_k ∩ A_b|, int32 ``[B, K]`` (``[K]`` for a single SDR)."""
        _, overlaps, _, single = self._run(active, False, True, False, num_threads)
        o = torch.from_numpy(overlaps)
        return o[0] if single else o

    def fire_counts(self, active, num_threads: int | None = None) -> torch.Tensor:
        """For each segment, on how many inputs of the batch it fired (int64 ``[K]``), without
        materialising the ``[B, K]`` output: the statistic a Monte-Carlo estimate needs."""
        _, _, counts, _ = self._run(active, False, False, True, num_threads)
        return torch.from_numpy(counts.sum(0))
