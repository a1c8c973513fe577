"""A linear layer feeding a LIF layer, fused into one event-driven kernel (CPU, Numba).

For input x [T, B, n_in] (binary spikes, or any sparse values), weights W [N, n_in], bias b [N]
and a LIF layer without synaptic current (equations of :mod:`neurocircuits.neurons.lif`)::

    i_t = x_t Wᵀ + b,   u_t = β v_{t-1} + i_t,   h_t = u_t - θ,   s_t = H(h_t),
    v_t = u_t - s_t θ  (subtract)  |  u_t (1 - s_t)  (zero)  |  u_t  (none)

Forward: a counting pass over x (which also rejects NaN / inf) sizes the row index; then, for
every batch row and step, the kernel compacts the row's *active* inputs (about p n_in of them
at spike probability p), records them in the row index and adds their rows of Wᵀ straight
into the membrane update; the [T, B, N] input current is never materialised. What is kept for
backward: H = u - θ [T, B, N] and the row index (indices and values of x's non-zeros).

Backward: the adjoint of the LIF recursion in reverse time (λ = ∂L/∂v after step t)::

    ds_t = ∂L/∂s_t - λ_t θ (subtract)  |  - λ_t u_t (zero)  |  0 (none, or detached reset)
    di_t = λ_t (1 - s_t [zero reset]) + ds_t σ'(h_t)
    λ_{t-1} = β di_t,   ∂L/∂β += Σ di_t v_{t-1},   ∂L/∂b += Σ di_t

and the weight gradient ∂L/∂W[n, j] = Σ_{t, r} di_t[r, n] x_t[r, j] over the active inputs
only. It is gathered input by input: for each input j the rows (t, r) where j is active (a
column index built from the row index by a counting sort) are summed in a buffer, reading
∂L/∂i in cache-sized blocks of rows, and each weight-gradient row is written by one thread,
instead of one read-modify-write of a weight-gradient row per active input. ∂L/∂x = di W is
computed (one dense product) only when x requires grad.

Arithmetic runs in the dtype of the input (float32 stays float32: every constant the kernels
use is passed in that dtype). The kernels are split over batch rows (or inputs) in a fixed
number of blocks and run on torch's threads, so the numbers do not depend on the thread count.

References: event-driven sparse products in spiking networks, Perez-Nieves & Goodman 2021
"Sparse spiking gradient descent" (NeurIPS, arXiv:2105.08810); surrogate-gradient BPTT,
Neftci, Mostafa & Zenke 2019 (arXiv:1901.09948).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from neurocircuits.training.bptt import (_HAVE_NUMBA, _RESET_CODE, EVENT_MIN_OUT, _as_tensor,
                                         _check_linear, _Config, _surrogate_code, _use_torch_threads,
                                         spiking_linear)
from neurocircuits.validation import check_tensor

__all__ = ["linear_lif", "linear_lif_applies"]

# positions in the per-call constant vector ``prm`` (in the input's dtype)
# (The kernels use error_model="numpy": no zero-division checks, whose branches would keep
# the loops from vectorising; every denominator in them is >= 1.)
_THR, _A_SUB, _A_ZERO, _ND, _K, _C1, _C2, _ZERO, _ONE, _MHALF = range(10)

if _HAVE_NUMBA:
    from numba import njit, prange

    @njit(cache=True, nogil=True)
    def _row_counts(x, counts, bad, r_lo, r_hi, c):  # pragma: no cover - compiled
        """counts[r + 1] = number of non-zeros of row r of x [R, n_in]; bad[c] = the number of
        NaN / inf entries met (so that the input is validated in the same pass)."""
        n_in = x.shape[1]
        nb = 0
        for r in range(r_lo, r_hi):
            m = 0
            for j in range(n_in):
                xv = x[r, j]
                m += xv != 0
                nb += (xv - xv) != 0  # NaN for NaN and ±inf, 0 otherwise
            counts[r + 1] = m
        bad[c] = nb

    @njit(cache=True, nogil=True)
    def _column_counts(indptr, idx, cnt, r_lo, r_hi):  # pragma: no cover - compiled
        """cnt[j] = number of non-zeros of input j in rows r_lo <= r < r_hi."""
        for k in range(indptr[r_lo], indptr[r_hi]):
            cnt[idx[k]] += 1

    @njit(cache=True, nogil=True)
    def _column_fill(indptr, idx, val, pos, rows, cval, r_lo, r_hi):  # pragma: no cover
        """Append rows r_lo <= r < r_hi to their inputs' columns, starting at pos[j]."""
        for r in range(r_lo, r_hi):
            for k in range(indptr[r], indptr[r + 1]):
                m = pos[idx[k]]
                rows[m] = r
                cval[m] = val[k]
                pos[idx[k]] = m + 1

    @njit(cache=True, nogil=True, inline="always")
    def _compact_row(x, row, bi, bv, indptr, idx, val):  # pragma: no cover - compiled
        """Indices and values of the non-zeros of x[row] into bi / bv (branch-free), copied to
        the row index at indptr[row]; returns their number."""
        m = 0
        for j in range(x.shape[1]):
            xv = x[row, j]
            bi[m] = j
            bv[m] = xv
            m += xv != 0
        o = indptr[row]
        for k in range(m):
            idx[o + k] = bi[k]
            val[o + k] = bv[k]
        return m

    @njit(cache=True, nogil=True, fastmath=True, error_model="numpy", inline="always")
    def _add_rows(acc, M, index, value, k, k1):  # pragma: no cover - compiled
        """acc += Σ_{k <= e < k1} value[e] M[index[e]]: the gather both the forward (rows of
        Wᵀ) and the weight gradient (rows of ∂L/∂i) are made of, four rows per pass over acc."""
        N = acc.shape[0]
        while k + 4 <= k1:
            j0, j1, j2, j3 = index[k], index[k + 1], index[k + 2], index[k + 3]
            x0, x1, x2, x3 = value[k], value[k + 1], value[k + 2], value[k + 3]
            for q in range(N):
                acc[q] += x0 * M[j0, q] + x1 * M[j1, q] + x2 * M[j2, q] + x3 * M[j3, q]
            k += 4
        while k < k1:
            j = index[k]
            xv = value[k]
            for q in range(N):
                acc[q] += xv * M[j, q]
            k += 1

    @njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
    def _surrogate_row(kind, prm, h, g):  # pragma: no cover - compiled
        """g = σ'(h) for one row, the closed forms of :mod:`neurocircuits.surrogate` (kind as
        in ``_surrogate_code``; width k = prm[_K], c1 / c2 precomputed per kind)."""
        k = prm[_K]
        c1 = prm[_C1]
        c2 = prm[_C2]
        zero = prm[_ZERO]
        one = prm[_ONE]
        if kind == 0:  # fast sigmoid: 1 / (1 + k|h|)^2
            for q in range(h.shape[0]):
                d = one + k * abs(h[q])
                g[q] = one / (d * d)
        elif kind == 1:  # arctan: (k/2) / (1 + (π k h / 2)^2)
            for q in range(h.shape[0]):
                z = c1 * h[q]
                g[q] = c2 / (one + z * z)
        elif kind == 2:  # triangle: max(0, 1 - |h|/k) / k
            for q in range(h.shape[0]):
                g[q] = max(zero, one - abs(h[q]) * c1) * c1
        elif kind == 3:  # sigmoid: k σ(kh) (1 - σ(kh))
            for q in range(h.shape[0]):
                sgm = one / (one + np.exp(-k * h[q]))
                g[q] = k * sgm * (one - sgm)
        else:  # Gaussian: exp(-(h/k)^2 / 2) / (k √(2π))
            mhalf = prm[_MHALF]
            for q in range(h.shape[0]):
                z = h[q] * c1
                g[q] = np.exp(mhalf * z * z) * c2

    @njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
    def _forward_rows(x, indptr, idx, val, wt, bias, beta, v, prm, H, S, r_lo, r_hi):  # pragma: no cover
        """Batch rows r_lo <= r < r_hi, all steps. x [T*B, n_in] (row t*B + r is x_t[r]); its
        non-zeros are compacted per row (branch-free, into a row buffer), written into the
        CSR at indptr[row] for the backward pass, and their weight rows added: wt = Wᵀ
        [n_in, N]; bias, beta [N]; v [B, N] (v_0 in, v_T out); H = u - θ and S [T, B, N]."""
        T = H.shape[0]
        B = H.shape[1]
        N = H.shape[2]
        n_in = x.shape[1]
        thr = prm[_THR]
        a_sub = prm[_A_SUB]
        a_zero = prm[_A_ZERO]
        zero = prm[_ZERO]
        one = prm[_ONE]
        acc = np.empty(N, dtype=H.dtype)
        bi = np.empty(n_in, dtype=idx.dtype)
        bv = np.empty(n_in, dtype=val.dtype)
        for r in range(r_lo, r_hi):
            for t in range(T):
                m = _compact_row(x, t * B + r, bi, bv, indptr, idx, val)
                for q in range(N):
                    acc[q] = bias[q]
                _add_rows(acc, wt, bi, bv, 0, m)
                for q in range(N):
                    u = beta[q] * v[r, q] + acc[q]
                    h = u - thr
                    s = one if h >= zero else zero
                    H[t, r, q] = h
                    S[t, r, q] = s
                    v[r, q] = u - s * (a_sub * thr + a_zero * u)

    @njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
    def _linear_rows(x, indptr, idx, val, wt, y, r_lo, r_hi):  # pragma: no cover - compiled
        """y[r] = Σ_{j: x[r, j] != 0} x[r, j] Wᵀ[j] for rows r_lo <= r < r_hi of x [R, n_in]
        (wt = Wᵀ [n_in, N]); fills the row index of x for the weight gradient."""
        n_in = x.shape[1]
        N = y.shape[1]
        acc = np.empty(N, dtype=y.dtype)
        bi = np.empty(n_in, dtype=idx.dtype)
        bv = np.empty(n_in, dtype=val.dtype)
        for r in range(r_lo, r_hi):
            m = _compact_row(x, r, bi, bv, indptr, idx, val)
            for q in range(N):
                acc[q] = 0
            _add_rows(acc, wt, bi, bv, 0, m)
            for q in range(N):
                y[r, q] = acc[q]

    @njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
    def _adjoint_rows(H, gS, v0, beta, prm, sg_kind, lam, D, g_beta, db, r_lo, r_hi):  # pragma: no cover
        """Reverse-time adjoint (module docstring) of batch rows r_lo <= r < r_hi: H, gS (∂L/∂s)
        and D (out: ∂L/∂i) [T, B, N]; v0, lam [B, N] (lam: ∂L/∂v_T in, ∂L/∂v_0 out); beta
        [N]; g_beta, db [N] accumulate this block's ∂L/∂β and ∂L/∂b."""
        T = H.shape[0]
        N = H.shape[2]
        thr = prm[_THR]
        a_zero = prm[_A_ZERO]
        nd = prm[_ND]
        zero = prm[_ZERO]
        one = prm[_ONE]
        cst = prm[_A_SUB] * thr
        g = np.empty(N, dtype=H.dtype)
        for r in range(r_lo, r_hi):
            for t in range(T - 1, -1, -1):
                _surrogate_row(sg_kind, prm, H[t, r], g)
                for q in range(N):
                    h = H[t, r, q]
                    s = one if h >= zero else zero
                    lv = lam[r, q]
                    ds = gS[t, r, q] - nd * lv * (cst + a_zero * (h + thr))
                    du = lv * (one - a_zero * s) + ds * g[q]
                    if t > 0:
                        hp = H[t - 1, r, q]
                        sp = one if hp >= zero else zero
                        up = hp + thr
                        vp = up - sp * (cst + a_zero * up)
                    else:
                        vp = v0[r, q]
                    g_beta[q] += du * vp
                    db[q] += du
                    lam[r, q] = beta[q] * du
                    D[t, r, q] = du

    @njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
    def _weight_grad(colptr, rows, cval, D, dwt, rb, j_lo, j_hi):  # pragma: no cover - compiled
        """∂L/∂Wᵀ[j] = Σ_{rows r where input j is active} x[r, j] D[r] for j_lo <= j < j_hi
        (D = ∂L/∂i as [T*B, N]). The rows of D are visited in blocks of ``rb`` (sized to stay
        in the core's cache while every input of the range takes its rows from the block);
        within a block each input's rows are summed in a buffer, added once."""
        R = D.shape[0]
        N = D.shape[1]
        acc = np.empty(N, dtype=D.dtype)
        cur = colptr[j_lo:j_hi].copy()  # per input: first entry not yet summed
        for j in range(j_lo, j_hi):
            for q in range(N):
                dwt[j, q] = 0
        for r1 in range(rb, R + rb, rb):
            for j in range(j_lo, j_hi):
                k = cur[j - j_lo]
                e = k
                k1 = colptr[j + 1]
                while e < k1 and rows[e] < r1:  # rows are ascending within a column
                    e += 1
                if e == k:
                    continue
                cur[j - j_lo] = e
                for q in range(N):
                    acc[q] = 0
                _add_rows(acc, D, rows, cval, k, e)
                for q in range(N):
                    dwt[j, q] += acc[q]

    # Parallel drivers. They run on Numba's threading layer, which with torch's OpenMP runtime
    # already loaded is that same runtime: the kernels reuse torch's worker threads instead of
    # competing with them (a separate thread pool loses up to half its time to OpenMP workers
    # still spinning after torch's last parallel operation). The work is cut into a fixed
    # number of blocks, so the numbers do not depend on the thread count.

    @njit(parallel=True, cache=True, nogil=True)
    def _count_par(x, counts, bad):  # pragma: no cover - compiled
        R = x.shape[0]
        nb = bad.shape[0]
        for c in prange(nb):
            _row_counts(x, counts, bad, c * R // nb, (c + 1) * R // nb, c)

    @njit(parallel=True, cache=True, nogil=True)
    def _csc_par(indptr, idx, val, colptr, rows, cval, nb):  # pragma: no cover - compiled
        """Column-compressed copy of the row CSR (a counting sort in two parallel passes over
        blocks of rows; within a column the rows stay in increasing order)."""
        R = indptr.shape[0] - 1
        n_in = colptr.shape[0] - 1
        cnt = np.zeros((nb, n_in), np.int64)
        for c in prange(nb):
            _column_counts(indptr, idx, cnt[c], c * R // nb, (c + 1) * R // nb)
        colptr[0] = 0
        for j in range(n_in):  # block c's part of column j starts after blocks < c
            m = colptr[j]
            for c in range(nb):
                n = cnt[c, j]
                cnt[c, j] = m
                m += n
            colptr[j + 1] = m
        for c in prange(nb):
            _column_fill(indptr, idx, val, cnt[c], rows, cval, c * R // nb, (c + 1) * R // nb)

    @njit(parallel=True, cache=True, nogil=True)
    def _forward_par(x, indptr, idx, val, wt, bias, beta, v, prm, H, S, nb):  # pragma: no cover
        B = H.shape[1]
        for c in prange(nb):
            _forward_rows(x, indptr, idx, val, wt, bias, beta, v, prm, H, S, c * B // nb, (c + 1) * B // nb)

    @njit(parallel=True, cache=True, nogil=True)
    def _linear_par(x, indptr, idx, val, wt, y, nb):  # pragma: no cover - compiled
        R = x.shape[0]
        for c in prange(nb):
            _linear_rows(x, indptr, idx, val, wt, y, c * R // nb, (c + 1) * R // nb)

    @njit(parallel=True, cache=True, nogil=True)
    def _adjoint_par(H, gS, v0, beta, prm, sg_kind, lam, D, g_beta, db):  # pragma: no cover
        B = H.shape[1]
        nb = g_beta.shape[0]
        for c in prange(nb):
            _adjoint_rows(H, gS, v0, beta, prm, sg_kind, lam, D, g_beta[c], db[c],
                          c * B // nb, (c + 1) * B // nb)

    @njit(parallel=True, cache=True, nogil=True)
    def _weight_grad_par(colptr, rows, cval, D, dwt, rb, nb):  # pragma: no cover - compiled
        n_in = dwt.shape[0]
        for c in prange(nb):
            _weight_grad(colptr, rows, cval, D, dwt, rb, c * n_in // nb, (c + 1) * n_in // nb)


#: Fixed number of work blocks of the parallel kernels over batch rows.
BLOCKS = 16
#: Size of the blocks of ∂L/∂i rows that the weight gradient reads while they are in cache.
ROW_BLOCK_BYTES = 512 * 1024


class _CSR:
    """Row-compressed non-zeros of a [R, n_in] array (NumPy). The constructor counts them per
    row (one parallel pass, which also rejects NaN / inf, naming ``name``) and allocates the
    index; the kernels that compact each row anyway (``_compact_row``) fill it."""

    __slots__ = ("indptr", "idx", "val", "n_in")

    def __init__(self, xn: np.ndarray, name: str = "x"):
        R, n_in = xn.shape
        self.n_in = n_in
        indptr = np.zeros(R + 1, dtype=np.int64)
        bad = np.zeros(max(1, min(R, BLOCKS)), dtype=np.int64)
        _count_par(xn, indptr, bad)
        if bad.sum():
            raise ValueError(f"{name} contains {int(bad.sum())} NaN or infinite value(s)")
        np.cumsum(indptr, out=indptr)
        self.indptr = indptr
        self.idx = np.empty(int(indptr[-1]), dtype=np.int32)
        self.val = np.empty(int(indptr[-1]), dtype=xn.dtype)

    def columns(self):
        """(colptr [n_in + 1], rows, values): for input j, the rows where it is non-zero."""
        colptr = np.empty(self.n_in + 1, dtype=np.int64)
        rows = np.empty(len(self.idx), dtype=np.int32)
        cval = np.empty(len(self.idx), dtype=self.val.dtype)
        R = len(self.indptr) - 1
        _csc_par(self.indptr, self.idx, self.val, colptr, rows, cval, max(1, min(R, BLOCKS)))
        return colptr, rows, cval


def _constants(cfg, dtype) -> np.ndarray:
    """The kernels' scalar constants in the input's dtype (see the _THR ... indices)."""
    reset = _RESET_CODE[cfg.reset]
    k = float(cfg.surrogate.scale)
    kind = _surrogate_code(cfg.surrogate)
    c1, c2 = {1: (0.5 * math.pi * k, 0.5 * k), 2: (1.0 / k, 0.0),
              4: (1.0 / k, 1.0 / (k * math.sqrt(2.0 * math.pi)))}.get(kind, (0.0, 0.0))
    prm = [cfg.threshold, float(reset == 0), float(reset == 1), 0.0 if cfg.detach else 1.0, k,
           c1, c2, 0.0, 1.0, -0.5]
    return np.array(prm, dtype=dtype)


def _per_neuron(p: Tensor, N: int, dtype) -> np.ndarray:
    return p.detach().to(dtype).expand(N).contiguous().numpy()


class _LinearLIFFunction(torch.autograd.Function):
    """``apply(x, weight, bias, beta, v0, cfg) -> (spikes [T, B, N], v_T)`` (module docstring).
    Saves the input's non-zeros (CSR), H = u - θ and v0."""

    @staticmethod
    def forward(ctx, x, weight, bias, beta, v0, cfg):
        _use_torch_threads()
        T, B, n_in = x.shape
        N = weight.shape[0]
        xn = x.detach().reshape(T * B, n_in).contiguous().numpy()
        csr = _CSR(xn)  # counts and NaN check; the forward kernel fills it
        wt = weight.detach().t().contiguous().numpy()  # [n_in, N]: one row per input
        b = (_per_neuron(bias, N, x.dtype) if bias is not None
             else np.zeros(N, dtype=xn.dtype))
        v = v0.detach().to(x.dtype).clone().numpy()  # updated in place: never v0's memory
        prm = _constants(cfg, xn.dtype)
        H = torch.empty((T, B, N), dtype=x.dtype)
        S = torch.empty((T, B, N), dtype=x.dtype)
        _forward_par(xn, csr.indptr, csr.idx, csr.val, wt, b, _per_neuron(beta, N, x.dtype), v, prm,
                     H.numpy(), S.numpy(), max(1, min(B, BLOCKS)))
        ctx.cfg = cfg
        ctx.csr = csr  # NumPy arrays (indices and values of x), not tensors
        ctx.shape = (T, B, n_in)
        ctx.save_for_backward(H, weight, bias, beta, v0)
        return S, torch.from_numpy(v)

    @staticmethod
    def backward(ctx, gS, gv):
        _use_torch_threads()
        cfg = ctx.cfg
        T, B, n_in = ctx.shape
        H, weight, bias, beta, v0 = ctx.saved_tensors
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
        _adjoint_par(Hn, gSn, v0n, betan, prm, kind, lam, Dn, g_beta, db)
        g_w = _weight_grad_from(ctx.csr, Dn.reshape(T * B, N)) if need[1] else None
        g_x = D @ weight if need[0] else None
        g_b = torch.from_numpy(db.sum(0)) if bias is not None and need[2] else None
        g_beta_t = None
        if need[3]:
            g = torch.from_numpy(g_beta.sum(0))
            g_beta_t = g.sum().reshape(()) if beta.dim() == 0 else g
        g_v0 = torch.from_numpy(lam) if need[4] else None
        return g_x, g_w, g_b, g_beta_t, g_v0, None


def _weight_grad_from(csr: _CSR, g: np.ndarray) -> Tensor:
    """∂L/∂W [N, n_in] = gᵀ x over x's non-zeros (g = ∂L/∂(x Wᵀ) as [R, N]): gathered input by
    input through the column index, one block of inputs per thread; each weight-gradient row
    is summed by one thread in a fixed order, so the numbers do not depend on the thread count."""
    colptr, rows, cval = csr.columns()
    N = g.shape[1]
    dwt = np.empty((csr.n_in, N), dtype=g.dtype)
    rb = max(8, ROW_BLOCK_BYTES // (N * g.itemsize))
    _weight_grad_par(colptr, rows, cval, g, dwt, rb, max(1, min(csr.n_in, torch.get_num_threads())))
    return torch.from_numpy(dwt).t()


class _EventLinearFunction(torch.autograd.Function):
    """``apply(x [R, n_in], weight [N, n_in]) -> x Wᵀ [R, N]``, adding only the weight rows of
    active inputs (forward) and gathering ∂L/∂W over them (backward); saves the row index of
    x, not x. ∂L/∂x = g W (dense) only when x requires grad."""

    @staticmethod
    def forward(ctx, x, weight):
        _use_torch_threads()
        xn = x.detach().contiguous().numpy()
        csr = _CSR(xn)
        wt = weight.detach().t().contiguous().numpy()
        y = torch.empty((xn.shape[0], wt.shape[1]), dtype=x.dtype)
        _linear_par(xn, csr.indptr, csr.idx, csr.val, wt, y.numpy(), max(1, min(xn.shape[0], BLOCKS)))
        ctx.csr = csr
        ctx.save_for_backward(weight)
        return y

    @staticmethod
    def backward(ctx, g):
        _use_torch_threads()
        (weight,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = g @ weight if need[0] else None
        gw = _weight_grad_from(ctx.csr, g.detach().contiguous().numpy()) if need[1] else None
        return gx, gw


def linear_lif_applies(x: Tensor, weight: Tensor, params) -> bool:
    """Whether :func:`linear_lif` runs its fused event-driven kernel for these arguments (CPU,
    float32/float64, Numba, a LIF without synapse, a built-in surrogate and at least
    :data:`~neurocircuits.training.bptt.EVENT_MIN_OUT` neurons); otherwise it composes
    :func:`spiking_linear` and the fused LIF layer, with the same result. Narrow layers (a
    512 -> 10 readout) run faster as one dense product: each active input would add only a
    few weights, so the per-event bookkeeping would cost more than the arithmetic it saves."""
    return (_HAVE_NUMBA and x.device.type == "cpu" and weight.device.type == "cpu"
            and x.dtype in (torch.float32, torch.float64) and x.dtype == weight.dtype
            and weight.shape[0] >= EVENT_MIN_OUT
            and params.alpha is None and _surrogate_code(params.surrogate) >= 0)


def linear_lif(x: Tensor, weight: Tensor, bias: Tensor | None, params, state=None):
    """Linear layer feeding a LIF layer, fused: for x [T, B, n_in] (binary or sparse input),
    W [N, n_in], b [N] and LIF ``params`` (:class:`~neurocircuits.neurons.lif.LIFParams`,
    without synaptic current)::

        i_t = x_t Wᵀ + b,   u_t = β v_{t-1} + i_t,   s_t = H(u_t - θ),   v_t = reset(u_t, s_t)

    returns ``(spikes [T, B, N], LIFState(v_T))``; ``state`` (a LIFState, default rest) sets
    v_0. The same numbers as ``lif_sequence(spiking_linear(x, W, b), state, params)`` up to
    floating-point summation order, and the same gradients (w.r.t. x, W, b, β and v_0).

    On CPU (Numba, at least 32 neurons) the kernels of the module docstring run: for each step
    and batch row the weight columns of the active inputs only are added straight into the
    membrane update, without materialising the [T, B, N] input current; the backward pass runs
    the LIF adjoint and gathers ∂L/∂W = Σ_t di_tᵀ x_t over the active inputs only (∂L/∂x = di W,
    one dense product, only when x requires grad). Memory kept for backward: H = u - θ
    [T, B, N] and the indices and values of the non-zero inputs, ~p of x's size at spike
    probability p.

    Reference: event-driven sparse products in spiking networks, Perez-Nieves & Goodman 2021
    (NeurIPS, arXiv:2105.08810); surrogate-gradient BPTT, Neftci, Mostafa & Zenke 2019
    (arXiv:1901.09948)."""
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
    if state is None:
        state = LIFState(torch.zeros(B, N, dtype=x.dtype, device=x.device))
    if not linear_lif_applies(x, weight, params) or x.numel() == 0:
        # spiking_linear rejects NaN / inf in x
        return lif_sequence(spiking_linear(x, weight, bias), state, params, fused=True)
    _check_common(params, N)
    if not isinstance(state, LIFState):
        raise TypeError(f"state must be a LIFState, got {type(state).__name__}")
    _check_state_tensor("v", state.v, (B, N), x.dtype)
    cfg = _Config(params.threshold, 0.0, params.reset, params.detach_reset, params.surrogate,
                  False, False, False, "numba")
    beta = _as_tensor(params.beta, x)
    # x's NaN / inf check happens in the first (counting) pass of the kernel's input index
    S, v = _LinearLIFFunction.apply(x, weight, bias, beta, state.v, cfg)
    return S, LIFState(v, None, S[-1])
