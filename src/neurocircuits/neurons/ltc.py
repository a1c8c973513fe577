"""Liquid time-constant spiking neuron (LTC-SN).

Yin, Corradi & Bohté (2023), "Accurate online training of dynamical spiking neural networks
through Forward Propagation Through Time", Nature Machine Intelligence 5:518 (arXiv:2112.11231).

Each neuron's membrane and adaptation time constants are gates computed from the current input
and the neuron's own state, so the network learns how long to remember. Per step (dt implicit,
one step = one time bin):

.. math::

    I_t        &= W_{in} x_t + W_{rec} s_{t-1}                              \\\\
    \\alpha_t   &= \\sigma(W_{\\alpha} [I_t, u_{t-1}] + b_{\\alpha})       (membrane decay in (0, 1)) \\\\
    \\rho_t     &= \\sigma(W_{\\rho} [I_t, a_{t-1}] + b_{\\rho})           (adaptation decay) \\\\
    a_t        &= \\rho_t a_{t-1} + (1 - \\rho_t) s_{t-1}                 (adaptation) \\\\
    \\vartheta_t &= \\vartheta_0 + \\beta a_t                                (adaptive threshold) \\\\
    u_t        &= \\alpha_t u_{t-1} + (1 - \\alpha_t) I_t - s_{t-1} \\vartheta_{t-1}   (soft reset) \\\\
    s_t        &= H(u_t - \\vartheta_t)

The decay factors relate to time constants by ``alpha = exp(-dt / tau_m)``. With
``learn_tau=False`` the gates are replaced by fixed decays (``tau_m_steps``, ``tau_adp_steps``)
and ``beta = 0``, which is a plain LIF neuron: the control the paper compares against.
``tau_m_steps`` / ``tau_adp_steps`` take one value for all neurons or a pair ``(lo, hi)``: per-neuron
time constants drawn log-uniformly in [lo, hi] steps (seeded), used as the gates' initial decays
(``sigmoid(b) = exp(-1/tau)``) or as the fixed decays. The gates
here read the synaptic drive ``I_t`` rather than the raw input, which keeps their parameter count
independent of the input width (our choice).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from neurocircuits.surrogate import FastSigmoid, check_surrogate
from neurocircuits.validation import check_float, check_int, check_tensor


class LTCState(NamedTuple):
    u: torch.Tensor  # membrane [B, N]
    a: torch.Tensor  # adaptation [B, N]
    s: torch.Tensor  # spikes of the previous step [B, N]
    theta: torch.Tensor  # threshold of the previous step [B, N]


class LTCSpiking(nn.Module):
    """A recurrent layer of LTC spiking neurons with a leaky-integrator readout.

    ``forward(x [T, B, n_in], state=None) -> (readout [T, B, n_out], spikes [T, B, N], state)``.
    The readout is a non-spiking leaky integrator of the membranes,
    ``y_t = k y_{t-1} + (1 - k) (W_out u_t + b_out)`` with fixed ``k = exp(-1/tau_out_steps)``.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, *, learn_tau: bool = True,
                 tau_m_steps: float | tuple[float, float] = 20.0,
                 tau_adp_steps: float | tuple[float, float] = 200.0, theta0: float = 0.1,
                 beta: float = 1.8, tau_out_steps: float = 5.0, surrogate=None, seed: int | None = None):
        super().__init__()
        self.n_in = check_int("n_in", n_in, min_value=1)
        self.n_hidden = check_int("n_hidden", n_hidden, min_value=1)
        self.n_out = check_int("n_out", n_out, min_value=1)
        self.theta0 = check_float("theta0", theta0, positive=True)
        self.beta = check_float("beta", beta, min_value=0.0) if learn_tau else 0.0
        check_float("tau_out_steps", tau_out_steps, positive=True)
        self.learn_tau = bool(learn_tau)
        self.surrogate = check_surrogate(surrogate) if surrogate is not None else FastSigmoid(5.0)
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        tau_m = _taus("tau_m_steps", tau_m_steps, n_hidden, g)
        tau_adp = _taus("tau_adp_steps", tau_adp_steps, n_hidden, g)

        def uniform(*shape, bound):
            return nn.Parameter((torch.rand(*shape, generator=g) * 2 - 1) * bound)

        self.w_in = uniform(n_hidden, n_in, bound=1.0 / math.sqrt(n_in))
        self.w_rec = uniform(n_hidden, n_hidden, bound=1.0 / math.sqrt(n_hidden))
        self.w_out = uniform(n_out, n_hidden, bound=1.0 / math.sqrt(n_hidden))
        self.b_out = nn.Parameter(torch.zeros(n_out))
        logit = lambda tau: -torch.log(torch.expm1(1.0 / tau))  # noqa: E731  (σ(logit) = e^{-1/τ})
        if self.learn_tau:
            # gates start at the fixed decays, so the two variants differ only in what they learn
            self.w_alpha = uniform(n_hidden, 2 * n_hidden, bound=0.1 / math.sqrt(n_hidden))
            self.w_rho = uniform(n_hidden, 2 * n_hidden, bound=0.1 / math.sqrt(n_hidden))
            self.b_alpha = nn.Parameter(logit(tau_m))
            self.b_rho = nn.Parameter(logit(tau_adp))
        else:
            self.register_buffer("alpha_fixed", torch.exp(-1.0 / tau_m))
            self.register_buffer("rho_fixed", torch.exp(-1.0 / tau_adp))
        self.register_buffer("k_out", torch.tensor(math.exp(-1.0 / tau_out_steps)))

    def initial_state(self, batch: int, device=None, dtype=torch.float32) -> tuple[LTCState, torch.Tensor]:
        z = torch.zeros(batch, self.n_hidden, device=device, dtype=dtype)
        return LTCState(z, z.clone(), z.clone(), torch.full_like(z, self.theta0)), \
            torch.zeros(batch, self.n_out, device=device, dtype=dtype)

    def step(self, x: torch.Tensor, state: LTCState):
        """One time step: ``x [B, n_in]`` -> ``(spikes [B, N], new state)``."""
        u, a, s, theta = state
        i_t = x @ self.w_in.T + s @ self.w_rec.T
        if self.learn_tau:
            alpha = torch.sigmoid(torch.cat([i_t, u], -1) @ self.w_alpha.T + self.b_alpha)
            rho = torch.sigmoid(torch.cat([i_t, a], -1) @ self.w_rho.T + self.b_rho)
        else:
            alpha, rho = self.alpha_fixed, self.rho_fixed
        a = rho * a + (1 - rho) * s
        theta_new = self.theta0 + self.beta * a
        u = alpha * u + (1 - alpha) * i_t - s * theta
        s_new = self.surrogate(u - theta_new)
        return s_new, LTCState(u, a, s_new, theta_new)

    def forward(self, x: torch.Tensor, state=None):
        check_tensor("x", x, ndim=3, dtype_kind="float")
        if x.shape[0] == 0:
            raise ValueError("x must have at least one time step (T = 0)")
        if x.shape[2] != self.n_in:
            raise ValueError(f"x has {x.shape[2]} input channels, expected n_in = {self.n_in}")
        if state is None:
            state = self.initial_state(x.shape[1], x.device, x.dtype)
        st, y = state
        if st.u.shape != (x.shape[1], self.n_hidden) or y.shape != (x.shape[1], self.n_out):
            raise ValueError(f"state shapes {tuple(st.u.shape)}, {tuple(y.shape)} do not match batch "
                             f"{x.shape[1]} and sizes ({self.n_hidden}, {self.n_out})")
        outs, spikes = [], []
        for t in range(x.shape[0]):
            s, st = self.step(x[t], st)
            y = self.k_out * y + (1 - self.k_out) * (st.u @ self.w_out.T + self.b_out)
            outs.append(y)
            spikes.append(s)
        return torch.stack(outs), torch.stack(spikes), (st, y)


def _taus(name: str, value, n: int, g) -> torch.Tensor:
    """Per-neuron time constants (steps): a number gives the same τ to every neuron; a pair
    ``(lo, hi)`` draws τ log-uniformly in [lo, hi] (a spread of memory lengths)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be a number or a pair (lo, hi), got {value!r}")
        lo = check_float(f"{name}[0]", value[0], positive=True)
        hi = check_float(f"{name}[1]", value[1], positive=True)
        if hi < lo:
            raise ValueError(f"{name} = {value!r}: expected lo <= hi")
        u = torch.rand(n, generator=g, dtype=torch.float64)
        return torch.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))).float()
    return torch.full((n,), check_float(name, value, positive=True), dtype=torch.float32)


def detach_state(state):
    """Cut the graph at a chunk boundary (FPTT / truncated BPTT)."""
    st, y = state
    return LTCState(*(t.detach() for t in st)), y.detach()
