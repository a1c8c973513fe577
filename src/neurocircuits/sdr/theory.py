"""Exact error probabilities of dendritic segments that detect sparse distributed representations.

Reference: S. Ahmad and J. Hawkins (2016), "How do neurons operate on sparse distributed
representations? A mathematical theory of sparsity, neurons and active dendrites",
arXiv:1601.00720.

Model (paper §2.1). ``n`` presynaptic cells; an SDR is a set of ``a`` active cells drawn uniformly
from the C(n, a) possible sets. A dendritic segment holds ``s`` synapses onto distinct cells and
fires (an NMDA spike) when at least ``theta`` of them are active.

False match (paper Eq. 4). For a segment and an independent random SDR the overlap
``b = |segment ∩ SDR|`` is hypergeometric, so

    P_fm(n, a, s, θ) = Σ_{b=θ}^{min(s, a)} C(s, b) C(n − s, a − b) / C(n, a).

False negative under noise (paper Eq. 6). The segment samples its ``s`` synapses from a stored
pattern A (|A| = a); the input is A with ``v`` of its active cells replaced by ``v`` cells that
were inactive. The segment keeps ``s − b`` active synapses when ``b`` of the ``v`` removed cells
carry synapses, b ~ Hypergeometric(a, s, v), and fails when s − b < θ:

    P_fn(a, s, θ, v) = Σ_{b=s−θ+1}^{s} C(s, b) C(a − s, v − b) / C(a, v).

Union of M patterns (paper §3.3). A segment storing ``m`` patterns holds the union of ``m``
independent s-subsets of the cells (s synapses subsampled from each random pattern). The paper
replaces the union by its expected size s_M = n (1 − (1 − s/n)^M) (paper Eq. 13) and evaluates
Eq. 4 there. The exact value mixes Eq. 4 over the distribution of the union size U, which follows
the occupancy recursion

    P(U_{j+1} = u + k | U_j = u) = C(n − u, k) C(u, s − k) / C(n, s),   U_1 = s,

and P_union = Σ_u P(U_M = u) P_fm(n, a, u, θ) (given U = u the union is a uniformly random
u-subset, independent of the input SDR).

All exact functions work in integer / rational arithmetic (``math.comb``, ``fractions``): the
results are correct to the last bit of a float, and the ``log10_*`` variants stay finite far below
the smallest float (1/C(2048, 40) ≈ 4.2e-85 is easy; 1/C(10^5, 2000) ≈ 10^-4757 too). Vectorised
helpers over arrays of parameters work in log space (``scipy.special.gammaln``) with a relative
accuracy of about 1e-9, plenty for plots and parameter scans.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from neurocircuits.validation import check_int

__all__ = [
    "false_match_probability",
    "false_match_probability_exact",
    "log10_false_match_probability",
    "false_match_probability_array",
    "log10_false_match_probability_array",
    "false_negative_probability",
    "false_negative_probability_exact",
    "log10_false_negative_probability",
    "false_negative_probability_array",
    "expected_union_size",
    "union_size_distribution",
    "union_false_match_probability",
    "union_false_match_probability_exact",
    "union_false_match_second_moment",
    "any_segment_false_match_probability",
    "ThresholdChoice",
    "optimal_threshold",
    "threshold_error_profile",
]


# --------------------------------------------------------------------------------------------
# validation
def _sizes(n, a, s, theta):
    n = check_int("n", n, min_value=1)
    a = check_int("a", a, min_value=0, max_value=n)
    s = check_int("s", s, min_value=0, max_value=n)
    theta = check_int("theta", theta, min_value=1)
    return n, a, s, theta


def _log10_int(x: int) -> float:
    """log10 of a positive Python integer of any size (math.log10 accepts big ints)."""
    return math.log10(x)


def _log10_fraction(num: int, den: int) -> float:
    if num == 0:
        return -math.inf
    return _log10_int(num) - _log10_int(den)


# --------------------------------------------------------------------------------------------
# false match (Eq. 4)
def _false_match_numerator(n: int, a: int, s: int, theta: int) -> int:
    hi = min(s, a)
    lo = max(theta, a - (n - s))  # a - b <= n - s
    return sum(math.comb(s, b) * math.comb(n - s, a - b) for b in range(lo, hi + 1))


def false_match_probability_exact(n: int, a: int, s: int, theta: int) -> Fraction:
    """Exact P_fm(n, a, s, θ) as a ``Fraction`` (paper Eq. 4); see the module docstring.

    n: cells in the presynaptic population (>= 1); a: active cells per SDR (0..n);
    s: synapses on the segment (0..n); theta: spike threshold in synapses (>= 1).
    """
    n, a, s, theta = _sizes(n, a, s, theta)
    return Fraction(_false_match_numerator(n, a, s, theta), math.comb(n, a))


def false_match_probability(n: int, a: int, s: int, theta: int) -> float:
    """P(a random SDR with ``a`` of ``n`` cells active reaches ``theta`` of the ``s`` synapses of
    a segment), paper Eq. 4, evaluated exactly and rounded once to the nearest float.

    Correct down to the smallest positive float (~5e-324); below that it returns 0.0: use
    :func:`log10_false_match_probability` there.

    >>> false_match_probability(2048, 40, 40, 40) == 1 / math.comb(2048, 40)
    True
    """
    n, a, s, theta = _sizes(n, a, s, theta)
    num = _false_match_numerator(n, a, s, theta)
    return num / math.comb(n, a)  # int / int is correctly rounded in Python


def log10_false_match_probability(n: int, a: int, s: int, theta: int) -> float:
    """log10 P_fm(n, a, s, θ) from the exact integers (finite far below float range; -inf when
    the probability is exactly 0, i.e. θ > min(s, a))."""
    n, a, s, theta = _sizes(n, a, s, theta)
    return _log10_fraction(_false_match_numerator(n, a, s, theta), math.comb(n, a))


# --------------------------------------------------------------------------------------------
# false negative (Eq. 6)
def _fn_sizes(a, s, theta, v):
    a = check_int("a", a, min_value=1)
    s = check_int("s", s, min_value=1, max_value=a)
    theta = check_int("theta", theta, min_value=1)
    v = check_int("v", v, min_value=0, max_value=a)
    return a, s, theta, v


def _false_negative_numerator(a: int, s: int, theta: int, v: int) -> int:
    lo = max(s - theta + 1, 0, v - (a - s))
    hi = min(s, v)
    return sum(math.comb(s, b) * math.comb(a - s, v - b) for b in range(lo, hi + 1))


def false_negative_probability_exact(a: int, s: int, theta: int, v: int) -> Fraction:
    """Exact P_fn(a, s, θ, v) (paper Eq. 6) as a ``Fraction``.

    a: active cells of the stored pattern; s: synapses the segment sampled from it (1..a);
    theta: spike threshold (>= 1; θ > s gives 1: the segment can never fire); v: active cells of
    the pattern replaced by previously inactive cells (0..a). The result does not depend on the
    population size n because the replacement cells carry no synapse of this segment.
    """
    a, s, theta, v = _fn_sizes(a, s, theta, v)
    return Fraction(_false_negative_numerator(a, s, theta, v), math.comb(a, v))


def false_negative_probability(a: int, s: int, theta: int, v: int) -> float:
    """P(the segment misses its own pattern after ``v`` of its ``a`` active cells are replaced by
    noise) = Σ_{b=s−θ+1}^{s} C(s,b) C(a−s,v−b) / C(a,v), paper Eq. 6, exact then rounded."""
    a, s, theta, v = _fn_sizes(a, s, theta, v)
    return _false_negative_numerator(a, s, theta, v) / math.comb(a, v)


def log10_false_negative_probability(a: int, s: int, theta: int, v: int) -> float:
    """log10 of :func:`false_negative_probability` from the exact integers."""
    a, s, theta, v = _fn_sizes(a, s, theta, v)
    return _log10_fraction(_false_negative_numerator(a, s, theta, v), math.comb(a, v))


# --------------------------------------------------------------------------------------------
# unions (§3.3)
def expected_union_size(n: int, s: int, m: int) -> float:
    """Expected number of synapses on a segment holding the union of ``m`` random s-subsets of
    ``n`` cells: s_M = n (1 − (1 − s/n)^M) (paper Eq. 13)."""
    n = check_int("n", n, min_value=1)
    s = check_int("s", s, min_value=0, max_value=n)
    m = check_int("m", m, min_value=1)
    return n * (1.0 - (1.0 - s / n) ** m)


def _union_weights(n: int, s: int, m: int) -> dict[int, int]:
    """Integer weights W(u) with P(U_M = u) = W(u) / C(n, s)^(M−1) (exact occupancy recursion)."""
    w = {s: 1}
    for _ in range(m - 1):
        nxt: dict[int, int] = {}
        for u, wu in w.items():
            for k in range(max(0, s - u), min(s, n - u) + 1):  # k new cells, s - k reused
                c = math.comb(n - u, k) * math.comb(u, s - k)
                if c:
                    nxt[u + k] = nxt.get(u + k, 0) + wu * c
        w = nxt
    return w


def union_size_distribution(n: int, s: int, m: int) -> dict[int, Fraction]:
    """Exact distribution {u: P(U = u)} of the size of the union of ``m`` independent uniformly
    random s-subsets of ``n`` cells (occupancy recursion in the module docstring)."""
    n = check_int("n", n, min_value=1)
    s = check_int("s", s, min_value=0, max_value=n)
    m = check_int("m", m, min_value=1)
    den = math.comb(n, s) ** (m - 1)
    return {u: Fraction(wu, den) for u, wu in sorted(_union_weights(n, s, m).items())}


def union_false_match_probability_exact(n: int, a: int, s: int, theta: int, m: int) -> Fraction:
    """Exact P(a random SDR reaches θ synapses of a segment holding the union of ``m`` patterns,
    ``s`` synapses sampled from each), as a ``Fraction``: Σ_u P(U_M = u) P_fm(n, a, u, θ)."""
    n, a, s, theta = _sizes(n, a, s, theta)
    m = check_int("m", m, min_value=1)
    w = _union_weights(n, s, m)
    num = sum(wu * _false_match_numerator(n, a, u, theta) for u, wu in w.items())
    return Fraction(num, math.comb(n, s) ** (m - 1) * math.comb(n, a))


def union_false_match_probability(n: int, a: int, s: int, theta: int, m: int,
                                  method: str = "exact") -> float:
    """False-match probability of a segment storing the union of ``m`` patterns.

    method="exact": mixes Eq. 4 over the exact union-size distribution (what the Monte-Carlo
    simulation of ``neurocircuits run sdr-dendrites`` is compared with).
    method="expected": the paper's approximation, Eq. 4 evaluated at the expected union size
    s_M = n (1 − (1 − s/n)^M) rounded to the nearest integer.
    """
    if method == "exact":
        return float(union_false_match_probability_exact(n, a, s, theta, m))
    if method == "expected":
        s_m = int(round(expected_union_size(n, s, m)))
        return false_match_probability(n, a, s_m, theta)
    raise ValueError(f"method must be 'exact' or 'expected', got {method!r}")


def union_false_match_second_moment(n: int, a: int, s: int, theta: int, m: int) -> float:
    """E_U[P_fm(n, a, U, θ)^2] over the union size U: with the mean it gives the extra variance
    of a Monte-Carlo count in which one union segment is tested against several inputs."""
    n, a, s, theta = _sizes(n, a, s, theta)
    m = check_int("m", m, min_value=1)
    w = _union_weights(n, s, m)
    den_a = math.comb(n, a)
    num = sum(wu * _false_match_numerator(n, a, u, theta) ** 2 for u, wu in w.items())
    return float(Fraction(num, math.comb(n, s) ** (m - 1) * den_a * den_a))


def any_segment_false_match_probability(n: int, a: int, s: int, theta: int, m: int) -> float:
    """P(at least one of ``m`` independent segments falsely matches a random SDR) =
    1 − (1 − P_fm)^M (paper Eq. 8), exact (the bound M·P_fm is paper Eq. 9)."""
    m = check_int("m", m, min_value=1)
    p = false_match_probability_exact(n, a, s, theta)
    # 1 - (1 - p)^m by the binomial series in exact arithmetic would be enormous; use log1p.
    pf = float(p)
    return -math.expm1(m * math.log1p(-pf)) if pf < 1 else 1.0


# --------------------------------------------------------------------------------------------
# vectorised helpers (log space)
def _as_int_array(name: str, x) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == bool or arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _lncomb(n, k):
    from scipy.special import gammaln

    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def _log_tail(N, K, draws, lo):
    """ln Σ_{b=lo}^{min(K, draws)} C(K, b) C(N−K, draws−b) / C(N, draws), broadcast."""
    from scipy.special import logsumexp

    N, K, draws, lo = np.broadcast_arrays(N, K, draws, lo)
    hi = np.minimum(K, draws)
    lo = np.maximum(lo, np.maximum(0, draws - (N - K)))
    width = int(np.max(hi - lo, initial=0)) + 1
    b = lo[..., None] + np.arange(max(width, 1))
    valid = b <= hi[..., None]
    bb = np.where(valid, b, lo[..., None])
    terms = (_lncomb(K[..., None], bb) + _lncomb((N - K)[..., None], draws[..., None] - bb)
             - _lncomb(N[..., None], draws[..., None]))
    terms = np.where(valid, terms, -np.inf)
    return logsumexp(terms, axis=-1)


def log10_false_match_probability_array(n, a, s, theta) -> np.ndarray:
    """log10 P_fm over broadcast arrays of (n, a, s, θ); -inf where the probability is 0."""
    n, a, s, theta = (_as_int_array(k, v) for k, v in (("n", n), ("a", a), ("s", s), ("theta", theta)))
    if np.any(n < 1) or np.any(a < 0) or np.any(a > n) or np.any(s < 0) or np.any(s > n):
        raise ValueError("need n >= 1, 0 <= a <= n and 0 <= s <= n for every entry")
    if np.any(theta < 1):
        raise ValueError(f"theta must be >= 1, got minimum {int(theta.min())}")
    with np.errstate(invalid="ignore"):
        return _log_tail(n, s, a, theta) / math.log(10)


def false_match_probability_array(n, a, s, theta) -> np.ndarray:
    """P_fm over broadcast arrays of (n, a, s, θ) (float64; underflows to 0 below ~1e-308)."""
    return np.power(10.0, log10_false_match_probability_array(n, a, s, theta))


def false_negative_probability_array(a, s, theta, v) -> np.ndarray:
    """P_fn over broadcast arrays of (a, s, θ, v), log-space evaluation."""
    a, s, theta, v = (_as_int_array(k, x) for k, x in (("a", a), ("s", s), ("theta", theta), ("v", v)))
    if np.any(a < 1) or np.any(s < 1) or np.any(s > a) or np.any(v < 0) or np.any(v > a):
        raise ValueError("need a >= 1, 1 <= s <= a and 0 <= v <= a for every entry")
    if np.any(theta < 1):
        raise ValueError(f"theta must be >= 1, got minimum {int(theta.min())}")
    with np.errstate(invalid="ignore"):
        return np.exp(_log_tail(a, s, v, s - theta + 1))


# --------------------------------------------------------------------------------------------
# thresholds (§4.3)
@dataclass(frozen=True)
class ThresholdChoice:
    """The threshold minimising false positives + false negatives, with the whole scan."""

    theta: int
    error: float
    false_positive: float
    false_negative: float
    thetas: tuple[int, ...]
    errors: tuple[float, ...]


def optimal_threshold(n: int, a: int, s: int, v: int, thetas=None) -> ThresholdChoice:
    """The spike threshold θ that minimises P_fm(n, a, s, θ) + P_fn(a, s, θ, v) (exact values)
    for a segment with ``s`` synapses sampled from a pattern of ``a`` of ``n`` cells, facing
    inputs in which ``v`` of the pattern's cells are replaced by noise. ``thetas`` defaults to
    1..s. Ties go to the smaller threshold."""
    n = check_int("n", n, min_value=1)
    a = check_int("a", a, min_value=1, max_value=n)
    s = check_int("s", s, min_value=1, max_value=a)
    v = check_int("v", v, min_value=0, max_value=min(a, n - a))
    if thetas is None:
        thetas = range(1, s + 1)
    thetas = tuple(check_int("theta", t, min_value=1) for t in thetas)
    if not thetas:
        raise ValueError("thetas must not be empty")
    best = None
    errors = []
    for t in thetas:
        fp = false_match_probability_exact(n, a, s, t)
        fn = false_negative_probability_exact(a, s, t, v)
        err = fp + fn
        errors.append(float(err))
        if best is None or err < best[0]:
            best = (err, t, fp, fn)
    err, t, fp, fn = best
    return ThresholdChoice(t, float(err), float(fp), float(fn), thetas, tuple(errors))


def threshold_error_profile(thetas, ns, a_fractions, ss, *, noise_fraction: float | None = None,
                            statistic: str = "median") -> np.ndarray:
    """log10 of the median (or max) error per threshold over a grid of parameters, as in the
    paper's Fig. 6: for each θ, the error of every (n, a = round(f·n), s) with s >= θ is
    P_fm(n, a, s, θ), plus P_fn(a, s, θ, round(noise_fraction·a)) when ``noise_fraction`` is
    given. Returns an array of len(thetas) (NaN where no combination has s >= θ)."""
    thetas = [check_int("theta", t, min_value=1) for t in thetas]
    ns = [check_int("n", x, min_value=1) for x in ns]
    ss = [check_int("s", x, min_value=1) for x in ss]
    fr = []
    for f in a_fractions:
        if isinstance(f, bool) or not isinstance(f, numbers.Real) or not (0 < f <= 1):
            raise ValueError(f"a_fractions must lie in (0, 1], got {f!r}")
        fr.append(float(f))
    if noise_fraction is not None and not (0 <= noise_fraction <= 1):
        raise ValueError(f"noise_fraction must lie in [0, 1], got {noise_fraction!r}")
    if statistic not in ("median", "max"):
        raise ValueError(f"statistic must be 'median' or 'max', got {statistic!r}")
    N, F, S = np.meshgrid(np.array(ns), np.array(fr), np.array(ss), indexing="ij")
    N, S = N.ravel(), S.ravel()
    A = np.maximum(1, np.round(F.ravel() * N)).astype(np.int64)
    keep = S <= A
    N, S, A = N[keep], S[keep], A[keep]
    out = np.full(len(thetas), np.nan)
    if N.size == 0:
        return out
    ln10 = math.log(10)
    # log10 P(overlap >= j) for j = 0..s_max+1, per combination (reverse cumulative logsumexp)
    s_max = int(S.max())
    fm_tail = _log10_tails(N, S, A, s_max)
    if noise_fraction is not None:
        v = np.round(noise_fraction * A).astype(np.int64)
        fn_tail = _log10_tails(A, S, v, s_max)  # log10 P(removed synapses >= j)
    rows = np.arange(N.size)
    for i, t in enumerate(thetas):
        use = S >= t
        if not use.any():
            continue
        lp = fm_tail[rows[use], t]
        if noise_fraction is not None:
            j = S[use] - t + 1  # >= 1 here because s >= θ
            lfn = fn_tail[rows[use], j]
            lp = np.logaddexp(lp * ln10, lfn * ln10) / ln10
        out[i] = np.median(lp) if statistic == "median" else np.max(lp)
    return out


def _log10_tails(N, K, draws, k_max):
    """[len(N), k_max + 2] array of log10 P(X >= j), X ~ Hypergeometric(N, K, draws), j = 0..k_max+1
    (-inf where the tail is empty)."""
    b = np.arange(k_max + 1)
    N, K, draws = (np.asarray(x, dtype=np.int64)[:, None] for x in (N, K, draws))
    valid = (b <= K) & (b <= draws) & (draws - b <= N - K)
    bb = np.where(valid, b, 0)
    with np.errstate(invalid="ignore"):
        lp = _lncomb(K, bb) + _lncomb(N - K, np.where(valid, draws - bb, 0)) - _lncomb(N, draws)
    lp = np.where(valid, lp, -np.inf)
    rev = np.logaddexp.accumulate(lp[:, ::-1], axis=1)[:, ::-1]
    out = np.full((lp.shape[0], k_max + 2), -np.inf)
    out[:, :-1] = rev / math.log(10)
    return out
