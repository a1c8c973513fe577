"""The compiled time loop: one Numba function advances the whole network by a chunk of steps.

No Python runs per time step: Python only splits a run into chunks (for monitors, progress
bars and bounded buffers) and calls :func:`_run_chunk`, compiled once with ``@njit(cache=True)``.
Per step ``t`` (see :mod:`network` for the timing convention and :mod:`models` for the
equations):

1. spike-time sources emit their spikes of step ``t``;
2. for each population: Poisson drives add their events to this step's ring-buffer slot; each
   neuron reads its arrivals (receptors v / exc / inh), integrates one step (exact propagators
   for the linear parts), tests the threshold, resets and starts its refractory count;
   Poisson sources draw their spikes;
3. plasticity (if any projection has a rule): traces decay one step, the plastic synapses of
   this step's spikes are updated from the other side's traces, then the traces jump by 1;
   homeostatic scaling (if any): rate estimates decay and jump, and every k steps the scaled
   synapses are multiplied by their postsynaptic factor;
4. the spikes of step ``t`` are delivered along their CSR rows into the ring buffer slot
   ``(t + delay) mod L`` of each synapse's receptor (``L`` a power of two);
5. recording: spike buffer, spikes per population; state is sampled at the start of a step.

Neuron updates are branch-free loops over unsigned indices so that LLVM vectorises them; the
spikes are then collected by scanning the spike flags eight bytes at a time.

Random numbers come from the counter-based generator of :mod:`inputs` (a pure function of seed,
stream, step and neuron), so runs are repeatable and identical to :mod:`reference`.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from neurocircuits.progress import progress as _progress
from neurocircuits.sim import models as M

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _u01(key, counter):
    z = key + counter * _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * _INV53


@njit(cache=True)
def uniform_nb(key, counters):
    """Compiled twin of :func:`inputs.uniform_np` (used to test that both agree)."""
    out = np.empty(counters.size)
    for k in range(counters.size):
        out[k] = _u01(np.uint64(key), np.uint64(counters[k]))
    return out


@njit(cache=True, inline="always")
def _finish(i, vi, th, vr, tref, r, v, ref, flag):
    """Threshold, reset and refractory count for neuron i with new potential vi."""
    s = vi >= th
    v[i] = vr if s else vi
    ref[i] = tref if s else r
    flag[i] = 1 if s else 0


@njit(cache=True, inline="always")
def _take_arrivals(ring, j0, j1, j2, usev):
    """This step's arrivals on the three receptors (v, exc, inh) of one neuron; clears the slots."""
    xv = 0.0
    if usev:
        xv = ring[j0]
        ring[j0] = 0.0
    xe = ring[j1]
    xi = ring[j2]
    ring[j1] = 0.0
    ring[j2] = 0.0
    return xv, xe, xi


@njit(cache=True, inline="always")
def _inputs(ring, base, N, s0, k, usev, ge, gi, iext, Ib0):
    """Neuron i = s0 + k of a population whose ring slots start at ``base``: takes this step's
    arrivals (clearing them) and returns (i, voltage jump, exc and inh synaptic state with the
    arrivals added, bias + external current). Unsigned indices: no negative-index wraparound,
    so the loops that call it vectorise."""
    i = np.uint64(s0 + k)
    xv, xe, xi = _take_arrivals(ring, np.uint64(base + s0 + k), np.uint64(base + N + s0 + k),
                                np.uint64(base + 2 * N + s0 + k), usev)
    return i, xv, ge[i] + xe, gi[i] + xi, Ib0 + iext[i]


@njit(cache=True, inline="always")
def _advance(i, vo, vn, Ge, Gi, de, di, th, vr, tref, v, ge, gi, ref, flag):
    """End of neuron i's step: hold vo while refractory (else take vn), decay the synaptic
    state, then threshold, reset and refractory count. Returns the potential before reset."""
    r = ref[i]
    vi = vo if r > 0 else vn
    ge[i] = Ge * de
    gi[i] = Gi * di
    _finish(i, vi, th, vr, tref, max(r - 1, 0), v, ref, flag)
    return vi


@njit(cache=True)
def _update_lif(s0, s1, base, N, pt, tref, v, ge, gi, ref, ring, iext, flag, usev):
    dm = pt[M.P_DM]
    de = pt[M.P_DE]
    di = pt[M.P_DI]
    Pe = pt[M.P_PE]
    Pi = pt[M.P_PI]
    EL = pt[M.P_EL]
    Ib0 = pt[M.P_IB]
    th = pt[M.P_TH]
    vr = pt[M.P_VR]
    for k in range(s1 - s0):  # usev is loop-invariant: the compiler unswitches it
        i, xv, Ie, Ii, Ib = _inputs(ring, base, N, s0, k, usev, ge, gi, iext, Ib0)
        vo = v[i]
        vn = EL + Ib + (vo - EL - Ib) * dm + Ie * Pe + Ii * Pi + xv
        _advance(i, vo, vn, Ie, Ii, de, di, th, vr, tref, v, ge, gi, ref, flag)


@njit(cache=True)
def _update_cond_euler(s0, s1, base, N, pt, tref, v, ge, gi, ref, ring, iext, flag, usev):
    de = pt[M.P_DE]
    di = pt[M.P_DI]
    EL = pt[M.P_EL]
    Ib0 = pt[M.P_IB]
    th = pt[M.P_TH]
    vr = pt[M.P_VR]
    Ee = pt[M.P_EE]
    Ei = pt[M.P_EI]
    dtau = pt[M.P_DTAU]
    for k in range(s1 - s0):  # usev is loop-invariant: the compiler unswitches it
        i, xv, Ge, Gi, Ib = _inputs(ring, base, N, s0, k, usev, ge, gi, iext, Ib0)
        vo = v[i]
        vn = vo + dtau * (Ge * (Ee - vo) + Gi * (Ei - vo) - (vo - EL) + Ib) + xv
        _advance(i, vo, vn, Ge, Gi, de, di, th, vr, tref, v, ge, gi, ref, flag)


@njit(cache=True)
def _update_cond_exp(s0, s1, base, N, pt, tref, v, ge, gi, ref, ring, iext, flag, usev):
    de = pt[M.P_DE]
    di = pt[M.P_DI]
    EL = pt[M.P_EL]
    Ib0 = pt[M.P_IB]
    th = pt[M.P_TH]
    vr = pt[M.P_VR]
    Ee = pt[M.P_EE]
    Ei = pt[M.P_EI]
    dtau = pt[M.P_DTAU]
    for k in range(s1 - s0):  # usev is loop-invariant: the compiler unswitches it
        i, xv, Ge, Gi, Ib = _inputs(ring, base, N, s0, k, usev, ge, gi, iext, Ib0)
        vo = v[i]
        gt = 1.0 + Ge + Gi
        vinf = (EL + Ib + Ge * Ee + Gi * Ei) / gt
        vn = vinf + (vo - vinf) * np.exp(-dtau * gt) + xv
        _advance(i, vo, vn, Ge, Gi, de, di, th, vr, tref, v, ge, gi, ref, flag)


@njit(cache=True)
def _update_adex(s0, s1, base, N, pt, tref, v, ge, gi, ref, wad, ring, iext, flag, usev):
    """AdEx (see :mod:`models`): forward Euler for V and w, exact decay of I_e, I_i."""
    de = pt[M.P_DE]
    di = pt[M.P_DI]
    EL = pt[M.P_EL]
    Ib0 = pt[M.P_IB]
    th = pt[M.P_TH]
    vr = pt[M.P_VR]
    dtau = pt[M.P_DTAU]
    DT = pt[M.P_DELTA_T]
    VT = pt[M.P_VT]
    igl = pt[M.P_INVGL]
    a = pt[M.P_A]
    bw = pt[M.P_B]
    dtw = pt[M.P_DTW]
    for k in range(s1 - s0):  # usev is loop-invariant: the compiler unswitches it
        i, xv, Ie, Ii, Ib = _inputs(ring, base, N, s0, k, usev, ge, gi, iext, Ib0)
        vo = v[i]
        wo = wad[i]
        ex = DT * np.exp(min((vo - VT) / DT, M.EXP_ARG_MAX))
        vn = vo + dtau * (-(vo - EL) + ex - wo * igl + Ib + Ie + Ii) + xv
        wn = wo + dtw * (a * (vo - EL) - wo)
        vi = _advance(i, vo, vn, Ie, Ii, de, di, th, vr, tref, v, ge, gi, ref, flag)
        wad[i] = wn + bw if vi >= th else wn


@njit(cache=True)
def _update_izh(s0, s1, base, N, pt, tref, v, ge, gi, ref, wad, ring, iext, flag, usev):
    """Izhikevich (2003) (see :mod:`models`): forward Euler for v and u at dt."""
    de = pt[M.P_DE]
    di = pt[M.P_DI]
    Ib0 = pt[M.P_IB]
    th = pt[M.P_TH]
    vr = pt[M.P_VR]
    dt = pt[M.P_DTAU]
    a = pt[M.P_A]
    bu = pt[M.P_B]
    du = pt[M.P_D]
    for k in range(s1 - s0):  # usev is loop-invariant: the compiler unswitches it
        i, xv, Ie, Ii, Ib = _inputs(ring, base, N, s0, k, usev, ge, gi, iext, Ib0)
        vo = v[i]
        uo = wad[i]
        vn = vo + dt * (0.04 * vo * vo + 5.0 * vo + 140.0 - uo + Ib + Ie + Ii) + xv
        un = uo + dt * a * (bu * vo - uo)
        vi = _advance(i, vo, vn, Ie, Ii, de, di, th, vr, tref, v, ge, gi, ref, flag)
        wad[i] = un + du if vi >= th else un


@njit(cache=True)
def _homeostasis(t, nsp, spk, hs_tab, hs_ptr, hs_syn, hs_post, syn_w, rho, fac):
    """Synaptic scaling (see :mod:`neurocircuits.plasticity.homeostatic`): the rate estimates
    decay one step and jump at this step's spikes; every ``k`` steps (at the end of steps
    t with (t + 1) % k == 0) each scaled synapse is multiplied by its postsynaptic factor
    exp(g (rho_target - rho_post)), then clipped."""
    n_rules, N = rho.shape
    for r in range(n_rules):
        d = hs_tab[r, 0]
        for i in range(N):
            rho[r, i] *= d
        inc = hs_tab[r, 1]
        for q in range(nsp):
            rho[r, spk[q]] += inc
        k = np.int64(hs_tab[r, 6])
        if (t + 1) % k != 0:
            continue
        g = hs_tab[r, 2]
        target = hs_tab[r, 3]
        for i in range(N):
            fac[i] = np.exp(g * (target - rho[r, i]))
        lo = hs_tab[r, 4]
        hi = hs_tab[r, 5]
        for a in range(hs_ptr[r], hs_ptr[r + 1]):
            s = hs_syn[a]
            syn_w[s] = min(max(syn_w[s] * fac[hs_post[a]], lo), hi)


@njit(cache=True)
def _collect(s0, s1, flag, flag64, spk, nsp):
    """Append the indices i in [s0, s1) with flag[i] set to spk (in increasing order); flags
    are scanned eight at a time through the uint64 view ``flag64``."""
    i = s0
    while i < s1 and (i & 7) != 0:
        if flag[i]:
            spk[nsp] = i
            nsp += 1
        i += 1
    while i + 8 <= s1:
        if flag64[i >> 3] != 0:
            for j in range(i, i + 8):
                if flag[j]:
                    spk[nsp] = j
                    nsp += 1
        i += 8
    while i < s1:
        if flag[i]:
            spk[nsp] = i
            nsp += 1
        i += 1
    return nsp


@njit(cache=True)
def _plasticity(nsp, spk, rule_tab, prow_ptr, prow_syn, prow_rule, pcol_ptr, pcol_syn, pcol_rule,
                pcol_pre, syn_post, syn_w, x_pre, x_post):
    """Trace-based STDP / iSTDP (see :mod:`neurocircuits.plasticity.stdp` and ``istdp``):
    traces decay one step, spikes of this step update their plastic synapses with the traces
    of the other side (read before this step's increments), then traces jump by 1."""
    n_rules, N = x_pre.shape
    for r in range(n_rules):
        dpre = rule_tab[r, 1]
        dpost = rule_tab[r, 2]
        for i in range(N):
            x_pre[r, i] *= dpre
            x_post[r, i] *= dpost
    for q in range(nsp):
        j = spk[q]
        for a in range(prow_ptr[j], prow_ptr[j + 1]):  # j is presynaptic: depression / Vogels pre term
            s = prow_syn[a]
            r = prow_rule[a]
            kind = rule_tab[r, 0]
            w = syn_w[s]
            xp = x_post[r, syn_post[s]]
            if kind == 0.0:
                w = w - rule_tab[r, 3] * xp
            elif kind == 1.0:
                w = w - rule_tab[r, 3] * w * xp
            else:
                w = w + rule_tab[r, 3] * (xp - rule_tab[r, 5])
            syn_w[s] = min(max(w, rule_tab[r, 6]), rule_tab[r, 7])
        for a in range(pcol_ptr[j], pcol_ptr[j + 1]):  # j is postsynaptic: potentiation
            s = pcol_syn[a]
            r = pcol_rule[a]
            kind = rule_tab[r, 0]
            w = syn_w[s]
            xq = x_pre[r, pcol_pre[a]]
            if kind == 1.0:
                w = w + rule_tab[r, 4] * (rule_tab[r, 7] - w) * xq
            else:
                w = w + rule_tab[r, 4] * xq
            syn_w[s] = min(max(w, rule_tab[r, 6]), rule_tab[r, 7])
    for q in range(nsp):
        j = spk[q]
        for r in range(n_rules):
            x_pre[r, j] += 1.0
            x_post[r, j] += 1.0


@njit(cache=True)
def _run_chunk(t0, n_steps, N, L,
               pop_kind, pop_start, pop_stop, pop_tref, pop_chan, ptab, src_key,
               indptr, syn_off, syn_w,
               drv_pop, drv_chan, drv_w, drv_key, drv_k0, drv_cs, drv_cl, cdf,
               st_step, st_id, iext,
               v, ge, gi, ref, wad, ring, spike_count, st_ptr,
               rec_flag, rec_step, rec_id, rec_n,
               mon_idx, mon_var, mon_every, mon_row0, mon_buf,
               pop_counts, spk, flag,
               rule_tab, prow_ptr, prow_syn, prow_rule, pcol_ptr, pcol_syn, pcol_rule, pcol_pre,
               syn_post, x_pre, x_post, hs_tab, hs_ptr, hs_syn, hs_post, rho):
    """Advance ``n_steps`` steps from global step ``t0``; returns the steps done (fewer when
    the spike buffer would overflow). See the module docstring for the step order."""
    mask = L - 1
    stride = 3 * N
    ring_size = L * stride
    n_pops = pop_kind.size
    n_drv = drv_pop.size
    n_cols = mon_idx.size
    cap = rec_step.size
    n_rec_neurons = 0
    for i in range(N):
        n_rec_neurons += rec_flag[i]
    NN = np.uint64(N)
    flag64 = flag.view(np.uint64)
    fac = np.empty(N if hs_tab.shape[0] > 0 else 0)
    for k in range(n_steps):
        t = t0 + k
        if rec_n[0] + n_rec_neurons > cap:
            return k
        # state samples at the start of the step
        for c in range(n_cols):
            if t % mon_every[c] == 0:
                j = mon_idx[c]
                var = mon_var[c]
                if var == 0:
                    val = v[j]
                elif var == 1:
                    val = ge[j]
                elif var == 2:
                    val = gi[j]
                else:
                    val = wad[j]
                mon_buf[t // mon_every[c] - mon_row0[c], c] = val
        base = (t & mask) * stride
        nsp = 0
        # 1. spike-time sources
        p0 = st_ptr[0]
        while p0 < st_step.size and st_step[p0] < t:
            p0 += 1
        while p0 < st_step.size and st_step[p0] == t:
            spk[nsp] = st_id[p0]
            nsp += 1
            p0 += 1
        st_ptr[0] = p0
        tN = np.uint64(t) * NN
        for p in range(n_pops):
            kind = pop_kind[p]
            s0 = pop_start[p]
            s1 = pop_stop[p]
            before = nsp
            if kind == M.KIND_SPIKES:
                # counted here for the per-population spike counts
                for q in range(nsp):
                    if spk[q] >= s0 and spk[q] < s1:
                        pop_counts[k, p] += 1
                continue
            if kind == M.KIND_POISSON:
                pr = ptab[p, M.P_PSPIKE]
                key = src_key[p]
                for i in range(s0, s1):
                    if _u01(key, tN + np.uint64(i)) < pr:
                        spk[nsp] = i
                        nsp += 1
                pop_counts[k, p] = nsp - before
                continue
            # 2a. Poisson drives onto this population
            for d in range(n_drv):
                if drv_pop[d] != p:
                    continue
                key = drv_key[d]
                cs = drv_cs[d]
                last = drv_cl[d] - 1
                k0 = drv_k0[d]
                w = drv_w[d]
                off = base + drv_chan[d] * N
                for i in range(s0, s1):
                    u = _u01(key, tN + np.uint64(i))
                    j = 0
                    while j < last and u >= cdf[cs + j]:
                        j += 1
                    cnt = k0 + j
                    if cnt > 0:
                        ring[np.uint64(off + i)] += cnt * w
            # 2b. neuron update (branch-free loops that vectorise), then collect the spikes;
            # the "v" receptor slot is read only where something targets it
            usev = (pop_chan[p] & 1) != 0
            if kind == M.KIND_LIF:
                _update_lif(s0, s1, base, N, ptab[p], pop_tref[p], v, ge, gi, ref, ring, iext, flag,
                            usev)
            elif kind == M.KIND_COND_EULER:
                _update_cond_euler(s0, s1, base, N, ptab[p], pop_tref[p], v, ge, gi, ref, ring, iext,
                                   flag, usev)
            elif kind == M.KIND_COND_EXP:
                _update_cond_exp(s0, s1, base, N, ptab[p], pop_tref[p], v, ge, gi, ref, ring, iext,
                                 flag, usev)
            elif kind == M.KIND_ADEX:
                _update_adex(s0, s1, base, N, ptab[p], pop_tref[p], v, ge, gi, ref, wad, ring, iext,
                             flag, usev)
            else:
                _update_izh(s0, s1, base, N, ptab[p], pop_tref[p], v, ge, gi, ref, wad, ring, iext,
                            flag, usev)
            nsp = _collect(s0, s1, flag, flag64, spk, nsp)
            pop_counts[k, p] = nsp - before
        # 3a. plasticity: decay traces, update plastic synapses of this step's spikes, add spikes
        if rule_tab.shape[0] > 0:
            _plasticity(nsp, spk, rule_tab, prow_ptr, prow_syn, prow_rule, pcol_ptr, pcol_syn,
                        pcol_rule, pcol_pre, syn_post, syn_w, x_pre, x_post)
        # 3b. homeostatic synaptic scaling
        if hs_tab.shape[0] > 0:
            _homeostasis(t, nsp, spk, hs_tab, hs_ptr, hs_syn, hs_post, syn_w, rho, fac)
        # 3c. delivery
        for q in range(nsp):
            j = spk[q]
            spike_count[j] += 1
            if rec_flag[j]:
                r = rec_n[0]
                rec_step[r] = t
                rec_id[r] = j
                rec_n[0] = r + 1
            ubase = np.uint64(base)
            usize = np.uint64(ring_size)
            for s in range(indptr[j], indptr[j + 1]):
                us = np.uint64(s)
                idx = ubase + np.uint64(syn_off[us])
                if idx >= usize:
                    idx -= usize
                ring[idx] += syn_w[us]
    return n_steps


# ----------------------------------------------------------------------- Python driver
class MonitorPlan:
    """What the monitors of a network need from an engine, and how to hand results back."""

    def __init__(self, net, built):
        from neurocircuits.sim.monitors import RateMonitor, SpikeMonitor, StateMonitor

        N = built.N
        self.spike_mons = [m for m in net.monitors if isinstance(m, SpikeMonitor)]
        self.state_mons = [m for m in net.monitors if isinstance(m, StateMonitor)]
        self.rate_mons = [m for m in net.monitors if isinstance(m, RateMonitor)]
        self.rec_flag = np.zeros(N, dtype=np.uint8)
        for m in self.spike_mons:
            self.rec_flag[m.start:m.stop] = 1
        cols_i, cols_v, cols_e, self.slices = [], [], [], []
        pos = 0
        for m in self.state_mons:
            cols_i.append(m.col_idx)
            cols_v.append(m.col_var)
            cols_e.append(np.full(m.col_idx.size, m.every_steps, np.int64))
            self.slices.append(slice(pos, pos + m.col_idx.size))
            pos += m.col_idx.size
        cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.int64)  # noqa: E731
        self.mon_idx, self.mon_var, self.mon_every = cat(cols_i), cat(cols_v), cat(cols_e)

    def state_rows(self, t0: int, n: int):
        """Per column: first sample index, and the buffer of rows for steps [t0, t0 + n)."""
        e = self.mon_every
        row0 = -(-t0 // e) if e.size else np.zeros(0, np.int64)
        rows = int(((t0 + n - 1) // e - row0).max() + 1) if e.size else 0
        return row0.astype(np.int64), np.zeros((max(rows, 0), e.size))

    def dispatch(self, t0, n_done, rec_step, rec_id, pop_counts, mon_buf, row0):
        for m in self.spike_mons:
            m._consume(rec_step, rec_id)
        for m in self.rate_mons:
            m._consume(pop_counts[:n_done])
        for m, sl in zip(self.state_mons, self.slices):
            k = m.every_steps
            first = -(-t0 // k)
            last = (t0 + n_done - 1) // k
            if last >= first:
                c0 = sl.start
                r0 = first - row0[c0]
                m._consume(np.arange(first, last + 1) * k, mon_buf[r0:r0 + last - first + 1, sl])


class RunInfo(dict):
    """Timings and counts of a run (wall seconds, steps, spikes)."""


def run_steps(net, b, state, n_steps: int, progress: bool = True, chunk_steps: int = 10_000,
              spike_capacity: int | None = None) -> RunInfo:
    """Run ``n_steps`` compiled steps of ``net`` (built as ``b``) from ``state`` (updated in place)."""
    plan = MonitorPlan(net, b)
    N = b.N
    cap = spike_capacity or max(2 * N + 16, min(4_000_000, N * chunk_steps // 20 + 2 * N + 16))
    cap = max(cap, N + 1)
    rec_step = np.zeros(cap, np.int64)
    rec_id = np.zeros(cap, np.int64)
    spk = np.zeros(N + 1, np.int64)
    flag = np.zeros((N + 8) // 8 * 8, np.uint8)
    t_start = time.perf_counter()
    done = 0
    bar = _progress(total=n_steps, desc="simulate", unit="step") if progress else None
    spikes_before = int(state["spike_count"].sum())
    while done < n_steps:
        t0 = net.t_step
        n = min(chunk_steps, n_steps - done)
        row0, mon_buf = plan.state_rows(t0, n)
        pop_counts = np.zeros((n, len(b.pop_kind)), np.int64)
        rec_n = np.zeros(1, np.int64)
        got = _run_chunk(t0, n, N, b.L, b.pop_kind, b.pop_start, b.pop_stop, b.pop_tref, b.pop_chan,
                         b.ptab, b.src_key, b.indptr, b.syn_off, b.syn_w,
                         b.drv_pop, b.drv_chan, b.drv_w, b.drv_key, b.drv_k0, b.drv_cdf_start,
                         b.drv_cdf_len, b.cdf_table, b.st_step, b.st_id, b.iext,
                         state["v"], state["ge"], state["gi"], state["ref"], state["adapt"],
                         state["ring"],
                         state["spike_count"], state["st_ptr"],
                         plan.rec_flag, rec_step, rec_id, rec_n,
                         plan.mon_idx, plan.mon_var, plan.mon_every, row0, mon_buf, pop_counts, spk,
                         flag, b.rule_tab, b.prow_ptr, b.prow_syn, b.prow_rule, b.pcol_ptr, b.pcol_syn,
                         b.pcol_rule, b.pcol_pre, b.syn_post, state["x_pre"], state["x_post"],
                         b.hs_tab, b.hs_ptr, b.hs_syn, b.hs_post, state["rho"])
        got = int(got)
        r = int(rec_n[0])
        plan.dispatch(t0, got, rec_step[:r], rec_id[:r], pop_counts, mon_buf, row0)
        net.t_step += got
        done += got
        if bar is not None:
            bar.update(got)
    if bar is not None:
        bar.close()
    wall = time.perf_counter() - t_start
    n_sp = int(state["spike_count"].sum()) - spikes_before
    return RunInfo(wall_s=wall, steps=n_steps, spikes=n_sp)


@njit(cache=True)
def csr_order(pre, N):
    """Stable counting sort of synapses by presynaptic neuron: ``(order, indptr)`` with
    ``pre[order]`` ascending and row ``j`` at ``order[indptr[j]:indptr[j + 1]]``. O(n + N)."""
    indptr = np.zeros(N + 1, np.int64)
    for k in range(pre.size):
        indptr[pre[k] + 1] += 1
    for j in range(N):
        indptr[j + 1] += indptr[j]
    fill = indptr[:-1].copy()
    order = np.empty(pre.size, np.int64)
    for k in range(pre.size):
        j = pre[k]
        order[fill[j]] = k
        fill[j] += 1
    return order, indptr


@njit(cache=True)
def build_csr(pre, post, w, d, ch, pj, N):
    """Scatter synapses (in projection order) into CSR order by presynaptic neuron (stable).
    Returns ``(indptr, order, syn_off, syn_w, syn_post, syn_delay, syn_chan, syn_proj)`` where
    ``syn_off = (delay * 3 + receptor) * N + post`` is the synapse's offset in the delay ring."""
    order, indptr = csr_order(pre, N)
    n = pre.size
    syn_off = np.empty(n, np.int32)
    syn_w = np.empty(n, np.float64)
    syn_post = np.empty(n, np.int32)
    syn_delay = np.empty(n, np.int32)
    syn_chan = np.empty(n, np.int8)
    syn_proj = np.empty(n, np.int32)
    for s in range(n):
        k = order[s]
        syn_off[s] = (d[k] * 3 + ch[k]) * N + post[k]
        syn_w[s] = w[k]
        syn_post[s] = post[k]
        syn_delay[s] = d[k]
        syn_chan[s] = ch[k]
        syn_proj[s] = pj[k]
    return indptr, order, syn_off, syn_w, syn_post, syn_delay, syn_chan, syn_proj
