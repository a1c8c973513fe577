"""Networks with known connectivity, as ground truth for analysis methods.

1. Linear rate (Ornstein–Uhlenbeck) networks. Continuous time, ``tau`` the time constant::

       tau dx = (-x + W x) dt + sqrt(2 tau) σ dB,

   integrated with the Euler–Maruyama step ``h = dt / tau`` (dimensionless)::

       x_{t+1} = ((1 - h) 1 + h W) x_t + sqrt(2 h) σ ξ_t,    ξ_t ~ N(0, 1).

   For any ``h`` in (0, 1] the zero-frequency spectral density of this linear process, i.e. the
   covariance of the sum of ``x`` over a long window of ``L`` steps divided by ``L``, is

       lim_{L→∞} Cov(Σ x)/L = (1 - W)^{-1} (2 σ² / h) (1 - W)^{-T},

   (the familiar ``(1 - W)^{-1} D (1 - W)^{-T}`` of linear response theory, see
   :func:`long_window_covariance`), so the step does not change the structure that covariance
   analyses rely on. ``h = 1`` gives the discrete-time linear network ``x_{t+1} = W x_t + ξ_t``.

2. Poisson GLM spiking networks (Pillow et al. 2008, Nature 454:995, doi:10.1038/nature07140),
   in bins of ``dt_ms``::

       u_i(t)  = Σ_j W_ij h_j(t),   h_j(t+1) = e^{-dt/tau_syn} h_j(t) + s_j(t),
       λ_i(t)  = exp(b_i + u_i(t))   [Hz],   s_i(t) ~ Poisson(λ_i(t) dt),

   with ``W`` in log-rate units per filtered spike. A compiled (numba) loop delivers spikes
   event by event, so a step costs ``O(N + spikes * N)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.progress import progress
from neurocircuits.validation import check_array, check_float, check_int, check_probability

__all__ = [
    "random_connectivity",
    "ei_connectivity",
    "bulk_radius",
    "long_window_covariance",
    "simulate_linear_network",
    "linear_network_window_counts",
    "simulate_glm_network",
]


_EIG_CHECK_MAX_N = 1500  # above this, eigenvalues are too costly to check stability up front


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int("seed", seed, min_value=0))


def random_connectivity(n: int, radius: float, *, p_connect: float = 1.0, seed=0) -> np.ndarray:
    """Random ``[n, n]`` connectivity with zero-mean Gaussian weights on a fraction ``p_connect``
    of entries (no self-connections), scaled so that the bulk radius
    ``R = sqrt(n var(W_ij))`` (over all entries, zeros included) equals ``radius`` exactly."""
    n = check_int("n", n, min_value=2)
    radius = check_float("radius", radius, min_value=0.0)
    p = check_probability("p_connect", p_connect)
    if p == 0:
        raise ValueError("p_connect must be > 0")
    rng = _rng(seed)
    w = rng.standard_normal((n, n))
    if p < 1:
        w *= rng.random((n, n)) < p
    np.fill_diagonal(w, 0.0)
    r = bulk_radius(w)
    return w * (radius / r) if r > 0 else w


def ei_connectivity(n: int, radius: float, *, frac_exc: float = 0.8, p_connect: float = 0.1,
                    g: float | None = None, seed=0) -> np.ndarray:
    """Sparse Dale's-law connectivity: a fraction ``frac_exc`` of excitatory columns (weight +w)
    and inhibitory columns (weight -g w), Bernoulli(``p_connect``) connections, no autapses.
    ``g`` defaults to balance (zero mean input). Scaled to bulk radius ``radius``."""
    n = check_int("n", n, min_value=2)
    radius = check_float("radius", radius, min_value=0.0)
    fe = check_probability("frac_exc", frac_exc)
    p = check_probability("p_connect", p_connect)
    if p == 0:
        raise ValueError("p_connect must be > 0")
    rng = _rng(seed)
    n_e = int(round(fe * n))
    if g is None:
        g = n_e / max(n - n_e, 1)
    g = check_float("g", g, min_value=0.0)
    mask = rng.random((n, n)) < p
    np.fill_diagonal(mask, False)
    sign = np.ones(n)
    sign[n_e:] = -g
    w = mask * sign[None, :]
    r = bulk_radius(w)
    return w * (radius / r) if r > 0 else w


def bulk_radius(w) -> float:
    """``R = sqrt(N var(W_ij))``: the radius of the disk filled by the bulk of the eigenvalues of
    a large random matrix (Girko's circular law; Rajan & Abbott 2006 for E/I columns)."""
    w = check_array("W", w, ndim=2)
    if w.shape[0] != w.shape[1]:
        raise ValueError(f"W must be square, got shape {w.shape}")
    return float(math.sqrt(w.shape[0] * w.astype(np.float64).var()))


def long_window_covariance(w, noise_var=1.0) -> np.ndarray:
    """Closed form ``C = (1 - W)^{-1} D (1 - W)^{-T}`` with ``D = diag(noise_var)`` (scalar or
    ``[N]``). Requires every eigenvalue of ``W`` to have real part < 1 (stable network)."""
    w = check_array("W", w, ndim=2).astype(np.float64)
    n = w.shape[0]
    if w.shape != (n, n):
        raise ValueError(f"W must be square, got shape {w.shape}")
    d = np.broadcast_to(np.asarray(noise_var, dtype=np.float64), (n,))
    if np.any(d < 0) or not np.isfinite(d).all():
        raise ValueError("noise_var must be finite and >= 0")
    b = np.linalg.solve(np.eye(n) - w, np.diag(np.sqrt(d)))
    return b @ b.T


def _check_stable(w: np.ndarray, h: float) -> None:
    if w.shape[0] > _EIG_CHECK_MAX_N:  # too costly up front: divergence is checked afterwards
        return
    ev = np.linalg.eigvals((1 - h) * np.eye(w.shape[0]) + h * w)
    rho = float(np.abs(ev).max())
    if rho >= 1:
        raise ValueError(f"the network is unstable: the update matrix has spectral radius {rho:.4f} >= 1 "
                         "(reduce the weights or the step)")


def simulate_linear_network(w, n_steps: int, *, step: float = 1.0, noise_std: float = 1.0,
                            n_burn: int = 0, seed=0, dtype=np.float64) -> np.ndarray:
    """Trajectory ``[n_steps, N]`` of the Euler–Maruyama OU network (module docstring), started
    at 0 and run ``n_burn`` steps before recording. ``step`` = dt / tau in (0, 1]."""
    w = check_array("W", w, ndim=2)
    n = w.shape[0]
    if w.shape != (n, n):
        raise ValueError(f"W must be square, got shape {w.shape}")
    n_steps = check_int("n_steps", n_steps, min_value=1)
    n_burn = check_int("n_burn", n_burn, min_value=0)
    h = check_float("step", step, positive=True, max_value=1.0)
    s = check_float("noise_std", noise_std, min_value=0.0)
    _check_stable(w, h)
    rng = _rng(seed)
    a = ((1 - h) * np.eye(n) + h * w).T.astype(dtype)
    amp = math.sqrt(2 * h) * s
    x = np.zeros(n, dtype=dtype)
    out = np.empty((n_steps, n), dtype=dtype)
    for t in range(n_burn + n_steps):
        x = x @ a + amp * rng.standard_normal(n).astype(dtype)
        if t >= n_burn:
            out[t - n_burn] = x
    if not np.isfinite(out).all():
        raise ValueError("the network is unstable: activity diverged (reduce the weights or the step)")
    return out


def linear_network_window_counts(w, n_windows: int, window_steps: int, *, n_parallel: int = 64,
                                 step: float = 1.0, noise_std: float = 1.0, n_burn: int | None = None,
                                 seed=0, dtype=np.float32) -> np.ndarray:
    """Sums of the OU network's activity over consecutive windows of ``window_steps`` steps,
    ``[n_windows, N]`` (float64), from ``n_parallel`` independent chains run side by side (one
    matrix product per step for all chains). Each chain burns in ``n_burn`` steps (default: 10
    relaxation times of the slowest mode, at least 100). The full trajectory is never stored."""
    w = check_array("W", w, ndim=2)
    n = w.shape[0]
    if w.shape != (n, n):
        raise ValueError(f"W must be square, got shape {w.shape}")
    n_windows = check_int("n_windows", n_windows, min_value=1)
    L = check_int("window_steps", window_steps, min_value=1)
    b = check_int("n_parallel", n_parallel, min_value=1)
    h = check_float("step", step, positive=True, max_value=1.0)
    s = check_float("noise_std", noise_std, min_value=0.0)
    if n <= _EIG_CHECK_MAX_N:
        ev = np.linalg.eigvals((1 - h) * np.eye(n) + h * w)
        rho = float(np.abs(ev).max())
        if rho >= 1:
            raise ValueError(f"the network is unstable: the update matrix has spectral radius {rho:.4f} >= 1")
    else:  # large networks: bulk radius as the estimate; divergence is caught during burn-in
        rho = (1 - h) + h * bulk_radius(w)
    if n_burn is None:
        n_burn = max(100, int(10 / max(1 - rho, 1e-3)))
    n_burn = check_int("n_burn", n_burn, min_value=0)
    rng = _rng(seed)
    b = min(b, n_windows)
    per_chain = -(-n_windows // b)
    a = ((1 - h) * np.eye(n) + h * w).T.astype(dtype)
    amp = dtype(math.sqrt(2 * h) * s)
    x = np.zeros((b, n), dtype=dtype)
    for _ in range(n_burn):
        x = x @ a + amp * rng.standard_normal((b, n), dtype=dtype)
    stationary_sd = float(np.abs(x).max()) if n_burn else 0.0
    if not np.isfinite(stationary_sd) or stationary_sd > 1e6 * max(float(amp), 1e-12) * math.sqrt(n):
        raise ValueError("the network is unstable: activity diverged during burn-in "
                         "(reduce the weights or the step)")
    out = np.empty((per_chain, b, n))
    for k in progress(range(per_chain), desc="windows"):
        acc = np.zeros((b, n))
        for _ in range(L):
            x = x @ a + amp * rng.standard_normal((b, n), dtype=dtype)
            acc += x
        out[k] = acc
    return out.reshape(per_chain * b, n)[:n_windows]


@njit(cache=True)
def _glm_loop(w_t, base_log, n_steps, dt_s, decay, seed, max_spikes):
    np.random.seed(seed)
    n = base_log.size
    u = np.zeros(n)
    times = np.empty(max_spikes, dtype=np.int64)
    ids = np.empty(max_spikes, dtype=np.int64)
    k = 0
    for t in range(n_steps):
        k0 = k
        for i in range(n):
            lam = math.exp(base_log[i] + u[i]) * dt_s
            if lam > 50.0:
                lam = 50.0
            c = np.random.poisson(lam)
            u[i] *= decay
            for _ in range(c):
                if k < max_spikes:
                    times[k] = t
                    ids[k] = i
                k += 1
        # this step's spikes act on the rates from the next step on
        for q in range(k0, min(k, max_spikes)):
            row = w_t[ids[q]]
            for i in range(n):
                u[i] += row[i]
    return times, ids, k


def simulate_glm_network(w, rate_hz, duration_ms: float, *, dt_ms: float = 1.0,
                         tau_syn_ms: float = 5.0, seed=0) -> SpikeTrains:
    """Poisson GLM network (module docstring) with coupling ``W`` ``[N, N]`` (row i = target,
    column j = source; log-rate per filtered spike) and baseline rates ``rate_hz`` (scalar or
    ``[N]``, Hz), for ``duration_ms`` in bins of ``dt_ms``. Spike times are the bin starts."""
    w = check_array("W", w, ndim=2).astype(np.float64)
    n = w.shape[0]
    if w.shape != (n, n):
        raise ValueError(f"W must be square, got shape {w.shape}")
    r = np.broadcast_to(np.asarray(rate_hz, dtype=np.float64), (n,)).copy()
    if not np.isfinite(r).all() or np.any(r <= 0):
        raise ValueError(f"rate_hz must be finite and > 0, got min {r.min() if r.size else r}")
    dur = check_float("duration_ms", duration_ms, positive=True)
    dt = check_float("dt_ms", dt_ms, positive=True)
    tau = check_float("tau_syn_ms", tau_syn_ms, positive=True)
    n_steps = int(round(dur / dt))
    if n_steps < 1:
        raise ValueError(f"duration_ms = {dur} is shorter than one bin of {dt} ms")
    seed = int(_rng(seed).integers(0, 2**31 - 1))
    dt_s = dt * 1e-3
    expected = float(r.sum() * n_steps * dt_s)
    max_spikes = int(expected * 4 + 10 * math.sqrt(expected) + 1000)
    times, ids, k = _glm_loop(np.ascontiguousarray(w.T), np.log(r), n_steps, dt_s,
                              math.exp(-dt / tau), seed, max_spikes)
    if k > max_spikes:
        raise ValueError(f"the network ran away ({k} spikes, more than 4x the baseline expectation); "
                         "reduce the coupling W")
    return SpikeTrains(times[:k] * dt, ids[:k], n, n_steps * dt)
