"""Neuron models of the simulator, as parameter sets with units in their names.

Current-based leaky integrate-and-fire (:class:`LIF`), with delta synapses (receptor ``"v"``:
a spike makes the membrane jump by the weight, in mV) and/or exponential synaptic currents
(receptors ``"exc"`` / ``"inh"``, weights in mV)::

    tau_m dv/dt  = -(v - E_L) + I_bias + I_e + I_i          [mV]
    tau_e dI_e/dt = -I_e ,   tau_i dI_i/dt = -I_i           [mV]  (currents times R_m)

integrated exactly over a step ``dt`` (Rotter & Diesmann 1999, Biol. Cybern. 81:381,
doi:10.1007/s004220050570)::

    u = v - E_L - I_bias
    u(t+dt) = u e^{-dt/tau_m} + I_e P_e + I_i P_i,
    P_x = tau_x / (tau_x - tau_m) (e^{-dt/tau_x} - e^{-dt/tau_m})   (= dt/tau_m e^{-dt/tau_m} if equal)
    I_x(t+dt) = I_x e^{-dt/tau_x}

Conductance-based LIF (:class:`LIFCond`, "COBA", Vogels & Abbott 2005, J. Neurosci. 25:10786,
doi:10.1523/JNEUROSCI.3508-05.2005), conductances in units of the leak conductance g_L::

    tau_m dv/dt = -(v - E_L) + g_e (E_e - v) + g_i (E_i - v) + I_bias
    tau_e dg_e/dt = -g_e ,  tau_i dg_i/dt = -g_i

The conductances decay exactly; ``v`` is advanced with the conductances frozen over the step,
either exactly for that frozen linear ODE (``method="exp_euler"``)::

    g_tot = 1 + g_e + g_i,  v_inf = (E_L + I_bias + g_e E_e + g_i E_i) / g_tot
    v(t+dt) = v_inf + (v - v_inf) exp(-g_tot dt / tau_m)

or by forward Euler (``method="euler"``, what Brian2's COBA benchmark uses).

Both LIF kinds spike when ``v >= v_th_mV``, are reset to ``v_reset_mV`` and clamped there for
``t_ref_ms`` (inputs on receptor ``"v"`` arriving meanwhile are discarded; synaptic currents and
conductances keep integrating), as NEST's ``iaf_psc_delta`` / ``iaf_cond_exp``.

Sources: :class:`PoissonSource` (independent Poisson trains, at most one spike per step,
probability ``rate_hz * dt``) and :class:`SpikeSource` (given spike times).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neurocircuits.validation import check_array, check_float, check_int

# Kind codes shared with the compiled engine and the reference implementation.
KIND_LIF = 0
KIND_COND_EXP = 1
KIND_COND_EULER = 2
KIND_POISSON = 3
KIND_SPIKES = 4

#: Columns of the per-population parameter table used by the engines.
P_DM, P_DE, P_DI, P_PE, P_PI, P_EL, P_IB, P_TH, P_VR, P_EE, P_EI, P_DTAU, P_PSPIKE = range(13)
N_PCOLS = 13

#: State variables a monitor may record, by receptor-neutral name.
STATE_VARS = ("v", "g_e", "g_i")


def _pos(name, value):
    return check_float(name, value, positive=True)


@dataclass(frozen=True)
class LIF:
    """Current-based LIF population of ``n`` neurons (delta and/or exponential synapses).

    Units: times in ms, potentials and currents (``R_m I``) in mV."""

    n: int
    tau_m_ms: float = 20.0
    v_th_mV: float = 20.0
    v_reset_mV: float = 10.0
    E_L_mV: float = 0.0
    t_ref_ms: float = 2.0
    I_bias_mV: float = 0.0
    tau_e_ms: float = 5.0
    tau_i_ms: float = 10.0

    kind = KIND_LIF
    state_vars = ("v", "I_e", "I_i")
    receptors = ("v", "exc", "inh")

    def __post_init__(self):
        check_int("n", self.n, min_value=1)
        for k in ("tau_m_ms", "tau_e_ms", "tau_i_ms"):
            _pos(k, getattr(self, k))
        check_float("t_ref_ms", self.t_ref_ms, min_value=0.0)
        for k in ("v_th_mV", "v_reset_mV", "E_L_mV", "I_bias_mV"):
            check_float(k, getattr(self, k))
        if self.v_reset_mV >= self.v_th_mV:
            raise ValueError(f"v_reset_mV ({self.v_reset_mV}) must be below v_th_mV ({self.v_th_mV})")

    def table_row(self, dt_ms: float) -> np.ndarray:
        row = np.zeros(N_PCOLS)
        dm = math.exp(-dt_ms / self.tau_m_ms)
        row[P_DM] = dm
        row[P_DE] = math.exp(-dt_ms / self.tau_e_ms)
        row[P_DI] = math.exp(-dt_ms / self.tau_i_ms)
        row[P_PE] = _propagator(dt_ms, self.tau_m_ms, self.tau_e_ms)
        row[P_PI] = _propagator(dt_ms, self.tau_m_ms, self.tau_i_ms)
        row[P_EL], row[P_IB] = self.E_L_mV, self.I_bias_mV
        row[P_TH], row[P_VR] = self.v_th_mV, self.v_reset_mV
        row[P_DTAU] = dt_ms / self.tau_m_ms
        return row


def _propagator(dt, tau_m, tau_s):
    """Exact weight of a synaptic current on the membrane over one step (see module doc)."""
    if abs(tau_s - tau_m) <= 1e-9 * tau_m:
        return dt / tau_m * math.exp(-dt / tau_m)
    return tau_s / (tau_s - tau_m) * (math.exp(-dt / tau_s) - math.exp(-dt / tau_m))


@dataclass(frozen=True)
class LIFCond:
    """Conductance-based LIF population (COBA); conductances in units of g_L, weights too.

    Defaults: Vogels & Abbott (2005) / Brette et al. (2007) benchmark 1 (COBA)."""

    n: int
    tau_m_ms: float = 20.0
    v_th_mV: float = -50.0
    v_reset_mV: float = -60.0
    E_L_mV: float = -60.0
    t_ref_ms: float = 5.0
    I_bias_mV: float = 0.0
    tau_e_ms: float = 5.0
    tau_i_ms: float = 10.0
    E_e_mV: float = 0.0
    E_i_mV: float = -80.0
    method: str = "exp_euler"

    state_vars = ("v", "g_e", "g_i")
    receptors = ("v", "exc", "inh")

    def __post_init__(self):
        check_int("n", self.n, min_value=1)
        for k in ("tau_m_ms", "tau_e_ms", "tau_i_ms"):
            _pos(k, getattr(self, k))
        check_float("t_ref_ms", self.t_ref_ms, min_value=0.0)
        for k in ("v_th_mV", "v_reset_mV", "E_L_mV", "I_bias_mV", "E_e_mV", "E_i_mV"):
            check_float(k, getattr(self, k))
        if self.v_reset_mV >= self.v_th_mV:
            raise ValueError(f"v_reset_mV ({self.v_reset_mV}) must be below v_th_mV ({self.v_th_mV})")
        if self.method not in ("exp_euler", "euler"):
            raise ValueError(f"method must be 'exp_euler' or 'euler', got {self.method!r}")

    @property
    def kind(self) -> int:
        return KIND_COND_EXP if self.method == "exp_euler" else KIND_COND_EULER

    def table_row(self, dt_ms: float) -> np.ndarray:
        row = np.zeros(N_PCOLS)
        row[P_DM] = math.exp(-dt_ms / self.tau_m_ms)
        row[P_DE] = math.exp(-dt_ms / self.tau_e_ms)
        row[P_DI] = math.exp(-dt_ms / self.tau_i_ms)
        row[P_EL], row[P_IB] = self.E_L_mV, self.I_bias_mV
        row[P_TH], row[P_VR] = self.v_th_mV, self.v_reset_mV
        row[P_EE], row[P_EI] = self.E_e_mV, self.E_i_mV
        row[P_DTAU] = dt_ms / self.tau_m_ms
        return row


@dataclass(frozen=True)
class PoissonSource:
    """``n`` independent Poisson spike trains at ``rate_hz`` (Bernoulli per step, p = rate dt)."""

    n: int
    rate_hz: float

    kind = KIND_POISSON
    state_vars = ()
    receptors = ()
    t_ref_ms = 0.0

    def __post_init__(self):
        check_int("n", self.n, min_value=1)
        check_float("rate_hz", self.rate_hz, min_value=0.0)

    def table_row(self, dt_ms: float) -> np.ndarray:
        p = self.rate_hz * dt_ms * 1e-3
        if p > 1:
            raise ValueError(f"rate_hz * dt = {p:.3g} > 1: rate {self.rate_hz} Hz is too high for "
                             f"dt_ms = {dt_ms} (at most one spike per step)")
        row = np.zeros(N_PCOLS)
        row[P_PSPIKE] = p
        return row


@dataclass(frozen=True)
class SpikeSource:
    """``n`` neurons emitting given spikes: ``times_ms[k]`` is a spike of neuron ``ids[k]``.

    Times are placed on the step grid (step = round(t / dt)); two spikes of one neuron in the
    same step are rejected."""

    n: int
    times_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    kind = KIND_SPIKES
    state_vars = ()
    receptors = ()
    t_ref_ms = 0.0

    def __post_init__(self):
        check_int("n", self.n, min_value=1)
        t = check_array("times_ms", np.asarray(self.times_ms, dtype=np.float64), ndim=1)
        i = np.asarray(self.ids)
        if i.ndim != 1 or i.shape != t.shape:
            raise ValueError(f"ids must be 1-D with the length of times_ms ({t.size}), got shape {i.shape}")
        if i.size and i.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers, got dtype {i.dtype}")
        if t.size and t.min() < 0:
            raise ValueError(f"spike times must be >= 0 ms, got {t.min()}")
        if i.size and (i.min() < 0 or i.max() >= self.n):
            raise ValueError(f"ids must lie in [0, {self.n}), got range [{i.min()}, {i.max()}]")
        object.__setattr__(self, "times_ms", t)
        object.__setattr__(self, "ids", i.astype(np.int64))

    def table_row(self, dt_ms: float) -> np.ndarray:
        return np.zeros(N_PCOLS)


# ------------------------------------------------------------------ published parameter sets
def brunel2000_A(n: int, **overrides) -> LIF:
    """Brunel (2000) model A, J. Comput. Neurosci. 8:183, doi:10.1023/A:1008925309027:
    tau_m = 20 ms, theta = 20 mV, V_r = 10 mV, tau_rp = 2 ms, E_L = 0 (delta synapses)."""
    p = dict(tau_m_ms=20.0, v_th_mV=20.0, v_reset_mV=10.0, E_L_mV=0.0, t_ref_ms=2.0)
    p.update(overrides)
    return LIF(n, **p)


def coba_vogels_abbott(n: int, **overrides) -> LIFCond:
    """Vogels & Abbott (2005) COBA neuron as in Brette et al. (2007) benchmark 1
    (doi:10.1007/s10827-007-0038-6): tau_m 20 ms, E_L = V_r = -60 mV, V_th -50 mV, t_ref 5 ms,
    tau_e 5 ms, tau_i 10 ms, E_e 0 mV, E_i -80 mV, I_bias 20 mV (200 pA into g_L = 10 nS)."""
    p = dict(tau_m_ms=20.0, v_th_mV=-50.0, v_reset_mV=-60.0, E_L_mV=-60.0, t_ref_ms=5.0,
             I_bias_mV=20.0, tau_e_ms=5.0, tau_i_ms=10.0, E_e_mV=0.0, E_i_mV=-80.0)
    p.update(overrides)
    return LIFCond(n, **p)
