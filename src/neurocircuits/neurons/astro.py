"""Astrocyte-modulated recurrent LIF layer (our own design).

The catalog row ``astro-snn`` comes from "Astrocyte-Enabled Advancements in Spiking Neural
Networks for Language Modeling"; that paper gives no equations we could verify, so the unit
below is **our design**, not a transcription of the paper. It adds to a recurrent LIF layer
(the equations and conventions of :mod:`neurocircuits.neurons.lif`) one slow astrocyte
variable per group of neurons. Each astrocyte low-pass filters the spiking of the neurons it
contacts with a long time constant and, in return, scales their firing threshold and their
input gain. The idea borrowed from biology is only the qualitative one: astrocytes integrate
local synaptic activity over seconds (much slower than the membrane) and feed back onto
neuronal excitability (e.g. Araque et al. 1999, Trends Neurosci. 22:208,
doi:10.1016/S0166-2236(98)01349-6, the "tripartite synapse").

Equations (one step of ``dt_ms`` milliseconds; ``N`` neurons split into ``G`` contiguous
groups of ``N / G`` neurons, astrocyte ``g(n)`` serving neuron ``n``; tensors ``[B, N]`` or
``[B, G]``)::

    I_t   = x_t + W_rec s_{t-1} + κ_cur[g] · c_{t-1}[g]  input current (W_rec: recurrent layers)
    m_t   = exp(κ_gain[g] · c_{t-1}[g])                  gain set by the astrocyte (> 0)
    u_t   = β v_{t-1} + m_t I_t                          membrane before reset, β = exp(-dt/τ_mem)
    A_t   = θ · exp(κ_thr[g] · c_{t-1}[g])               threshold set by the astrocyte (> 0)
    s_t   = H(u_t - A_t)                                 spike, surrogate gradient σ'(u_t - A_t)
    v_t   = u_t - r_t A_t   ("subtract") | u_t (1 - r_t) ("zero") | u_t ("none")
    ā_t   = mean_{n in group g} s_t[n]                   local activity (spikes per step, in [0, 1])
    c_t   = γ c_{t-1} + (1 - γ) ā_t,   γ = exp(-dt/τ_astro)          (linear uptake), or
    c_t   = c∞ + (c_{t-1} - c∞) · γ · exp(-ρ ā_t),   ρ = dt/τ_rise,
            c∞ = ρ ā_t / (dt/τ_astro + ρ ā_t)                           (fast-rise uptake)

The linear-uptake line is the exact solution over one step of the astrocyte ODE
``τ_astro dc/dt = -c + ā(t)`` with ā held constant during the step, so ``c`` is a running
rate estimate (dimensionless, spikes per step, in [0, 1]) with memory ``τ_astro`` (ms,
typically tens to hundreds of membrane time constants). The fast-rise line (``tau_rise_ms``
given) is the exact one-step solution of ``dc/dt = -c/τ_astro + ā(t) (1 - c)/τ_rise`` with ā
held constant during the step: with τ_rise ≪ τ_astro a single step of group firing charges
``c`` towards 1 within about τ_rise (one step of full firing with τ_rise = dt gives
c ≈ 0.63), and silence lets it decay with τ_astro, so ``c`` stays in [0, 1] and works as a
saturating, slowly fading trace of recent group activity. ``κ_cur`` (dimensionless current
per unit of ``c``, one per astrocyte) feeds the astrocyte back to its own neurons as an
input current, a route by which a charged astrocyte can make its group fire again later. ``κ_thr`` and ``κ_gain``
(dimensionless, one per astrocyte, learnable by default) set how strongly the astrocyte
raises (κ > 0) or lowers (κ < 0) threshold and gain; the exponential keeps both positive
for any κ. With κ_thr = κ_gain = 0 (``astro=False``) the layer is exactly the recurrent LIF
of :mod:`neurocircuits.neurons.lif` with subtractive reset, which makes it its own control.
Membrane, threshold and currents are dimensionless (θ = 1 by default); time constants in ms.

References: LIF with surrogate gradients, Neftci, Mostafa & Zenke 2019 (arXiv:1901.09948);
a slow threshold variable for working memory in spiking networks (per neuron, driven by its
own spikes), Bellec et al. 2018 (NeurIPS, arXiv:1803.09574). The group pooling, the gain
term, the exponential modulation, the saturating fast-rise uptake and the feedback current
are our choices.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from neurocircuits.neurons.lif import (
    RESET_MODES,
    _check_decay,
    _check_spiking,
    _check_state_tensor,
    _init_recurrent,
    _TimeConstants,
    check_finite,
    reset_membrane,
)
from neurocircuits.surrogate import FastSigmoid, Surrogate, check_surrogate
from neurocircuits.validation import check_float, check_int, check_last_dim, check_tensor

__all__ = [
    "AstroState",
    "AstroParams",
    "astro_update",
    "astro_lif_step",
    "astro_lif_sequence",
    "AstroLIF",
]


class AstroState(NamedTuple):
    """State of an astrocyte-LIF layer: membrane ``v`` [B, N] (after reset), last spikes ``s``
    [B, N] and astrocyte variables ``c`` [B, G] (spikes per step, in [0, 1])."""

    v: Tensor
    s: Tensor
    c: Tensor


class AstroParams(NamedTuple):
    """Parameters of the astrocyte-LIF step.

    beta: membrane decay exp(-dt/τ_mem) in (0, 1), float or tensor [] / [N].
    gamma: astrocyte decay exp(-dt/τ_astro) in (0, 1), float or tensor [] / [G].
    k_thr, k_gain: threshold and gain couplings κ (float or tensor [] / [G], any sign).
    threshold: θ > 0. reset: one of ``RESET_MODES``. detach_reset: reset without gradient.
    surrogate: a :class:`~neurocircuits.surrogate.Surrogate`.
    k_cur: feedback current per unit of c (float or tensor [] / [G], any sign).
    rho: ``None`` for linear uptake, else dt/τ_rise > 0 (fast-rise uptake).
    """

    beta: Tensor | float
    gamma: Tensor | float
    k_thr: Tensor | float = 0.0
    k_gain: Tensor | float = 0.0
    threshold: float = 1.0
    reset: str = "subtract"
    detach_reset: bool = False
    surrogate: Surrogate = FastSigmoid()
    k_cur: Tensor | float = 0.0
    rho: float | None = None


# ------------------------------------------------------------------------------- checks
def _check_coupling(name: str, value, g: int):
    if isinstance(value, Tensor):
        check_tensor(name, value, ndim=(0, 1), dtype_kind="float")
        if value.dim() == 1 and value.shape[0] != g:
            raise ValueError(f"{name} must have shape [] or [{g}] (one per astrocyte), got "
                             f"{tuple(value.shape)}")
        return value
    return check_float(name, value)


def check_astro_inputs(x: Tensor, state, params, *, sequence: bool, w_rec: Tensor | None) -> int:
    """Validate input, state and parameters; returns the number of astrocytes G."""
    check_tensor("x", x, ndim=3 if sequence else 2, dtype_kind="float", finite=False)
    check_finite("x", x)
    if sequence and x.shape[0] == 0:
        raise ValueError(f"x must have T > 0 time steps, got shape {tuple(x.shape)}")
    if not isinstance(state, AstroState):
        raise TypeError(f"state must be an AstroState, got {type(state).__name__}")
    if not isinstance(params, AstroParams):
        raise TypeError(f"params must be an AstroParams, got {type(params).__name__}")
    b, n = x.shape[-2:]
    check_tensor("state.c", state.c, ndim=2, dtype_kind="float", finite=False)
    g = state.c.shape[1]
    if g < 1 or n % g:
        raise ValueError(f"state.c must have a number of astrocytes G dividing N = {n}, got "
                         f"shape {tuple(state.c.shape)}")
    _check_state_tensor("v", state.v, (b, n), x.dtype)
    _check_state_tensor("s", state.s, (b, n), x.dtype)
    _check_state_tensor("c", state.c, (b, g), x.dtype)
    _check_decay("beta", params.beta, n)
    _check_decay("gamma", params.gamma, g)
    _check_coupling("k_thr", params.k_thr, g)
    _check_coupling("k_gain", params.k_gain, g)
    _check_coupling("k_cur", params.k_cur, g)
    if params.rho is not None:
        check_float("rho (dt/tau_rise)", params.rho, positive=True)
    _check_spiking(params)
    if w_rec is not None:
        check_tensor("w_rec", w_rec, ndim=2, dtype_kind="float")
        if tuple(w_rec.shape) != (n, n):
            raise ValueError(f"w_rec must have shape [{n}, {n}], got {tuple(w_rec.shape)}")
    return g


# ------------------------------------------------------------------------ the equations
def _group_mean(s: Tensor, g: int) -> Tensor:
    """Mean of [B, N] over G contiguous groups -> [B, G]."""
    return s.reshape(s.shape[0], g, s.shape[1] // g).mean(-1)


def _expand(c: Tensor, n: int) -> Tensor:
    """[B, G] -> [B, N], each astrocyte's value repeated over its N / G neurons."""
    b, g = c.shape
    return c.unsqueeze(-1).expand(b, g, n // g).reshape(b, n)


def _modulation(k, c: Tensor, n: int):
    """exp(κ c) expanded to the neurons, or the float 1.0 when κ is the float 0 (no astrocyte)."""
    if not isinstance(k, Tensor) and k == 0.0:
        return 1.0
    return _expand(torch.exp(k * c), n)


def _uptake(c: Tensor, a: Tensor, gamma, rho):
    """Astrocyte step from the group activity ``a`` [B, G] (module docstring equations)."""
    if rho is None:
        return gamma * c + (1.0 - gamma) * a
    lam = -math.log(gamma) if not isinstance(gamma, Tensor) else -torch.log(gamma)
    b = rho * a
    c_inf = b / (lam + b)
    return c_inf + (c - c_inf) * gamma * torch.exp(-b)


def astro_update(c: Tensor, s: Tensor, gamma, rho: float | None = None) -> Tensor:
    """One astrocyte step from spikes ``s`` [B, N]; ``c`` is [B, G] with G dividing N and
    ā_t the group mean of ``s``. ``rho=None``: c_t = γ c_{t-1} + (1 - γ) ā_t, exact over one
    step for τ dc/dt = -c + ā. ``rho = dt/τ_rise``: exact over one step for
    dc/dt = -c/τ_astro + ā (1 - c)/τ_rise (module docstring)."""
    check_tensor("c", c, ndim=2, dtype_kind="float")
    check_tensor("s", s, ndim=2, dtype_kind="float")
    if s.shape[0] != c.shape[0] or c.shape[1] < 1 or s.shape[1] % c.shape[1]:
        raise ValueError(f"s [B, N] and c [B, G] must share B and G must divide N, got "
                         f"{tuple(s.shape)} and {tuple(c.shape)}")
    _check_decay("gamma", gamma, c.shape[1])
    if rho is not None:
        check_float("rho (dt/tau_rise)", rho, positive=True)
    return _uptake(c, _group_mean(s, c.shape[1]), gamma, rho)


def _step(x, v, s_prev, c, w_rec, p):
    """One step of the module docstring's equations (no validation; autograd-friendly)."""
    n, g = x.shape[1], c.shape[1]
    cur = x if w_rec is None else x + s_prev @ w_rec.t()
    if isinstance(p.k_cur, Tensor) or p.k_cur != 0.0:
        cur = cur + _expand(p.k_cur * c, n)
    u = p.beta * v + _modulation(p.k_gain, c, n) * cur
    thr = p.threshold * _modulation(p.k_thr, c, n)
    s = p.surrogate(u - thr)
    v_new = reset_membrane(u, s.detach() if p.detach_reset else s, thr, p.reset)
    c_new = _uptake(c, _group_mean(s, g), p.gamma, p.rho)
    return s, v_new, c_new


def astro_lif_step(x: Tensor, state: AstroState, params: AstroParams, w_rec: Tensor | None = None):
    """One step: ``x`` [B, N] input current -> (spikes [B, N], new :class:`AstroState`)."""
    check_astro_inputs(x, state, params, sequence=False, w_rec=w_rec)
    s, v, c = _step(x, state.v, state.s, state.c, w_rec, params)
    return s, AstroState(v, s, c)


def astro_lif_sequence(x: Tensor, state: AstroState, params: AstroParams,
                       w_rec: Tensor | None = None, return_astro: bool = False):
    """Run ``x`` [T, B, N] -> (spikes [T, B, N], final state) or, with ``return_astro``,
    (spikes, final state, astrocyte trace c [T, B, G])."""
    check_astro_inputs(x, state, params, sequence=True, w_rec=w_rec)
    v, s, c = state
    out, trace = [], []
    for t in range(x.shape[0]):
        s, v, c = _step(x[t], v, s, c, w_rec, params)
        out.append(s)
        if return_astro:
            trace.append(c)
    spikes = torch.stack(out)
    final = AstroState(v, s, c)
    if return_astro:
        return spikes, final, torch.stack(trace)
    return spikes, final


# -------------------------------------------------------------------------------- module
class AstroLIF(_TimeConstants):
    """Layer of ``n`` LIF neurons with ``n_astro`` astrocytes (our design; equations in the
    module docstring).

    ``forward(x, state=None, return_astro=False)``: ``x`` [B, N] (one step) or [T, B, N] (a
    sequence) -> ``(spikes, state)`` (plus the astrocyte trace [T, B, G] for sequences with
    ``return_astro``). ``state=None`` starts from rest (v = s = c = 0).

    Parameters: ``n`` neurons; ``n_astro`` astrocytes G (must divide ``n``; ``n`` gives one
    per neuron); ``tau_mem_ms``, ``tau_astro_ms`` and ``dt_ms`` in ms; ``threshold`` θ;
    ``k_thr``, ``k_gain`` and ``k_cur``, initial couplings κ (``k_cur=None``: no feedback
    current and no κ_cur parameter); ``tau_rise_ms`` (ms) switches
    to the saturating fast-rise uptake (``None``: linear uptake); ``learn_coupling`` (κ as Parameters, one
    per astrocyte; otherwise fixed buffers); ``learn_tau`` (learn log τ_mem per neuron and
    log τ_astro per astrocyte); ``astro=False`` disables the astrocytes (κ fixed at 0: a
    plain LIF layer with the same code path); ``recurrent`` adds ``w_rec`` [N, N] drawn as
    N(0, rec_gain²/N) without self-connections from ``generator``; ``reset``,
    ``detach_reset``, ``surrogate`` as in :class:`neurocircuits.neurons.lif.LIF`.
    """

    def __init__(self, n: int, n_astro: int | None = None, tau_mem_ms=20.0, tau_astro_ms=200.0,
                 dt_ms: float = 1.0, *, threshold: float = 1.0, k_thr: float = 1.0,
                 k_gain: float = 0.0, k_cur: float | None = None, tau_rise_ms: float | None = None,
                 learn_coupling: bool = True, learn_tau: bool = False,
                 astro: bool = True, recurrent: bool = True, rec_gain: float = 1.0,
                 generator: torch.Generator | None = None, reset: str = "subtract",
                 detach_reset: bool = False, surrogate: Surrogate | str = "fast_sigmoid"):
        super().__init__(dt_ms)
        self.n = check_int("n", n, min_value=1)
        self.n_astro = self.n if n_astro is None else check_int("n_astro", n_astro, min_value=1)
        if self.n % self.n_astro:
            raise ValueError(f"n_astro must divide n = {self.n} (equal groups of neurons per "
                             f"astrocyte), got {self.n_astro}")
        self.threshold = check_float("threshold", threshold, positive=True)
        for name, flag in (("learn_coupling", learn_coupling), ("learn_tau", learn_tau),
                           ("astro", astro), ("recurrent", recurrent), ("detach_reset", detach_reset)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, got {flag!r}")
        if reset not in RESET_MODES:
            raise ValueError(f"reset must be one of {RESET_MODES}, got {reset!r}")
        self.reset, self.detach_reset = reset, detach_reset
        self.surrogate = check_surrogate(surrogate)
        self.astro, self.recurrent, self.learn_tau = astro, recurrent, learn_tau
        self._add_tau("tau_mem_ms", tau_mem_ms, self.n, learn_tau)
        self._add_tau("tau_astro_ms", tau_astro_ms, self.n_astro, learn_tau)
        k_thr = check_float("k_thr", k_thr)
        k_gain = check_float("k_gain", k_gain)
        self.feedback = k_cur is not None
        k_cur = 0.0 if k_cur is None else check_float("k_cur", k_cur)
        self.tau_rise_ms = (None if tau_rise_ms is None
                            else check_float("tau_rise_ms", tau_rise_ms, positive=True))
        self.learn_coupling = bool(learn_coupling and astro)
        couplings = (("k_thr", k_thr), ("k_gain", k_gain)) + ((("k_cur", k_cur),) if self.feedback else ())
        for name, val in couplings:
            t = torch.full((self.n_astro,), val if astro else 0.0)
            if self.learn_coupling:
                self.register_parameter(name, nn.Parameter(t))
            else:
                self.register_buffer(name, t)
        if recurrent:
            self.w_rec = _init_recurrent(self.n, rec_gain, generator)
        else:
            self.register_parameter("w_rec", None)

    def params(self, dtype=torch.float32) -> AstroParams:
        # astro=False passes κ = 0.0 as floats, which skips the (identity) modulation
        k_thr = self.k_thr.to(dtype) if self.astro else 0.0
        k_gain = self.k_gain.to(dtype) if self.astro else 0.0
        k_cur = self.k_cur.to(dtype) if (self.astro and self.feedback) else 0.0
        rho = None if self.tau_rise_ms is None else self.dt_ms / self.tau_rise_ms
        return AstroParams(self.decay("tau_mem_ms", dtype), self.decay("tau_astro_ms", dtype),
                           k_thr, k_gain, self.threshold,
                           self.reset, self.detach_reset, self.surrogate, k_cur, rho)

    def initial_state(self, batch: int, device=None, dtype=torch.float32) -> AstroState:
        check_int("batch", batch, min_value=1)
        z = torch.zeros(batch, self.n, device=device, dtype=dtype)
        return AstroState(z, z.clone(), torch.zeros(batch, self.n_astro, device=device, dtype=dtype))

    def forward(self, x: Tensor, state: AstroState | None = None, return_astro: bool = False):
        check_tensor("x", x, ndim=(2, 3), dtype_kind="float", finite=False)
        check_last_dim("x", x, self.n)
        if state is None:
            state = self.initial_state(x.shape[-2], x.device, x.dtype)
        p = self.params(x.dtype)
        if x.dim() == 2:
            return astro_lif_step(x, state, p, self.w_rec)
        return astro_lif_sequence(x, state, p, self.w_rec, return_astro=return_astro)

    def extra_repr(self) -> str:
        return (f"n={self.n}, n_astro={self.n_astro}, astro={self.astro}, dt_ms={self.dt_ms}, "
                f"tau_rise_ms={self.tau_rise_ms}, threshold={self.threshold}, recurrent={self.recurrent}, reset={self.reset!r}, "
                f"learn_coupling={self.learn_coupling}, learn_tau={self.learn_tau}")
