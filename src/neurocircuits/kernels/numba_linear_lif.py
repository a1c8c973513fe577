"""Numba versions of the event-driven linear + LIF kernels (the fallback where the C++
library of :mod:`neurocircuits.kernels.native` cannot be built). Same algorithms, same
arguments: see :mod:`neurocircuits.training.linear_lif` for the equations."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


# positions in the per-call constant vector ``prm`` (in the input's dtype)
# (The kernels use error_model="numpy": no zero-division checks, whose branches would keep
# the loops from vectorising; every denominator in them is >= 1.)
_THR, _A_SUB, _A_ZERO, _ND, _K, _C1, _C2, _ZERO, _ONE, _MHALF = range(10)


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
def _compact(x, row, bi, bv):  # pragma: no cover - compiled
    """Indices and values of the non-zeros of x[row] into bi / bv (branch-free); their number."""
    m = 0
    for j in range(x.shape[1]):
        xv = x[row, j]
        bi[m] = j
        bv[m] = xv
        m += xv != 0
    return m


@njit(cache=True, nogil=True, inline="always")
def _compact_row(x, row, bi, bv, indptr, idx, val):  # pragma: no cover - compiled
    """_compact, the result also copied to the row index at indptr[row]."""
    m = _compact(x, row, bi, bv)
    o = indptr[row]
    for k in range(m):
        idx[o + k] = bi[k]
        val[o + k] = bv[k]
    return m


@njit(cache=True, nogil=True, inline="always")
def _lif_step(acc, beta, v, r, H, S, t, prm):  # pragma: no cover - compiled
    """LIF update of batch row r at step t from its input current acc [N]."""
    thr = prm[_THR]
    a_sub = prm[_A_SUB]
    a_zero = prm[_A_ZERO]
    zero = prm[_ZERO]
    one = prm[_ONE]
    for q in range(acc.shape[0]):
        u = beta[q] * v[r, q] + acc[q]
        h = u - thr
        s = one if h >= zero else zero
        H[t, r, q] = h
        S[t, r, q] = s
        v[r, q] = u - s * (a_sub * thr + a_zero * u)


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


# fast-math without "no NaN / no inf": a narrow layer counts them here
@njit(cache=True, nogil=True, fastmath={"nsz", "arcp", "contract", "afn", "reassoc"}, error_model="numpy")
def _forward_rows(x, indptr, idx, val, wt, bias, beta, v, prm, H, S, bad, c, r_lo, r_hi):  # pragma: no cover
    """Batch rows r_lo <= r < r_hi, all steps. x [T*B, n_in] (row t*B + r is x_t[r]); its
    non-zeros are compacted per row (branch-free, into a row buffer) and their weight rows
    added: wt = Wᵀ [n_in, N]; bias, beta [N]; v [B, N] (v_0 in, v_T out); H = u - θ and S
    [T, B, N]. With a row index (indptr not empty) the non-zeros are written into it at
    indptr[row] for the backward pass; without one (a narrow layer) bad[c] counts the NaN /
    inf values of x instead (they are among the compacted non-zeros)."""
    T = H.shape[0]
    B = H.shape[1]
    N = H.shape[2]
    n_in = x.shape[1]
    keep = indptr.shape[0] > 0
    acc = np.empty(N, dtype=H.dtype)
    bi = np.empty(n_in, dtype=np.int32)
    bv = np.empty(n_in, dtype=x.dtype)
    nbad = 0
    for r in range(r_lo, r_hi):
        for t in range(T):
            if keep:
                m = _compact_row(x, t * B + r, bi, bv, indptr, idx, val)
            else:
                m = _compact(x, t * B + r, bi, bv)
                for k in range(m):
                    nbad += (bv[k] - bv[k]) != 0
            for q in range(N):
                acc[q] = bias[q]
            _add_rows(acc, wt, bi, bv, 0, m)
            _lif_step(acc, beta, v, r, H, S, t, prm)
    bad[c] = nbad


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _narrow_backward_rows(x, D, W, gx, with_gx, part, r_lo, r_hi):  # pragma: no cover - compiled
    """part [n_in, N] = Σ over rows r_lo <= r < r_hi and non-zeros x[r, j] of x[r, j] D[r];
    with_gx: gx[r] = D[r] W as well."""
    N = D.shape[1]
    n_in = x.shape[1]
    part[:, :] = 0
    for r in range(r_lo, r_hi):
        if with_gx:
            for i in range(n_in):
                gx[r, i] = 0
            for q in range(N):
                dq = D[r, q]
                for i in range(n_in):
                    gx[r, i] += dq * W[q, i]
        for j in range(n_in):
            xv = x[r, j]
            if xv != 0:
                for q in range(N):
                    part[j, q] += xv * D[r, q]


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
def _forward_par(x, indptr, idx, val, wt, bias, beta, v, prm, H, S, bad):  # pragma: no cover
    B = H.shape[1]
    nb = bad.shape[0]
    for c in prange(nb):
        _forward_rows(x, indptr, idx, val, wt, bias, beta, v, prm, H, S, bad, c, c * B // nb, (c + 1) * B // nb)


@njit(parallel=True, cache=True, nogil=True)
def _narrow_backward_par(x, D, W, gx, with_gx, part):  # pragma: no cover - compiled
    R = x.shape[0]
    nb = part.shape[0]
    for c in prange(nb):
        _narrow_backward_rows(x, D, W, gx, with_gx, part[c], c * R // nb, (c + 1) * R // nb)


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


# Wrappers with the arguments of the native backend (neurocircuits.kernels.native). The
# parallel drivers run on Numba's threading layer, which with torch's OpenMP runtime loaded
# first is that same runtime, so they use torch's worker threads.
def set_threads(nth: int) -> None:
    import numba

    numba.set_num_threads(max(1, min(int(nth), numba.config.NUMBA_NUM_THREADS)))


def row_counts(x, counts, nb, nth) -> int:
    set_threads(nth)
    bad = np.zeros(nb, dtype=np.int64)
    _count_par(x, counts, bad)
    return int(bad.sum())


def linear_lif_forward(x, indptr, idx, val, wt, bias, beta, v, prm, H, S, nb, nth) -> None:
    set_threads(nth)
    _forward_par(x, indptr, idx, val, wt, bias, beta, v, prm, H, S, np.zeros(nb, dtype=np.int64))


def narrow_linear_lif_forward(x, wt, bias, beta, v, prm, H, S, nb, nth) -> int:
    set_threads(nth)
    bad = np.zeros(nb, dtype=np.int64)
    # no row index: empty index arrays
    _forward_par(x, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int32), np.empty(0, dtype=x.dtype),
                 wt, bias, beta, v, prm, H, S, bad)
    return int(bad.sum())


def narrow_backward(x, D, W, gx, part, nth) -> None:
    set_threads(nth)
    with_gx = gx is not None
    _narrow_backward_par(x, D, W, gx if with_gx else np.empty((0, 0), dtype=x.dtype), with_gx, part)


def event_linear(x, indptr, idx, val, wt, y, nb, nth) -> None:
    set_threads(nth)
    _linear_par(x, indptr, idx, val, wt, y, nb)


def linear_lif_adjoint(H, gS, v0, beta, prm, kind, lam, D, g_beta, db, nth) -> None:
    set_threads(nth)
    _adjoint_par(H, gS, v0, beta, prm, kind, lam, D, g_beta, db)


def weight_grad(indptr, idx, val, D, dwt, rb, nb, nth) -> None:
    """∂L/∂Wᵀ [n_in, N] from the row index of x and D = ∂L/∂i [R, N]: a column index (counting
    sort over blocks of rows), then the gather of each input's rows of D."""
    set_threads(nth)
    n_ev = len(idx)
    colptr = np.empty(dwt.shape[0] + 1, dtype=np.int64)
    rows = np.empty(n_ev, dtype=np.int32)
    cval = np.empty(n_ev, dtype=val.dtype)
    _csc_par(indptr, idx, val, colptr, rows, cval, max(1, min(len(indptr) - 1, 16)))
    _weight_grad_par(colptr, rows, cval, D, dwt, rb, nb)
