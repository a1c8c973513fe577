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

Adaptive exponential integrate-and-fire (:class:`AdEx`, Brette & Gerstner 2005,
J. Neurophysiol. 94:3637, doi:10.1152/jn.00686.2005), capacitance ``C`` in pF, conductances in
nS, adaptation current ``w`` in pA, synaptic currents and bias as ``R_m I`` in mV (as for
:class:`LIF`; ``R_m = 1/g_L``, so 1 mV is ``g_L * 1 mV`` = 30 pA at g_L = 30 nS)::

    tau_m dV/dt = -(V - E_L) + Delta_T exp((V - V_T)/Delta_T) - w/g_L + I_bias + I_e + I_i
    tau_w dw/dt = a (V - E_L) - w,        tau_m = C/g_L  [ms]
    V >= V_peak:  V <- V_r,  w <- w + b,  V clamped at V_r for t_ref

``V`` and ``w`` advance by forward Euler at ``dt`` from the values at the start of the step
(the exponent is capped at ``EXP_ARG_MAX`` so that a run-away upstroke stays finite; it then
crosses ``V_peak`` in that step anyway); ``I_e``, ``I_i`` decay exactly, and the Euler step uses
their value at the start of the step (after that step's arrivals). ``w`` keeps integrating while
``V`` is clamped (NEST's ``aeif_psc_exp`` convention).

Izhikevich (2003) neuron (:class:`Izhikevich`, IEEE Trans. Neural Netw. 14:1569,
doi:10.1109/TNN.2003.820440), ``v`` in mV, time in ms, ``u`` and the input ``I`` in the
model's units of mV/ms (the equation is written for unit capacitance)::

    dv/dt = 0.04 v^2 + 5 v + 140 - u + I_bias + I_e + I_i
    du/dt = a (b v - u)
    v >= v_peak (30 mV):  v <- c,  u <- u + d

integrated by forward Euler at ``dt`` (both variables from the values at the start of the step,
no half steps; use dt <= 0.1 ms for the published firing patterns); ``I_e``, ``I_i`` decay
exactly as above and receptor ``"v"`` jumps ``v`` by the weight in mV.

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
KIND_ADEX = 5
KIND_IZH = 6

#: Columns of the per-population parameter table used by the engines.
P_DM, P_DE, P_DI, P_PE, P_PI, P_EL, P_IB, P_TH, P_VR, P_EE, P_EI, P_DTAU, P_PSPIKE = range(13)
#: Extra columns of the adaptive models: AdEx (Delta_T, V_T, 1/g_L, a, b, dt/tau_w) and
#: Izhikevich (a, b, d in P_A, P_B, P_D; dt in P_DTAU).
P_DELTA_T, P_VT, P_INVGL, P_A, P_B, P_D, P_DTW = range(13, 20)
N_PCOLS = 20

#: Cap on the AdEx exponent (V - V_T)/Delta_T, keeping a run-away upstroke finite.
EXP_ARG_MAX = 200.0

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


def _finite_positive(obj, names):
    for k in names:
        _pos(k, getattr(obj, k))


@dataclass(frozen=True)
class AdEx:
    """Adaptive exponential integrate-and-fire population (Brette & Gerstner 2005,
    doi:10.1152/jn.00686.2005); equations in the module docstring.

    Units: ``C_pF`` pF, ``g_L_nS`` / ``a_nS`` nS, ``b_pA`` pA, potentials mV, times ms; the
    bias and synaptic currents are ``R_m I`` in mV, like :class:`LIF`. Defaults: the paper's
    cortical pyramidal cell (Table 1: C 281 pF, g_L 30 nS, E_L -70.6 mV, V_T -50.4 mV,
    Delta_T 2 mV, tau_w 144 ms, a 4 nS, b 80.5 pA), V_r = E_L, V_peak 20 mV."""

    n: int
    C_pF: float = 281.0
    g_L_nS: float = 30.0
    E_L_mV: float = -70.6
    V_T_mV: float = -50.4
    Delta_T_mV: float = 2.0
    V_peak_mV: float = 20.0
    V_r_mV: float = -70.6
    tau_w_ms: float = 144.0
    a_nS: float = 4.0
    b_pA: float = 80.5
    t_ref_ms: float = 0.0
    I_bias_mV: float = 0.0
    tau_e_ms: float = 5.0
    tau_i_ms: float = 10.0

    kind = KIND_ADEX
    state_vars = ("v", "I_e", "I_i", "w")
    receptors = ("v", "exc", "inh")

    def __post_init__(self):
        check_int("n", self.n, min_value=1)
        _finite_positive(self, ("C_pF", "g_L_nS", "Delta_T_mV", "tau_w_ms", "tau_e_ms", "tau_i_ms"))
        check_float("t_ref_ms", self.t_ref_ms, min_value=0.0)
        for k in ("E_L_mV", "V_T_mV", "V_peak_mV", "V_r_mV", "a_nS", "b_pA", "I_bias_mV"):
            check_float(k, getattr(self, k))
        if self.V_peak_mV <= self.V_T_mV:
            raise ValueError(f"V_peak_mV ({self.V_peak_mV}) must be above V_T_mV ({self.V_T_mV})")
        if self.V_r_mV >= self.V_peak_mV:
            raise ValueError(f"V_r_mV ({self.V_r_mV}) must be below V_peak_mV ({self.V_peak_mV})")

    @property
    def tau_m_ms(self) -> float:
        """Membrane time constant C/g_L (pF/nS = ms)."""
        return self.C_pF / self.g_L_nS

    def table_row(self, dt_ms: float) -> np.ndarray:
        if dt_ms >= self.tau_m_ms or dt_ms >= self.tau_w_ms:
            raise ValueError(f"dt_ms = {dt_ms} must be below tau_m = C/g_L = {self.tau_m_ms:.4g} ms "
                             f"and tau_w_ms = {self.tau_w_ms} for the Euler step of AdEx")
        row = np.zeros(N_PCOLS)
        row[P_DE] = math.exp(-dt_ms / self.tau_e_ms)
        row[P_DI] = math.exp(-dt_ms / self.tau_i_ms)
        row[P_EL], row[P_IB] = self.E_L_mV, self.I_bias_mV
        row[P_TH], row[P_VR] = self.V_peak_mV, self.V_r_mV
        row[P_DTAU] = dt_ms / self.tau_m_ms
        row[P_DELTA_T], row[P_VT] = self.Delta_T_mV, self.V_T_mV
        row[P_INVGL] = 1.0 / self.g_L_nS
        row[P_A], row[P_B] = self.a_nS, self.b_pA
        row[P_DTW] = dt_ms / self.tau_w_ms
        return row

    def adaptation_init(self, v0: np.ndarray) -> np.ndarray:
        """Initial adaptation current: w = 0 pA."""
        return np.zeros_like(v0)


@dataclass(frozen=True)
class Izhikevich:
    """Izhikevich (2003) population (doi:10.1109/TNN.2003.820440); equations in the module
    docstring. ``a`` in 1/ms, ``b`` in 1/ms (u is in mV/ms), ``c_mV``
    the reset, ``d`` the jump of ``u`` (mV/ms); inputs ``I`` in mV/ms. Defaults: regular
    spiking (a, b, c, d) = (0.02, 0.2, -65, 8); see :func:`izhikevich_preset`. The membrane
    starts at ``v_init_mV`` (default -65) and ``u = b v``."""

    n: int
    a: float = 0.02
    b: float = 0.2
    c_mV: float = -65.0
    d: float = 8.0
    v_peak_mV: float = 30.0
    v_init_mV: float = -65.0
    t_ref_ms: float = 0.0
    I_bias: float = 0.0
    tau_e_ms: float = 5.0
    tau_i_ms: float = 10.0

    kind = KIND_IZH
    state_vars = ("v", "I_e", "I_i", "u")
    receptors = ("v", "exc", "inh")

    def __post_init__(self):
        check_int("n", self.n, min_value=1)
        _finite_positive(self, ("a", "tau_e_ms", "tau_i_ms"))
        check_float("t_ref_ms", self.t_ref_ms, min_value=0.0)
        for k in ("b", "c_mV", "d", "v_peak_mV", "v_init_mV", "I_bias"):
            check_float(k, getattr(self, k))
        if self.c_mV >= self.v_peak_mV:
            raise ValueError(f"c_mV ({self.c_mV}) must be below v_peak_mV ({self.v_peak_mV})")

    @property
    def E_L_mV(self) -> float:
        """Default initial membrane potential (mV)."""
        return self.v_init_mV

    def table_row(self, dt_ms: float) -> np.ndarray:
        if dt_ms * self.a >= 1.0:
            raise ValueError(f"dt_ms * a = {dt_ms * self.a:.3g} must be below 1 for the Euler step "
                             f"of u (dt_ms = {dt_ms}, a = {self.a})")
        row = np.zeros(N_PCOLS)
        row[P_DE] = math.exp(-dt_ms / self.tau_e_ms)
        row[P_DI] = math.exp(-dt_ms / self.tau_i_ms)
        row[P_IB] = self.I_bias
        row[P_TH], row[P_VR] = self.v_peak_mV, self.c_mV
        row[P_DTAU] = dt_ms
        row[P_A], row[P_B], row[P_D] = self.a, self.b, self.d
        return row

    def adaptation_init(self, v0: np.ndarray) -> np.ndarray:
        """Initial recovery variable: u = b v."""
        return self.b * v0


#: Izhikevich (2003) Fig. 2 parameter sets (a, b, c, d).
IZHIKEVICH_PRESETS = {
    "RS": (0.02, 0.2, -65.0, 8.0),    # regular spiking: adapting
    "IB": (0.02, 0.2, -55.0, 4.0),    # intrinsically bursting: initial burst, then tonic
    "CH": (0.02, 0.2, -50.0, 2.0),    # chattering: repetitive bursts
    "FS": (0.1, 0.2, -65.0, 2.0),     # fast spiking: no adaptation
    "LTS": (0.02, 0.25, -65.0, 2.0),  # low-threshold spiking
}


def izhikevich_preset(name: str, n: int, **overrides) -> Izhikevich:
    """Izhikevich neurons of a named class of Izhikevich (2003), Fig. 2: "RS", "IB", "CH",
    "FS" or "LTS"."""
    if name not in IZHIKEVICH_PRESETS:
        raise ValueError(f"unknown Izhikevich preset {name!r}; expected one of {tuple(IZHIKEVICH_PRESETS)}")
    a, b, c, d = IZHIKEVICH_PRESETS[name]
    p = dict(a=a, b=b, c_mV=c, d=d)
    p.update(overrides)
    return Izhikevich(n, **p)


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
