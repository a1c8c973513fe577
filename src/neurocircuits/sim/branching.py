"""Branching processes and driven branching networks: ground-truth generators for avalanche and
branching-ratio analysis.

* :func:`galton_watson_avalanches` — independent avalanches of a Galton–Watson process started
  by one event; each event has ``Poisson(m)`` or ``Binomial(K, m/K)`` offspring in the next
  step (Harris 1963, *The Theory of Branching Processes*). At ``m = 1`` the size and duration
  laws are ``P(S) ~ S^-3/2`` and ``P(T) ~ T^-2``.
* :func:`driven_branching_process` — the population activity ``A_{t+1} ~ Poisson(m A_t + h)``
  (branching process with immigration, Wilting & Priesemann 2018, Nat. Commun. 9:2325,
  doi:10.1038/s41467-018-04725-4); stationary mean ``h / (1 - m)`` for ``m < 1``.
* :func:`branching_network` — ``N`` units, each with ``K`` random outgoing connections; an
  active unit activates each target at the next step with probability ``σ/K`` (binomial
  offspring) or activates ``Poisson(σ)`` targets drawn among its ``K`` (Poisson offspring); every
  unit is also activated spontaneously with probability ``h`` per step (external drive); a unit
  is refractory for ``refractory_steps`` steps after being active. This is the cortical
  branching model of Williams-Garcia, Moore, Beggs & Ortiz (2014), Phys. Rev. E 90:062714,
  arXiv:1405.6232 (σ their branching parameter κ, h their spontaneous probability p_s,
  refractory_steps their τ_r - 1).

One time step is one bin of the activity (``dt_ms`` labels it when a recording is produced).
The compiled kernels draw from Numba's generator, seeded from ``seed`` on every call, so the
same seed gives the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.validation import check_float, check_int

__all__ = [
    "galton_watson_avalanches",
    "driven_branching_process",
    "subsample_counts",
    "BranchingNetworkRun",
    "branching_network",
]

_OFFSPRING = {"poisson": 0, "binomial": 1}


def _seed_value(seed) -> int:
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**32 - 1))
    return check_int("seed", seed, min_value=0, max_value=2**32 - 1)


def _offspring_code(offspring: str) -> int:
    if offspring not in _OFFSPRING:
        raise ValueError(f"offspring must be one of {tuple(_OFFSPRING)}, got {offspring!r}")
    return _OFFSPRING[offspring]


@numba.njit(cache=True)
def _gw_kernel(seed, m, n_av, kind, k, max_size):
    np.random.seed(seed)
    sizes = np.empty(n_av, np.int64)
    durs = np.empty(n_av, np.int64)
    trunc = np.zeros(n_av, np.bool_)
    p = m / k if kind == 1 else 0.0
    for a in range(n_av):
        active = np.int64(1)
        s = np.int64(0)
        d = np.int64(0)
        while active > 0:
            s += active
            d += 1
            if s > max_size:
                trunc[a] = True
                break
            if kind == 0:
                active = np.random.poisson(m * active)
            else:
                active = np.random.binomial(k * active, p)
        sizes[a] = s
        durs[a] = d
    return sizes, durs, trunc


def galton_watson_avalanches(m: float, n_avalanches: int, *, offspring: str = "poisson", k: int = 10,
                             max_size: int = 10**7, seed=0):
    """Sizes and durations of ``n_avalanches`` independent Galton–Watson avalanches with mean
    offspring ``m``, each started by one event.

    Size = events over all generations (the seed included), duration = generations with at least
    one event. ``offspring="binomial"`` gives each event ``Binomial(k, m/k)`` children (needs
    ``m <= k``). Avalanches growing beyond ``max_size`` events are stopped; the returned boolean
    mask ``truncated`` marks them (leave them out of fits, or pass ``xmax``).

    Returns ``(sizes, durations, truncated)``.
    """
    m = check_float("m", m, min_value=0.0)
    n_avalanches = check_int("n_avalanches", n_avalanches, min_value=1)
    kind = _offspring_code(offspring)
    k = check_int("k", k, min_value=1)
    if kind == 1 and m > k:
        raise ValueError(f"binomial offspring needs m <= k, got m = {m}, k = {k}")
    max_size = check_int("max_size", max_size, min_value=1)
    return _gw_kernel(_seed_value(seed), m, n_avalanches, kind, k, max_size)


@numba.njit(cache=True)
def _driven_kernel(seed, m, h, n_steps, a0):
    np.random.seed(seed)
    out = np.empty(n_steps, np.int64)
    a = a0
    for t in range(n_steps):
        a = np.random.poisson(m * a + h)
        out[t] = a
    return out


def driven_branching_process(m: float, h: float, n_steps: int, *, a0: int | None = None,
                             burn_in: int = 1000, seed=0) -> np.ndarray:
    """Activity ``A_t`` of the branching process with immigration
    ``A_{t+1} ~ Poisson(m A_t + h)`` for ``n_steps`` steps after ``burn_in`` discarded steps.
    ``a0`` defaults to the stationary mean ``round(h / (1 - m))`` (0 when ``m >= 1``)."""
    m = check_float("m", m, min_value=0.0)
    h = check_float("h", h, min_value=0.0)
    n_steps = check_int("n_steps", n_steps, min_value=1)
    burn_in = check_int("burn_in", burn_in, min_value=0)
    if a0 is None:
        a0 = int(round(h / (1.0 - m))) if m < 1 else 0
    a0 = check_int("a0", a0, min_value=0)
    return _driven_kernel(_seed_value(seed), m, h, n_steps + burn_in, a0)[burn_in:]


def subsample_counts(counts, fraction: float, seed=0) -> np.ndarray:
    """Binomial thinning: each event of ``counts`` is observed with probability ``fraction``
    (the mean-field picture of recording a random fraction of the units)."""
    c = np.asarray(counts)
    if c.ndim != 1 or c.dtype.kind not in "iu":
        raise TypeError(f"counts must be a 1-D integer array, got shape {c.shape}, dtype {c.dtype}")
    if c.size and c.min() < 0:
        raise ValueError(f"counts must be >= 0, got minimum {c.min()}")
    f = check_float("fraction", fraction, min_value=0.0, max_value=1.0)
    return np.random.default_rng(seed).binomial(c, f).astype(np.int64)


# ---------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def _network_kernel(seed, n, targets, sigma, h, n_steps, kind, refr, init_active, rec_mask,
                    record_spikes, max_spikes):
    np.random.seed(seed)
    k = targets.shape[1]
    p = sigma / k
    last = np.full(n, -(10**9), np.int64)  # step of last activation
    drawn = np.full(n, -1, np.int64)  # step at which the unit was last picked by the drive
    cur = np.empty(n, np.int64)
    nxt = np.empty(n, np.int64)
    n_cur = 0
    for i in range(init_active.size):
        u = init_active[i]
        if last[u] != -1:
            last[u] = -1
            cur[n_cur] = u
            n_cur += 1
    counts = np.zeros(n_steps, np.int64)
    caused = np.zeros(n_steps, np.int64)
    sub = np.zeros(n_steps, np.int64)
    sp_t = np.empty(max_spikes if record_spikes else 0, np.int64)
    sp_i = np.empty(max_spikes if record_spikes else 0, np.int64)
    n_sp = 0
    overflow = False
    for t in range(n_steps):
        n_nxt = 0
        # propagation from units active at t-1 (cur) to step t
        for a in range(n_cur):
            u = cur[a]
            if kind == 1:
                for j in range(k):
                    if np.random.random() < p:
                        v = targets[u, j]
                        if t - last[v] > refr:
                            last[v] = t
                            nxt[n_nxt] = v
                            n_nxt += 1
            else:
                c = np.random.poisson(sigma)
                for _ in range(c):
                    v = targets[u, np.random.randint(0, k)]
                    if t - last[v] > refr:
                        last[v] = t
                        nxt[n_nxt] = v
                        n_nxt += 1
        caused[t] = n_nxt
        # external drive: each unit with probability h (exact: Binomial count of distinct units)
        if h > 0:
            c = np.random.binomial(n, h)
            for _ in range(c):
                v = np.random.randint(0, n)
                while drawn[v] == t:  # c distinct units: each unit is driven with probability h
                    v = np.random.randint(0, n)
                drawn[v] = t
                if t - last[v] > refr:
                    last[v] = t
                    nxt[n_nxt] = v
                    n_nxt += 1
        counts[t] = n_nxt
        s = 0
        for a in range(n_nxt):
            v = nxt[a]
            if rec_mask[v]:
                s += 1
            if record_spikes:
                if n_sp < max_spikes:
                    sp_t[n_sp] = t
                    sp_i[n_sp] = v
                    n_sp += 1
                else:
                    overflow = True
        sub[t] = s
        tmp = cur
        cur = nxt
        nxt = tmp
        n_cur = n_nxt
    return counts, caused, sub, sp_t[:n_sp].copy(), sp_i[:n_sp].copy(), overflow


def _random_targets(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``[n, k]`` targets: for each unit u, k distinct units drawn uniformly from the others
    (sparse case: rows with a repeated target are redrawn until all are distinct; dense case
    k > n/4: the first k of a random permutation of the others)."""
    u = np.arange(n)[:, None]
    if 4 * k > n:  # dense: a random permutation of the others per row (rejection would stall)
        t = rng.permuted(np.tile(np.arange(n - 1), (n, 1)), axis=1)[:, :k]
        return t + (t >= u)
    t = rng.integers(0, n - 1, size=(n, k))
    redo = np.arange(n)
    while True:
        srt = np.sort(t[redo], axis=1)
        dup = (srt[:, 1:] == srt[:, :-1]).any(axis=1) if k > 1 else np.zeros(redo.size, bool)
        redo = redo[dup]
        if redo.size == 0:
            break
        t[redo] = rng.integers(0, n - 1, size=(redo.size, k))
    return t + (t >= u)


@dataclass(frozen=True)
class BranchingNetworkRun:
    """Output of :func:`branching_network`.

    counts: active units per step ``[n_steps]``; caused: those of them activated by transmission
    from the previous step (the rest were driven); sub_counts: active recorded units per step
    (the ``record`` subset; equal to counts when all are recorded); recorded: ids of the recorded
    units; spikes: a :class:`SpikeTrains` of all units (``record_spikes=True``) or None; n_units,
    k, sigma, h, refractory_steps: the parameters."""

    counts: np.ndarray
    caused: np.ndarray
    sub_counts: np.ndarray
    recorded: np.ndarray
    spikes: SpikeTrains | None
    n_units: int
    k: int
    sigma: float
    h: float
    refractory_steps: int

    @property
    def density(self) -> np.ndarray:
        """Fraction of units active per step, ρ_t = A_t / N."""
        return self.counts / self.n_units

    def descendant_ratio(self) -> float:
        """Mean number of descendants per ancestor, ``Σ_t caused_{t+1} / Σ_t A_t``: the
        branching ratio of the dynamics (Beggs & Plenz 2003), which refractoriness, target
        collisions and drive-occupied units push below the branching parameter σ."""
        anc = self.counts[:-1].sum()
        if anc == 0:
            raise ValueError("no activity: the descendant ratio is undefined")
        return float(self.caused[1:].sum() / anc)

    def susceptibility(self) -> float:
        """``χ = N (<ρ²> - <ρ>²)``, the variance of the active density times the network size
        (Williams-Garcia et al. 2014)."""
        return float(self.n_units * self.density.var())


def branching_network(n_units: int, k: int, sigma: float, h: float, n_steps: int, *,
                      offspring: str = "binomial", refractory_steps: int = 0, burn_in: int = 1000,
                      record=None, record_spikes: bool = False, dt_ms: float = 1.0,
                      max_spikes: int = 50_000_000, seed=0) -> BranchingNetworkRun:
    """Simulate the driven branching network (see module docstring) for ``n_steps`` steps after
    ``burn_in`` discarded steps, starting from the spontaneous activity alone (or from one active
    unit when ``h = 0``).

    ``record``: ids of the units whose activity is summed into ``sub_counts`` (e.g. a 5 % random
    subsample), or a fraction in (0, 1] meaning a random subset of that size.
    ``record_spikes``: also return every activation as a :class:`SpikeTrains`, step t at
    ``t * dt_ms``; at most ``max_spikes`` are kept (ValueError beyond: raise it or shorten the run).
    Binomial offspring needs ``sigma <= k``.
    """
    n = check_int("n_units", n_units, min_value=2)
    k = check_int("k", k, min_value=1, max_value=n - 1)
    sigma = check_float("sigma", sigma, min_value=0.0)
    h = check_float("h", h, min_value=0.0, max_value=1.0)
    n_steps = check_int("n_steps", n_steps, min_value=1)
    burn_in = check_int("burn_in", burn_in, min_value=0)
    kind = _offspring_code(offspring)
    if kind == 1 and sigma > k:
        raise ValueError(f"binomial offspring needs sigma <= k, got sigma = {sigma}, k = {k}")
    refr = check_int("refractory_steps", refractory_steps, min_value=0)
    dt_ms = check_float("dt_ms", dt_ms, positive=True)
    max_spikes = check_int("max_spikes", max_spikes, min_value=1)
    rng = np.random.default_rng(seed if not isinstance(seed, np.random.Generator) else seed)
    targets = _random_targets(n, k, rng)
    mask = np.ones(n, np.bool_)
    recorded = np.arange(n)
    if record is not None:
        if isinstance(record, float):
            frac = check_float("record", record, min_value=0.0, max_value=1.0)
            if frac <= 0:
                raise ValueError(f"record fraction must be > 0, got {frac}")
            recorded = np.sort(rng.choice(n, size=max(1, int(round(frac * n))), replace=False))
        else:
            recorded = np.unique(np.asarray(record, dtype=np.int64))
            if recorded.size == 0 or recorded.min() < 0 or recorded.max() >= n:
                raise ValueError(f"record must list unit ids in [0, {n})")
        mask = np.zeros(n, np.bool_)
        mask[recorded] = True
    init = np.array([0], np.int64) if h == 0 else np.empty(0, np.int64)
    kseed = int(rng.integers(0, 2**32 - 1))
    total = n_steps + burn_in
    counts, caused, sub, sp_t, sp_i, overflow = _network_kernel(kseed, n, targets, sigma, h, total, kind, refr,
                                                        init, mask, record_spikes, max_spikes)
    spikes = None
    if record_spikes:
        if overflow:
            raise ValueError(f"more than max_spikes = {max_spikes} activations; raise max_spikes or "
                             "shorten the run")
        keep = sp_t >= burn_in
        spikes = SpikeTrains((sp_t[keep] - burn_in) * dt_ms, sp_i[keep], n, n_steps * dt_ms)
    return BranchingNetworkRun(counts[burn_in:], caused[burn_in:], sub[burn_in:], recorded, spikes, n, k, sigma,
                               h, refr)
