"""EventProp: exact event-based gradients for networks of LIF neurons with exponential synapses.

Reference: T. C. Wunderlich & C. Pehle (2021), "Event-based backpropagation can compute exact
gradients for spiking neural networks", Sci. Rep. 11:12829, arXiv:2009.08378. Loss functions
and regularisation follow T. Nowotny, J. P. Turner & J. C. Knight (2022), "Loss shaping enhances
exact gradient learning with EventProp in spiking neural networks", arXiv:2212.01232.

Model (times in ms, voltages in units of the threshold scale, ``theta`` = 1 by default)::

    tau_mem dV_j/dt = -V_j + I_j            (membrane, leak to 0)
    tau_syn dI_j/dt = -I_j                  (exponential synaptic current)
    presynaptic spike of i at t:   I_j -> I_j + w_ji            (every post-synaptic j)
    V_j reaches theta at t_k:      V_j -> 0, spike of j at t_k (recurrent: I_l -> I_l + u_lj)

Between events the state evolves in closed form (``s`` = time since the last event)::

    V(s) = V0 exp(-s/tau_mem) + I0 k(s),   k(s) = tau_syn/(tau_syn - tau_mem) (e^{-s/tau_syn} - e^{-s/tau_mem})
    I(s) = I0 exp(-s/tau_syn)              (k(s) = (s/tau_mem) e^{-s/tau_mem} when tau_mem = tau_syn)

so the forward pass is *exactly* event driven: V(s) is a sum of two exponentials with at most one
extremum, which is located in closed form, so no threshold crossing is missed; crossing times
are found by safeguarded Newton iteration to machine precision. Nothing is stored per time step:
each layer keeps its spike events (time, neuron, sample) and the synaptic current ``I^-`` at each
spike, which is all the backward pass needs.

Backward pass (adjoint). Wunderlich & Pehle write the adjoint variables ``lambda_V``,
``lambda_I`` with, between events and backwards in time,
``tau_mem lambda_V' = -lambda_V - dl_V/dV``, ``tau_syn lambda_I' = -lambda_I + lambda_V``
(' = derivative in reversed time), jumps of ``lambda_V`` at spikes, and
``dL/dw_ji = -tau_syn * sum_{spikes t_k of i} lambda_I,j(t_k)``. We integrate the same adjoint in
closed form, in the scaled variables ``a_V = dL/dV(t) = -tau_mem lambda_V`` and
``a_I = dL/dI(t) = -tau_syn lambda_I`` (the sensitivity of the loss to the state at time t)::

    between events (backwards over an interval d):   a_V <- a_V e^{-d/tau_mem}
                                                      a_I <- a_I e^{-d/tau_syn} + a_V k(d)
    input spike of i at t:       dL/dw_ji += a_I,j(t)           (= -tau_syn lambda_I,j(t))
                                 dL/dt     = sum_j w_ji (a_I,j/tau_syn - a_V,j/tau_mem)
    own spike of n at t_k:       dL/dt_k = (direct loss term) + (downstream dL/dt) + sum_l u_ln (a_I,l/tau_syn - a_V,l/tau_mem)
                                           - a_V,n I_n^- / tau_mem
                                 a_V,n(t_k^-) = -tau_mem dL/dt_k / (I_n^- - theta)

``(I_n^- - theta)/tau_mem`` is dV/dt just before the spike, so the last line is W&P's jump of
``lambda_V`` (Eq. 11 in their notation: the ratio of post- to pre-spike voltage derivative times
``lambda_V^+`` plus the weighted adjoint of the targets, divided by ``dV/dt^-``).

Readouts of the (non-spiking, leaky-integrator) output layer sampled on a grid ``t_g = g dt``,
``g = 1..G``, with ``G = duration/dt``:

- ``"sum_exp"``: ``R_k = (dt / T) sum_g exp(-t_g/tau_w) V_k(t_g)``, the exponentially weighted
  time average of the voltage, ``(1/T) int_0^T e^{-t/T} V_k(t) dt`` on the grid (Nowotny et al.
  2022, loss shaping; default ``tau_w = T``, the trial duration);
- ``"max"``: ``R_k = max_g V_k(t_g)`` (W&P, latency MNIST);
- ``"first_spike"``: spiking output layer, ``R_k`` = time of the first spike of output k (ms),
  ``T`` when it never spikes (then with zero gradient: a missing spike has no exact gradient).

Losses: :func:`voltage_ce_loss` (cross-entropy on ``sum_exp`` / ``max`` readouts) and
:func:`first_spike_loss` (W&P Eq. 13: cross-entropy on ``-t/tau0`` plus
``alpha (exp(t_label/tau1) - 1)``). Spike-count regularisation: as in Nowotny et al., counts have
no exact gradient; a term ``rho (n_j - nu)`` (batch-mean count of hidden neuron j minus target
``nu``) is added to ``a_V`` just before every spike of j in the backward pass, which pushes the
voltage of over-active neurons down and of silent ones up (a heuristic direction, off by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from numba import njit
from torch import nn

from neurocircuits.validation import check_float, check_int, check_tensor

__all__ = [
    "SpikeEvents",
    "EventPropConfig",
    "EventPropNetwork",
    "EventPropOutput",
    "eventprop_forward",
    "voltage_ce_loss",
    "first_spike_loss",
    "READOUTS",
]

READOUTS = ("sum_exp", "max", "first_spike")
_READOUT_CODE = {"sum_exp": 1, "max": 2, "first_spike": 0}


# --------------------------------------------------------------------------------------------
# Input events
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpikeEvents:
    """A batch of spike events: for sample ``b`` the events ``ptr[b]:ptr[b+1]`` of the flat
    arrays ``times_ms`` (float64, ascending within a sample) and ``ids`` (int64 in
    ``[0, n_neurons)``), over ``[0, duration_ms)``."""

    times_ms: np.ndarray
    ids: np.ndarray
    ptr: np.ndarray
    n_neurons: int
    duration_ms: float

    def __post_init__(self) -> None:
        n = check_int("n_neurons", self.n_neurons, min_value=1)
        dur = check_float("duration_ms", self.duration_ms, positive=True)
        t = np.ascontiguousarray(self.times_ms, dtype=np.float64)
        i = np.ascontiguousarray(self.ids)
        p = np.ascontiguousarray(self.ptr)
        if t.ndim != 1 or i.ndim != 1 or t.shape != i.shape:
            raise ValueError(f"times_ms and ids must be 1-D of equal length, got {t.shape} and {i.shape}")
        if i.size and i.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers, got dtype {i.dtype}")
        if p.ndim != 1 or p.size < 2 or p.dtype.kind not in "iu":
            raise ValueError(f"ptr must be a 1-D integer array of length batch + 1 >= 2, got {p.shape}")
        p = p.astype(np.int64)
        if p[0] != 0 or p[-1] != t.size or np.any(np.diff(p) < 0):
            raise ValueError("ptr must start at 0, be non-decreasing and end at the number of events")
        if t.size:
            if not np.isfinite(t).all():
                raise ValueError("times_ms contains NaN or infinite values")
            if t.min() < 0 or t.max() >= dur:
                raise ValueError(f"event times must lie in [0, {dur}) ms, got [{t.min()}, {t.max()}]")
            if i.min() < 0 or i.max() >= n:
                raise ValueError(f"event ids must lie in [0, {n}), got range [{i.min()}, {i.max()}]")
            d = np.diff(t)
            boundary = np.zeros(d.size, dtype=bool)
            inner = p[1:-1]
            inner = inner[(inner > 0) & (inner < t.size)]
            boundary[inner - 1] = True  # the step from one sample's last event to the next's first
            if np.any((d < 0) & ~boundary):
                raise ValueError("times_ms must be sorted ascending within each sample")
        object.__setattr__(self, "times_ms", t)
        object.__setattr__(self, "ids", i.astype(np.int64))
        object.__setattr__(self, "ptr", p)
        object.__setattr__(self, "n_neurons", n)
        object.__setattr__(self, "duration_ms", dur)

    @property
    def batch_size(self) -> int:
        return int(self.ptr.size - 1)

    @property
    def n_events(self) -> int:
        return int(self.times_ms.size)

    @property
    def nbytes(self) -> int:
        return int(self.times_ms.nbytes + self.ids.nbytes + self.ptr.nbytes)

    @classmethod
    def from_latencies(cls, times_ms, duration_ms: float) -> "SpikeEvents":
        """One spike per input: ``times_ms`` is ``[B, N]`` (``inf`` = no spike)."""
        t = times_ms.detach().cpu().numpy() if isinstance(times_ms, torch.Tensor) else np.asarray(times_ms)
        t = np.asarray(t, dtype=np.float64)
        if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] == 0:
            raise ValueError(f"latencies must be a non-empty [batch, n_inputs] array, got shape {t.shape}")
        if np.isnan(t).any() or np.isneginf(t).any():
            raise ValueError("latencies contain NaN or -inf (use +inf for 'no spike')")
        B, N = t.shape
        times, ids, ptr = [], [], [0]
        for b in range(B):
            row = t[b]
            k = np.nonzero(np.isfinite(row))[0]
            order = np.argsort(row[k], kind="stable")
            times.append(row[k][order])
            ids.append(k[order])
            ptr.append(ptr[-1] + k.size)
        return cls(np.concatenate(times), np.concatenate(ids).astype(np.int64), np.asarray(ptr, np.int64),
                   N, duration_ms)

    @classmethod
    def from_raster(cls, raster, dt_ms: float) -> "SpikeEvents":
        """From a ``[T, B, N]`` 0/1 raster; a spike in bin k is placed at ``k * dt_ms``."""
        dt = check_float("dt_ms", dt_ms, positive=True)
        r = raster.detach().cpu().numpy() if isinstance(raster, torch.Tensor) else np.asarray(raster)
        if r.ndim != 3 or 0 in r.shape:
            raise ValueError(f"raster must be a non-empty [T, B, N] array, got shape {r.shape}")
        T, B, N = r.shape
        times, ids, ptr = [], [], [0]
        for b in range(B):
            steps, nid = np.nonzero(r[:, b, :] > 0)  # sorted by step
            times.append(steps * dt)
            ids.append(nid)
            ptr.append(ptr[-1] + steps.size)
        return cls(np.concatenate(times).astype(np.float64), np.concatenate(ids).astype(np.int64),
                   np.asarray(ptr, np.int64), N, T * dt)


# --------------------------------------------------------------------------------------------
# Closed-form kernels (float64, numba)
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _kappa(s, tau_m, tau_s, eq):
    """V response at time s to a unit current at time 0 with V(0) = 0."""
    if eq:
        return s / tau_m * math.exp(-s / tau_m)
    return tau_s / (tau_s - tau_m) * (math.exp(-s / tau_s) - math.exp(-s / tau_m))


@njit(cache=True)
def _v_at(v0, i0, s, tau_m, tau_s, eq):
    return v0 * math.exp(-s / tau_m) + i0 * _kappa(s, tau_m, tau_s, eq)


@njit(cache=True)
def _t_extremum(v0, i0, tau_m, tau_s, eq):
    """Time s > 0 where dV/ds = 0 (V(s) = I(s)), or -1 when there is none."""
    if i0 == 0.0:
        return -1.0
    if eq:
        s = tau_m * (i0 - v0) / i0
        return s if s > 0 else -1.0
    c = tau_s / (tau_s - tau_m)
    a = v0 - i0 * c  # coefficient of e^{-s/tau_m}
    bc = i0 * c      # coefficient of e^{-s/tau_s}
    # a/tau_m e^{-s/tau_m} = -bc/tau_s e^{-s/tau_s}
    if a == 0.0:
        return -1.0
    arg = -bc * tau_m / (a * tau_s)
    if arg <= 0.0:
        return -1.0
    s = math.log(arg) / (1.0 / tau_s - 1.0 / tau_m)
    return s if s > 0 else -1.0


@njit(cache=True)
def _crossing(v0, i0, L, theta, tau_m, tau_s, eq):
    """First s in (0, L] with V(s) = theta, or -1. Exact detection (one extremum at most)."""
    if v0 >= theta:
        return 0.0
    vL = _v_at(v0, i0, L, tau_m, tau_s, eq)
    hi = -1.0
    if vL >= theta:
        hi = L
        sx = _t_extremum(v0, i0, tau_m, tau_s, eq)
        if 0.0 < sx < L and _v_at(v0, i0, sx, tau_m, tau_s, eq) >= theta:
            hi = sx
    else:
        sx = _t_extremum(v0, i0, tau_m, tau_s, eq)
        if 0.0 < sx < L and _v_at(v0, i0, sx, tau_m, tau_s, eq) >= theta:
            hi = sx
    if hi < 0.0:
        return -1.0
    lo = 0.0
    vhi = _v_at(v0, i0, hi, tau_m, tau_s, eq)
    s = hi * (theta - v0) / (vhi - v0) if vhi > v0 else 0.5 * hi
    for _ in range(100):
        e_m = math.exp(-s / tau_m)
        v = v0 * e_m + i0 * _kappa(s, tau_m, tau_s, eq)
        f = v - theta
        if f < 0.0:
            lo = s
        else:
            hi = s
        if f == 0.0:
            return s
        dv = (-v + i0 * math.exp(-s / tau_s)) / tau_m
        s_new = s - f / dv if dv > 0.0 else 0.5 * (lo + hi)
        if not (lo < s_new < hi):
            s_new = 0.5 * (lo + hi)
        if abs(s_new - s) <= 1e-15 * (1.0 + s):
            s = s_new
            break
        s = s_new
    return s


@njit(cache=True)
def _grow(a, n):
    if n < a.size:
        return a
    b = np.empty(max(2 * a.size, 16), dtype=a.dtype)
    b[: a.size] = a
    return b


@njit(cache=True)
def _forward_layer(in_t, in_id, in_ptr, W, U, has_rec, tau_m, tau_s, theta, T, spiking,
                   mode, dt, tau_w):
    """Simulate one layer for all samples. Returns the spike events (t, id, ptr, I^-) and the
    readout ([B, N]) with the grid index of the maximum (mode 2)."""
    B = in_ptr.size - 1
    N = W.shape[1]
    eq = abs(tau_m - tau_s) <= 1e-12 * tau_m
    cap = 64
    sp_t = np.empty(cap, np.float64)
    sp_id = np.empty(cap, np.int64)
    sp_I = np.empty(cap, np.float64)
    ptr = np.zeros(B + 1, np.int64)
    n_sp = 0
    G = int(round(T / dt)) if mode > 0 else 0
    R = np.zeros((B, N))
    arg = np.zeros((B, N), np.int64)
    V = np.zeros(N)
    I = np.zeros(N)
    tc = np.empty(N)
    for b in range(B):
        V[:] = 0.0
        I[:] = 0.0
        if mode == 2:
            for j in range(N):
                R[b, j] = -np.inf
        t = 0.0
        e = in_ptr[b]
        e_end = in_ptr[b + 1]
        g = 1
        while True:
            # next stop: input event, grid point or the end of the trial
            t_in = in_t[e] if e < e_end else np.inf
            t_g = g * dt if g <= G else np.inf
            if t_in <= t_g:
                t_stop = t_in
                kind = 0
            else:
                t_stop = t_g
                kind = 1
            if t_stop > T:
                t_stop = T
                kind = 2
            if spiking:
                L = t_stop - t
                for j in range(N):
                    s = _crossing(V[j], I[j], L, theta, tau_m, tau_s, eq)
                    tc[j] = t + s if s >= 0.0 else np.inf
                while True:
                    n = -1
                    tmin = np.inf
                    for j in range(N):
                        if tc[j] < tmin:
                            tmin = tc[j]
                            n = j
                    if n < 0:
                        break
                    d = tmin - t
                    if d > 0.0:
                        em = math.exp(-d / tau_m)
                        es = math.exp(-d / tau_s)
                        kd = _kappa(d, tau_m, tau_s, eq)
                        for j in range(N):
                            V[j] = V[j] * em + I[j] * kd
                            I[j] = I[j] * es
                    t = tmin
                    sp_t = _grow(sp_t, n_sp)
                    sp_id = _grow(sp_id, n_sp)
                    sp_I = _grow(sp_I, n_sp)
                    sp_t[n_sp] = t
                    sp_id[n_sp] = n
                    sp_I[n_sp] = I[n]
                    n_sp += 1
                    V[n] = 0.0
                    L = t_stop - t
                    if has_rec:
                        for j in range(N):
                            I[j] += U[n, j]
                        for j in range(N):
                            s = _crossing(V[j], I[j], L, theta, tau_m, tau_s, eq)
                            tc[j] = t + s if s >= 0.0 else np.inf
                    else:
                        s = _crossing(V[n], I[n], L, theta, tau_m, tau_s, eq)
                        tc[n] = t + s if s > 0.0 else np.inf
            d = t_stop - t
            if d > 0.0:
                em = math.exp(-d / tau_m)
                es = math.exp(-d / tau_s)
                kd = _kappa(d, tau_m, tau_s, eq)
                for j in range(N):
                    V[j] = V[j] * em + I[j] * kd
                    I[j] = I[j] * es
            t = t_stop
            if kind == 2:
                break
            if kind == 0:
                i = in_id[e]
                for j in range(N):
                    I[j] += W[i, j]
                e += 1
            else:
                if mode == 1:
                    wg = math.exp(-t / tau_w) * dt / T
                    for j in range(N):
                        R[b, j] += wg * V[j]
                elif mode == 2:
                    for j in range(N):
                        if V[j] > R[b, j]:
                            R[b, j] = V[j]
                            arg[b, j] = g
                g += 1
        ptr[b + 1] = n_sp
    return sp_t[:n_sp].copy(), sp_id[:n_sp].copy(), ptr, sp_I[:n_sp].copy(), R, arg


@njit(cache=True)
def _backward_layer(in_t, in_id, in_ptr, sp_t, sp_id, sp_ptr, sp_I, dldt_sp, reg_kick,
                    W, U, has_rec, tau_m, tau_s, theta, T, mode, dt, tau_w, gR, arg):
    """Adjoint pass of one layer (all samples). Returns dL/dW, dL/dU and dL/dt of every input
    event."""
    B = in_ptr.size - 1
    N = W.shape[1]
    eq = abs(tau_m - tau_s) <= 1e-12 * tau_m
    gW = np.zeros(W.shape)
    gU = np.zeros(U.shape)
    dldt_in = np.zeros(in_t.size)
    G = int(round(T / dt)) if mode > 0 else 0
    aV = np.zeros(N)
    aI = np.zeros(N)
    for b in range(B):
        aV[:] = 0.0
        aI[:] = 0.0
        t = T
        e = in_ptr[b + 1] - 1
        e0 = in_ptr[b]
        k = sp_ptr[b + 1] - 1
        k0 = sp_ptr[b]
        g = G
        while True:
            # the latest event not yet processed; ties: grid, then input, then spike
            t_g = g * dt if g >= 1 else -np.inf
            t_in = in_t[e] if e >= e0 else -np.inf
            t_sp = sp_t[k] if k >= k0 else -np.inf
            if t_g == -np.inf and t_in == -np.inf and t_sp == -np.inf:
                break
            if t_g >= t_in and t_g >= t_sp:
                kind = 1
                t_ev = t_g
            elif t_in >= t_sp:
                kind = 0
                t_ev = t_in
            else:
                kind = 2
                t_ev = t_sp
            d = t - t_ev
            if d > 0.0:
                em = math.exp(-d / tau_m)
                es = math.exp(-d / tau_s)
                kd = _kappa(d, tau_m, tau_s, eq)
                for j in range(N):
                    aI[j] = aI[j] * es + aV[j] * kd
                    aV[j] = aV[j] * em
            t = t_ev
            if kind == 1:
                if mode == 1:
                    wg = math.exp(-t / tau_w) * dt / T
                    for j in range(N):
                        aV[j] += wg * gR[b, j]
                elif mode == 2:
                    for j in range(N):
                        if arg[b, j] == g:
                            aV[j] += gR[b, j]
                g -= 1
            elif kind == 0:
                i = in_id[e]
                acc = 0.0
                for j in range(N):
                    gW[i, j] += aI[j]
                    acc += W[i, j] * (aI[j] / tau_s - aV[j] / tau_m)
                dldt_in[e] = acc
                e -= 1
            else:
                n = sp_id[k]
                dl = dldt_sp[k] - aV[n] * sp_I[k] / tau_m
                if has_rec:
                    for j in range(N):
                        gU[n, j] += aI[j]
                        dl += U[n, j] * (aI[j] / tau_s - aV[j] / tau_m)
                aV[n] = -tau_m * dl / (sp_I[k] - theta) + reg_kick[n]
                k -= 1
    return gW, gU, dldt_in


# --------------------------------------------------------------------------------------------
# Configuration, autograd Function, Module
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventPropConfig:
    """Constants of an EventProp network (all times in ms)."""

    tau_mem_ms: float = 20.0
    tau_syn_ms: float = 5.0
    threshold: float = 1.0
    duration_ms: float = 30.0
    dt_ms: float = 0.1
    readout: str = "sum_exp"
    tau_readout_ms: float | None = None
    recurrent: bool = False
    reg_strength: float = 0.0
    reg_target_count: float = 0.0

    def __post_init__(self) -> None:
        for name in ("tau_mem_ms", "tau_syn_ms", "threshold", "duration_ms", "dt_ms"):
            object.__setattr__(self, name, check_float(name, getattr(self, name), positive=True))
        if not isinstance(self.recurrent, bool):
            raise TypeError(f"recurrent must be a bool, got {self.recurrent!r}")
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {self.readout!r}")
        if self.tau_readout_ms is not None:
            object.__setattr__(self, "tau_readout_ms", check_float("tau_readout_ms", self.tau_readout_ms, positive=True))
        object.__setattr__(self, "reg_strength", check_float("reg_strength", self.reg_strength, min_value=0.0))
        object.__setattr__(self, "reg_target_count",
                           check_float("reg_target_count", self.reg_target_count, min_value=0.0))
        if self.dt_ms > self.duration_ms:
            raise ValueError(f"dt_ms = {self.dt_ms} must not exceed duration_ms = {self.duration_ms}")
        n_grid = self.duration_ms / self.dt_ms
        if abs(n_grid - round(n_grid)) > 1e-6 * n_grid:
            raise ValueError(f"duration_ms = {self.duration_ms} must be a whole number of dt_ms = {self.dt_ms}")

    @property
    def tau_w(self) -> float:
        return float(self.tau_readout_ms if self.tau_readout_ms is not None else self.duration_ms)


@dataclass
class EventPropOutput:
    """``readout``: ``[B, n_out]`` differentiable tensor (weighted voltage integral, max voltage
    or first-spike time in ms). ``spike_counts``: per layer ``[B, n]`` spike counts (int64,
    no gradient). ``stored_bytes``: bytes kept for the backward pass (events and per-spike
    currents only)."""

    readout: torch.Tensor
    spike_counts: list[torch.Tensor]
    stored_bytes: int
    spikes: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    info: dict = field(default_factory=dict)


def _np64(w: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(w.detach().cpu().numpy().astype(np.float64))


class _EventPropFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, cfg: EventPropConfig, events: SpikeEvents, info: dict, *params):
        n_layers = info["n_layers"]
        Ws = [_np64(params[i]) for i in range(n_layers)]
        Us = [_np64(params[n_layers + i]) if cfg.recurrent and i < n_layers - 1 else np.zeros((1, 1))
              for i in range(n_layers)]
        mode_out = _READOUT_CODE[cfg.readout]
        T, dt, tw = cfg.duration_ms, cfg.dt_ms, cfg.tau_w
        layer_in = (events.times_ms, events.ids, events.ptr)
        records = []
        for li in range(n_layers):
            last = li == n_layers - 1
            spiking = (not last) or cfg.readout == "first_spike"
            mode = mode_out if last else 0
            has_rec = cfg.recurrent and not last
            st, sid, sptr, sI, R, arg = _forward_layer(
                layer_in[0], layer_in[1], layer_in[2], Ws[li], Us[li], has_rec,
                cfg.tau_mem_ms, cfg.tau_syn_ms, cfg.threshold, T, spiking, mode, dt, tw)
            records.append((layer_in, (st, sid, sptr, sI), R if last else None, arg if last else None))
            layer_in = (st, sid, sptr)
        B = events.batch_size
        n_out = Ws[-1].shape[1]
        st, sid, sptr, _ = records[-1][1]
        first_idx = np.full((B, n_out), -1, np.int64)
        if cfg.readout == "first_spike":
            out = np.full((B, n_out), T)
            for b in range(B):
                for k in range(sptr[b + 1] - 1, sptr[b] - 1, -1):
                    out[b, sid[k]] = st[k]
                    first_idx[b, sid[k]] = k
        else:
            out = records[-1][2]
        counts = []
        for li in range(n_layers):
            st, sid, sptr, _ = records[li][1]
            c = np.zeros((B, Ws[li].shape[1]), np.int64)
            bidx = np.repeat(np.arange(B), np.diff(sptr))
            np.add.at(c, (bidx, sid), 1)
            counts.append(torch.from_numpy(c))
        ctx.cfg, ctx.info, ctx.records, ctx.Ws, ctx.Us = cfg, info, records, Ws, Us
        ctx.first_idx = first_idx
        ctx.counts = [c.numpy() for c in counts]
        ctx.param_meta = [(p.dtype, p.device) for p in params]
        stored = events.nbytes + sum(r[1][0].nbytes + r[1][1].nbytes + r[1][2].nbytes + r[1][3].nbytes
                                     for r in records)
        if cfg.readout == "max":
            stored += records[-1][3].nbytes
        info["stored_bytes"] = int(stored)
        info["spikes"] = [r[1][:3] for r in records]
        dtype = params[0].dtype if params[0].is_floating_point() else torch.float64
        res = torch.as_tensor(out, dtype=dtype, device=params[0].device)
        for c in counts:
            ctx.mark_non_differentiable(c)
        return (res, *counts)

    @staticmethod
    def backward(ctx, grad_out, *grad_counts):
        cfg, info, records, Ws, Us = ctx.cfg, ctx.info, ctx.records, ctx.Ws, ctx.Us
        n_layers = info["n_layers"]
        gR = np.ascontiguousarray(grad_out.detach().cpu().numpy().astype(np.float64))
        B = gR.shape[0]
        mode_out = _READOUT_CODE[cfg.readout]
        T, dt, tw = cfg.duration_ms, cfg.dt_ms, cfg.tau_w
        gWs, gUs = [None] * n_layers, [None] * n_layers
        dldt_next = None
        for li in range(n_layers - 1, -1, -1):
            layer_in, (st, sid, sptr, sI), R, arg = records[li]
            if arg is None:
                arg = np.zeros((B, Ws[li].shape[1]), np.int64)
            last = li == n_layers - 1
            dldt_sp = np.zeros(st.size)
            if last:
                if cfg.readout == "first_spike":
                    fi = ctx.first_idx
                    m = fi >= 0
                    dldt_sp[fi[m]] += gR[m]
                mode = mode_out
                gRl = gR if mode > 0 else np.zeros((B, Ws[li].shape[1]))
            else:
                dldt_sp += dldt_next
                mode = 0
                gRl = np.zeros((B, Ws[li].shape[1]))
            reg = np.zeros(Ws[li].shape[1])
            if not last and cfg.reg_strength > 0:
                reg = cfg.reg_strength * (ctx.counts[li].mean(axis=0) - cfg.reg_target_count)
            has_rec = cfg.recurrent and not last
            gW, gU, dldt_in = _backward_layer(
                layer_in[0], layer_in[1], layer_in[2], st, sid, sptr, sI, dldt_sp, reg,
                Ws[li], Us[li], has_rec, cfg.tau_mem_ms, cfg.tau_syn_ms, cfg.threshold, T, mode,
                dt, tw, gRl, arg)
            gWs[li] = gW
            gUs[li] = gU if has_rec else None
            dldt_next = dldt_in
        grads = []
        meta = ctx.param_meta
        for i in range(n_layers):
            grads.append(torch.as_tensor(gWs[i], dtype=meta[i][0], device=meta[i][1]))
        if cfg.recurrent:
            for i in range(n_layers - 1):
                grads.append(torch.as_tensor(gUs[i], dtype=meta[n_layers + i][0], device=meta[n_layers + i][1]))
        info["input_time_grad"] = dldt_next
        return (None, None, None, *grads)


def _check_weights(weights, recurrent_weights, n_in):
    if len(weights) == 0:
        raise ValueError("need at least one weight matrix")
    prev = n_in
    for k, w in enumerate(weights):
        check_tensor(f"weights[{k}]", w, ndim=2, dtype_kind="float")
        if w.shape[0] != prev:
            raise ValueError(f"weights[{k}] must have {prev} rows (inputs of that layer), got shape {tuple(w.shape)}")
        prev = w.shape[1]
    for k, u in enumerate(recurrent_weights):
        n = weights[k].shape[1]
        check_tensor(f"recurrent_weights[{k}]", u, ndim=2, dtype_kind="float")
        if tuple(u.shape) != (n, n):
            raise ValueError(f"recurrent_weights[{k}] must be [{n}, {n}], got {tuple(u.shape)}")


def eventprop_forward(events: SpikeEvents, weights, cfg: EventPropConfig, recurrent_weights=()):
    """Run the network on ``events`` and return an :class:`EventPropOutput` whose ``readout``
    is differentiable (exactly, by EventProp) with respect to ``weights`` (list of ``[n_in, n_out]``
    tensors, row = presynaptic neuron) and ``recurrent_weights`` (``[n, n]`` per hidden layer,
    row = presynaptic). ``info['input_time_grad']`` is left on the output's ``info`` after
    backward."""
    if not isinstance(events, SpikeEvents):
        raise TypeError(f"events must be SpikeEvents, got {type(events).__name__}")
    if not isinstance(cfg, EventPropConfig):
        raise TypeError(f"cfg must be EventPropConfig, got {type(cfg).__name__}")
    weights, recurrent_weights = list(weights), list(recurrent_weights)
    _check_weights(weights, recurrent_weights, events.n_neurons)
    if cfg.recurrent and len(recurrent_weights) != len(weights) - 1:
        raise ValueError(f"recurrent network needs {len(weights) - 1} recurrent matrices, got {len(recurrent_weights)}")
    if not cfg.recurrent and recurrent_weights:
        raise ValueError("recurrent_weights given but cfg.recurrent is False")
    if abs(events.duration_ms - cfg.duration_ms) > 1e-9 * cfg.duration_ms:
        raise ValueError(f"events span {events.duration_ms} ms but cfg.duration_ms = {cfg.duration_ms}")
    info = {"n_layers": len(weights)}
    out, *counts = _EventPropFunction.apply(cfg, events, info, *weights, *recurrent_weights)
    return EventPropOutput(out, list(counts), info["stored_bytes"], info["spikes"], info)


class EventPropNetwork(nn.Module):
    """Feed-forward (optionally recurrent) LIF network trained with EventProp.

    ``sizes = [n_in, n_hidden_1, ..., n_out]``. Hidden layers are LIF neurons; the output layer
    is a leaky integrator (readout ``"sum_exp"`` or ``"max"``) or LIF (``"first_spike"``).
    Weights are initialised from N(mean_k, std_k^2) per layer (``init_mean``/``init_std`` lists or
    scalars, in threshold units), drawn from ``torch.Generator`` seeded with ``seed``; recurrent
    weights (``cfg.recurrent``) from N(0, rec_std^2), ``rec_std`` defaulting to
    ``init_std_k / sqrt(n_k)`` for hidden layer k.
    """

    def __init__(self, sizes, cfg: EventPropConfig | None = None, *, init_mean=0.0, init_std=1.0,
                 rec_std: float | None = None, seed: int = 0, dtype: torch.dtype = torch.float32):
        super().__init__()
        if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
            raise ValueError(f"sizes must list at least [n_in, n_out], got {sizes!r}")
        sizes = [check_int(f"sizes[{k}]", s, min_value=1) for k, s in enumerate(sizes)]
        self.cfg = cfg if cfg is not None else EventPropConfig()
        if not isinstance(self.cfg, EventPropConfig):
            raise TypeError(f"cfg must be EventPropConfig, got {type(self.cfg).__name__}")
        seed = check_int("seed", seed, min_value=0)
        n_layers = len(sizes) - 1
        means = list(init_mean) if isinstance(init_mean, (list, tuple)) else [init_mean] * n_layers
        stds = list(init_std) if isinstance(init_std, (list, tuple)) else [init_std] * n_layers
        if len(means) != n_layers or len(stds) != n_layers:
            raise ValueError(f"init_mean/init_std need {n_layers} entries")
        gen = torch.Generator().manual_seed(seed)
        self.sizes = sizes
        self.weights = nn.ParameterList()
        for k in range(n_layers):
            m = check_float(f"init_mean[{k}]", means[k])
            s = check_float(f"init_std[{k}]", stds[k], min_value=0.0)
            w = m + s * torch.randn(sizes[k], sizes[k + 1], generator=gen, dtype=torch.float64)
            self.weights.append(nn.Parameter(w.to(dtype)))
        self.recurrent_weights = nn.ParameterList()
        if self.cfg.recurrent:
            for k in range(1, n_layers):
                n = sizes[k]
                sd = stds[k - 1] / math.sqrt(n) if rec_std is None else check_float("rec_std", rec_std, min_value=0.0)
                u = sd * torch.randn(n, n, generator=gen, dtype=torch.float64)
                self.recurrent_weights.append(nn.Parameter(u.to(dtype)))

    def forward(self, events: SpikeEvents) -> EventPropOutput:
        if isinstance(events, SpikeEvents) and events.n_neurons != self.sizes[0]:
            raise ValueError(f"events have {events.n_neurons} input neurons, network expects {self.sizes[0]}")
        return eventprop_forward(events, list(self.weights), self.cfg, list(self.recurrent_weights))


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------
def _check_labels(readout: torch.Tensor, labels: torch.Tensor) -> None:
    check_tensor("readout", readout, ndim=2, dtype_kind="float")
    check_tensor("labels", labels, ndim=1, dtype_kind="int")
    if labels.shape[0] != readout.shape[0]:
        raise ValueError(f"labels has {labels.shape[0]} entries, readout has batch {readout.shape[0]}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= readout.shape[1]):
        raise ValueError(f"labels must lie in [0, {readout.shape[1]})")


def voltage_ce_loss(readout: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``L = -(1/B) sum_b log softmax(R_b)[label_b]`` on a voltage readout (``sum_exp``: the
    loss-shaping loss of Nowotny et al. 2022; ``max``: W&P's max-voltage loss)."""
    _check_labels(readout, labels)
    return torch.nn.functional.cross_entropy(readout, labels)


def first_spike_loss(t_first_ms: torch.Tensor, labels: torch.Tensor, tau0_ms: float = 0.5,
                     tau1_ms: float = 6.4, alpha: float = 3e-3) -> torch.Tensor:
    """W&P (2021) Eq. 13: ``L = (1/B) sum_b [ -log( exp(-t_{b,l}/tau0) / sum_k exp(-t_{b,k}/tau0) )
    + alpha (exp(t_{b,l}/tau1) - 1) ]`` with ``l`` the label; the second term rewards an early
    spike of the correct output. Defaults are W&P's Yin-Yang values (tau0 = 0.5 ms,
    tau1 = 6.4 ms, alpha = 3e-3)."""
    _check_labels(t_first_ms, labels)
    tau0 = check_float("tau0_ms", tau0_ms, positive=True)
    tau1 = check_float("tau1_ms", tau1_ms, positive=True)
    a = check_float("alpha", alpha, min_value=0.0)
    ce = torch.nn.functional.cross_entropy(-t_first_ms / tau0, labels)
    t_l = t_first_ms.gather(1, labels[:, None])[:, 0]
    return ce + a * (torch.exp(t_l / tau1) - 1.0).mean()
