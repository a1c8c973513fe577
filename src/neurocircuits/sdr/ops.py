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

import torch

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

# rows handled at once by the sampler: keeps the [rows, n] scratch mask near 16 MB
_MASK_BUDGET = 1 << 24


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


def _sample_subsets(batch: int, n: int, a: int, g) -> torch.Tensor:
    """[batch, a] sorted uniformly random a-subsets of range(n) (Floyd's algorithm, vectorised
    over rows: for j = n−a..n−1 draw t ~ U{0..j}; take t, or j if t is already taken)."""
    out = torch.empty(batch, a, dtype=torch.long)
    rows = max(1, _MASK_BUDGET // n)
    for start in range(0, batch, rows):
        m = min(rows, batch - start)
        mask = torch.zeros(m, n, dtype=torch.bool)
        r = torch.arange(m)
        for j in range(n - a, n):
            t = torch.randint(0, j + 1, (m,), generator=g)
            t = torch.where(mask[r, t], j, t)
            mask[r, t] = True
        out[start:start + m] = mask.nonzero()[:, 1].view(m, a)
    return out


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
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= n:
            raise ValueError(f"{name} holds cell ids in [{lo}, {hi}], expected ids in [0, {n})")
        srt = idx.sort(dim=-1).values
        if idx.shape[-1] > 1 and bool((srt[..., 1:] == srt[..., :-1]).any()):
            raise ValueError(f"{name} repeats a cell id within an SDR; ids must be distinct")
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
    b = x.shape[0]
    act = x.sort(1).values
    keys = torch.rand(b, a, generator=g)
    keep = act.gather(1, keys.argsort(1)[:, v:])
    # ranks (0..n-a-1) of the new cells among the inactive ones, mapped to cell ids:
    # the r-th inactive cell is r + #{i : act[i] - i <= r}
    ranks = _sample_subsets(b, n - a, v, g)
    gaps = (act - torch.arange(a)).contiguous()
    new = ranks + torch.searchsorted(gaps, ranks.contiguous(), right=True)
    out = torch.cat([keep, new], 1).sort(1).values
    return out[0] if squeeze else out


def subsample(idx: torch.Tensor, s: int, *, generator=None, seed=None) -> torch.Tensor:
    """``s`` of the ``a`` active cells of each SDR (index form ``[B, a]``), uniformly: the
    synapses a segment forms onto a pattern (paper §3.1). Returns sorted ``[B, s]``."""
    check_tensor("idx", idx, ndim=(1, 2), dtype_kind="int")
    squeeze = idx.dim() == 1
    x = idx.long().view(1, -1) if squeeze else idx.long()
    s = check_int("s", s, min_value=1, max_value=x.shape[1])
    g = make_generator(generator, seed)
    keys = torch.rand(x.shape, generator=g)
    out = x.gather(1, keys.argsort(1)[:, :s]).sort(1).values
    return out[0] if squeeze else out
