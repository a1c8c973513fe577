"""Leaky integrate-and-fire (LIF) and adaptive LIF (ALIF) neurons in discrete time.

Pure step functions ``lif_step(x, state, params) -> (spikes, state)`` and
``alif_step(x, state, params) -> (spikes, state)`` hold the equations; the ``nn.Module``
classes (:class:`LIF`, :class:`ALIF`, :class:`RecurrentLIF`, :class:`RecurrentALIF`,
:class:`LeakyReadout`) hold parameters, make the initial state and choose between the plain
autograd loop and the fused multi-step kernel of :mod:`neurocircuits.training.bptt`.

Equations (one time step of ``dt_ms`` milliseconds, tensors ``[B, N]``)::

    c_t = x_t + W_rec s_{t-1}                    input current (W_rec only in recurrent layers)
    i_t = α i_{t-1} + c_t                        synaptic current, α = exp(-dt/τ_syn)
                                                 (without a synapse: i_t = c_t)
    u_t = β v_{t-1} + i_t                        membrane before reset, β = exp(-dt/τ_mem)
    A_t = θ + b a_{t-1}                          threshold (LIF: b = 0, A_t = θ)
    s_t = H(u_t - A_t)                           spike, surrogate gradient σ'(u_t - A_t)
    v_t = u_t - r_t A_t     (reset "subtract")   r_t = s_t, or s_t detached ("detach_reset")
        = u_t (1 - r_t)     (reset "zero")
        = u_t               (reset "none")
    a_t = ρ a_{t-1} + (1 - ρ) s_t                adaptation (ALIF), ρ = exp(-dt/τ_adapt)

Membrane potential, threshold and currents are dimensionless (the threshold θ sets the scale,
1 by default); time constants are in milliseconds and the step is ``dt_ms``. The input enters
the membrane without a (1 - β) factor ("current-based", as in snnTorch's ``Leaky``).
Charge, fire and reset happen within the same step (as in SpikingJelly and Norse); the state
returned holds the membrane after reset.

References: the discrete LIF as a recurrent network trained with surrogate gradients, Neftci,
Mostafa & Zenke 2019 (IEEE Signal Process. Mag., arXiv:1901.09948); the adaptive threshold
(ALIF / LSNN), Bellec, Salaj, Subramoney, Legenstein & Maass 2018 (NeurIPS, arXiv:1803.09574),
whose threshold is A_t = b_0 + β a_t with a_t = ρ a_{t-1} + (1 - ρ) z_{t-1}; learnable
membrane time constants, Fang et al. 2021 (ICCV, arXiv:2007.05785).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from neurocircuits.surrogate import FastSigmoid, Surrogate, check_surrogate
from neurocircuits.validation import check_float, check_int, check_last_dim, check_tensor

__all__ = [
    "RESET_MODES",
    "LIFState",
    "LIFParams",
    "ALIFState",
    "ALIFParams",
    "lif_step",
    "alif_step",
    "lif_sequence",
    "alif_sequence",
    "decay_from_tau",
    "LIF",
    "ALIF",
    "RecurrentLIF",
    "RecurrentALIF",
    "LeakyReadout",
]

RESET_MODES = ("subtract", "zero", "none")


class LIFState(NamedTuple):
    """State of a LIF layer: membrane ``v`` [B, N] (after reset), synaptic current ``i``
    [B, N] (``None`` without a synapse) and last spikes ``s`` [B, N] (used by recurrent
    layers; ``None`` otherwise)."""

    v: Tensor
    i: Tensor | None = None
    s: Tensor | None = None


class ALIFState(NamedTuple):
    """State of an ALIF layer: as :class:`LIFState` plus the adaptation variable ``a`` [B, N]."""

    v: Tensor
    a: Tensor
    i: Tensor | None = None
    s: Tensor | None = None


class LIFParams(NamedTuple):
    """Parameters of the LIF step.

    beta: membrane decay exp(-dt/τ_mem), a float or tensor of shape [] or [N], in (0, 1).
    alpha: synaptic decay exp(-dt/τ_syn) (same shapes), or ``None`` for no synaptic current.
    threshold: θ (> 0). reset: one of :data:`RESET_MODES`. detach_reset: reset term without
    gradient. surrogate: a :class:`~neurocircuits.surrogate.Surrogate`.
    """

    beta: Tensor | float
    alpha: Tensor | float | None = None
    threshold: float = 1.0
    reset: str = "subtract"
    detach_reset: bool = False
    surrogate: Surrogate = FastSigmoid()


class ALIFParams(NamedTuple):
    """Parameters of the ALIF step: as :class:`LIFParams` plus ``rho`` = exp(-dt/τ_adapt)
    (adaptation decay) and ``adapt`` = b (>= 0, threshold increase per unit of a)."""

    beta: Tensor | float
    rho: Tensor | float
    adapt: float = 1.0
    alpha: Tensor | float | None = None
    threshold: float = 1.0
    reset: str = "subtract"
    detach_reset: bool = False
    surrogate: Surrogate = FastSigmoid()


def decay_from_tau(tau_ms, dt_ms: float):
    """Decay factor exp(-dt/τ) per step for a time constant τ (ms) and step dt (ms)."""
    dt = check_float("dt_ms", dt_ms, positive=True)
    if isinstance(tau_ms, Tensor):
        check_tensor("tau_ms", tau_ms, dtype_kind="float")
        if bool((tau_ms <= 0).any()):
            raise ValueError(f"tau_ms must be > 0 ms, got minimum {float(tau_ms.min())}")
        return torch.exp(-dt / tau_ms)
    return math.exp(-dt / check_float("tau_ms", tau_ms, positive=True))


# ------------------------------------------------------------------------------- checks
def check_finite(name: str, x: Tensor) -> Tensor:
    """Reject NaN / inf in a floating tensor with a message naming it. On CPU this is one
    compiled pass over the data (``torch.isfinite(x).all()`` costs a boolean temporary and is
    several times slower on large inputs)."""
    if not x.is_floating_point() or x.numel() == 0:
        return x
    k = None
    if x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64):
        from neurocircuits import kernels

        k = kernels.get()
    if k is not None:
        flat = x.detach()
        if flat.dim() == 2 and not flat.is_contiguous() and flat.t().is_contiguous():
            flat = flat.t()  # an input-major weight: count in its own memory, without a copy
        bad = k.count_nonfinite(flat.contiguous().view(-1).numpy(), torch.get_num_threads())
    else:
        bad = int((~torch.isfinite(x)).sum())
    if bad:
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return x


def _check_decay(name: str, value, n: int | None):
    if isinstance(value, Tensor):
        check_tensor(name, value, ndim=(0, 1), dtype_kind="float")
        if value.dim() == 1 and n is not None and value.shape[0] != n:
            raise ValueError(f"{name} must have shape [] or [{n}], got {tuple(value.shape)}")
        if value.numel() and (bool((value <= 0).any()) or bool((value >= 1).any())):
            raise ValueError(f"{name} must lie in (0, 1) (a decay exp(-dt/tau)), got values in "
                             f"[{float(value.min())}, {float(value.max())}]")
        return value
    v = check_float(name, value)
    if not 0 < v < 1:
        raise ValueError(f"{name} must lie in (0, 1) (a decay exp(-dt/tau)), got {v}")
    return v


def _check_spiking(params) -> None:
    """Threshold, reset mode, detached reset and surrogate of any LIF-type parameter set."""
    check_float("threshold", params.threshold, positive=True)
    if params.reset not in RESET_MODES:
        raise ValueError(f"reset must be one of {RESET_MODES}, got {params.reset!r}")
    if not isinstance(params.detach_reset, bool):
        raise TypeError(f"detach_reset must be a bool, got {params.detach_reset!r}")
    check_surrogate(params.surrogate)


def _check_common(params, n: int):
    _check_decay("beta", params.beta, n)
    if params.alpha is not None:
        _check_decay("alpha", params.alpha, n)
    _check_spiking(params)


def _check_state_tensor(name: str, t, shape, dtype) -> None:
    check_tensor("state." + name, t, dtype_kind="float", finite=False)
    check_finite("state." + name, t)
    if tuple(t.shape) != tuple(shape):
        raise ValueError(f"state.{name} must have shape {tuple(shape)}, got {tuple(t.shape)}")
    if t.dtype != dtype:
        raise TypeError(f"state.{name} has dtype {t.dtype}, expected {dtype} (the input's)")


def check_lif_inputs(x: Tensor, state, params, *, sequence: bool, adaptive: bool,
                     w_rec: Tensor | None = None) -> None:
    """Validate input, state and parameters of a LIF/ALIF call (raises ValueError/TypeError)."""
    check_tensor("x", x, ndim=3 if sequence else 2, dtype_kind="float", finite=False)
    check_finite("x", x)
    if sequence and x.shape[0] == 0:
        raise ValueError(f"x must have T > 0 time steps, got shape {tuple(x.shape)}")
    bshape = tuple(x.shape[-2:])
    n = bshape[1]
    _check_common(params, n)
    if adaptive:
        _check_decay("rho", params.rho, n)
        check_float("adapt", params.adapt, min_value=0.0)
    want = ALIFState if adaptive else LIFState
    if not isinstance(state, want):
        raise TypeError(f"state must be a {want.__name__}, got {type(state).__name__}")
    _check_state_tensor("v", state.v, bshape, x.dtype)
    if adaptive:
        _check_state_tensor("a", state.a, bshape, x.dtype)
    if (params.alpha is None) != (state.i is None):
        raise ValueError("state.i must be given exactly when params.alpha (a synaptic current) is")
    if state.i is not None:
        _check_state_tensor("i", state.i, bshape, x.dtype)
    if w_rec is not None:
        check_tensor("w_rec", w_rec, ndim=2, dtype_kind="float")
        if tuple(w_rec.shape) != (n, n):
            raise ValueError(f"w_rec must have shape [{n}, {n}], got {tuple(w_rec.shape)}")
        if state.s is None:
            raise ValueError("a recurrent layer needs state.s (the previous spikes)")
        _check_state_tensor("s", state.s, bshape, x.dtype)


# ------------------------------------------------------------------------ the equations
def reset_membrane(u, s, thr, reset: str):
    """Membrane after the spike s at threshold thr: u - s θ ("subtract"), u (1 - s) ("zero"),
    or u ("none"). Shared by every LIF-type step so that the reset modes mean the same."""
    if reset == "subtract":
        return u - s * thr
    if reset == "zero":
        return u * (1.0 - s)
    return u


def _step(x, v, i, a, s_prev, beta, alpha, rho, w_rec, threshold, adapt, reset, detach, sg):
    """One step of the equations in the module docstring (no validation; autograd-friendly).
    Returns (s, v, i, a). ``i`` / ``a`` / ``w_rec`` are None when absent."""
    cur = x if w_rec is None else x + s_prev @ w_rec.t()
    i_new = cur if alpha is None else alpha * i + cur
    u = beta * v + i_new
    thr = threshold if a is None else threshold + adapt * a
    s = sg(u - thr)
    v_new = reset_membrane(u, s.detach() if detach else s, thr, reset)
    a_new = None if a is None else rho * a + (1.0 - rho) * s
    return s, v_new, (None if alpha is None else i_new), a_new


def lif_step(x: Tensor, state: LIFState, params: LIFParams, w_rec: Tensor | None = None):
    """One LIF step: ``x`` [B, N] input current -> (spikes [B, N], new :class:`LIFState`).
    ``w_rec`` [N, N] adds the recurrent current W_rec s_{t-1} (needs ``state.s``)."""
    check_lif_inputs(x, state, params, sequence=False, adaptive=False, w_rec=w_rec)
    p = params
    s, v, i, _ = _step(x, state.v, state.i, None, state.s, p.beta, p.alpha, None, w_rec,
                       p.threshold, 0.0, p.reset, p.detach_reset, p.surrogate)
    return s, LIFState(v, i, s)


def alif_step(x: Tensor, state: ALIFState, params: ALIFParams, w_rec: Tensor | None = None):
    """One ALIF step (adaptive threshold θ + b a): -> (spikes [B, N], new :class:`ALIFState`)."""
    check_lif_inputs(x, state, params, sequence=False, adaptive=True, w_rec=w_rec)
    p = params
    s, v, i, a = _step(x, state.v, state.i, state.a, state.s, p.beta, p.alpha, p.rho, w_rec,
                       p.threshold, p.adapt, p.reset, p.detach_reset, p.surrogate)
    return s, ALIFState(v, a, i, s)


def _sequence_plain(x, state, params, w_rec, adaptive):
    p = params
    v, i, s = state.v, state.i, state.s
    a = state.a if adaptive else None
    rho = p.rho if adaptive else None
    b = p.adapt if adaptive else 0.0
    out = []
    for t in range(x.shape[0]):
        s, v, i, a = _step(x[t], v, i, a, s, p.beta, p.alpha, rho, w_rec, p.threshold, b,
                           p.reset, p.detach_reset, p.surrogate)
        out.append(s)
    spikes = torch.stack(out)
    if adaptive:
        return spikes, ALIFState(v, a, i, spikes[-1])
    return spikes, LIFState(v, i, spikes[-1])


FUSED_BACKENDS = (False, True, "torch", "native", "numba")


def _check_fused(fused):
    if not (isinstance(fused, bool) or fused in FUSED_BACKENDS[2:]):
        raise ValueError(f"fused must be one of {FUSED_BACKENDS}, got {fused!r}")
    return fused


def lif_sequence(x: Tensor, state: LIFState, params: LIFParams, w_rec: Tensor | None = None,
                 fused: bool | str = False):
    """Run ``x`` [T, B, N] through the LIF equations -> (spikes [T, B, N], final state).

    ``fused=False`` loops over :func:`lif_step` under autograd (the reference);
    ``fused=True`` runs the whole loop in one custom autograd function
    (:class:`neurocircuits.training.bptt.FusedLIFFunction`), which gives the same spikes and
    gradients and stores only the pre-threshold membrane for the backward pass. Its time loop
    runs as a compiled kernel on CPU (feed-forward layers; :mod:`neurocircuits.kernels`) and as
    tensor operations elsewhere; ``fused="torch"``, ``"native"`` or ``"numba"`` forces one."""
    _check_fused(fused)
    check_lif_inputs(x, state, params, sequence=True, adaptive=False, w_rec=w_rec)
    if fused:
        from neurocircuits.training.bptt import _fused_sequence

        return _fused_sequence(x, state, params, w_rec, adaptive=False, backend=fused)
    return _sequence_plain(x, state, params, w_rec, adaptive=False)


def alif_sequence(x: Tensor, state: ALIFState, params: ALIFParams, w_rec: Tensor | None = None,
                  fused: bool | str = False):
    """ALIF version of :func:`lif_sequence`."""
    _check_fused(fused)
    check_lif_inputs(x, state, params, sequence=True, adaptive=True, w_rec=w_rec)
    if fused:
        from neurocircuits.training.bptt import _fused_sequence

        return _fused_sequence(x, state, params, w_rec, adaptive=True, backend=fused)
    return _sequence_plain(x, state, params, w_rec, adaptive=True)


# -------------------------------------------------------------------------------- modules
class _TimeConstants(nn.Module):
    """Holds time constants (ms) as log τ, learnable (Parameter, per neuron) or fixed (buffer),
    and turns them into decays exp(-dt/τ). They are kept in float64 (β = exp(-dt/τ) is close
    to 1 for long τ) and the decay is cast to the input's dtype."""

    def __init__(self, dt_ms: float):
        super().__init__()
        self.dt_ms = check_float("dt_ms", dt_ms, positive=True)

    def _add_tau(self, name: str, tau_ms, n: int, learn: bool) -> None:
        if isinstance(tau_ms, Tensor):
            tau = check_tensor(name, tau_ms, ndim=(0, 1), dtype_kind="float").detach().clone()
            if tau.dim() == 1 and tau.shape[0] != n:
                raise ValueError(f"{name} must be a float or have shape [{n}], got {tuple(tau.shape)}")
            if bool((tau <= 0).any()):
                raise ValueError(f"{name} must be > 0 ms, got minimum {float(tau.min())}")
            tau = tau.to(torch.float64)
        else:
            tau = torch.tensor(check_float(name, tau_ms, positive=True), dtype=torch.float64)
        if learn and tau.dim() == 0:
            tau = tau.expand(n).clone()
        log_tau = torch.log(tau)
        if learn:
            self.register_parameter("log_" + name, nn.Parameter(log_tau))
        else:
            self.register_buffer("log_" + name, log_tau)

    def tau(self, name: str) -> Tensor:
        """Time constant ``name`` in ms."""
        return torch.exp(getattr(self, "log_" + name))

    def decay(self, name: str, dtype) -> Tensor:
        """exp(-dt/τ) as a tensor of shape [] or [N] (differentiable when τ is learnable)."""
        return torch.exp(-self.dt_ms / self.tau(name)).to(dtype)


def _tau_from_beta(beta, dt_ms):
    b = check_float("beta", beta)
    if not 0 < b < 1:
        raise ValueError(f"beta must lie in (0, 1), got {b}")
    return -dt_ms / math.log(b)


class LIF(_TimeConstants):
    """Layer of ``n`` LIF neurons (equations in the module docstring).

    ``forward(x, state=None)``: ``x`` [B, N] (one step) or [T, B, N] (a sequence) of input
    current -> ``(spikes, state)`` with spikes of the same shape and the final
    :class:`LIFState`. ``state=None`` starts from rest (zeros).

    Parameters: ``tau_mem_ms`` (or ``beta`` = exp(-dt/τ_mem) directly), ``dt_ms``,
    ``tau_syn_ms`` (None: no synaptic current), ``threshold``, ``reset`` ("subtract", "zero",
    "none"), ``detach_reset``, ``surrogate`` (instance or name), ``learn_tau`` (learn log τ
    per neuron), ``fused`` (run sequences with the fused kernel, the default; ``"torch"`` or
    ``"native"`` or ``"numba"`` picks its implementation, ``True`` chooses the compiled
    kernels on CPU when they apply).
    """

    adaptive = False
    recurrent = False

    def __init__(self, n: int, tau_mem_ms=10.0, dt_ms: float = 1.0, *, beta: float | None = None,
                 tau_syn_ms=None, threshold: float = 1.0, reset: str = "subtract",
                 detach_reset: bool = False, surrogate: Surrogate | str = "fast_sigmoid",
                 learn_tau: bool = False, fused: bool | str = True):
        super().__init__(dt_ms)
        self.n = check_int("n", n, min_value=1)
        if beta is not None:
            tau_mem_ms = _tau_from_beta(beta, self.dt_ms)
        self.threshold = check_float("threshold", threshold, positive=True)
        if reset not in RESET_MODES:
            raise ValueError(f"reset must be one of {RESET_MODES}, got {reset!r}")
        if not isinstance(detach_reset, bool):
            raise TypeError(f"detach_reset must be a bool, got {detach_reset!r}")
        self.reset, self.detach_reset = reset, detach_reset
        self.surrogate = check_surrogate(surrogate)
        self.fused = _check_fused(fused)
        self.learn_tau = bool(learn_tau)
        self._add_tau("tau_mem_ms", tau_mem_ms, self.n, learn_tau)
        self.has_syn = tau_syn_ms is not None
        if self.has_syn:
            self._add_tau("tau_syn_ms", tau_syn_ms, self.n, learn_tau)

    # parameters and state
    def params(self, dtype=torch.float32) -> LIFParams:
        alpha = self.decay("tau_syn_ms", dtype) if self.has_syn else None
        return LIFParams(self.decay("tau_mem_ms", dtype), alpha, self.threshold, self.reset,
                         self.detach_reset, self.surrogate)

    def initial_state(self, batch: int, device=None, dtype=torch.float32) -> LIFState:
        check_int("batch", batch, min_value=1)
        z = torch.zeros(batch, self.n, device=device, dtype=dtype)
        return LIFState(z, z.clone() if self.has_syn else None,
                        z.clone() if self.recurrent else None)

    def _w_rec(self):
        return None

    def forward(self, x: Tensor, state=None):
        check_tensor("x", x, ndim=(2, 3), dtype_kind="float", finite=False)
        check_last_dim("x", x, self.n)
        if state is None:
            state = self.initial_state(x.shape[-2], x.device, x.dtype)
        p = self.params(x.dtype)
        w = self._w_rec()
        if x.dim() == 2:
            step = alif_step if self.adaptive else lif_step
            return step(x, state, p, w)
        seq = alif_sequence if self.adaptive else lif_sequence
        return seq(x, state, p, w, fused=self.fused)

    def extra_repr(self) -> str:
        return (f"n={self.n}, dt_ms={self.dt_ms}, threshold={self.threshold}, reset={self.reset!r}, "
                f"detach_reset={self.detach_reset}, surrogate={self.surrogate!r}, "
                f"synapse={self.has_syn}, learn_tau={self.learn_tau}, fused={self.fused}")


class ALIF(LIF):
    """Layer of ``n`` adaptive LIF neurons (Bellec et al. 2018): threshold θ + b a_t with
    a_t = ρ a_{t-1} + (1 - ρ) s_t, ρ = exp(-dt/τ_adapt). Extra parameters ``tau_adapt_ms``
    (ms; learnable with ``learn_tau``) and ``adapt`` = b (>= 0)."""

    adaptive = True

    def __init__(self, n: int, tau_mem_ms=10.0, dt_ms: float = 1.0, *, tau_adapt_ms=200.0,
                 adapt: float = 1.0, **kw):
        super().__init__(n, tau_mem_ms, dt_ms, **kw)
        self.adapt = check_float("adapt", adapt, min_value=0.0)
        self._add_tau("tau_adapt_ms", tau_adapt_ms, self.n, self.learn_tau)

    def params(self, dtype=torch.float32) -> ALIFParams:
        p = super().params(dtype)
        return ALIFParams(p.beta, self.decay("tau_adapt_ms", dtype), self.adapt, p.alpha,
                          p.threshold, p.reset, p.detach_reset, p.surrogate)

    def initial_state(self, batch: int, device=None, dtype=torch.float32) -> ALIFState:
        s = super().initial_state(batch, device, dtype)
        return ALIFState(s.v, torch.zeros_like(s.v), s.i, s.s)


def _init_recurrent(n: int, gain: float, generator) -> nn.Parameter:
    gain = check_float("rec_gain", gain, min_value=0.0)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    w = torch.randn(n, n, generator=generator) * (gain / math.sqrt(n))
    w.fill_diagonal_(0.0)
    return nn.Parameter(w)


class RecurrentLIF(LIF):
    """LIF layer with recurrent weights ``w_rec`` [N, N]: the current W_rec s_{t-1} is added to
    the input. ``w_rec`` starts as N(0, rec_gain²/N) without self-connections, drawn from
    ``generator`` (or torch's global generator)."""

    recurrent = True

    def __init__(self, n: int, tau_mem_ms=10.0, dt_ms: float = 1.0, *, rec_gain: float = 1.0,
                 generator: torch.Generator | None = None, **kw):
        super().__init__(n, tau_mem_ms, dt_ms, **kw)
        self.w_rec = _init_recurrent(self.n, rec_gain, generator)

    def _w_rec(self):
        return self.w_rec


class RecurrentALIF(ALIF):
    """ALIF layer with recurrent weights (the LSNN layer of Bellec et al. 2018)."""

    recurrent = True

    def __init__(self, n: int, tau_mem_ms=10.0, dt_ms: float = 1.0, *, rec_gain: float = 1.0,
                 generator: torch.Generator | None = None, **kw):
        super().__init__(n, tau_mem_ms, dt_ms, **kw)
        self.w_rec = _init_recurrent(self.n, rec_gain, generator)

    def _w_rec(self):
        return self.w_rec


class LeakyReadout(_TimeConstants):
    """Non-spiking leaky integrator: y_t = β y_{t-1} + x_t, β = exp(-dt/τ_mem).

    ``forward(x, y0=None)``: ``x`` [T, B, N] -> membrane trace ``y`` [T, B, N] (use e.g. its
    maximum or last value over time as logits). The recurrence is linear, so plain autograd
    stores nothing but the inputs' products."""

    def __init__(self, n: int, tau_mem_ms=20.0, dt_ms: float = 1.0, *, learn_tau: bool = False):
        super().__init__(dt_ms)
        self.n = check_int("n", n, min_value=1)
        self._add_tau("tau_mem_ms", tau_mem_ms, self.n, learn_tau)

    def forward(self, x: Tensor, y0: Tensor | None = None) -> Tensor:
        check_tensor("x", x, ndim=3, dtype_kind="float")
        if x.shape[-1] != self.n or x.shape[0] == 0:
            raise ValueError(f"x must be [T > 0, B, {self.n}], got shape {tuple(x.shape)}")
        beta = self.decay("tau_mem_ms", x.dtype)
        y = torch.zeros_like(x[0]) if y0 is None else check_tensor("y0", y0, ndim=2, dtype_kind="float")
        if tuple(y.shape) != tuple(x.shape[1:]):
            raise ValueError(f"y0 must have shape {tuple(x.shape[1:])}, got {tuple(y.shape)}")
        out = []
        for t in range(x.shape[0]):
            y = beta * y + x[t]
            out.append(y)
        return torch.stack(out)
