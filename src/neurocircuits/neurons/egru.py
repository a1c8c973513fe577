"""Event-based gated recurrent unit (EGRU).

Subramoney, Nazeer, Schöne, Mayr & Kappel (2023), "Efficient recurrent architectures through
activity sparsity and sparse back-propagation through time", ICLR 2023, arXiv:2206.06178.

A GRU whose units communicate only through events: a unit emits its cell state when it crosses
a learned threshold ϑ and is silent otherwise, so recurrent products (forward) and their
gradients (backward) are needed only for the units that fired. With input x_t, previous event
output y_{t-1} (zero for silent units) and cell state c_{t-1} (one step = one sequence element,
unitless):

    u_t = σ(W_u x_t + V_u y_{t-1} + b_u)                 update gate
    r_t = σ(W_r x_t + V_r y_{t-1} + b_r)                 reset gate
    z_t = tanh(W_z x_t + V_z (r_t ⊙ y_{t-1}) + b_z)      candidate
    c_t = u_t ⊙ z_t + (1 - u_t) ⊙ c_{t-1} - y_{t-1}      cell state, reset by subtracting
                                                          the emitted value
    e_t = H(c_t - ϑ)                                      events (Heaviside)
    y_t = e_t ⊙ c_t                                       event output

H has a triangular pseudo-derivative for training (:class:`EventFunction`):
dH/dv ≈ γ max(0, 1 - |v| / ε), γ = 0.3 and ε = 1 by default. The thresholds ϑ are trained
with the rest (their gradient is -dH/dv). Activity sparsity is encouraged with
:func:`activity_loss`, the mean event rate.

Sparse backward (:class:`SparseEGRUFunction`, ``EGRU.forward(x, sparse_backward=True)``): the
whole sequence is one autograd node with a hand-written back-propagation through time. Writing
g_a for the gradient of the loss with respect to the gate pre-activations a = (a_u, a_r, a_z) at
step t, the recurrent terms are

    ∂L/∂y_{t-1} ∋ g_{a_ur} V_ur + r_t ⊙ (g_{a_z} V_z)        (back-propagated to the past)
    ∂L/∂V_ur    += g_{a_ur}ᵀ y_{t-1},   ∂L/∂V_z += g_{a_z}ᵀ (r_t ⊙ y_{t-1})

∂L/∂y_{t-1} only matters for units with dy_{t-1}/dc_{t-1} = e_{t-1} + c_{t-1} H'(c_{t-1} - ϑ) ≠ 0,
i.e. units that fired at t-1 or lie within ε of threshold; the weight gradients only need the
units with y_{t-1} ≠ 0 (the events). The backward therefore multiplies by the columns of V of
those units alone: its recurrent work is proportional to (events + near-threshold units) · 3H
per step instead of H · 3H, and the gradients equal the dense ones.

Sequences are ``[T, B, n_in]`` (time first); :meth:`EGRU.forward` returns the event outputs
``y`` [T, B, H], the events ``e`` [T, B, H] and the cell states ``c`` [T, B, H].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from neurocircuits.validation import check_float, check_int, check_tensor

__all__ = ["EGRU", "EGRUParams", "EGRUState", "EventFunction", "SparseEGRUFunction",
           "activity_loss", "egru_sequence", "egru_step", "event"]


class EventFunction(torch.autograd.Function):
    """Heaviside H(v) forward; triangular pseudo-derivative γ max(0, 1 - |v|/ε) backward."""

    @staticmethod
    def forward(ctx, v: torch.Tensor, gamma: float, width: float) -> torch.Tensor:
        ctx.save_for_backward(v)
        ctx.gamma, ctx.width = gamma, width
        return (v > 0).to(v.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (v,) = ctx.saved_tensors
        pseudo = ctx.gamma * torch.clamp(1.0 - v.abs() / ctx.width, min=0.0)
        return grad_out * pseudo, None, None


def event(v: torch.Tensor, gamma: float = 0.3, width: float = 1.0) -> torch.Tensor:
    """H(v) with the triangular pseudo-derivative (see :class:`EventFunction`)."""
    return EventFunction.apply(v, gamma, width)


def activity_loss(events: torch.Tensor) -> torch.Tensor:
    """Mean event rate (fraction of unit-steps with an event): add λ · this to the task loss."""
    return events.mean()


@dataclass
class EGRUParams:
    W: torch.Tensor  # [3H, n_in] input weights of (u, r, z)
    V: torch.Tensor  # [3H, H] recurrent weights of (u, r, z)
    b: torch.Tensor  # [3H]
    theta: torch.Tensor  # [H]
    gamma: float = 0.3
    width: float = 1.0


@dataclass
class EGRUState:
    c: torch.Tensor  # [B, H] cell state
    y: torch.Tensor  # [B, H] event output of the previous step


def egru_step(x: torch.Tensor, state: EGRUState, p: EGRUParams, wx: torch.Tensor | None = None,
              event_driven: bool = False):
    """One EGRU step (module doc). ``x`` [B, n_in]; ``wx`` optionally the precomputed input
    drive W x + b [B, 3H]. Returns ((y, e, c), new state).

    ``event_driven``: the recurrent products use only the columns of V of units that emitted an
    event at the previous step (in any batch element), so forward and backward cost of the
    recurrence scale with the number of events; the numbers are the same as the dense path.
    When gradients are recorded, silent units whose pseudo-derivative at the previous step is
    non-zero (|c_{t-1} - ϑ| < ε) are kept too: their zero output still carries gradient, so
    the backward pass stays exact and its cost scales with events plus near-threshold units.
    """
    H = p.theta.shape[0]
    if wx is None:
        wx = torch.addmm(p.b, x, p.W.t())
    y_prev = state.y
    if event_driven:
        active = y_prev != 0
        if torch.is_grad_enabled():
            active = active | ((state.c - p.theta).abs() < p.width)
        idx = active.any(0).nonzero().squeeze(1)
        y_act = y_prev.index_select(1, idx)
        V_act = p.V.index_select(1, idx)
        rec_ur = y_act @ V_act[: 2 * H].t()
    else:
        rec_ur = y_prev @ p.V[: 2 * H].t()
    u = torch.sigmoid(wx[:, :H] + rec_ur[:, :H])
    r = torch.sigmoid(wx[:, H:2 * H] + rec_ur[:, H:])
    if event_driven:
        z = torch.tanh(wx[:, 2 * H:] + (r.index_select(1, idx) * y_act) @ V_act[2 * H:].t())
    else:
        z = torch.tanh(wx[:, 2 * H:] + (r * y_prev) @ p.V[2 * H:].t())
    c = u * z + (1.0 - u) * state.c - y_prev
    e = event(c - p.theta, p.gamma, p.width)
    y = e * c
    return (y, e, c), EGRUState(c, y)


class SparseEGRUFunction(torch.autograd.Function):
    """EGRU over a whole sequence with an activity-sparse backward pass (module doc).

    Inputs: ``wx`` [T, B, 3H] the input drive W x_t + b (its gradient flows on to W, b and x
    through ordinary autograd), ``V`` [3H, H], ``theta`` [H], initial ``c0`` and ``y0`` [B, H],
    then ``gamma`` and ``width`` of the pseudo-derivative. Outputs (y, e, c), each [T, B, H].
    The forward is the dense recurrence of :func:`egru_step`; the backward visits, at step t, only
    the columns of V of units that fired at t-1 or had |c_{t-1} - ϑ| < ε (in any batch element).

    After each backward, ``SparseEGRUFunction.last_backward_columns`` holds the number of
    (step, unit) columns of V it multiplied by and ``last_backward_event_columns`` those used for
    the weight gradient (units with an event); the dense backward uses T · H for both.
    """

    last_backward_columns: int = 0
    last_backward_event_columns: int = 0

    @staticmethod
    def forward(ctx, wx, V, theta, c0, y0, gamma: float, width: float):
        T, B, H3 = wx.shape
        H = H3 // 3
        Vur_t, Vz_t = V[: 2 * H].t(), V[2 * H:].t()
        c, y = c0, y0
        ys, es, cs, us, rs, zs = [], [], [], [], [], []
        for t in range(T):
            a = wx[t]
            rec = y @ Vur_t
            u = torch.sigmoid(a[:, :H] + rec[:, :H])
            r = torch.sigmoid(a[:, H:2 * H] + rec[:, H:])
            z = torch.tanh(a[:, 2 * H:] + (r * y) @ Vz_t)
            c = u * z + (1.0 - u) * c - y
            e = (c - theta > 0).to(wx.dtype)
            y = e * c
            ys.append(y), es.append(e), cs.append(c), us.append(u), rs.append(r), zs.append(z)
        Y, E, C = torch.stack(ys), torch.stack(es), torch.stack(cs)
        ctx.save_for_backward(V, theta, c0, y0, Y, E, C, torch.stack(us), torch.stack(rs),
                              torch.stack(zs))
        ctx.gamma, ctx.width = gamma, width
        return Y, E, C

    @staticmethod
    def backward(ctx, gY, gE, gC):
        V, theta, c0, y0, Y, E, C, U, R, Z = ctx.saved_tensors
        gamma, width = ctx.gamma, ctx.width
        T, B, H = Y.shape
        zeros = torch.zeros_like(Y[0])
        gY = zeros.expand(T, B, H) if gY is None else gY
        gE = zeros.expand(T, B, H) if gE is None else gE
        gC = zeros.expand(T, B, H) if gC is None else gC
        Vt = V.t().contiguous()  # [H, 3H]: row j = the weights leaving unit j
        dVt = torch.zeros_like(Vt)
        dtheta = torch.zeros_like(theta)
        gwx = torch.empty(T, B, 3 * H, dtype=Y.dtype, device=Y.device)
        gy_carry = torch.zeros_like(Y[0])  # ∂L/∂y_t through step t + 1
        gc_carry = torch.zeros_like(Y[0])  # ∂L/∂c_t through step t + 1
        need_y0 = ctx.needs_input_grad[4]
        n_cols = n_ev_cols = 0
        for t in range(T - 1, -1, -1):
            c, e, u, r, z = C[t], E[t], U[t], R[t], Z[t]
            v = c - theta
            psi = gamma * torch.clamp(1.0 - v.abs() / width, min=0.0)
            g_y = gY[t] + gy_carry
            g_v = (g_y * c + gE[t]) * psi
            g_c = gC[t] + gc_carry + g_y * e + g_v
            dtheta -= g_v.sum(0)
            if t > 0:
                c_p, y_p, e_p = C[t - 1], Y[t - 1], E[t - 1]
                near_p = ((c_p - theta).abs() < width) | (e_p > 0)
            else:
                c_p, y_p = c0, y0
                near_p = torch.ones_like(y0, dtype=torch.bool) if need_y0 else y0 != 0
            ga_u = g_c * (z - c_p) * u * (1.0 - u)
            ga_z = g_c * u * (1.0 - z * z)
            gwx[t, :, :H] = ga_u
            gwx[t, :, 2 * H:] = ga_z
            # Columns needed: units whose ∂L/∂y_{t-1} is used (events or near threshold), and
            # among them the events, the only ones with y_{t-1} ≠ 0.
            idx = near_p.any(0).nonzero().squeeze(1)
            idx_ev = (y_p != 0).any(0).nonzero().squeeze(1)
            n_cols += idx.numel()
            n_ev_cols += idx_ev.numel()
            g_yp = -g_c  # the reset term - y_{t-1} in c_t
            ga_r = torch.zeros_like(ga_u)
            if idx.numel():
                V_act = Vt.index_select(0, idx)  # [k, 3H]
                y_act, r_act = y_p.index_select(1, idx), r.index_select(1, idx)
                g_q = ga_z @ V_act[:, 2 * H:].t()  # ∂L/∂(r ⊙ y_{t-1}) on the kept columns
                ga_r.index_copy_(1, idx, g_q * y_act * r_act * (1.0 - r_act))
                ga_ur = torch.cat([ga_u, ga_r], 1)
                g_yp.index_add_(1, idx, ga_ur @ V_act[:, : 2 * H].t() + g_q * r_act)
            gwx[t, :, H:2 * H] = ga_r
            if idx_ev.numel():
                y_ev = y_p.index_select(1, idx_ev)
                q_ev = y_ev * r.index_select(1, idx_ev)
                ga_ur = torch.cat([ga_u, ga_r], 1)
                dVt.index_add_(0, idx_ev, torch.cat([y_ev.t() @ ga_ur, q_ev.t() @ ga_z], 1))
            gy_carry = g_yp
            gc_carry = g_c * (1.0 - u)
        SparseEGRUFunction.last_backward_columns = n_cols
        SparseEGRUFunction.last_backward_event_columns = n_ev_cols
        g_c0 = gc_carry if ctx.needs_input_grad[3] else None
        g_y0 = gy_carry if need_y0 else None
        return gwx, dVt.t(), dtheta, g_c0, g_y0, None, None


def egru_sequence(wx: torch.Tensor, p: EGRUParams, state: EGRUState):
    """Run the EGRU over a precomputed input drive ``wx`` [T, B, 3H] with the activity-sparse
    backward of :class:`SparseEGRUFunction`; returns (y, e, c), each [T, B, H]."""
    return SparseEGRUFunction.apply(wx, p.V, p.theta, state.c, state.y, p.gamma, p.width)


class EGRU(nn.Module):
    """Event-based GRU layer (module doc for equations).

    Args:
        n_in: input size.
        hidden: number of units H.
        threshold_init: initial thresholds ϑ, a number in (0, 1) (|c| stays below 1 when the
            cell starts at rest, so a threshold outside (0, 1) would never or always fire).
        threshold_spread: thresholds start uniform in threshold_init ± spread (kept in (0, 1)).
        gamma, width: height γ > 0 and half-width ε > 0 of the pseudo-derivative.
        seed: fixes the initial weights.
    """

    def __init__(self, n_in: int, hidden: int, threshold_init: float = 0.3,
                 threshold_spread: float = 0.0, gamma: float = 0.3, width: float = 1.0,
                 seed: int | None = None):
        super().__init__()
        self.n_in = check_int("n_in", n_in, min_value=1)
        self.hidden = check_int("hidden", hidden, min_value=1)
        th = check_float("threshold_init", threshold_init)
        if not 0.0 < th < 1.0:
            raise ValueError(f"threshold_init must lie in (0, 1), got {th}")
        spread = check_float("threshold_spread", threshold_spread, min_value=0.0)
        if th - spread <= 0.0 or th + spread >= 1.0:
            raise ValueError(f"threshold_init ± threshold_spread must stay inside (0, 1), got "
                             f"{th} ± {spread}")
        self.gamma = check_float("gamma", gamma, positive=True)
        self.width = check_float("width", width, positive=True)
        gen = None
        if seed is not None:
            gen = torch.Generator()
            gen.manual_seed(check_int("seed", seed, min_value=0))
        H = self.hidden
        bound = 1.0 / H ** 0.5
        uni = lambda *shape: (torch.rand(*shape, generator=gen) * 2 - 1) * bound  # noqa: E731
        self.W = nn.Parameter(uni(3 * H, self.n_in))
        self.V = nn.Parameter(uni(3 * H, H))
        self.b = nn.Parameter(uni(3 * H))
        self.theta = nn.Parameter(th + spread * (torch.rand(H, generator=gen) * 2 - 1))

    def params(self) -> EGRUParams:
        return EGRUParams(self.W, self.V, self.b, self.theta, self.gamma, self.width)

    def param_count(self) -> int:
        """3H (n_in + H + 1) + H (thresholds)."""
        return 3 * self.hidden * (self.n_in + self.hidden + 1) + self.hidden

    def initial_state(self, batch: int, dtype=torch.float32, device=None) -> EGRUState:
        batch = check_int("batch", batch, min_value=1)
        z = torch.zeros(batch, self.hidden, dtype=dtype, device=device)
        return EGRUState(z, z.clone())

    def forward(self, x: torch.Tensor, state: EGRUState | None = None, event_driven: bool = False,
                sparse_backward: bool = False):
        """Run ``x`` [T, B, n_in]; returns (y, e, c), each [T, B, H]. ``event_driven``: see
        :func:`egru_step` (same numbers, recurrent cost proportional to the events).
        ``sparse_backward``: one :class:`SparseEGRUFunction` node for the whole sequence, whose
        backward does recurrent work only for events and near-threshold units (same gradients
        as the dense path)."""
        check_tensor("x", x, ndim=3, dtype_kind="float")
        if x.shape[-1] != self.n_in:
            raise ValueError(f"x must be [T, B, {self.n_in}], got shape {tuple(x.shape)}")
        T, B, _ = x.shape
        if state is None:
            state = self.initial_state(B, x.dtype, x.device)
        p = self.params()
        wx_all = torch.addmm(p.b, x.reshape(T * B, -1), p.W.t()).view(T, B, -1)
        if sparse_backward:
            if event_driven:
                raise ValueError("choose one of event_driven and sparse_backward, got both True")
            return egru_sequence(wx_all, p, state)
        ys, es, cs = [], [], []
        for wx in wx_all.unbind(0):
            (y, e, c), state = egru_step(None, state, p, wx, event_driven)
            ys.append(y)
            es.append(e)
            cs.append(c)
        return torch.stack(ys), torch.stack(es), torch.stack(cs)
