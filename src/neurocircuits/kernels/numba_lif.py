"""Numba versions of the fused LIF / ALIF time-loop kernels and of the NaN / inf count (the
fallback where the C++ library of :mod:`neurocircuits.kernels.native` cannot be built). Same
algorithms, same arguments: see :mod:`neurocircuits.training.bptt` for the equations."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_K = 4  # position of the surrogate width in the constant vector ``prm``


@njit(cache=True, nogil=True)
def _count_nonfinite(a):  # pragma: no cover - compiled
    n = 0
    for k in range(a.size):
        n += not np.isfinite(a[k])
    return n


# error_model="numpy": no zero-division checks (every denominator is >= 1 or k > 0), so
# the loops that call it can vectorise
@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _sg_derivative(kind, k, h):  # pragma: no cover - compiled
    if kind == 0:
        d = 1.0 + k * abs(h)
        return 1.0 / (d * d)
    if kind == 1:
        z = 0.5 * np.pi * k * h
        return 0.5 * k / (1.0 + z * z)
    if kind == 2:
        return max(0.0, 1.0 - abs(h) / k) / k
    if kind == 3:
        sgm = 1.0 / (1.0 + np.exp(-k * h))
        return k * sgm * (1.0 - sgm)
    z = h / k
    return np.exp(-0.5 * z * z) / (k * np.sqrt(2.0 * np.pi))


@njit(cache=True, nogil=True, error_model="numpy")
def _lif_fwd_kernel(x, v, i, a, beta, alpha, rho, thr0, b, reset, has_syn, has_adapt,
                    H, S, I_traj, r0, r1):  # pragma: no cover - compiled
    """Forward time loop for batch rows r0 <= r < r1 (x, H, I_traj are [T, B, N]; v, i, a
    are [B, N] state, updated in place; decays are per neuron [N])."""
    T = x.shape[0]
    N = x.shape[2]
    for t in range(T):
        for r in range(r0, r1):
            for n in range(N):
                if has_syn:
                    ii = alpha[n] * i[r, n] + x[t, r, n]
                    i[r, n] = ii
                    I_traj[t, r, n] = ii
                else:
                    ii = x[t, r, n]
                u = beta[n] * v[r, n] + ii
                thr = thr0 + b * a[r, n] if has_adapt else thr0
                h = u - thr
                H[t, r, n] = h
                s = 1.0 if h >= 0 else 0.0
                S[t, r, n] = s
                if reset == 0:
                    v[r, n] = u - s * thr
                elif reset == 1:
                    v[r, n] = u * (1.0 - s)
                else:
                    v[r, n] = u
                if has_adapt:
                    a[r, n] = rho[n] * a[r, n] + (1.0 - rho[n]) * s


@njit(cache=True, nogil=True, error_model="numpy")
def _lif_bwd_kernel(H, SG, sg_kind, sg_scale, gS, I_traj, v0, i0, a0, beta, alpha, rho, thr0,
                    b, reset, detach, has_syn, has_adapt, lam_v, lam_i, lam_a, dX, g_beta,
                    g_alpha, g_rho, A_prev, r0, r1):  # pragma: no cover - compiled
    """Reverse-time adjoint loop (equations in the module docstring) for batch rows
    r0 <= r < r1. lam_* ([B, N]) enter holding the gradients of the final state and leave
    holding those of the initial state; g_* ([B, N]) accumulate per element. The surrogate
    derivative is evaluated here (sg_kind >= 0) or read from SG (sg_kind == -1)."""
    T = H.shape[0]
    N = H.shape[2]
    if has_adapt:  # a_{t-1} for every t, rebuilt from the spikes
        for r in range(r0, r1):
            for n in range(N):
                A_prev[0, r, n] = a0[r, n]
        for t in range(1, T):
            for r in range(r0, r1):
                for n in range(N):
                    s = 1.0 if H[t - 1, r, n] >= 0 else 0.0
                    A_prev[t, r, n] = rho[n] * A_prev[t - 1, r, n] + (1.0 - rho[n]) * s
    for t in range(T - 1, -1, -1):
        for r in range(r0, r1):
            for n in range(N):
                h = H[t, r, n]
                s = 1.0 if h >= 0 else 0.0
                thr = thr0 + b * A_prev[t, r, n] if has_adapt else thr0
                lv = lam_v[r, n]
                ds = gS[t, r, n]
                if has_adapt:
                    ds += (1.0 - rho[n]) * lam_a[r, n]
                if not detach:
                    if reset == 0:
                        ds -= lv * thr
                    elif reset == 1:
                        ds -= lv * (h + thr)
                du = lv * (1.0 - s) if reset == 1 else lv
                dh = ds * (SG[t, r, n] if sg_kind < 0 else _sg_derivative(sg_kind, sg_scale, h))
                du += dh
                di = du + lam_i[r, n] if has_syn else du
                dX[t, r, n] = di
                if t > 0:
                    hp = H[t - 1, r, n]
                    sp = 1.0 if hp >= 0 else 0.0
                    thp = thr0 + b * A_prev[t - 1, r, n] if has_adapt else thr0
                    up = hp + thp
                    if reset == 0:
                        vp = up - sp * thp
                    elif reset == 1:
                        vp = up * (1.0 - sp)
                    else:
                        vp = up
                else:
                    vp = v0[r, n]
                g_beta[r, n] += du * vp
                lam_v[r, n] = beta[n] * du
                if has_syn:
                    ip = I_traj[t - 1, r, n] if t > 0 else i0[r, n]
                    g_alpha[r, n] += di * ip
                    lam_i[r, n] = alpha[n] * di
                if has_adapt:
                    dA = -dh - lv * s if reset == 0 else -dh
                    g_rho[r, n] += lam_a[r, n] * (A_prev[t, r, n] - s)
                    lam_a[r, n] = rho[n] * lam_a[r, n] + b * dA


# Parallel drivers over fixed blocks of batch rows. They run on Numba's threading layer,
# which (torch's OpenMP runtime being loaded first) is that same runtime, so the kernels
# use torch's worker threads; a separate thread pool would compete with OpenMP workers
# still spinning after torch's last parallel operation. Rows are independent, so the
# numbers do not depend on the thread count.
@njit(parallel=True, cache=True, nogil=True)
def _lif_fwd_par(x, v, i, a, beta, alpha, rho, thr0, b, reset, has_syn, has_adapt, H, S,
                 I_traj, nb):  # pragma: no cover - compiled
    B = x.shape[1]
    for c in prange(nb):
        _lif_fwd_kernel(x, v, i, a, beta, alpha, rho, thr0, b, reset, has_syn, has_adapt,
                        H, S, I_traj, c * B // nb, (c + 1) * B // nb)


@njit(parallel=True, cache=True, nogil=True)
def _lif_bwd_par(H, SG, sg_kind, sg_scale, gS, I_traj, v0, i0, a0, beta, alpha, rho, thr0,
                 b, reset, detach, has_syn, has_adapt, lam_v, lam_i, lam_a, dX, g_beta,
                 g_alpha, g_rho, A_prev, nb):  # pragma: no cover - compiled
    B = H.shape[1]
    for c in prange(nb):
        _lif_bwd_kernel(H, SG, sg_kind, sg_scale, gS, I_traj, v0, i0, a0, beta, alpha, rho,
                        thr0, b, reset, detach, has_syn, has_adapt, lam_v, lam_i, lam_a, dX,
                        g_beta, g_alpha, g_rho, A_prev, c * B // nb, (c + 1) * B // nb)


# Wrappers with the arguments of the native backend (neurocircuits.kernels.native).
def lif_forward(x, v, i, a, beta, alpha, rho, thr0, b, reset, has_syn, has_adapt, H, S, I_traj,
                nb, nth) -> None:
    args = (x, v, i, a, beta, alpha, rho, thr0, b, reset, has_syn, has_adapt, H, S, I_traj)
    if nth <= 1:
        _lif_fwd_kernel(*args, 0, x.shape[1])
    else:
        from neurocircuits.kernels.numba_linear_lif import set_threads

        set_threads(nth)
        _lif_fwd_par(*args, nb)


def lif_backward(H, SG, kind, prm, gS, I_traj, v0, i0, a0, beta, alpha, rho, thr0, b, reset, detach,
                 has_syn, has_adapt, lam_v, lam_i, lam_a, dX, g_beta, g_alpha, g_rho, A_prev,
                 nb, nth) -> None:
    args = (H, SG, kind, float(prm[_K]), gS, I_traj, v0, i0, a0, beta, alpha, rho, thr0, b, reset,
            detach, has_syn, has_adapt, lam_v, lam_i, lam_a, dX, g_beta, g_alpha, g_rho, A_prev)
    if nth <= 1:
        _lif_bwd_kernel(*args, 0, H.shape[1])
    else:
        from neurocircuits.kernels.numba_linear_lif import set_threads

        set_threads(nth)
        _lif_bwd_par(*args, nb)


def count_nonfinite(flat, nth) -> int:
    return int(_count_nonfinite(flat))


def transpose(src, dst, nth) -> None:
    dst[...] = src.T
