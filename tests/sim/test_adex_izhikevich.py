"""AdEx and Izhikevich populations: engine vs reference, ground truth, firing patterns, errors."""

import numpy as np
import pytest
from scipy.integrate import quad

from neurocircuits.plasticity.homeostatic import SynapticScaling
from neurocircuits.plasticity.stdp import STDP
from neurocircuits.sim import connectors as cn
from neurocircuits.sim import models as M
from neurocircuits.sim.network import Network


def spike_times(model, I, T_ms, dt=0.1, monitor=None):
    """Spike times (ms) per neuron of one population of ``model`` under constant drive ``I``."""
    net = Network(dt_ms=dt, seed=0)
    P = net.add(model, "P")
    net.set_current(P, I)
    sm = net.spike_monitor()
    st = net.state_monitor(P, monitor) if monitor else None
    net.run(T_ms, progress=False)
    s, i = sm.arrays()
    times = [s[i == k] * dt for k in range(model.n)]
    return (times, st) if monitor else times


def adaptive_network(seed=4):
    net = Network(dt_ms=0.1, seed=seed)
    A = net.add(M.AdEx(30, I_bias_mV=30.0, tau_e_ms=3.0, t_ref_ms=0.5), "A", v_init_mV=cn.Uniform(-70, -55))
    Z = net.add(M.izhikevich_preset("CH", 25, I_bias=4.0), "Z", v_init_mV=cn.Uniform(-70, -50))
    L = net.add(M.LIF(20, I_bias_mV=22.0), "L", v_init_mV=cn.Uniform(0, 20))
    P = net.add(M.PoissonSource(20, 30.0), "P")
    net.connect(A, Z, cn.FixedProbability(0.3), weight=cn.Uniform(0.5, 2.0), delay_ms=cn.Uniform(0.1, 2.0),
                receptor="exc")
    net.connect(Z, A, cn.FixedProbability(0.3), weight=-1.0, delay_ms=0.5, receptor="inh")
    net.connect(Z, Z, cn.FixedInDegree(3), weight=0.5, receptor="v")
    net.connect(L, A, cn.FixedInDegree(4), weight=0.8, receptor="v")
    net.connect(P, A, cn.FixedProbability(0.5), weight=cn.Uniform(1.0, 3.0), receptor="exc",
                plasticity=STDP(A_plus=0.05, A_minus=0.06, w_max=5.0))
    net.connect(A, L, cn.FixedProbability(0.3), weight=cn.Uniform(0.5, 1.5), receptor="exc",
                plasticity=SynapticScaling(target_rate_hz=5.0, tau_rate_ms=20.0, gamma_per_hz_s=0.5,
                                           every_steps=3, w_max=10.0))
    net.poisson_input(A, 50, 20.0, 1.0, "exc")
    net.poisson_input(Z, 30, 20.0, 2.0, "inh")
    return net


def test_adex_and_izhikevich_compiled_equal_reference():
    out = []
    for engine in ("compiled", "reference"):
        net = adaptive_network()
        sm = net.spike_monitor()
        sa = net.state_monitor(net.population("A"), ("v", "w", "I_e"), [0, 5], every_steps=2)
        sz = net.state_monitor(net.population("Z"), ("u", "v"), [1, 7])
        net.run(40.0, engine=engine, progress=False, chunk_steps=97)
        net.run(20.0, engine=engine, progress=False, chunk_steps=97)
        out.append((sm.arrays(), sa["w"], sa["v"], sz["u"], sz["v"], net.state, net.build().syn_w.copy()))
    a, b = out
    ids = a[0][1]
    net = adaptive_network()
    for p in net.populations:  # every population is active
        assert ((ids >= p.start) & (ids < p.stop)).sum() > 5, p.name
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[0][1], b[0][1])
    for k in range(1, 5):
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=1e-9)
    for k in ("v", "adapt", "ge", "gi", "rho"):
        np.testing.assert_allclose(a[5][k], b[5][k], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(a[6], b[6], rtol=1e-12, atol=1e-12)
    assert np.abs(a[6] - net.build().syn_w).max() > 1e-3  # both plasticity rules changed weights


def test_adex_without_adaptation_matches_exact_eif_isi():
    """a = b = 0: the ISI is t_ref + int_{V_r}^{V_peak} tau dV / (-(V - E_L) + D e^{(V-V_T)/D} + I)."""
    I = np.array([22.0, 30.0, 60.0])
    m = M.AdEx(I.size, a_nS=0.0, b_pA=0.0, Delta_T_mV=0.5, V_T_mV=-50.0, V_peak_mV=-45.0, t_ref_ms=2.0)
    times = spike_times(m, I, 300.0, dt=0.01)
    for k, Ik in enumerate(I):
        f = lambda V: m.tau_m_ms / (-(V - m.E_L_mV) + 0.5 * np.exp((V - m.V_T_mV) / 0.5) + Ik)  # noqa: E731
        exact = m.t_ref_ms + quad(f, m.V_r_mV, m.V_peak_mV, limit=200)[0]
        isi = np.diff(times[k])
        assert isi.size >= 8
        assert abs(isi.mean() - exact) < 0.05, (Ik, isi.mean(), exact)  # within 5 steps of 0.01 ms


def test_adex_tends_to_lif_with_threshold_vt_as_delta_t_shrinks():
    I = np.array([22.0, 25.0, 40.0])
    errs = []
    for DT in (0.5, 0.1, 0.02):
        m = M.AdEx(I.size, a_nS=0.0, b_pA=0.0, Delta_T_mV=DT, V_T_mV=-50.0, V_peak_mV=-50.0 + 10 * DT,
                   t_ref_ms=2.0)
        times = spike_times(m, I, 200.0, dt=0.01)
        isi = np.array([np.diff(t).mean() for t in times])
        lif = m.t_ref_ms + m.tau_m_ms * np.log((I - (m.V_r_mV - m.E_L_mV)) / (I - (m.V_T_mV - m.E_L_mV)))
        errs.append(np.abs(isi / lif - 1).max())
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 0.025  # measured 2.1 % at I = 22 mV (rheobase 20.6 mV)


def test_adex_spike_triggered_adaptation_lengthens_isis_and_w_is_recorded():
    (t0,), _ = spike_times(M.AdEx(1, a_nS=0.0, b_pA=0.0), 20.0, 400.0, monitor=("w",))
    (t1,), st = spike_times(M.AdEx(1, a_nS=0.0, b_pA=80.5), 20.0, 400.0, monitor=("w", "v"))
    i0, i1 = np.diff(t0), np.diff(t1)
    assert np.ptp(i0) < 0.11  # no adaptation: regular
    assert i1[0] > i0[0] and np.all(np.diff(i1) > 0)  # adaptation: ISIs grow
    w = st["w"][:, 0]
    steps = np.rint(st.times_ms / 0.1).astype(int)
    # w jumps by b after each spike (recorded at the start of the next step) and decays with tau_w
    first = int(np.rint(t1[0] / 0.1))
    k = np.searchsorted(steps, first + 1)
    assert w[k - 1] == 0.0 and w[k] == pytest.approx(80.5)
    assert w[k + 100] == pytest.approx(80.5 * (1 - 0.1 / 144.0) ** 100, rel=1e-12)


def test_f_i_curves_monotone_with_rheobase():
    I = np.linspace(0.0, 40.0, 21)
    adex = spike_times(M.AdEx(I.size), I, 500.0)
    rate = np.array([t.size for t in adex]) * 2.0
    assert rate[0] == 0 and rate[-1] > 10
    assert np.all(np.diff(rate) >= 0)
    Iz = np.linspace(0.0, 20.0, 21)
    izh = spike_times(M.izhikevich_preset("RS", Iz.size), Iz, 500.0)
    rz = np.array([t.size for t in izh]) * 2.0
    assert rz[0] == 0 and rz[-1] > 20
    assert np.all(np.diff(rz) >= 0)


def test_izhikevich_firing_patterns():
    """Izhikevich (2003) Fig. 2 classes under a constant input I = 10 from rest."""
    pat = {name: np.diff(spike_times(M.izhikevich_preset(name, 1), 10.0, 600.0)[0])
           for name in ("RS", "FS", "CH", "IB")}
    rs, fs, ch, ib = pat["RS"], pat["FS"], pat["CH"], pat["IB"]
    # regular spiking: tonic, ISIs grow (spike-frequency adaptation), no bursts
    assert rs.min() > 10 and rs[1] > 1.5 * rs[0] and np.all(np.diff(rs) >= -0.1)
    # fast spiking: several times the RS rate, a short transient, then constant ISIs, no bursts
    assert fs.size > 4 * rs.size and fs.min() > 3
    assert np.ptp(fs[10:]) / fs[10:].mean() < 0.03
    # chattering: repeated bursts, short intra-burst ISIs separated by long pauses
    long = ch > 20
    assert long.sum() >= 8 and ch[~long].max() < 10
    runs = np.diff(np.flatnonzero(long))
    assert runs.min() >= 3  # >= 3 spikes per burst, every burst
    # intrinsically bursting: an initial burst, then tonic spiking
    assert ib[0] < 5 and ib[1] < 10 and ib[3:].min() > 20
    # the state monitor reads u: u = b v at rest and jumps by d at each spike
    (t,), st = spike_times(M.izhikevich_preset("RS", 1), 10.0, 100.0, monitor=("u", "v"))
    u, v = st["u"][:, 0], st["v"][:, 0]
    assert u[0] == pytest.approx(0.2 * -65.0)
    s = int(np.rint(t[0] / 0.1))
    assert v[s + 1] == -65.0
    assert u[s + 1] - u[s] == pytest.approx(8.0 + 0.1 * 0.02 * (0.2 * v[s] - u[s]), rel=1e-12)


@pytest.mark.parametrize("make, match", [
    (lambda: M.AdEx(5, Delta_T_mV=0.0), "Delta_T_mV must be > 0"),
    (lambda: M.AdEx(5, Delta_T_mV=-1.0), "Delta_T_mV must be > 0"),
    (lambda: M.AdEx(5, C_pF=float("nan")), "C_pF must be finite"),
    (lambda: M.AdEx(5, tau_w_ms=-3.0), "tau_w_ms must be > 0"),
    (lambda: M.AdEx(5, a_nS=float("inf")), "a_nS must be finite"),
    (lambda: M.AdEx(5, V_peak_mV=-60.0), r"V_peak_mV \(-60.0\) must be above V_T_mV"),
    (lambda: M.AdEx(5, V_r_mV=30.0), r"V_r_mV \(30.0\) must be below V_peak_mV"),
    (lambda: M.AdEx(0), "n must be >= 1"),
    (lambda: M.AdEx(5, t_ref_ms=-1.0), "t_ref_ms must be >= 0"),
    (lambda: M.Izhikevich(5, a=0.0), "a must be > 0"),
    (lambda: M.Izhikevich(5, b=float("nan")), "b must be finite"),
    (lambda: M.Izhikevich(5, c_mV=40.0), r"c_mV \(40.0\) must be below v_peak_mV"),
    (lambda: M.Izhikevich(5, tau_e_ms=0.0), "tau_e_ms must be > 0"),
    (lambda: M.izhikevich_preset("XX", 5), "unknown Izhikevich preset 'XX'"),
])
def test_bad_parameters_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_steps_and_monitors_are_rejected():
    net = Network(dt_ms=10.0)
    net.add(M.AdEx(3, C_pF=50.0, g_L_nS=10.0))
    with pytest.raises(ValueError, match="dt_ms = 10.0 must be below tau_m"):
        net.build()
    net = Network(dt_ms=0.1)
    Z = net.add(M.Izhikevich(3))
    with pytest.raises(ValueError, match="has no variable 'w'"):
        net.state_monitor(Z, ("w",))
    with pytest.raises(TypeError, match="Delta_T_mV must be a real number"):
        M.AdEx(3, Delta_T_mV="2")
