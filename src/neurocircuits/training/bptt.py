"""Fused surrogate-gradient backpropagation through time for LIF / ALIF layers, and an
event-driven linear layer for binary spike input.

Fused multi-step kernel
-----------------------
:class:`FusedLIFFunction` runs the whole time loop of a LIF or ALIF layer (equations in
:mod:`neurocircuits.neurons.lif`) in one ``torch.autograd.Function``. Plain autograd through
the step function keeps ~10 tensors per time step alive; the fused forward stores only the
pre-threshold membrane ``h_t = u_t - A_t`` ([T, B, N], from which the spikes s_t = H(h_t) and
every other state are recomputed) plus the synaptic currents when there is a synapse. The
backward pass runs the adjoint recursion in reverse time (λ = dL/d state after step t)::

    ds_t  = dL/ds_t (from above) + W_recᵀ-term from step t+1 + (1 - ρ) λa_t
            - λv_t A_t   (subtract reset, not detached)   or   - λv_t u_t   (zero reset)
    du_t  = λv_t  (subtract / none)   or   λv_t (1 - s_t)   (zero)
    dh_t  = ds_t σ'(h_t);   du_t += dh_t;   dA_t = -dh_t - λv_t s_t [subtract]
    di_t  = du_t + λi_t;    dx_t = di_t
    λv_{t-1} = β du_t;   λi_{t-1} = α di_t;   λa_{t-1} = ρ λa_t + b dA_t
    dβ += du_t v_{t-1};  dα += di_t i_{t-1};  dρ += λa_t (a_{t-1} - s_t);  dW_rec += di_tᵀ s_{t-1}

which is exactly what autograd computes through the step function (the tests compare both in
float64 for every surrogate, reset mode and detached reset). It is device-agnostic (plain
tensor operations on the input's device).

Event-driven input layer
------------------------
:class:`SpikingLinear` computes y = x Wᵀ + b for binary (or any sparse) input x [..., n_in].
On CPU it runs the event-driven kernels of :mod:`neurocircuits.training.linear_lif`: for every
row the weight columns of the active inputs only are added (forward), and ∂L/∂W is gathered
input by input over the rows where that input is active (backward); the input gradient
W-product is skipped when x does not require grad. With spike probability p this does ~p of
the dense arithmetic. On other devices, or without compiled kernels, it falls back to the dense
product.

References: surrogate-gradient BPTT, Neftci, Mostafa & Zenke 2019 (arXiv:1901.09948); fused
multi-step CUDA kernels for LIF layers, Fang et al. 2023 "SpikingJelly" (Science Advances 9,
eadi1480, arXiv:2310.16620); event-driven sparse products for spiking networks, Perez-Nieves &
Goodman 2021 "Sparse spiking gradient descent" (NeurIPS, arXiv:2105.08810).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from neurocircuits.neurons.lif import ALIFState, LIFState, check_finite, reset_membrane
from neurocircuits.validation import check_int, check_tensor

__all__ = ["FusedLIFFunction", "fused_lif", "SpikingLinear", "spiking_linear", "numba_available",
           "linear_lif", "linear_lif_applies"]


# ====================================================================== fused LIF / ALIF
class _Config:
    """Non-tensor settings of one fused call (plain object, no closures)."""

    __slots__ = ("threshold", "adapt", "reset", "detach", "surrogate", "has_syn", "has_adapt",
                 "has_rec", "backend")

    def __init__(self, threshold, adapt, reset, detach, surrogate, has_syn, has_adapt, has_rec,
                 backend="torch"):
        self.backend = backend
        self.threshold = float(threshold)
        self.adapt = float(adapt)
        self.reset = reset
        self.detach = detach
        self.surrogate = surrogate
        self.has_syn = has_syn
        self.has_adapt = has_adapt
        self.has_rec = has_rec


def _reduce_to(g: Tensor, like: Tensor) -> Tensor:
    """Sum a [B, N] gradient down to the shape of a decay parameter ([] or [N])."""
    if like.dim() == 0:
        return g.sum().reshape(())
    return g.sum(0)


class FusedLIFFunction(torch.autograd.Function):
    """Whole-sequence LIF/ALIF forward and backward.

    ``apply(x, v0, i0, a0, s0, beta, alpha, rho, w_rec, cfg)``; absent pieces are ``None``
    (i0/alpha without synapse, a0/rho without adaptation, s0/w_rec without recurrence).
    Returns ``(spikes [T, B, N], v_T, i_T or None, a_T or None)``.
    """

    @staticmethod
    def forward(ctx, x, v0, i0, a0, s0, beta, alpha, rho, w_rec, cfg):
        if cfg.backend != "torch":
            return _compiled_forward(ctx, x, v0, i0, a0, beta, alpha, rho, cfg)
        T = x.shape[0]
        thr0, b = cfg.threshold, cfg.adapt
        H = torch.empty_like(x)
        S = torch.empty_like(x)
        I_traj = torch.empty_like(x) if cfg.has_syn else None
        v, i, a, s = v0, i0, a0, s0
        for t in range(T):
            cur = x[t] if w_rec is None else x[t] + s @ w_rec.t()
            if cfg.has_syn:
                i = alpha * i + cur
                I_traj[t] = i
            else:
                i = cur
            u = beta * v + i
            thr = thr0 if a is None else thr0 + b * a
            h = u - thr
            s = (h >= 0).to(x.dtype)
            H[t] = h
            S[t] = s
            v = reset_membrane(u, s, thr, cfg.reset)
            if a is not None:
                a = rho * a + (1.0 - rho) * s
        ctx.cfg = cfg
        ctx.save_for_backward(H, I_traj, v0, i0, a0, s0, beta, alpha, rho, w_rec)
        outs = [S, v]
        if cfg.has_syn:
            outs.append(i)
        if cfg.has_adapt:
            outs.append(a)
        return tuple(outs)

    @staticmethod
    def backward(ctx, gS, gv, *rest):
        cfg = ctx.cfg
        if cfg.backend != "torch":
            return _compiled_backward(ctx, gS, gv, *rest)
        H, I_traj, v0, i0, a0, s0, beta, alpha, rho, w_rec = ctx.saved_tensors
        rest = list(rest)
        gi = rest.pop(0) if cfg.has_syn else None
        ga = rest.pop(0) if cfg.has_adapt else None
        T = H.shape[0]
        thr0, b = cfg.threshold, cfg.adapt
        zero = torch.zeros_like(H[0])
        gS = torch.zeros_like(H) if gS is None else gS
        lam_v = zero if gv is None else gv
        lam_i = (zero if gi is None else gi) if cfg.has_syn else None
        lam_a = (zero if ga is None else ga) if cfg.has_adapt else None
        S = (H >= 0).to(H.dtype)
        SG = cfg.surrogate.derivative(H)
        # thresholds A_t = θ + b a_{t-1}: recompute the adaptation trajectory from the spikes
        if cfg.has_adapt:
            A_prev = torch.empty_like(H)  # a_{t-1} for each t
            a = a0
            for t in range(T):
                A_prev[t] = a
                a = rho * a + (1.0 - rho) * S[t]
        need = ctx.needs_input_grad
        want_beta, want_alpha, want_rho = need[5], need[6], need[7]
        g_beta = torch.zeros_like(H[0]) if want_beta else None
        g_alpha = torch.zeros_like(H[0]) if want_alpha else None
        g_rho = torch.zeros_like(H[0]) if want_rho else None
        dX = torch.empty_like(H)
        lam_s = zero  # gradient reaching s_t through the recurrent current of step t+1
        for t in range(T - 1, -1, -1):
            s, h, sg = S[t], H[t], SG[t]
            if cfg.has_adapt:
                a_prev = A_prev[t]
                thr = thr0 + b * a_prev
            else:
                thr = thr0
            ds = gS[t] + lam_s
            if cfg.has_adapt:
                ds = ds + (1.0 - rho) * lam_a
            if not cfg.detach:
                if cfg.reset == "subtract":
                    ds = ds - lam_v * thr
                elif cfg.reset == "zero":
                    ds = ds - lam_v * (h + thr)
            du = lam_v * (1.0 - s) if cfg.reset == "zero" else lam_v
            dh = ds * sg
            du = du + dh
            if cfg.has_adapt:
                dA = -dh - lam_v * s if cfg.reset == "subtract" else -dh
            di = du + lam_i if cfg.has_syn else du
            dX[t] = di
            # state before step t
            if t > 0:
                s_p, h_p = S[t - 1], H[t - 1]
                thr_p = (thr0 + b * A_prev[t - 1]) if cfg.has_adapt else thr0
                u_p = h_p + thr_p
                if cfg.reset == "subtract":
                    v_prev = u_p - s_p * thr_p
                elif cfg.reset == "zero":
                    v_prev = u_p * (1.0 - s_p)
                else:
                    v_prev = u_p
            else:
                v_prev = v0
            if want_beta:
                g_beta += du * v_prev
            lam_v = beta * du
            if cfg.has_syn:
                if want_alpha:
                    g_alpha += di * (I_traj[t - 1] if t > 0 else i0)
                lam_i = alpha * di
            if cfg.has_adapt:
                if want_rho:
                    g_rho += lam_a * (a_prev - s)
                lam_a = rho * lam_a + b * dA
            if cfg.has_rec:
                lam_s = di @ w_rec
        g_x = dX if need[0] else None
        g_v0 = lam_v if need[1] else None
        g_i0 = lam_i if cfg.has_syn and need[2] else None
        g_a0 = lam_a if cfg.has_adapt and need[3] else None
        g_s0 = lam_s if cfg.has_rec and need[4] else None
        g_w = None
        if cfg.has_rec and need[8]:
            s_prev = torch.cat([s0.unsqueeze(0), S[:-1]], 0)
            n = H.shape[-1]
            g_w = dX.reshape(-1, n).t() @ s_prev.reshape(-1, n)
        return (g_x, g_v0, g_i0, g_a0, g_s0,
                _reduce_to(g_beta, beta) if want_beta else None,
                _reduce_to(g_alpha, alpha) if want_alpha else None,
                _reduce_to(g_rho, rho) if want_rho else None,
                g_w, None)


def _as_tensor(p, like: Tensor):
    if p is None:
        return None
    if isinstance(p, Tensor):
        return p.to(device=like.device, dtype=like.dtype)
    return torch.tensor(float(p), device=like.device, dtype=like.dtype)


def _compiled_applies(x, w_rec) -> bool:
    """Whether the compiled time loop can run this layer (CPU, float32/64, feed-forward)."""
    return w_rec is None and x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)


def _fused_sequence(x, state, params, w_rec, adaptive, backend=True):
    """Fused run of an already validated call (see :func:`fused_lif`). ``backend``: True
    (the compiled kernels of :mod:`neurocircuits.kernels` where they apply: CPU, float32/64,
    feed-forward; else torch), "torch", or a compiled backend forced: "native" or "numba"."""
    from neurocircuits import kernels

    p = params
    if backend in kernels.NAMES and not (kernels.available(backend) and _compiled_applies(x, w_rec)):
        raise ValueError(f"the {backend} fused kernel needs that backend to be available here "
                         f"(kernels.available({backend!r})), a CPU float32/float64 input and a "
                         "feed-forward layer (no w_rec); use fused=True or 'torch'")
    if backend is True:
        backend = kernels.backend() if _compiled_applies(x, w_rec) else None
        backend = backend or "torch"
    cfg = _Config(p.threshold, p.adapt if adaptive else 0.0, p.reset, p.detach_reset, p.surrogate,
                  p.alpha is not None, adaptive, w_rec is not None, backend)
    beta = _as_tensor(p.beta, x)
    alpha = _as_tensor(p.alpha, x)
    rho = _as_tensor(p.rho, x) if adaptive else None
    a0 = state.a if adaptive else None
    s0 = state.s if w_rec is not None else None
    outs = list(FusedLIFFunction.apply(x, state.v, state.i, a0, s0, beta, alpha, rho, w_rec, cfg))
    S, v = outs[0], outs[1]
    i = outs[2] if cfg.has_syn else None
    if adaptive:
        return S, ALIFState(v, outs[-1], i, S[-1])
    return S, LIFState(v, i, S[-1])


def fused_lif(x: Tensor, state, params, w_rec: Tensor | None = None):
    """Fused LIF (``state`` a LIFState, ``params`` a LIFParams) or ALIF (ALIFState /
    ALIFParams) over ``x`` [T, B, N] -> (spikes [T, B, N], final state)."""
    from neurocircuits.neurons.lif import alif_sequence, lif_sequence

    if isinstance(state, ALIFState):
        return alif_sequence(x, state, params, w_rec, fused=True)
    return lif_sequence(x, state, params, w_rec, fused=True)


# ------------------------------------------------- compiled time loop (CPU, neurocircuits.kernels)
_RESET_CODE = {"subtract": 0, "zero": 1, "none": 2}

def _surrogate_code(sg) -> int:
    """Code of a built-in surrogate whose derivative the compiled kernels evaluate themselves (the
    same closed forms as :mod:`neurocircuits.surrogate`); -1 for anything else (then the
    derivative is computed with the object's own ``derivative`` method)."""
    from neurocircuits.surrogate import ATan, FastSigmoid, Gaussian, Sigmoid, Triangle

    return {FastSigmoid: 0, ATan: 1, Triangle: 2, Sigmoid: 3, Gaussian: 4}.get(type(sg), -1)




def _kernels(cfg):
    from neurocircuits import kernels

    return kernels.get(cfg.backend)


def _constants(cfg, dtype) -> np.ndarray:
    """A call's scalar constants for the kernels, in the input's dtype: threshold, reset
    flags (subtract, zero), 1 - detach, surrogate width k and two per-surrogate constants
    c1, c2, then 0, 1 and -1/2 (the layout ``THR ... C2`` of lif_kernels.cpp)."""
    reset = _RESET_CODE[cfg.reset]
    k = float(cfg.surrogate.scale)
    kind = _surrogate_code(cfg.surrogate)
    c1, c2 = {1: (0.5 * math.pi * k, 0.5 * k), 2: (1.0 / k, 0.0),
              4: (1.0 / k, 1.0 / (k * math.sqrt(2.0 * math.pi)))}.get(kind, (0.0, 0.0))
    prm = [cfg.threshold, float(reset == 0), float(reset == 1), 0.0 if cfg.detach else 1.0, k,
           c1, c2, 0.0, 1.0, -0.5]
    return np.array(prm, dtype=dtype)


def _threads(work: int) -> int:
    """Threads for a kernel call: torch's number, or 1 for small work (< PARALLEL_MIN_WORK
    elements: splitting a 10-neuron readout over threads costs more than it saves)."""
    return 1 if work < PARALLEL_MIN_WORK else torch.get_num_threads()


def _row_blocks(B: int, nth: int) -> int:
    return max(1, min(B, 4 * nth))


def _per_neuron(p, n, dtype):
    """A decay (tensor [] or [N], or None) as a contiguous NumPy [N] array of torch ``dtype``."""
    if p is None:
        return torch.ones(n, dtype=dtype).numpy()
    return p.detach().to(dtype).expand(n).contiguous().numpy()


def _compiled_forward(ctx, x, v0, i0, a0, beta, alpha, rho, cfg):
    T, B, N = x.shape
    xn = x.detach().contiguous().numpy()
    dt = xn.dtype
    one = np.zeros((1, 1), dt)
    v = v0.detach().numpy().astype(dt, copy=True)
    i = i0.detach().numpy().astype(dt, copy=True) if cfg.has_syn else one
    a = a0.detach().numpy().astype(dt, copy=True) if cfg.has_adapt else one
    H = np.empty((T, B, N), dtype=dt)
    Sn = np.empty((T, B, N), dtype=dt)
    I_traj = np.empty((T, B, N), dtype=dt) if cfg.has_syn else np.zeros((1, 1, 1), dt)
    args = (xn, v, i, a, _per_neuron(beta, N, x.dtype), _per_neuron(alpha, N, x.dtype),
            _per_neuron(rho, N, x.dtype), cfg.threshold, cfg.adapt, _RESET_CODE[cfg.reset],
            cfg.has_syn, cfg.has_adapt, H, Sn, I_traj)
    nth = _threads(T * B * N)
    _kernels(cfg).lif_forward(*args, _row_blocks(B, nth), nth)
    Ht = torch.from_numpy(H)
    S = torch.from_numpy(Sn)
    ctx.cfg = cfg
    It = torch.from_numpy(I_traj) if cfg.has_syn else None
    ctx.save_for_backward(Ht, It, v0, i0, a0, None, beta, alpha, rho, None)
    outs = [S, torch.from_numpy(v)]
    if cfg.has_syn:
        outs.append(torch.from_numpy(i))
    if cfg.has_adapt:
        outs.append(torch.from_numpy(a))
    return tuple(outs)


def _compiled_backward(ctx, gS, gv, *rest):
    cfg = ctx.cfg
    Ht, It, v0, i0, a0, _, beta, alpha, rho, _ = ctx.saved_tensors
    rest = list(rest)
    gi = rest.pop(0) if cfg.has_syn else None
    ga = rest.pop(0) if cfg.has_adapt else None
    T, B, N = Ht.shape
    H = Ht.numpy()
    dt = H.dtype
    one = np.zeros((1, 1), dt)

    def own(g, shape):
        if g is None:
            return np.zeros(shape, dtype=dt)
        return g.detach().contiguous().numpy().astype(dt, copy=True)

    kind = _surrogate_code(cfg.surrogate)
    SG = cfg.surrogate.derivative(Ht).contiguous().numpy() if kind < 0 else np.zeros((1, 1, 1), dt)
    gSn = gS.detach().contiguous().numpy() if gS is not None else np.zeros((T, B, N), dt)
    lam_v = own(gv, (B, N))
    lam_i = own(gi, (B, N)) if cfg.has_syn else one
    lam_a = own(ga, (B, N)) if cfg.has_adapt else one
    dX = np.empty((T, B, N), dtype=dt)
    g_beta = np.zeros((B, N), dt)
    g_alpha = np.zeros((B, N), dt) if cfg.has_syn else one
    g_rho = np.zeros((B, N), dt) if cfg.has_adapt else one
    A_prev = np.empty((T, B, N), dt) if cfg.has_adapt else np.zeros((1, 1, 1), dt)
    I_traj = It.numpy() if cfg.has_syn else np.zeros((1, 1, 1), dt)
    v0n = v0.detach().contiguous().numpy()
    i0n = i0.detach().contiguous().numpy() if cfg.has_syn else one
    a0n = a0.detach().contiguous().numpy() if cfg.has_adapt else one
    args = (H, SG, kind, _constants(cfg, dt), gSn, I_traj, v0n, i0n, a0n, _per_neuron(beta, N, Ht.dtype),
            _per_neuron(alpha, N, Ht.dtype), _per_neuron(rho, N, Ht.dtype), cfg.threshold,
            cfg.adapt, _RESET_CODE[cfg.reset], cfg.detach, cfg.has_syn, cfg.has_adapt, lam_v, lam_i,
            lam_a, dX, g_beta, g_alpha, g_rho, A_prev)
    nth = _threads(T * B * N)
    _kernels(cfg).lif_backward(*args, _row_blocks(B, nth), nth)
    need = ctx.needs_input_grad

    def red(g, like):
        return _reduce_to(torch.from_numpy(g), like)

    return (torch.from_numpy(dX) if need[0] else None,
            torch.from_numpy(lam_v) if need[1] else None,
            torch.from_numpy(lam_i) if cfg.has_syn and need[2] else None,
            torch.from_numpy(lam_a) if cfg.has_adapt and need[3] else None,
            None,
            red(g_beta, beta) if need[5] else None,
            red(g_alpha, alpha) if cfg.has_syn and need[6] else None,
            red(g_rho, rho) if cfg.has_adapt and need[7] else None,
            None, None)


# ====================================================================== event-driven linear
def numba_available() -> bool:
    """Whether the Numba kernels can run here (see :mod:`neurocircuits.kernels`)."""
    from neurocircuits import kernels

    return kernels.available("numba")


def _compiled_kernels_on() -> bool:
    from neurocircuits import kernels

    return kernels.get() is not None


#: Below this many elements of work a fused LIF kernel runs on the calling thread: splitting
#: a small layer (a 10-neuron readout) over threads costs more than it saves.
PARALLEL_MIN_WORK = 1 << 16


#: Below this many outputs the dense product is cheaper than scanning the input for events
#: (measured: a 512 -> 10 layer is several times faster dense).
EVENT_MIN_OUT = 32


def _kernels_take(x: Tensor, weight: Tensor) -> bool:
    """Whether the compiled kernels can take x and W: CPU, float32/64 alike, compiled kernels
    available."""
    return (x.device.type == "cpu" and weight.device.type == "cpu"
            and x.dtype in (torch.float32, torch.float64) and x.dtype == weight.dtype
            and _compiled_kernels_on())


def _use_kernel(x: Tensor, weight: Tensor) -> bool:
    """Whether the event-driven kernels take y = x Wᵀ: those of :func:`_kernels_take`, and at
    least EVENT_MIN_OUT outputs."""
    return weight.shape[0] >= EVENT_MIN_OUT and _kernels_take(x, weight)


def _check_linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    """Weight, bias and their agreement with x (already checked as a float tensor) for
    y = x Wᵀ + b; clear errors naming the bad value."""
    check_tensor("weight", weight, ndim=2, dtype_kind="float", finite=False)
    check_finite("weight", weight)
    if x.dim() < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x must end in n_in = {weight.shape[1]} features, got shape {tuple(x.shape)}")
    if x.dtype != weight.dtype:
        raise TypeError(f"x has dtype {x.dtype} but weight has {weight.dtype}")
    if bias is not None:
        check_tensor("bias", bias, ndim=1, dtype_kind="float")
        if bias.shape[0] != weight.shape[0]:
            raise ValueError(f"bias must have shape [{weight.shape[0]}], got {tuple(bias.shape)}")


def spiking_linear(x: Tensor, weight: Tensor, bias: Tensor | None = None, event_driven: bool = True):
    """y = x Wᵀ + b for x [..., n_in] (binary or sparse), W [n_out, n_in].

    With ``event_driven`` (and a CPU float32/float64 tensor, compiled kernels present, at least
    :data:`EVENT_MIN_OUT` outputs) only the active inputs' weights are touched in the forward and
    weight-gradient passes; otherwise it is the dense product. Both give the same values up to floating-point summation order."""
    check_tensor("x", x, dtype_kind="float", finite=False)
    check_finite("x", x)
    _check_linear(x, weight, bias)
    if event_driven and _use_kernel(x, weight) and x.numel():
        from neurocircuits.training.linear_lif import _EventLinearFunction

        lead = x.shape[:-1]
        y = _EventLinearFunction.apply(x.reshape(-1, x.shape[-1]), weight)
        y = y.reshape(*lead, weight.shape[0])
        return y if bias is None else y + bias
    return nn.functional.linear(x, weight, bias)


class SpikingLinear(nn.Module):
    """Linear layer for spike input: y = x Wᵀ + b, event-driven on CPU (see
    :func:`spiking_linear`). Initialised like ``nn.Linear`` (U(-1/√n_in, 1/√n_in)) from
    ``generator`` (or torch's global generator).

    ``weight`` has nn.Linear's shape [n_out, n_in]. An event-driven layer of at least
    :data:`EVENT_MIN_OUT` outputs stores it input-major (Wᵀ contiguous in memory, strides
    (1, n_out)): the event-driven kernels add its rows of Wᵀ in place and return ∂L/∂W in the
    same layout, so a training step makes no transposed copies of W or of its gradient. Other
    layers keep nn.Linear's contiguous layout, in which the dense product of a narrow layer is
    faster (a 512 -> 10 readout: ~2x). ``load_state_dict`` copies into the layer's layout."""

    def __init__(self, n_in: int, n_out: int, bias: bool = True, event_driven: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.n_in = check_int("n_in", n_in, min_value=1)
        self.n_out = check_int("n_out", n_out, min_value=1)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        self.event_driven = bool(event_driven)
        bound = 1.0 / math.sqrt(self.n_in)
        w = (torch.rand(self.n_out, self.n_in, generator=generator) * 2 - 1) * bound
        if self.event_driven and self.n_out >= EVENT_MIN_OUT:
            w = w.t().contiguous().t()  # input-major (class docstring)
        self.weight = nn.Parameter(w)
        if bias:
            self.bias = nn.Parameter((torch.rand(self.n_out, generator=generator) * 2 - 1) * bound)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return spiking_linear(x, self.weight, self.bias, self.event_driven)

    def extra_repr(self) -> str:
        return (f"n_in={self.n_in}, n_out={self.n_out}, bias={self.bias is not None}, "
                f"event_driven={self.event_driven}")


# ====================================================================== fused linear + LIF
# The fused linear + LIF layer lives in neurocircuits.training.linear_lif (it builds on the
# kernels above); its two public functions stay importable from here.
def __getattr__(name):
    if name in ("linear_lif", "linear_lif_applies"):
        from neurocircuits.training import linear_lif as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
