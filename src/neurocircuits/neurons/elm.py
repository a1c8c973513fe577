"""Expressive Leaky Memory (ELM) neuron and its Branch-ELM variant.

Spieler, Rahaman, Martius, Schölkopf & Levina (2024), "The Expressive Leaky Memory Neuron: an
Efficient and Expressive Phenomenological Neuron Model Can Solve Long-Horizon Tasks", ICLR 2024,
arXiv:2306.16922.

One ELM neuron receives ``n_synapses`` inputs ``x_t`` grouped into ``n_branches`` dendritic
branches of equal size (``n_branches = n_synapses``: every synapse is its own branch, the
original ELM; fewer branches: Branch-ELM). With time step ``dt_ms`` and time constants in ms:

    κ_b = exp(-dt / τ_b)                      branch decay (τ_b fixed, default 5 ms)
    κ_m = exp(-dt / τ_m)                      memory decay, τ_m log-spaced in [τ_min, τ_max]
    κ_λ = exp(-λ dt / τ_m)                    λ-scaled update factor (λ = 5)

    b_t  = κ_b ⊙ b_{t-1} + Σ_{s ∈ branch} relu(w_s) x_{s,t}          branch currents
    Δm_t = 1.7159 · tanh(⅔ · MLP([b_t, κ_m ⊙ m_{t-1}]))               integration mechanism
    m_t  = κ_m ⊙ m_{t-1} + (1 - κ_λ) ⊙ Δm_t                          leaky memory (d_m units)
    y_t  = W_y m_t + b_y                                              output

The MLP has ``mlp_layers`` hidden ReLU layers of width ``mlp_hidden`` (default 2 d_m) and a
linear output of size d_m. The paper's first version writes the update as
``λ (1 - κ_m) Δm_t``; ``memory_update="linear"`` selects that form (both agree to first order in
dt/τ_m). With fixed time constants the trainable parameters are

    n_synapses + [(n_b + d_m + 1) h + (L - 1)(h + 1) h + (h + 1) d_m] + (d_m + 1) n_out,

which for 4,500 synapses, 45 branches, 2 outputs, h = 2 d_m, L = 1 gives the published Branch-ELM
sizes 4,601 / 5,852 / 8,002 / 54,002 for d_m = 1 / 10 / 20 / 100 (see :func:`elm_param_count`).

Sequences are ``[T, B, n_synapses]`` (time first); the output is ``[T, B, n_outputs]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from neurocircuits.validation import check_float, check_int, check_tensor

__all__ = ["ELM", "ELMParams", "ELMState", "elm_param_count", "elm_step", "memory_taus"]

#: LeCun's scaled tanh, 1.7159 tanh(2x/3): unit gain at the origin, f(±1) = ±1.
_TANH_GAIN, _TANH_SLOPE = 1.7159, 2.0 / 3.0


def memory_taus(n_memory: int, tau_min_ms: float, tau_max_ms: float) -> torch.Tensor:
    """Memory time constants (ms), log-spaced from ``tau_min_ms`` to ``tau_max_ms``.

    With a single memory unit it gets ``tau_max_ms`` (the longest memory on offer).
    """
    n_memory = check_int("n_memory", n_memory, min_value=1)
    lo = check_float("tau_min_ms", tau_min_ms, positive=True)
    hi = check_float("tau_max_ms", tau_max_ms, positive=True)
    if lo >= hi:
        raise ValueError(f"tau_min_ms must be < tau_max_ms, got tau_min_ms={lo} >= tau_max_ms={hi}")
    if n_memory == 1:
        return torch.tensor([hi], dtype=torch.float64)
    return torch.logspace(math.log10(lo), math.log10(hi), n_memory, dtype=torch.float64)


def elm_param_count(n_synapses: int, n_memory: int, n_outputs: int, n_branches: int | None = None,
                    mlp_hidden: int | None = None, mlp_layers: int = 1) -> int:
    """Trainable parameters of an ELM with fixed time constants (closed form, see module doc)."""
    n_s = check_int("n_synapses", n_synapses, min_value=1)
    d_m = check_int("n_memory", n_memory, min_value=1)
    n_out = check_int("n_outputs", n_outputs, min_value=1)
    n_b = n_s if n_branches is None else check_int("n_branches", n_branches, min_value=1)
    h = 2 * d_m if mlp_hidden is None else check_int("mlp_hidden", mlp_hidden, min_value=1)
    L = check_int("mlp_layers", mlp_layers, min_value=1)
    mlp = (n_b + d_m + 1) * h + (L - 1) * (h + 1) * h + (h + 1) * d_m
    return n_s + mlp + (d_m + 1) * n_out


@dataclass
class ELMParams:
    """Everything :func:`elm_step` needs (tensors already transformed: weights rectified,
    decays exponentiated)."""

    w_s: torch.Tensor  # [n_synapses], >= 0
    kappa_b: torch.Tensor  # [n_branches]
    kappa_m: torch.Tensor  # [d_m]
    update_gain: torch.Tensor  # [d_m]: (1 - κ_λ) or λ (1 - κ_m)
    mlp: list[tuple[torch.Tensor, torch.Tensor]]  # hidden layers then output layer: (W, bias)
    w_y: torch.Tensor  # [n_out, d_m]
    b_y: torch.Tensor  # [n_out]
    n_branches: int


@dataclass
class ELMState:
    b: torch.Tensor  # [B, n_branches] branch currents
    m: torch.Tensor  # [B, d_m] memory


def _mlp_delta(b: torch.Tensor, m_decayed: torch.Tensor, mlp) -> torch.Tensor:
    h = torch.cat([b, m_decayed], dim=-1)
    for W, bias in mlp[:-1]:
        h = torch.relu(torch.addmm(bias, h, W.t()))
    W, bias = mlp[-1]
    return _TANH_GAIN * torch.tanh(_TANH_SLOPE * torch.addmm(bias, h, W.t()))


def elm_step(x: torch.Tensor, state: ELMState, p: ELMParams) -> tuple[torch.Tensor, ELMState]:
    """One time step of the ELM equations (module doc). ``x``: [B, n_synapses]."""
    B = x.shape[0]
    current = (x * p.w_s).view(B, p.n_branches, -1).sum(-1)
    b = p.kappa_b * state.b + current
    m_dec = p.kappa_m * state.m
    m = m_dec + p.update_gain * _mlp_delta(b, m_dec, p.mlp)
    y = torch.addmm(p.b_y, m, p.w_y.t())
    return y, ELMState(b, m)


class ELM(nn.Module):
    """ELM / Branch-ELM neuron (module doc for equations).

    Args:
        n_synapses: number of inputs (synapses).
        n_outputs: size of the linear output y.
        n_memory: number of memory units d_m (>= 1).
        n_branches: number of dendritic branches; must divide ``n_synapses``. ``None``: one
            branch per synapse (the original ELM).
        mlp_hidden: width of the MLP's hidden layers (default 2 d_m).
        mlp_layers: number of hidden layers (default 1).
        tau_min_ms, tau_max_ms: range of the log-spaced memory time constants (ms).
        tau_branch_ms: branch time constant τ_b (ms).
        lambda_: update scaling λ (> 0).
        dt_ms: time step (ms).
        w_s_init: initial synaptic weight (before rectification).
        learn_tau: learn the memory time constants (kept inside [τ_min, τ_max] by a scaled
            sigmoid). Default: fixed, as in the published Branch-ELM models.
        memory_update: "exp" (1 - κ_λ, Branch-ELM) or "linear" (λ (1 - κ_m), first ELM paper).
        seed: fixes the initial MLP and readout weights.
    """

    def __init__(self, n_synapses: int, n_outputs: int, n_memory: int = 10,
                 n_branches: int | None = None, mlp_hidden: int | None = None,
                 mlp_layers: int = 1, tau_min_ms: float = 1.0, tau_max_ms: float = 1000.0,
                 tau_branch_ms: float = 5.0, lambda_: float = 5.0, dt_ms: float = 1.0,
                 w_s_init: float = 0.5, learn_tau: bool = False, memory_update: str = "exp",
                 seed: int | None = None):
        super().__init__()
        self.n_synapses = check_int("n_synapses", n_synapses, min_value=1)
        self.n_outputs = check_int("n_outputs", n_outputs, min_value=1)
        self.n_memory = check_int("n_memory (d_m)", n_memory, min_value=1)
        self.n_branches = (self.n_synapses if n_branches is None
                           else check_int("n_branches", n_branches, min_value=1))
        if self.n_synapses % self.n_branches:
            raise ValueError(f"n_branches = {self.n_branches} must divide n_synapses = "
                             f"{self.n_synapses} (equal-sized branches)")
        self.mlp_hidden = (2 * self.n_memory if mlp_hidden is None
                           else check_int("mlp_hidden", mlp_hidden, min_value=1))
        self.mlp_layers = check_int("mlp_layers", mlp_layers, min_value=1)
        taus = memory_taus(self.n_memory, tau_min_ms, tau_max_ms)
        self.tau_min_ms, self.tau_max_ms = float(tau_min_ms), float(tau_max_ms)
        self.tau_branch_ms = check_float("tau_branch_ms", tau_branch_ms, positive=True)
        self.lambda_ = check_float("lambda_", lambda_, positive=True)
        self.dt_ms = check_float("dt_ms", dt_ms, positive=True)
        w_s_init = check_float("w_s_init", w_s_init)
        if memory_update not in ("exp", "linear"):
            raise ValueError(f"memory_update must be 'exp' or 'linear', got {memory_update!r}")
        self.memory_update = memory_update
        self.learn_tau = bool(learn_tau)

        gen = None
        if seed is not None:
            gen = torch.Generator()
            gen.manual_seed(check_int("seed", seed, min_value=0))
        self.w_s_raw = nn.Parameter(torch.full((self.n_synapses,), w_s_init))
        widths = [self.n_branches + self.n_memory] + [self.mlp_hidden] * self.mlp_layers
        self.mlp = nn.ModuleList()
        for a, b in zip(widths[:-1], widths[1:]):
            self.mlp.append(nn.Linear(a, b))
        self.mlp.append(nn.Linear(widths[-1], self.n_memory))
        self.readout = nn.Linear(self.n_memory, self.n_outputs)
        with torch.no_grad():
            for lin in [*self.mlp, self.readout]:
                bound = 1.0 / lin.in_features ** 0.5
                lin.weight.uniform_(-bound, bound, generator=gen)
                lin.bias.uniform_(-bound, bound, generator=gen)
        # τ_m as a scaled sigmoid of a free parameter, so learning keeps it inside the range.
        lo, hi = self.tau_min_ms, self.tau_max_ms
        frac = ((taus - lo) / (hi - lo)).clamp(1e-6, 1 - 1e-6)
        self.tau_logit = nn.Parameter(torch.log(frac / (1 - frac)).float(),
                                      requires_grad=self.learn_tau)
        self.register_buffer("tau_m_fixed", taus.float())
        self.register_buffer("tau_b", torch.full((self.n_branches,), self.tau_branch_ms))

    # derived quantities -----------------------------------------------------------------
    @property
    def tau_m(self) -> torch.Tensor:
        """Memory time constants (ms)."""
        if not self.learn_tau:
            return self.tau_m_fixed
        return self.tau_min_ms + (self.tau_max_ms - self.tau_min_ms) * torch.sigmoid(self.tau_logit)

    def params(self) -> ELMParams:
        """The transformed parameters for :func:`elm_step` (differentiable)."""
        tau_m = self.tau_m
        kappa_m = torch.exp(-self.dt_ms / tau_m)
        if self.memory_update == "exp":
            gain = 1.0 - torch.exp(-self.lambda_ * self.dt_ms / tau_m)
        else:
            gain = self.lambda_ * (1.0 - kappa_m)
        return ELMParams(
            w_s=torch.relu(self.w_s_raw),
            kappa_b=torch.exp(-self.dt_ms / self.tau_b),
            kappa_m=kappa_m,
            update_gain=gain,
            mlp=[(lin.weight, lin.bias) for lin in self.mlp],
            w_y=self.readout.weight,
            b_y=self.readout.bias,
            n_branches=self.n_branches,
        )

    def param_count(self) -> int:
        """Closed-form count of trainable parameters (equals ``sum(p.numel())``)."""
        n = elm_param_count(self.n_synapses, self.n_memory, self.n_outputs, self.n_branches,
                            self.mlp_hidden, self.mlp_layers)
        return n + (self.n_memory if self.learn_tau else 0)

    def initial_state(self, batch: int, dtype=torch.float32, device=None) -> ELMState:
        batch = check_int("batch", batch, min_value=1)
        return ELMState(torch.zeros(batch, self.n_branches, dtype=dtype, device=device),
                        torch.zeros(batch, self.n_memory, dtype=dtype, device=device))

    def _check_input(self, x: torch.Tensor, ndim: int) -> None:
        check_tensor("x", x, ndim=ndim, dtype_kind="float")
        if x.shape[-1] != self.n_synapses:
            raise ValueError(f"x must have n_synapses = {self.n_synapses} features in its last "
                             f"dimension, got shape {tuple(x.shape)}")

    def step(self, x: torch.Tensor, state: ELMState | None = None) -> tuple[torch.Tensor, ELMState]:
        """One step: ``x`` [B, n_synapses] -> (y [B, n_outputs], new state)."""
        self._check_input(x, 2)
        if state is None:
            state = self.initial_state(x.shape[0], x.dtype, x.device)
        return elm_step(x, state, self.params())

    def forward(self, x: torch.Tensor, state: ELMState | None = None,
                return_memory: bool = False):
        """Run a sequence ``x`` [T, B, n_synapses]; returns y [T, B, n_outputs] (and the
        memory trace [T, B, d_m] when ``return_memory``).

        Same equations as :func:`elm_step`, arranged for speed: the branch currents are linear in
        the input, so their traces are filtered once without autograd and weighted afterwards,
        and the MLP's first layer is applied to all branch currents in one product.
        """
        self._check_input(x, 3)
        T, B, _ = x.shape
        if state is None:
            state = self.initial_state(B, x.dtype, x.device)
        p = self.params()
        nb, spb = self.n_branches, self.n_synapses // self.n_branches
        # b_t = κ_b b_{t-1} + Σ w_s x_t  =  κ_b^{t+1} b_{-1} + Σ_s w_s · (filtered x)_s
        kappa_syn = p.kappa_b.repeat_interleave(spb)
        with torch.no_grad():
            filt = torch.empty_like(x)
            acc = torch.zeros_like(x[0])
            for t in range(T):
                acc = kappa_syn * acc + x[t]
                filt[t] = acc
        b_all = (filt * p.w_s).view(T, B, nb, spb).sum(-1)
        powers = p.kappa_b ** torch.arange(1, T + 1, dtype=x.dtype, device=x.device)[:, None]
        b_all = b_all + powers[:, None, :] * state.b[None]
        W0, bias0 = p.mlp[0]
        pre_b = torch.addmm(bias0, b_all.reshape(T * B, nb), W0[:, :nb].t()).view(T, B, -1)
        W0m = W0[:, nb:].t()
        m = state.m
        ms = []
        for pre_t in pre_b.unbind(0):  # unbind: one gradient buffer for all steps
            m_dec = p.kappa_m * m
            h = torch.addmm(pre_t, m_dec, W0m)
            for i in range(1, len(p.mlp)):
                h = torch.relu(h)
                W, bias = p.mlp[i]
                h = torch.addmm(bias, h, W.t())
            m = m_dec + p.update_gain * (_TANH_GAIN * torch.tanh(_TANH_SLOPE * h))
            ms.append(m)
        mem = torch.stack(ms)
        y = torch.addmm(p.b_y, mem.reshape(T * B, -1), p.w_y.t()).view(T, B, -1)
        if return_memory:
            return y, mem
        return y
