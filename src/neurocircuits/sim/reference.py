"""Reference implementation: the same network, advanced step by step in plain NumPy.

It follows the compiled loop of :mod:`engine` operation by operation (same step order, same
floating-point expressions, same counter-based random numbers, synaptic input summed in the
same order), so that on small networks both give the same spikes; the tests check this. It is
slow (Python per step) and meant for checking, not for production runs.
"""

from __future__ import annotations

import time

import numpy as np

from neurocircuits.sim import models as M
from neurocircuits.sim.engine import MonitorPlan, RunInfo
from neurocircuits.sim.inputs import uniform_np


def step(b, state, t: int) -> np.ndarray:
    """Advance ``state`` (in place) by step ``t``; return the global ids that spiked, in
    delivery order."""
    N, L = b.N, b.L
    ring = state["ring"].reshape(L, 3, N)
    slot = t & (L - 1)
    v, ge, gi, ref, adapt = state["v"], state["ge"], state["gi"], state["ref"], state["adapt"]
    spikes = []
    # 1. spike-time sources
    sel = b.st_step == t
    spikes.append(b.st_id[sel])
    for p in range(b.pop_kind.size):
        kind, s0, s1 = b.pop_kind[p], b.pop_start[p], b.pop_stop[p]
        pt = b.ptab[p]
        idx = np.arange(s0, s1)
        counters = np.uint64(t) * np.uint64(N) + idx.astype(np.uint64)
        if kind == M.KIND_SPIKES:
            continue
        if kind == M.KIND_POISSON:
            u = uniform_np(int(b.src_key[p]), counters)
            spikes.append(idx[u < pt[M.P_PSPIKE]])
            continue
        for d in range(b.drv_pop.size):
            if b.drv_pop[d] != p:
                continue
            cs, cl = b.drv_cdf_start[d], b.drv_cdf_len[d]
            cdf = b.cdf_table[cs:cs + cl]
            u = uniform_np(int(b.drv_key[d]), counters)
            j = np.minimum(np.searchsorted(cdf, u, side="right"), cl - 1)
            cnt = b.drv_k0[d] + j
            add = cnt > 0
            ring[slot, b.drv_chan[d], idx[add]] += cnt[add] * b.drv_w[d]
        xv = ring[slot, 0, s0:s1].copy()
        xe = ring[slot, 1, s0:s1].copy()
        xi = ring[slot, 2, s0:s1].copy()
        ring[slot, :, s0:s1] = 0.0
        G_e = ge[s0:s1] + xe
        G_i = gi[s0:s1] + xi
        Ib = pt[M.P_IB] + b.iext[s0:s1]
        vo = v[s0:s1]
        EL = pt[M.P_EL]
        if kind == M.KIND_LIF:
            vn = EL + Ib + (vo - EL - Ib) * pt[M.P_DM] + G_e * pt[M.P_PE] + G_i * pt[M.P_PI] + xv
        elif kind == M.KIND_COND_EULER:
            Ee, Ei = pt[M.P_EE], pt[M.P_EI]
            vn = vo + pt[M.P_DTAU] * (G_e * (Ee - vo) + G_i * (Ei - vo) - (vo - EL) + Ib) + xv
        elif kind == M.KIND_COND_EXP:
            Ee, Ei = pt[M.P_EE], pt[M.P_EI]
            gt = 1.0 + G_e + G_i
            vinf = (EL + Ib + G_e * Ee + G_i * Ei) / gt
            vn = vinf + (vo - vinf) * np.exp(-pt[M.P_DTAU] * gt) + xv
        elif kind == M.KIND_ADEX:
            DT, VT = pt[M.P_DELTA_T], pt[M.P_VT]
            wo = adapt[s0:s1]
            ex = DT * np.exp(np.minimum((vo - VT) / DT, M.EXP_ARG_MAX))
            vn = vo + pt[M.P_DTAU] * (-(vo - EL) + ex - wo * pt[M.P_INVGL] + Ib + G_e + G_i) + xv
            wn = wo + pt[M.P_DTW] * (pt[M.P_A] * (vo - EL) - wo)
        else:  # Izhikevich
            dt = pt[M.P_DTAU]
            uo = adapt[s0:s1]
            vn = vo + dt * (0.04 * vo * vo + 5.0 * vo + 140.0 - uo + Ib + G_e + G_i) + xv
            wn = uo + dt * pt[M.P_A] * (pt[M.P_B] * vo - uo)
        r = ref[s0:s1]
        vi = np.where(r > 0, vo, vn)
        ge[s0:s1] = G_e * pt[M.P_DE]
        gi[s0:s1] = G_i * pt[M.P_DI]
        s = vi >= pt[M.P_TH]
        if kind == M.KIND_ADEX:
            adapt[s0:s1] = np.where(s, wn + pt[M.P_B], wn)
        elif kind == M.KIND_IZH:
            adapt[s0:s1] = np.where(s, wn + pt[M.P_D], wn)
        v[s0:s1] = np.where(s, pt[M.P_VR], vi)
        ref[s0:s1] = np.where(s, b.pop_tref[p], np.maximum(r - 1, 0))
        spikes.append(idx[s])
    sp = np.concatenate(spikes).astype(np.int64)
    if b.rule_tab.shape[0]:
        _plasticity(b, state, sp)
    if b.hs_tab.shape[0]:
        _homeostasis(b, state, sp, t)
    # 3. delivery, synapse by synapse in CSR order of the spiking neurons
    if sp.size:
        rows = [np.arange(b.indptr[j], b.indptr[j + 1]) for j in sp]
        syn = np.concatenate(rows)
        flat = (slot * 3 * N + b.syn_off[syn].astype(np.int64)) % (L * 3 * N)
        np.add.at(state["ring"], flat, b.syn_w[syn])
        np.add.at(state["spike_count"], sp, 1)
    return sp


def _plasticity(b, state, sp) -> None:
    """Trace STDP / iSTDP, synapse by synapse in the compiled loop's order."""
    xa, xo, rt, w = state["x_pre"], state["x_post"], b.rule_tab, b.syn_w
    xa *= rt[:, 1:2]
    xo *= rt[:, 2:3]
    for j in sp:
        for a in range(b.prow_ptr[j], b.prow_ptr[j + 1]):
            s, r = b.prow_syn[a], b.prow_rule[a]
            xp = xo[r, b.syn_post[s]]
            if rt[r, 0] == 0.0:
                nw = w[s] - rt[r, 3] * xp
            elif rt[r, 0] == 1.0:
                nw = w[s] - rt[r, 3] * w[s] * xp
            else:
                nw = w[s] + rt[r, 3] * (xp - rt[r, 5])
            w[s] = min(max(nw, rt[r, 6]), rt[r, 7])
        for a in range(b.pcol_ptr[j], b.pcol_ptr[j + 1]):
            s, r = b.pcol_syn[a], b.pcol_rule[a]
            xq = xa[r, b.pcol_pre[a]]
            if rt[r, 0] == 1.0:
                nw = w[s] + rt[r, 4] * (rt[r, 7] - w[s]) * xq
            else:
                nw = w[s] + rt[r, 4] * xq
            w[s] = min(max(nw, rt[r, 6]), rt[r, 7])
    xa[:, sp] += 1.0
    xo[:, sp] += 1.0


def _homeostasis(b, state, sp, t) -> None:
    """Synaptic scaling in the compiled loop's order (see :mod:`neurocircuits.plasticity.homeostatic`)."""
    rho, ht, w = state["rho"], b.hs_tab, b.syn_w
    for r in range(ht.shape[0]):
        rho[r] *= ht[r, 0]
        rho[r, sp] += ht[r, 1]
        if (t + 1) % int(ht[r, 6]) != 0:
            continue
        fac = np.exp(ht[r, 2] * (ht[r, 3] - rho[r]))
        sl = slice(b.hs_ptr[r], b.hs_ptr[r + 1])
        syn = b.hs_syn[sl]
        w[syn] = np.minimum(np.maximum(w[syn] * fac[b.hs_post[sl]], ht[r, 4]), ht[r, 5])


def run_steps(net, b, state, n_steps: int, progress: bool = True, chunk_steps: int = 10_000) -> RunInfo:
    """Same contract as :func:`engine.run_steps`, one Python iteration per step."""
    plan = MonitorPlan(net, b)
    t0 = net.t_step
    row0, mon_buf = plan.state_rows(t0, n_steps)
    pop_counts = np.zeros((n_steps, b.pop_kind.size), np.int64)
    rec_s, rec_i = [], []
    start = time.perf_counter()
    before = int(state["spike_count"].sum())
    for k in range(n_steps):
        t = t0 + k
        for c in range(plan.mon_idx.size):
            e = plan.mon_every[c]
            if t % e == 0:
                j = plan.mon_idx[c]
                var = plan.mon_var[c]
                mon_buf[t // e - row0[c], c] = (state["v"], state["ge"], state["gi"], state["adapt"])[var][j]
        sp = step(b, state, t)
        for p in range(b.pop_kind.size):
            pop_counts[k, p] = int(((sp >= b.pop_start[p]) & (sp < b.pop_stop[p])).sum())
        keep = sp[plan.rec_flag[sp] == 1] if sp.size else sp
        rec_s.append(np.full(keep.size, t, np.int64))
        rec_i.append(keep)
    rs = np.concatenate(rec_s) if rec_s else np.zeros(0, np.int64)
    ri = np.concatenate(rec_i) if rec_i else np.zeros(0, np.int64)
    plan.dispatch(t0, n_steps, rs, ri, pop_counts, mon_buf, row0)
    net.t_step += n_steps
    return RunInfo(wall_s=time.perf_counter() - start, steps=n_steps,
                   spikes=int(state["spike_count"].sum()) - before)
