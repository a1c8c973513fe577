"""External drives: constant currents and Poisson input, and the counter-based random numbers
shared by the compiled engine and the reference implementation.

Poisson input (as Brian2's ``PoissonInput``): each of ``n`` target neurons receives
``n_sources`` independent Poisson trains of rate ``rate_hz``; per step a neuron gets
``k ~ Poisson(lambda)``, ``lambda = n_sources * rate_hz * dt``, events of ``weight`` each on
the chosen receptor. ``k`` is drawn by inverting the Poisson CDF with one uniform number.

Random numbers are counter-based: the uniform for (stream, step t, neuron i) is
``splitmix64(key(seed, stream) + (t * N + i) * 0x9E3779B97F4A7C15) >> 11`` scaled to [0, 1)
(Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators", OOPSLA,
doi:10.1145/2660193.2660195). Every draw is a pure function of (seed, stream, step, neuron), so
the compiled loop and the NumPy reference produce identical numbers, in any order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurocircuits.validation import check_float, check_int

_M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB


def mix64(z: int) -> int:
    """splitmix64 finaliser on a Python int (mod 2^64)."""
    z &= _M64
    z = ((z ^ (z >> 30)) * MIX1) & _M64
    z = ((z ^ (z >> 27)) * MIX2) & _M64
    return z ^ (z >> 31)


def stream_key(seed: int, stream: int) -> int:
    """64-bit key of random stream ``stream`` of a network seeded with ``seed``."""
    return mix64(mix64(seed * GOLDEN + 0x632BE59BD9B4E019) + (stream + 1) * GOLDEN)


def uniform_np(key: int, counters: np.ndarray) -> np.ndarray:
    """The uniforms in [0, 1) of ``key`` at integer ``counters`` (NumPy, vectorised)."""
    c = np.asarray(counters, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(key) + c * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def poisson_cdf_table(lam: float) -> tuple[int, np.ndarray]:
    """``(k0, cdf)`` with ``cdf[j] = P(K <= k0 + j)`` for K ~ Poisson(lam), covering all but
    ~1e-16 of the mass. A uniform u maps to k0 + (first j with u < cdf[j]) (last j if none)."""
    lam = check_float("lambda", lam, min_value=0.0)
    if lam == 0.0:
        return 0, np.ones(1)
    sd = math.sqrt(lam)
    lo = max(0, int(lam - 12 * sd - 10))
    hi = int(lam + 12 * sd + 20)
    k = np.arange(lo, hi + 1)
    logp = -lam + k * math.log(lam) - np.array([math.lgamma(x + 1.0) for x in k])
    pmf = np.exp(logp)
    cdf = np.cumsum(pmf)
    cdf /= cdf[-1]
    # drop the far left tail with negligible mass (keeps the linear search short)
    first = int(np.searchsorted(cdf, 1e-18))
    return lo + first, cdf[first:].copy()


@dataclass(frozen=True)
class PoissonInput:
    """Poisson drive onto a population: ``n_sources`` trains at ``rate_hz`` per neuron, each
    event adding ``weight`` to ``receptor`` ("v", "exc" or "inh")."""

    n_sources: int
    rate_hz: float
    weight: float
    receptor: str = "v"

    def __post_init__(self):
        check_int("n_sources", self.n_sources, min_value=1)
        check_float("rate_hz", self.rate_hz, min_value=0.0)
        check_float("weight", self.weight)
        if self.receptor not in ("v", "exc", "inh"):
            raise ValueError(f"receptor must be 'v', 'exc' or 'inh', got {self.receptor!r}")

    def lam(self, dt_ms: float) -> float:
        return self.n_sources * self.rate_hz * dt_ms * 1e-3


def constant_current(n: int, I_mV) -> np.ndarray:
    """Per-neuron constant drive ``R_m I`` in mV (scalar broadcast or array of ``n``)."""
    n = check_int("n", n, min_value=1)
    arr = np.asarray(I_mV, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"I_mV must be a scalar or have shape ({n},), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("I_mV contains NaN or infinite values")
    return arr
