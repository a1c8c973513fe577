"""Sparse distributed representations (SDRs) on torch tensors.

An SDR of ``a`` active cells out of ``n`` comes in two forms:

- **index form**: an integer tensor ``[B, a]`` of active cell ids, sorted ascending per row,
  no repeats (what :class:`~neurocircuits.sdr.segments.DendriticSegments` consumes fastest);
- **dense form**: a bool tensor ``[B, n]`` with exactly the active cells set.

Operations follow Ahmad & Hawkins (2016), arXiv:1601.00720, §2-3: overlap
``|x ∩ y|`` (binary dot product, Eq. 1), union (bit-wise OR, §3.3) and noise (``v`` active bits
replaced by ``v`` previously inactive bits, §3.1 / Fig. 4B). Every random function takes a
``torch.Generator`` (``generator=``) or an integer ``seed=``; with neither it draws from torch's
global generator (seeded by ``neurocircuits run``). Same seed, same SDRs on CPU.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit

from neurocircuits.validation import check_int, check_tensor

__all__ = [
    "make_generator",
    "random_sdr",
    "to_dense",
    "to_indices",
    "overlap",
    "union",
    "add_noise",
    "subsample",
]

def make_generator(generator: torch.Generator | None = None, seed: int | None = None):
    """The generator to draw from: ``generator`` if given, a new one seeded with ``seed``, or
    None (torch's global generator). Passing both is an error."""
    if generator is not None and seed is not None:
        raise ValueError("pass either generator or seed, not both")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return generator
    if seed is not None:
        seed = check_int("seed", seed, min_value=0)
        g = torch.Generator()
        g.manual_seed(seed)
        return g
    return None


def _check_sizes(batch, n, a):
    batch = check_int("batch", batch, min_value=1)
    n = check_int("n", n, min_value=1)
    a = check_int("a", a, min_value=1)
    if a > n:
        raise ValueError(f"a (active cells) must be <= n = {n}, got a = {a}")
    return batch, n, a


@njit(cache=True)
def _floyd_rows(u, n):
    """Rows of uniformly random a-subsets of range(n) by Floyd's algorithm, driven by the
    uniform numbers ``u`` [B, a] in [0, 1): for j = n−a..n−1 take t = ⌊u·(j+1)⌋, or j when t is
    already taken. Membership uses a stamp array (row number + 1), so each row costs O(a)."""
    rows, a = u.shape
    out = np.empty((rows, a), np.int64)
    stamp = np.zeros(n, np.int64)
    for r in range(rows):
        tag = r + 1
        for i in range(a):
            j = n - a + i
            t = np.int64(u[r, i] * (j + 1))
            if t > j:  # guards against rounding up at u -> 1
                t = j
            if stamp[t] == tag:
                t = j
            stamp[t] = tag
            out[r, i] = t
        out[r].sort()
    return out


@njit(cache=True)
def _check_rows(x, n):
    """(min id, max id, first row with a repeated id or -1) of an index-form batch [B, a]."""
    lo = np.int64(n)
    hi = np.int64(-1)
    bad = -1
    rows, a = x.shape
    stamp = np.zeros(n, np.int64)
    for r in range(rows):
        for i in range(a):
            c = x[r, i]
            if c < lo:
                lo = c
            if c > hi:
                hi = c
            if 0 <= c < n and bad < 0:
                if stamp[c] == r + 1:
                    bad = r
                stamp[c] = r + 1
    return lo, hi, bad


@njit(cache=True)
def _noise_rows(act, u_keep, u_new, n):
    """Replace v = a − a_keep active cells per row: keep the positions Floyd picks from
    ``u_keep`` [B, a−v]; add v inactive cells, Floyd-sampled ranks among the n − a inactive cells
    (from ``u_new`` [B, v]) mapped to cell ids. ``act`` rows must be sorted. Sorted output."""
    rows, a = act.shape
    keep = _floyd_rows(u_keep, a)
    ranks = _floyd_rows(u_new, n - a)
    v = ranks.shape[1]
    out = np.empty((rows, a), np.int64)
    gaps = np.empty(a, np.int64)
    for r in range(rows):
        for i in range(a):
            gaps[i] = act[r, i] - i  # inactive cells below act[r, i]
        m = 0
        for i in range(a - v):
            out[r, m] = act[r, keep[r, i]]
            m += 1
        for i in range(v):
            q = ranks[r, i]
            # the q-th inactive cell is q + #{i : gaps[i] <= q}
            out[r, m] = q + np.searchsorted(gaps, q, side="right")
            m += 1
        out[r].sort()
    return out


def _sample_subsets(batch: int, n: int, a: int, g) -> torch.Tensor:
    """[batch, a] sorted uniformly random a-subsets of range(n) (Floyd's algorithm, with the
    uniform numbers drawn from the torch generator ``g`` so that seeds control everything)."""
    if a == 0:
        return torch.empty(batch, 0, dtype=torch.long)
    u = torch.rand(batch, a, generator=g, dtype=torch.float64)
    return torch.from_numpy(_floyd_rows(u.numpy(), n))


def random_sdr(batch: int, n: int, a: int, *, form: str = "index", generator=None, seed=None):
    """``batch`` independent SDRs, each a uniformly random set of ``a`` active cells out of ``n``.

    form="index" gives int64 ``[batch, a]`` (sorted rows), form="dense" bool ``[batch, n]``.
    """
    batch, n, a = _check_sizes(batch, n, a)
    if form not in ("index", "dense"):
        raise ValueError(f"form must be 'index' or 'dense', got {form!r}")
    g = make_generator(generator, seed)
    idx = _sample_subsets(batch, n, a, g)
    return idx if form == "index" else to_dense(idx, n)


def _check_index(name: str, idx, n: int) -> torch.Tensor:
    check_tensor(name, idx, ndim=(1, 2), dtype_kind="int")
    if idx.numel():
        x = np.ascontiguousarray(idx.reshape(-1, idx.shape[-1]).long().numpy())
        lo, hi, bad = _check_rows(x, n)
        if lo < 0 or hi >= n:
            raise ValueError(f"{name} holds cell ids in [{lo}, {hi}], expected ids in [0, {n})")
        if bad >= 0:
            raise ValueError(f"{name} repeats a cell id within an SDR (row {bad}); ids must be distinct")
    return idx


def to_dense(idx: torch.Tensor, n: int) -> torch.Tensor:
    """Index form ``[..., a]`` -> dense bool ``[..., n]``."""
    n = check_int("n", n, min_value=1)
    _check_index("idx", idx, n)
    out = torch.zeros(*idx.shape[:-1], n, dtype=torch.bool)
    out.scatter_(-1, idx.long(), True)
    return out


def to_indices(dense: torch.Tensor) -> torch.Tensor:
    """Dense bool ``[B, n]`` (or ``[n]``) -> index form ``[B, a]`` (sorted); every row must have
    the same number of active cells."""
    check_tensor("dense", dense, ndim=(1, 2), dtype_kind="bool")
    if dense.dim() == 1:
        return dense.nonzero()[:, 0]
    counts = dense.sum(1)
    if dense.shape[0] and bool((counts != counts[0]).any()):
        raise ValueError(f"rows have different numbers of active cells ({int(counts.min())} to "
                         f"{int(counts.max())}); index form needs one count")
    a = int(counts[0]) if dense.shape[0] else 0
    return dense.nonzero()[:, 1].view(dense.shape[0], a)


def _as_dense(name: str, x: torch.Tensor, n: int | None) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype == torch.bool:
        if n is not None and x.shape[-1] != n:
            raise ValueError(f"{name} has {x.shape[-1]} cells, expected n = {n}")
        return x
    if n is None:
        raise ValueError(f"{name} is in index form: pass n (the number of cells)")
    return to_dense(x, n)


def overlap(x: torch.Tensor, y: torch.Tensor, n: int | None = None) -> torch.Tensor:
    """Overlap |x ∩ y| (paper Eq. 1) of SDRs given in dense (bool) or index form (then ``n`` is
    needed); broadcasts over leading dimensions. Returns int64."""
    xd, yd = _as_dense("x", x, n), _as_dense("y", y, n)
    if xd.shape[-1] != yd.shape[-1]:
        raise ValueError(f"x has {xd.shape[-1]} cells and y has {yd.shape[-1]}")
    return (xd & yd).sum(-1)


def union(sdrs: torch.Tensor, n: int | None = None, dim: int = 0) -> torch.Tensor:
    """Bit-wise OR of SDRs along ``dim`` (paper §3.3): dense bool result. Index-form input
    ``[..., M, a]`` needs ``n`` and takes the union over the SDR axis ``dim``."""
    d = _as_dense("sdrs", sdrs, n)
    return d.any(dim=dim)


def add_noise(idx: torch.Tensor, v: int, n: int, *, generator=None, seed=None) -> torch.Tensor:
    """Replace ``v`` of the ``a`` active cells of each SDR (index form ``[B, a]``) by ``v`` cells
    that were inactive, all choices uniform (paper §3.1, Fig. 4B). Returns sorted index form."""
    n = check_int("n", n, min_value=1)
    _check_index("idx", idx, n)
    squeeze = idx.dim() == 1
    x = idx.long().view(1, -1) if squeeze else idx.long()
    a = x.shape[1]
    v = check_int("v", v, min_value=0, max_value=a)
    if v > n - a:
        raise ValueError(f"v = {v} noise cells needs v <= n - a = {n - a} inactive cells")
    g = make_generator(generator, seed)
    if v == 0 or x.shape[0] == 0:
        out = x.sort(1).values
        return out[0] if squeeze else out
    act = x.sort(1).values.contiguous()
    u_keep = torch.rand(x.shape[0], a - v, generator=g, dtype=torch.float64)
    u_new = torch.rand(x.shape[0], v, generator=g, dtype=torch.float64)
    out = torch.from_numpy(_noise_rows(act.numpy(), u_keep.numpy(), u_new.numpy(), n))
    return out[0] if squeeze else out


def subsample(idx: torch.Tensor, s: int, *, generator=None, seed=None) -> torch.Tensor:
    """``s`` of the ``a`` active cells of each SDR (index form ``[B, a]``), uniformly: the
    synapses a segment forms onto a pattern (paper §3.1). Returns sorted ``[B, s]``."""
    check_tensor("idx", idx, ndim=(1, 2), dtype_kind="int")
    squeeze = idx.dim() == 1
    x = idx.long().view(1, -1) if squeeze else idx.long()
    s = check_int("s", s, min_value=1, max_value=x.shape[1])
    g = make_generator(generator, seed)
    u = torch.rand(x.shape[0], s, generator=g, dtype=torch.float64)
    pos = torch.from_numpy(_floyd_rows(u.numpy(), x.shape[1]))  # sorted positions
    out = x.gather(1, pos)
    if x.shape[1] > 1 and not bool((x[:, 1:] > x[:, :-1]).all()):
        out = out.sort(1).values
    return out[0] if squeeze else out
