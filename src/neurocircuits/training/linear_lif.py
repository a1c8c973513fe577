"""A linear layer feeding a LIF layer, fused into one event-driven kernel (CPU).

For input x [T, B, n_in] (binary spikes, or any sparse values), weights W [N, n_in], bias b [N]
and a LIF layer without synaptic current (equations of :mod:`neurocircuits.neurons.lif`)::

    i_t = x_t Wᵀ + b,   u_t = β v_{t-1} + i_t,   h_t = u_t - θ,   s_t = H(h_t),
    v_t = u_t - s_t θ  (subtract)  |  u_t (1 - s_t)  (zero)  |  u_t  (none)

Forward: a counting pass over x (which also rejects NaN / inf) sizes the row index, and a
second pass fills it with each row's *active* inputs (about p n_in of them at spike
probability p). Wᵀ is packed in tiles of neurons small enough to stay in a core's L2 cache;
tile by tile, the kernel runs the LIF recursion of each batch row, adding the tile's rows of
the active inputs straight into the membrane update; the [T, B, N] input current is never
materialised. What is kept for backward: H = u - θ [T, B, N] and the row index (indices and
values of x's non-zeros).

Backward: the adjoint of the LIF recursion in reverse time (λ = ∂L/∂v after step t)::

    ds_t = ∂L/∂s_t - λ_t θ (subtract)  |  - λ_t u_t (zero)  |  0 (none, or detached reset)
    di_t = λ_t (1 - s_t [zero reset]) + ds_t σ'(h_t)
    λ_{t-1} = β di_t,   ∂L/∂β += Σ di_t v_{t-1},   ∂L/∂b += Σ di_t

and the weight gradient ∂L/∂W[n, j] = Σ_{t, r} di_t[r, n] x_t[r, j] over the active inputs
only. It is gathered input by input: for each input j the rows (t, r) where j is active (a
column index that each thread builds from the row index by a counting sort) are summed in a
buffer, reading ∂L/∂i in cache-sized blocks of rows, and each weight-gradient row is written
by one thread, instead of one read-modify-write of a weight-gradient row per active input.
∂L/∂x = di W is computed (one dense product) only when x requires grad.

Narrow layers (fewer than ``EVENT_MIN_OUT`` = 32 neurons, e.g. a 10-neuron readout) take a
variant without the row index: one pass over x compacts each row, rejects NaN / inf and adds
the few weights of each active input; the backward pass scans x again and adds x_t[r, j] di_t[r]
into one partial ∂L/∂Wᵀ per block of rows. Each active input brings only N weights, so
counting and storing the index would cost more than the second scan.

Arithmetic runs in the dtype of the input (float32 stays float32: every constant the kernels
use is passed in that dtype). The kernels are split over batch rows (or inputs) in a fixed
number of blocks and run on torch's threads, so the numbers do not depend on the thread count.
They are those of :mod:`neurocircuits.kernels` (C++ with OpenMP, or the same algorithms in
Numba where no C++ compiler is found).

References: event-driven sparse products in spiking networks, Perez-Nieves & Goodman 2021
"Sparse spiking gradient descent" (NeurIPS, arXiv:2105.08810); surrogate-gradient BPTT,
Neftci, Mostafa & Zenke 2019 (arXiv:1901.09948).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from neurocircuits.training.bptt import (EVENT_MIN_OUT, _as_tensor, _check_linear, _Config, _constants,
                                         _kernels_take, _surrogate_code, spiking_linear)
from neurocircuits.validation import check_tensor

__all__ = ["linear_lif", "linear_lif_applies"]

def _K():
    """The compiled kernels (:mod:`neurocircuits.kernels`) this call runs."""
    from neurocircuits import kernels

    k = kernels.get()
    if k is None:  # linear_lif_applies / _kernels_take checked this before any call
        raise RuntimeError("no compiled kernels are available")
    return k


#: Fixed number of work blocks of the parallel kernels over batch rows.
BLOCKS = 16
#: Size of the blocks of ∂L/∂i rows that the weight gradient reads while they are in cache.
ROW_BLOCK_BYTES = 512 * 1024


class _CSR:
    """Row-compressed non-zeros of a [R, n_in] array (NumPy). The constructor counts them per
    row (one parallel pass, which also rejects NaN / inf, naming ``name``) and allocates the
    index; the kernels that compact each row anyway (forward, event-driven linear) fill it."""

    __slots__ = ("indptr", "idx", "val", "n_in")

    def __init__(self, xn: np.ndarray, name: str = "x"):
        R, n_in = xn.shape
        if max(R, n_in) >= 2**31:  # row and input numbers are stored as int32
            raise ValueError(f"{name} has {R} rows of {n_in} inputs; the event-driven kernels "
                             "take fewer than 2**31 of each (use event_driven=False)")
        self.n_in = n_in
        indptr = np.zeros(R + 1, dtype=np.int64)
        bad = _K().row_counts(xn, indptr, max(1, min(R, BLOCKS)), torch.get_num_threads())
        if bad:
            raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
        np.cumsum(indptr, out=indptr)
        self.indptr = indptr
        self.idx = np.empty(int(indptr[-1]), dtype=np.int32)
        self.val = np.empty(int(indptr[-1]), dtype=xn.dtype)


def _per_neuron(p: Tensor, N: int, dtype) -> np.ndarray:
    return p.detach().to(dtype).expand(N).contiguous().numpy()


class _LinearLIFFunction(torch.autograd.Function):
    """``apply(x, weight, bias, beta, v0, cfg, narrow) -> (spikes [T, B, N], v_T)`` (module
    docstring). Saves H = u - θ, v0 and the input's non-zeros (CSR); a ``narrow`` layer (fewer
    than EVENT_MIN_OUT neurons) saves x itself instead and scans it again for ∂L/∂W."""

    @staticmethod
    def forward(ctx, x, weight, bias, beta, v0, cfg, narrow):
        T, B, n_in = x.shape
        N = weight.shape[0]
        xn = x.detach().reshape(T * B, n_in).contiguous().numpy()
        wt = _rows_per_input(weight)  # Wᵀ [n_in, N]: one row per input
        b = (_per_neuron(bias, N, x.dtype) if bias is not None
             else np.zeros(N, dtype=xn.dtype))
        v = v0.detach().to(x.dtype).clone().numpy()  # updated in place: never v0's memory
        prm = _constants(cfg, xn.dtype)
        H = torch.empty((T, B, N), dtype=x.dtype)
        S = torch.empty((T, B, N), dtype=x.dtype)
        args = (wt, b, _per_neuron(beta, N, x.dtype), v, prm, H.numpy(), S.numpy(), max(1, min(B, BLOCKS)),
                torch.get_num_threads())
        if narrow:
            # one pass: NaN / inf are counted among the non-zeros it compacts anyway
            bad = _K().narrow_linear_lif_forward(xn, *args)
            if bad:
                raise ValueError(f"x contains {bad} NaN or infinite value(s)")
            ctx.csr = None
            ctx.save_for_backward(H, weight, bias, beta, v0, x)
        else:
            csr = _CSR(xn)  # counts and NaN check; the forward kernel fills it
            _K().linear_lif_forward(xn, csr.indptr, csr.idx, csr.val, *args)
            ctx.csr = csr  # NumPy arrays (indices and values of x), not tensors
            ctx.save_for_backward(H, weight, bias, beta, v0)
        ctx.cfg = cfg
        ctx.shape = (T, B, n_in)
        return S, torch.from_numpy(v)

    @staticmethod
    def backward(ctx, gS, gv):
        cfg = ctx.cfg
        T, B, n_in = ctx.shape
        H, weight, bias, beta, v0 = ctx.saved_tensors[:5]
        N = weight.shape[0]
        Hn = H.numpy()
        dt = Hn.dtype
        need = ctx.needs_input_grad
        gSn = (gS.detach().contiguous().numpy() if gS is not None
               else np.zeros((T, B, N), dtype=dt))
        # updated in place: a copy, never the memory of the incoming gradient
        lam = gv.detach().to(H.dtype).clone().numpy() if gv is not None else np.zeros((B, N), dtype=dt)
        D = torch.empty((T, B, N), dtype=H.dtype)  # ∂L/∂i_t
        nb = max(1, min(B, BLOCKS))
        g_beta = np.zeros((nb, N), dtype=dt)  # one row per block of batch rows, summed below
        db = np.zeros((nb, N), dtype=dt)
        prm = _constants(cfg, dt)
        kind = _surrogate_code(cfg.surrogate)
        v0n = v0.detach().to(H.dtype).contiguous().numpy()
        betan = _per_neuron(beta, N, H.dtype)
        Dn = D.numpy()
        _K().linear_lif_adjoint(Hn, gSn, v0n, betan, prm, kind, lam, Dn, g_beta, db,
                                torch.get_num_threads())
        g_w = g_x = None
        if ctx.csr is not None:
            if need[1]:
                g_w = _weight_grad_from(ctx.csr, Dn.reshape(T * B, N), weight)
            if need[0]:
                g_x = D @ weight
        elif need[0] or need[1]:
            g_x, g_w = _narrow_backward(ctx.saved_tensors[5], Dn.reshape(T * B, N), weight, need[0])
            g_w = g_w if need[1] else None
        g_b = torch.from_numpy(db.sum(0)) if bias is not None and need[2] else None
        g_beta_t = None
        if need[3]:
            g = torch.from_numpy(g_beta.sum(0))
            g_beta_t = g.sum().reshape(()) if beta.dim() == 0 else g
        g_v0 = torch.from_numpy(lam) if need[4] else None
        return g_x, g_w, g_b, g_beta_t, g_v0, None, None


def _narrow_backward(x: Tensor, g: np.ndarray, weight: Tensor, need_x: bool):
    """(∂L/∂x or None, ∂L/∂W) of a narrow layer (g = ∂L/∂(x Wᵀ) as [R, N]), in one more pass
    over x: ∂L/∂x = g W row by row, and ∂L/∂W in ``weight``'s memory layout from one partial
    ∂L/∂Wᵀ per fixed block of rows, summed in block order."""
    shape = x.shape
    xn = x.detach().reshape(-1, shape[-1]).contiguous().numpy()
    R, n_in = xn.shape
    part = np.empty((max(1, min(R, BLOCKS)), n_in, g.shape[1]), dtype=g.dtype)
    gx = torch.empty(shape, dtype=x.dtype) if need_x else None
    w = weight.detach().contiguous().numpy()
    _K().narrow_backward(xn, g, w, None if gx is None else gx.numpy().reshape(R, n_in), part,
                         torch.get_num_threads())
    dwt = part.sum(0)
    return gx, _gradient_in_layout_of(weight, dwt)


def _weight_grad_from(csr: _CSR, g: np.ndarray, weight: Tensor) -> Tensor:
    """∂L/∂W [N, n_in] = gᵀ x over x's non-zeros (g = ∂L/∂(x Wᵀ) as [R, N]) in ``weight``'s
    memory layout: gathered input by input through a column index that each block of inputs
    (one per thread) builds for itself; each weight-gradient row is summed by one thread in a
    fixed order, so the numbers do not depend on the thread count."""
    N = g.shape[1]
    dwt = np.empty((csr.n_in, N), dtype=g.dtype)
    rb = max(8, ROW_BLOCK_BYTES // (N * g.itemsize))
    nth = torch.get_num_threads()
    _K().weight_grad(csr.indptr, csr.idx, csr.val, g, dwt, rb, max(1, min(csr.n_in, nth)), nth)
    return _gradient_in_layout_of(weight, dwt)


def _gradient_in_layout_of(weight: Tensor, dwt: np.ndarray) -> Tensor:
    """∂L/∂W [N, n_in] from ∂L/∂Wᵀ [n_in, N] in W's memory layout (input-major or contiguous):
    autograd then keeps it as .grad instead of copying it there."""
    if _is_input_major(weight):
        return torch.from_numpy(dwt).t()
    return torch.from_numpy(_transposed(dwt))


def _is_input_major(weight: Tensor) -> bool:
    """Whether W [N, n_in] is stored as a contiguous Wᵀ (the layout of SpikingLinear)."""
    return weight.dim() == 2 and weight.t().is_contiguous()


def _rows_per_input(weight: Tensor) -> np.ndarray:
    """Wᵀ [n_in, N] as a C-contiguous array: a view of an input-major weight (no copy), else a
    transposed copy."""
    w = weight.detach()
    if _is_input_major(w):
        return w.t().numpy()
    return _transposed(w.contiguous().numpy())


def _transposed(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of aᵀ (tiled, on torch's threads: half the time of a strided copy)."""
    out = np.empty((a.shape[1], a.shape[0]), dtype=a.dtype)
    _K().transpose(a, out, torch.get_num_threads())
    return out


class _EventLinearFunction(torch.autograd.Function):
    """``apply(x [R, n_in], weight [N, n_in]) -> x Wᵀ [R, N]``, adding only the weight rows of
    active inputs (forward) and gathering ∂L/∂W over them (backward); saves the row index of
    x, not x. ∂L/∂x = g W (dense) only when x requires grad."""

    @staticmethod
    def forward(ctx, x, weight):
        xn = x.detach().contiguous().numpy()
        csr = _CSR(xn)
        wt = _rows_per_input(weight)
        y = torch.empty((xn.shape[0], wt.shape[1]), dtype=x.dtype)
        _K().event_linear(xn, csr.indptr, csr.idx, csr.val, wt, y.numpy(),
                          max(1, min(xn.shape[0], BLOCKS)), torch.get_num_threads())
        ctx.csr = csr
        ctx.save_for_backward(weight)
        return y

    @staticmethod
    def backward(ctx, g):
        (weight,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = g @ weight if need[0] else None
        gw = _weight_grad_from(ctx.csr, g.detach().contiguous().numpy(), weight) if need[1] else None
        return gx, gw


def linear_lif_applies(x: Tensor, weight: Tensor, params) -> bool:
    """Whether :func:`linear_lif` runs its fused kernels for these arguments (CPU,
    float32/float64, compiled kernels available (:mod:`neurocircuits.kernels`), a LIF without
    synapse and a built-in surrogate); otherwise it composes :func:`spiking_linear` and the
    fused LIF layer, with the same result. Layers of fewer than
    :data:`~neurocircuits.training.bptt.EVENT_MIN_OUT` neurons (a 512 -> 10 readout) take the
    narrow variant, which keeps no index of x's non-zeros (module docstring)."""
    return _kernels_take(x, weight) and params.alpha is None and _surrogate_code(params.surrogate) >= 0


def linear_lif(x: Tensor, weight: Tensor, bias: Tensor | None, params, state=None):
    """Linear layer feeding a LIF layer, fused: for x [T, B, n_in] (binary or sparse input),
    W [N, n_in], b [N] and LIF ``params`` (:class:`~neurocircuits.neurons.lif.LIFParams`,
    without synaptic current)::

        i_t = x_t Wᵀ + b,   u_t = β v_{t-1} + i_t,   s_t = H(u_t - θ),   v_t = reset(u_t, s_t)

    returns ``(spikes [T, B, N], LIFState(v_T))``; ``state`` (a LIFState, default rest) sets
    v_0. The same numbers as ``lif_sequence(spiking_linear(x, W, b), state, params)`` up to
    floating-point summation order, and the same gradients (w.r.t. x, W, b, β and v_0).

    On CPU (compiled kernels) the kernels of the module docstring run: for each step and batch
    row the weight columns of the active inputs only are added straight into the membrane
    update, without materialising the [T, B, N] input current; the backward pass runs the LIF
    adjoint and gathers ∂L/∂W = Σ_t di_tᵀ x_t over the active inputs only (∂L/∂x = di W, one
    dense product, only when x requires grad). Memory kept for backward: H = u - θ [T, B, N]
    and the indices and values of the non-zero inputs, ~p of x's size at spike probability p;
    a layer of fewer than 32 neurons keeps x instead (the spikes of the layer before, alive
    anyway when that layer is trained) and scans it again for ∂L/∂W.

    Reference: event-driven sparse products in spiking networks, Perez-Nieves & Goodman 2021
    (NeurIPS, arXiv:2105.08810); surrogate-gradient BPTT, Neftci, Mostafa & Zenke 2019
    (arXiv:1901.09948)."""
    from neurocircuits import kernels
    from neurocircuits.neurons.lif import LIFParams, LIFState, _check_common, _check_state_tensor, lif_sequence

    check_tensor("x", x, ndim=3, dtype_kind="float", finite=False)  # finiteness: below
    _check_linear(x, weight, bias)
    if not isinstance(params, LIFParams):
        raise TypeError(f"params must be a LIFParams, got {type(params).__name__}")
    if params.alpha is not None:
        raise ValueError("linear_lif supports LIF layers without synaptic current (alpha=None), "
                         f"got alpha={params.alpha!r}")
    T, B, _ = x.shape
    N = weight.shape[0]
    if T == 0:
        raise ValueError(f"x must have T > 0 time steps, got shape {tuple(x.shape)}")
    at_rest = state is None
    if at_rest:
        state = LIFState(torch.zeros(B, N, dtype=x.dtype, device=x.device))
    if not linear_lif_applies(x, weight, params) or x.numel() == 0:
        # spiking_linear rejects NaN / inf in x
        return lif_sequence(spiking_linear(x, weight, bias), state, params, fused=True)
    _check_common(params, N)
    if not isinstance(state, LIFState):
        raise TypeError(f"state must be a LIFState, got {type(state).__name__}")
    if not at_rest:  # the zeros made above need no check
        _check_state_tensor("v", state.v, (B, N), x.dtype)
    cfg = _Config(params.threshold, 0.0, params.reset, params.detach_reset, params.surrogate,
                  False, False, False, kernels.backend())
    beta = _as_tensor(params.beta, x)
    # x's NaN / inf check happens in the kernel's first pass over x (before any output exists)
    S, v = _LinearLIFFunction.apply(x, weight, bias, beta, state.v, cfg, N < EVENT_MIN_OUT)
    return S, LIFState(v, None, S[-1])
