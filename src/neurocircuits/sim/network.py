"""Network description: populations, projections, drives; built into flat arrays for the engines.

::

    from neurocircuits.sim import network as nw, models, connectors as cn
    net = nw.Network(dt_ms=0.1, seed=1)
    E = net.add(models.coba_vogels_abbott(3200), name="E", v_init_mV=cn.Normal(-55, 5))
    I = net.add(models.coba_vogels_abbott(800), name="I", v_init_mV=cn.Normal(-55, 5))
    net.connect(E, [E, I], cn.FixedProbability(0.02), weight=0.6, receptor="exc")
    net.connect(I, [E, I], cn.FixedProbability(0.02), weight=6.7, receptor="inh")
    spikes = net.spike_monitor()
    net.run(1000.0)
    spikes.spike_trains().mean_rate_hz()

Neurons of all populations share one global index (populations in the order they were added).
Synapses are stored sparse, in CSR order by presynaptic neuron; each synapse has its own
weight and delay (in whole steps, ``1 <= delay_steps``), delivered through a ring buffer.

Timing convention (NEST-like): a spike recorded at step ``s`` (time ``s * dt``) with delay
``d`` steps arrives at step ``s + d``. Arrivals on ``"exc"`` / ``"inh"`` jump the synaptic
current / conductance at the start of that step; arrivals on ``"v"`` are added to the
membrane after that step's integration, before the threshold test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neurocircuits.sim import models as M
from neurocircuits.sim.connectors import Connector, Distribution, resolve
from neurocircuits.sim.inputs import PoissonInput, poisson_cdf_table, stream_key
from neurocircuits.validation import check_float, check_int

RECEPTORS = {"v": 0, "exc": 1, "inh": 2}
NEURON_KINDS = (M.KIND_LIF, M.KIND_COND_EXP, M.KIND_COND_EULER, M.KIND_ADEX, M.KIND_IZH)


def steps_of(name: str, value_ms, dt_ms: float, *, min_steps: int = 0) -> np.ndarray:
    """Durations in ms -> whole steps; rejects values that are not multiples of ``dt_ms``."""
    arr = np.asarray(value_ms, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    steps = np.rint(arr / dt_ms)
    bad = np.abs(arr / dt_ms - steps) > 1e-6
    if bad.any():
        v = arr[bad].flat[0] if arr.ndim else float(arr)
        raise ValueError(f"{name} = {v} ms is not a multiple of dt_ms = {dt_ms} (not representable "
                         "on the step grid)")
    if (steps < min_steps).any():
        v = arr[steps < min_steps].flat[0] if arr.ndim else float(arr)
        raise ValueError(f"{name} = {v} ms is below {min_steps} step(s) of dt_ms = {dt_ms}")
    return steps.astype(np.int64)


@dataclass(eq=False)
class Population:
    """A group of neurons of one model; ``start:stop`` is its slice of the global index."""

    name: str
    model: object
    index: int
    start: int
    v_init: object = None

    @property
    def n(self) -> int:
        return self.model.n

    @property
    def stop(self) -> int:
        return self.start + self.model.n

    def __len__(self) -> int:
        return self.model.n

    def __repr__(self) -> str:
        return f"Population({self.name!r}, {type(self.model).__name__}, n={self.n})"


@dataclass(eq=False)
class Projection:
    """Synapses ``pre[k] -> post[k]`` (local indices) with weights and delays (steps)."""

    pre: Population
    post: Population
    pre_idx: np.ndarray
    post_idx: np.ndarray
    weight: np.ndarray
    delay_steps: np.ndarray
    receptor: str
    name: str
    plasticity: object = None

    @property
    def n_synapses(self) -> int:
        return int(self.pre_idx.size)


@dataclass(eq=False)
class Drive:
    target: Population
    spec: PoissonInput
    index: int


@dataclass
class Built:
    """Flat arrays of a network, the input of both engines (see :mod:`engine`)."""

    N: int
    dt_ms: float
    L: int
    pop_kind: np.ndarray
    pop_start: np.ndarray
    pop_stop: np.ndarray
    pop_tref: np.ndarray
    pop_chan: np.ndarray
    ptab: np.ndarray
    src_key: np.ndarray
    indptr: np.ndarray
    syn_off: np.ndarray
    syn_w: np.ndarray
    syn_post: np.ndarray
    syn_delay: np.ndarray
    syn_chan: np.ndarray
    syn_proj: np.ndarray
    drv_pop: np.ndarray
    drv_chan: np.ndarray
    drv_w: np.ndarray
    drv_key: np.ndarray
    drv_k0: np.ndarray
    drv_cdf_start: np.ndarray
    drv_cdf_len: np.ndarray
    cdf_table: np.ndarray
    st_step: np.ndarray
    st_id: np.ndarray
    iext: np.ndarray
    v0: np.ndarray
    order: np.ndarray = field(default=None, repr=False)  # CSR position -> projection-order index
    rule_tab: np.ndarray = None   # [n_rules, N_RCOLS] plasticity rules
    prow_ptr: np.ndarray = None   # plastic synapses by presynaptic neuron (CSR positions)
    prow_syn: np.ndarray = None
    prow_rule: np.ndarray = None
    pcol_ptr: np.ndarray = None   # plastic synapses by postsynaptic neuron
    pcol_syn: np.ndarray = None
    pcol_rule: np.ndarray = None
    pcol_pre: np.ndarray = None
    hs_tab: np.ndarray = None     # [n_scaling_rules, N_HCOLS] homeostatic scaling rules
    hs_ptr: np.ndarray = None     # scaled synapses of rule r: hs_syn[hs_ptr[r]:hs_ptr[r + 1]]
    hs_syn: np.ndarray = None     # (CSR positions)
    hs_post: np.ndarray = None    # their postsynaptic neurons
    adapt0: np.ndarray = None     # initial adaptation / recovery variable (AdEx w, Izhikevich u)


class Network:
    """A network of populations, projections and drives, simulated by :meth:`run`."""

    def __init__(self, dt_ms: float = 0.1, seed: int = 0):
        self.dt_ms = check_float("dt_ms", dt_ms, positive=True)
        self.seed = check_int("seed", seed, min_value=0)
        self.populations: list[Population] = []
        self.projections: list[Projection] = []
        self.drives: list[Drive] = []
        self.monitors: list = []
        self._iext: dict[int, np.ndarray] = {}
        self._built: Built | None = None
        self.state: dict | None = None
        self.t_step = 0

    # ---------------------------------------------------------------------------- building
    @property
    def n_neurons(self) -> int:
        return sum(p.n for p in self.populations)

    def _frozen(self):
        if self._built is not None:
            raise RuntimeError("the network has been built (run was called); it can no longer change")

    def add(self, model, name: str | None = None, v_init_mV=None) -> Population:
        """Add a population of ``model`` (from :mod:`models`); ``v_init_mV`` is a scalar, an
        array of ``n`` or a :class:`~neurocircuits.sim.connectors.Distribution` (default E_L)."""
        self._frozen()
        if not hasattr(model, "table_row"):
            raise TypeError(f"model must be a neuron model of neurocircuits.sim.models, got "
                            f"{type(model).__name__}")
        name = name or f"pop{len(self.populations)}"
        if any(p.name == name for p in self.populations):
            raise ValueError(f"population name {name!r} is already used")
        if v_init_mV is not None and model.kind not in NEURON_KINDS:
            raise ValueError(f"population {name!r}: sources have no membrane potential (v_init_mV)")
        pop = Population(name, model, len(self.populations), self.n_neurons, v_init_mV)
        self.populations.append(pop)
        return pop

    def _check_pop(self, pop, what):
        if not isinstance(pop, Population) or pop not in self.populations:
            raise ValueError(f"{what} must be a population of this network, got {pop!r}")

    def connect(self, pre, post, connector: Connector, weight, delay_ms=None, receptor: str = "exc",
                name: str | None = None, plasticity=None):
        """Connect ``pre`` to ``post`` (a population or a list of them: one projection each).

        weight: scalar, array (one per synapse) or Distribution; mV for current-based targets,
        units of g_L for conductance receptors of :class:`~models.LIFCond` (must be >= 0).
        delay_ms: scalar, array or Distribution (drawn values are rounded to the step grid);
        at least one step; default one step.
        plasticity: None, :class:`~neurocircuits.plasticity.stdp.STDP`,
        :class:`~neurocircuits.plasticity.istdp.InhibitorySTDP` or
        :class:`~neurocircuits.plasticity.homeostatic.SynapticScaling` (weights then change
        during runs; read them with :meth:`get_weights`)."""
        self._frozen()
        if isinstance(post, (list, tuple)):
            return [self.connect(pre, q, connector, weight, delay_ms, receptor, name, plasticity) for q in post]
        self._check_pop(pre, "pre")
        self._check_pop(post, "post")
        if not isinstance(connector, Connector):
            raise TypeError(f"connector must be a Connector, got {type(connector).__name__}")
        if receptor not in RECEPTORS:
            raise ValueError(f"receptor must be one of {tuple(RECEPTORS)}, got {receptor!r}")
        if post.model.kind not in NEURON_KINDS:
            raise ValueError(f"post population {post.name!r} is a source; it cannot receive synapses")
        k = len(self.projections)
        rng = np.random.default_rng([self.seed, 1, k])
        pre_idx, post_idx = connector.connect(pre.n, post.n, rng, pre is post)
        n = pre_idx.size
        w = resolve("weight", weight, n, rng)
        if not np.isfinite(w).all():
            raise ValueError("weight contains NaN or infinite values")
        if isinstance(post.model, M.LIFCond) and receptor != "v" and n and w.min() < 0:
            raise ValueError(f"conductance weights onto {post.name!r} must be >= 0 (units of g_L), "
                             f"got {w.min()}")
        if delay_ms is None:
            d = np.ones(n, dtype=np.int64)
        elif isinstance(delay_ms, Distribution):
            raw = delay_ms.sample(n, rng) / self.dt_ms
            d = np.rint(raw).astype(np.int64)
            if n and d.min() < 1:
                raise ValueError(f"delay distribution {delay_ms!r} gives delays below dt_ms = "
                                 f"{self.dt_ms}; bound it below by dt")
        else:
            if np.ndim(delay_ms) == 0:
                d = np.full(n, int(steps_of("delay_ms", check_float("delay_ms", delay_ms), self.dt_ms,
                                            min_steps=1)))
            else:
                arr = resolve("delay_ms", delay_ms, n, rng)
                d = steps_of("delay_ms", arr, self.dt_ms, min_steps=1)
        if plasticity is not None:
            from neurocircuits.plasticity.homeostatic import SynapticScaling
            from neurocircuits.plasticity.istdp import InhibitorySTDP
            from neurocircuits.plasticity.stdp import STDP

            if not isinstance(plasticity, (STDP, InhibitorySTDP, SynapticScaling)):
                raise TypeError(f"plasticity must be STDP, InhibitorySTDP or SynapticScaling, got "
                                f"{type(plasticity).__name__}")
            if isinstance(plasticity, InhibitorySTDP) and receptor != "inh":
                raise ValueError(f"InhibitorySTDP acts on inhibitory synapses (receptor 'inh'), got {receptor!r}")
            if n and (w.min() < plasticity.w_min or w.max() > plasticity.w_max):
                raise ValueError(f"initial weights [{w.min()}, {w.max()}] must lie in [w_min, w_max] = "
                                 f"[{plasticity.w_min}, {plasticity.w_max}] of the plasticity rule")
        proj = Projection(pre, post, pre_idx, post_idx, w, d, receptor,
                          name or f"{pre.name}->{post.name}", plasticity)
        self.projections.append(proj)
        return proj

    def add_input(self, target, spec: PoissonInput) -> Drive:
        """Poisson drive onto every neuron of ``target``."""
        self._frozen()
        self._check_pop(target, "target")
        if not isinstance(spec, PoissonInput):
            raise TypeError(f"spec must be a PoissonInput, got {type(spec).__name__}")
        if target.model.kind not in NEURON_KINDS:
            raise ValueError(f"target {target.name!r} is a source; it cannot receive input")
        if isinstance(target.model, M.LIFCond) and spec.receptor != "v" and spec.weight < 0:
            raise ValueError(f"conductance weight must be >= 0, got {spec.weight}")
        lam = spec.lam(self.dt_ms)
        if lam > 1e5:
            raise ValueError(f"Poisson input mean {lam:.3g} events per step is too large")
        d = Drive(target, spec, len(self.drives))
        self.drives.append(d)
        return d

    def poisson_input(self, target, n_sources: int, rate_hz: float, weight: float, receptor: str = "v"):
        return self.add_input(target, PoissonInput(n_sources, rate_hz, weight, receptor))

    def set_current(self, target, I_mV) -> None:
        """Constant extra drive ``R_m I`` (mV) per neuron of ``target`` (scalar or array); for
        :class:`~models.Izhikevich` populations in that model's input units (mV/ms)."""
        self._frozen()
        self._check_pop(target, "target")
        if target.model.kind not in NEURON_KINDS:
            raise ValueError(f"target {target.name!r} is a source; it takes no current")
        from neurocircuits.sim.inputs import constant_current
        self._iext[target.index] = constant_current(target.n, I_mV)

    # monitors ----------------------------------------------------------------------------
    def spike_monitor(self, pop=None, stream_to=None):
        from neurocircuits.sim.monitors import SpikeMonitor
        return self.add_monitor(SpikeMonitor(pop, stream_to=stream_to))

    def state_monitor(self, pop, variables=("v",), neurons=None, every_steps: int = 1):
        from neurocircuits.sim.monitors import StateMonitor
        return self.add_monitor(StateMonitor(pop, variables, neurons, every_steps))

    def rate_monitor(self, pop=None):
        from neurocircuits.sim.monitors import RateMonitor
        return self.add_monitor(RateMonitor(pop))

    def add_monitor(self, mon):
        if self._built is not None and self.t_step > 0:
            raise RuntimeError("monitors must be added before the first run")
        mon.attach(self)
        self.monitors.append(mon)
        return mon

    # build -------------------------------------------------------------------------------
    def build(self) -> Built:
        if self._built is not None:
            return self._built
        if not self.populations:
            raise ValueError("the network has no populations")
        dt = self.dt_ms
        N = self.n_neurons
        P = len(self.populations)
        pop_kind = np.array([p.model.kind for p in self.populations], dtype=np.int64)
        pop_start = np.array([p.start for p in self.populations], dtype=np.int64)
        pop_stop = np.array([p.stop for p in self.populations], dtype=np.int64)
        pop_tref = np.array([int(steps_of(f"{p.name}.t_ref_ms", p.model.t_ref_ms, dt))
                             for p in self.populations], dtype=np.int64)
        ptab = np.stack([p.model.table_row(dt) for p in self.populations])
        src_key = np.array([stream_key(self.seed, 1000 + k) for k in range(P)], dtype=np.uint64)
        chan = np.zeros(P, dtype=np.int64)

        # synapses -> CSR by presynaptic neuron (stable: projection order, then creation order)
        from neurocircuits.sim.engine import build_csr

        projs = self.projections
        n_syn = sum(pr.n_synapses for pr in projs)
        pre = np.empty(n_syn, np.int64)
        post = np.empty(n_syn, np.int64)
        w = np.empty(n_syn, np.float64)
        d = np.empty(n_syn, np.int64)
        ch = np.empty(n_syn, np.int8)
        pj = np.empty(n_syn, np.int32)
        pos = 0
        for k, pr in enumerate(projs):
            m = pr.n_synapses
            sl = slice(pos, pos + m)
            np.add(pr.pre_idx, pr.pre.start, out=pre[sl])
            np.add(pr.post_idx, pr.post.start, out=post[sl])
            w[sl] = pr.weight
            d[sl] = pr.delay_steps
            ch[sl] = RECEPTORS[pr.receptor]
            pj[sl] = k
            pos += m
            if m:
                chan[pr.post.index] |= 1 << RECEPTORS[pr.receptor]
        d_max = int(d.max()) if d.size else 1
        L = 1 << max(1, math.ceil(math.log2(d_max + 1)))
        if L * 3 * N >= 2**31:
            raise ValueError(f"delay ring of {L} slots x 3 receptors x {N} neurons exceeds 2^31 entries")
        indptr, order, syn_off, syn_w, syn_post, syn_delay, syn_chan, syn_proj = build_csr(
            pre, post, w, d, ch, pj, N)
        del pre, post, w, d, ch, pj

        # drives
        drv_pop, drv_chan, drv_w, drv_key, drv_k0, drv_cs, drv_cl, tables = [], [], [], [], [], [], [], []
        pos = 0
        for dv in self.drives:
            k0, cdf = poisson_cdf_table(dv.spec.lam(dt))
            drv_pop.append(dv.target.index)
            drv_chan.append(RECEPTORS[dv.spec.receptor])
            drv_w.append(dv.spec.weight)
            drv_key.append(stream_key(self.seed, 2000 + dv.index))
            drv_k0.append(k0)
            drv_cs.append(pos)
            drv_cl.append(cdf.size)
            tables.append(cdf)
            pos += cdf.size
            chan[dv.target.index] |= 1 << RECEPTORS[dv.spec.receptor]

        # spike-time sources, sorted by step then global id
        st_s, st_i = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for p in self.populations:
            if p.model.kind == M.KIND_SPIKES and p.model.times_ms.size:
                s = np.rint(p.model.times_ms / dt).astype(np.int64)
                gid = p.start + p.model.ids
                key = s * N + gid
                if np.unique(key).size != key.size:
                    raise ValueError(f"spike source {p.name!r}: two spikes of one neuron fall in the "
                                     f"same step of dt_ms = {dt}")
                st_s.append(s)
                st_i.append(gid)
        st_step, st_id = np.concatenate(st_s), np.concatenate(st_i)
        o = np.lexsort((st_id, st_step))
        st_step, st_id = st_step[o], st_id[o]

        iext = np.zeros(N)
        for k, arr in self._iext.items():
            p = self.populations[k]
            iext[p.start:p.stop] = arr

        v0 = np.zeros(N)
        for p in self.populations:
            if p.model.kind not in NEURON_KINDS:
                continue
            rng = np.random.default_rng([self.seed, 2, p.index])
            spec = p.v_init if p.v_init is not None else p.model.E_L_mV
            v0[p.start:p.stop] = resolve(f"{p.name}.v_init_mV", spec, p.n, rng)
        if not np.isfinite(v0).all():
            raise ValueError("initial membrane potentials contain NaN or infinite values")
        adapt0 = np.zeros(N)
        for p in self.populations:
            if hasattr(p.model, "adaptation_init"):
                adapt0[p.start:p.stop] = p.model.adaptation_init(v0[p.start:p.stop])

        plast = self._plasticity_arrays(N, indptr, order, syn_post)

        self._built = Built(
            N=N, dt_ms=dt, L=L, pop_kind=pop_kind, pop_start=pop_start, pop_stop=pop_stop,
            pop_tref=pop_tref, pop_chan=chan, ptab=ptab, src_key=src_key, indptr=indptr,
            syn_off=syn_off, syn_w=syn_w, syn_post=syn_post,
            syn_delay=syn_delay, syn_chan=syn_chan, syn_proj=syn_proj,
            drv_pop=np.array(drv_pop, np.int64), drv_chan=np.array(drv_chan, np.int64),
            drv_w=np.array(drv_w, np.float64), drv_key=np.array(drv_key, np.uint64),
            drv_k0=np.array(drv_k0, np.int64), drv_cdf_start=np.array(drv_cs, np.int64),
            drv_cdf_len=np.array(drv_cl, np.int64),
            cdf_table=np.concatenate(tables) if tables else np.zeros(1),
            st_step=st_step, st_id=st_id, iext=iext, v0=v0, adapt0=adapt0, order=order, **plast)
        return self._built

    def _plasticity_arrays(self, N, indptr, order, syn_post) -> dict:
        from neurocircuits.plasticity.homeostatic import N_HCOLS, SynapticScaling
        from neurocircuits.plasticity.stdp import N_RCOLS

        rules, positions, rule_idx = [], [], []
        inv = np.empty(order.size, np.int64)
        inv[order] = np.arange(order.size)
        self._inv_order = inv
        # homeostatic scaling: synapses grouped by rule, projection order within a rule
        hs_rules, hs_groups = [], []
        off = 0
        for pr in self.projections:
            if isinstance(pr.plasticity, SynapticScaling) and pr.n_synapses:
                ids = [id(r) for r in hs_rules]
                if id(pr.plasticity) not in ids:
                    hs_rules.append(pr.plasticity)
                    hs_groups.append([])
                    ids.append(id(pr.plasticity))
                hs_groups[ids.index(id(pr.plasticity))].append(inv[off:off + pr.n_synapses])
            off += pr.n_synapses
        hs_tab = (np.stack([r.table_row(self.dt_ms) for r in hs_rules]) if hs_rules
                  else np.zeros((0, N_HCOLS)))
        hs_syn = (np.concatenate([np.concatenate(g) for g in hs_groups]) if hs_rules
                  else np.zeros(0, np.int64)).astype(np.int64)
        hs_ptr = np.zeros(len(hs_rules) + 1, np.int64)
        np.cumsum([sum(x.size for x in g) for g in hs_groups], out=hs_ptr[1:])
        hs_post = syn_post[hs_syn].astype(np.int64)
        off = 0
        for pr in self.projections:
            if (pr.plasticity is not None and not isinstance(pr.plasticity, SynapticScaling)
                    and pr.n_synapses):
                ids = [id(r) for r in rules]
                if id(pr.plasticity) not in ids:
                    rules.append(pr.plasticity)
                    ids.append(id(pr.plasticity))
                positions.append(inv[off:off + pr.n_synapses])
                rule_idx.append(np.full(pr.n_synapses, ids.index(id(pr.plasticity)), np.int64))
            off += pr.n_synapses
        rule_tab = (np.stack([r.table_row(self.dt_ms) for r in rules]) if rules
                    else np.zeros((0, N_RCOLS)))
        if positions:
            pos = np.concatenate(positions)
            ridx = np.concatenate(rule_idx)
            o = np.argsort(pos, kind="stable")
            prow_syn, prow_rule = pos[o], ridx[o]
            pre_of = np.searchsorted(indptr, prow_syn, side="right") - 1
            prow_ptr = np.zeros(N + 1, np.int64)
            np.cumsum(np.bincount(pre_of, minlength=N), out=prow_ptr[1:])
            post_of = syn_post[prow_syn].astype(np.int64)
            oc = np.argsort(post_of, kind="stable")
            pcol_syn, pcol_rule, pcol_pre = prow_syn[oc], prow_rule[oc], pre_of[oc]
            pcol_ptr = np.zeros(N + 1, np.int64)
            np.cumsum(np.bincount(post_of, minlength=N), out=pcol_ptr[1:])
        else:
            prow_ptr = pcol_ptr = np.zeros(N + 1, np.int64)
            prow_syn = prow_rule = pcol_syn = pcol_rule = pcol_pre = np.zeros(0, np.int64)
        return dict(rule_tab=rule_tab, prow_ptr=prow_ptr, prow_syn=prow_syn.astype(np.int64),
                    prow_rule=prow_rule.astype(np.int64), pcol_ptr=pcol_ptr,
                    pcol_syn=pcol_syn.astype(np.int64), pcol_rule=pcol_rule.astype(np.int64),
                    pcol_pre=pcol_pre.astype(np.int64), hs_tab=hs_tab, hs_ptr=hs_ptr, hs_syn=hs_syn,
                    hs_post=hs_post)

    def initial_state(self) -> dict:
        b = self.build()
        from neurocircuits.plasticity.homeostatic import H_TARGET

        rho = np.repeat(b.hs_tab[:, H_TARGET:H_TARGET + 1], b.N, axis=1)
        return dict(v=b.v0.copy(), ge=np.zeros(b.N), gi=np.zeros(b.N), ref=np.zeros(b.N, np.int64),
                    adapt=b.adapt0.copy(), ring=np.zeros(b.L * 3 * b.N),
                    spike_count=np.zeros(b.N, np.int64),
                    st_ptr=np.zeros(1, np.int64), x_pre=np.zeros((b.rule_tab.shape[0], b.N)),
                    x_post=np.zeros((b.rule_tab.shape[0], b.N)), rho=np.ascontiguousarray(rho))

    # run ---------------------------------------------------------------------------------
    def run(self, duration_ms: float, engine: str = "compiled", progress: bool = True,
            chunk_steps: int = 10_000):
        """Advance the network by ``duration_ms`` (a whole number of steps); monitors record.
        ``engine`` is "compiled" (Numba loop) or "reference" (NumPy, step by step)."""
        duration_ms = check_float("duration_ms", duration_ms, positive=True)
        n_steps = int(steps_of("duration_ms", duration_ms, self.dt_ms, min_steps=1))
        check_int("chunk_steps", chunk_steps, min_value=1)
        b = self.build()
        if self.state is None:
            self.state = self.initial_state()
        if engine == "compiled":
            from neurocircuits.sim.engine import run_steps
        elif engine == "reference":
            from neurocircuits.sim.reference import run_steps
        else:
            raise ValueError(f"engine must be 'compiled' or 'reference', got {engine!r}")
        return run_steps(self, b, self.state, n_steps, progress=progress, chunk_steps=chunk_steps)

    # changing a built network -------------------------------------------------------------
    def _syn_positions(self, proj: Projection) -> np.ndarray:
        """CSR positions of the synapses of ``proj``, in the projection's own order."""
        if proj not in self.projections:
            raise ValueError(f"{proj.name!r} is not a projection of this network")
        b = self.build()
        k = self.projections.index(proj)
        off = sum(p.n_synapses for p in self.projections[:k])
        if getattr(self, "_inv_order", None) is None:
            inv = np.empty(b.order.size, np.int64)
            inv[b.order] = np.arange(b.order.size)
            self._inv_order = inv
        return self._inv_order[off:off + proj.n_synapses]

    def get_weights(self, proj: Projection) -> np.ndarray:
        """Current weights of ``proj`` (they change under plasticity), in its synapse order."""
        return self.build().syn_w[self._syn_positions(proj)].copy()

    def set_weights(self, proj: Projection, weight) -> None:
        """Overwrite the weights of ``proj`` (scalar or one value per synapse)."""
        w = resolve("weight", weight, proj.n_synapses, np.random.default_rng(0))
        if not np.isfinite(w).all():
            raise ValueError("weight contains NaN or infinite values")
        if isinstance(proj.post.model, M.LIFCond) and proj.receptor != "v" and w.size and w.min() < 0:
            raise ValueError(f"conductance weights must be >= 0, got {w.min()}")
        self.build().syn_w[self._syn_positions(proj)] = w
        proj.weight = w

    def set_input_rate(self, drive: Drive, rate_hz: float) -> None:
        """Change the rate of a Poisson drive (rebuilds its CDF table)."""
        if drive not in self.drives:
            raise ValueError("drive is not an input of this network")
        rate_hz = check_float("rate_hz", rate_hz, min_value=0.0)
        drive.spec = PoissonInput(drive.spec.n_sources, rate_hz, drive.spec.weight, drive.spec.receptor)
        b = self.build()
        tables, starts, lens, k0s = [], [], [], []
        pos = 0
        for dv in self.drives:
            k0, cdf = poisson_cdf_table(dv.spec.lam(self.dt_ms))
            tables.append(cdf)
            starts.append(pos)
            lens.append(cdf.size)
            k0s.append(k0)
            pos += cdf.size
        b.cdf_table = np.concatenate(tables)
        b.drv_cdf_start = np.array(starts, np.int64)
        b.drv_cdf_len = np.array(lens, np.int64)
        b.drv_k0 = np.array(k0s, np.int64)

    def reset(self) -> None:
        """Back to the initial state at t = 0 (same initial potentials); monitors are cleared.
        Weights keep their current values (use :meth:`set_weights` to restore them)."""
        self.state = None
        self.t_step = 0
        for m in self.monitors:
            m.reset()

    def population(self, name: str) -> Population:
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(f"no population named {name!r}; have {[p.name for p in self.populations]}")
