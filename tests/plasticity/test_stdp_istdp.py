"""STDP and inhibitory STDP inside the simulation loop against their pair formulas, and the
compiled loop against the NumPy reference with plasticity on."""

import numpy as np
import pytest

from neurocircuits.plasticity.istdp import InhibitorySTDP
from neurocircuits.plasticity.stdp import STDP
from neurocircuits.sim import connectors as cn
from neurocircuits.sim import models
from neurocircuits.sim.models import LIF, SpikeSource
from neurocircuits.sim.network import Network

LAGS = np.array([-30.0, -8.0, -0.5, 0.5, 3.0, 12.0, 40.0])


def pair_network(rule, lags, w0, receptor="exc", post_model=None):
    """Neuron k: one presynaptic spike at 50 ms, one forced postsynaptic spike at 50 + lag_k."""
    K = lags.size
    net = Network(dt_ms=0.1, seed=0)
    pre = net.add(SpikeSource(K, times_ms=np.full(K, 50.0), ids=np.arange(K)), "pre")
    force = net.add(SpikeSource(K, times_ms=50.0 + lags - 0.1, ids=np.arange(K)), "force")
    post = net.add(post_model or LIF(K, v_th_mV=20.0, t_ref_ms=2.0), "post")
    proj = net.connect(pre, post, cn.OneToOne(), weight=w0, receptor=receptor, plasticity=rule)
    net.connect(force, post, cn.OneToOne(), weight=500.0, receptor="v")
    sm = net.spike_monitor(post)
    return net, proj, sm


def test_additive_stdp_matches_pair_window():
    rule = STDP(tau_plus_ms=16.8, tau_minus_ms=33.7, A_plus=0.01, A_minus=0.006, w_min=0.0, w_max=1.0)
    net, proj, sm = pair_network(rule, LAGS, 0.5)
    net.run(150.0, progress=False)
    st = sm.spike_trains()
    np.testing.assert_allclose(np.sort(st.times_ms), np.sort(50.0 + LAGS), atol=1e-9)  # forced spikes only
    dw = net.get_weights(proj) - 0.5
    np.testing.assert_allclose(dw, rule.pair_dw(LAGS), rtol=1e-9, atol=1e-15)
    assert np.all(np.sign(dw) == np.sign(LAGS))


def test_multiplicative_stdp_scales_with_weight_and_clips():
    rule = STDP(A_plus=0.5, A_minus=0.5, w_min=0.0, w_max=1.0, multiplicative=True)
    net, proj, _ = pair_network(rule, LAGS, 0.8)
    net.run(150.0, progress=False)
    w = net.get_weights(proj)
    s = LAGS
    want = np.where(s > 0, 0.8 + 0.5 * (1.0 - 0.8) * np.exp(-s / 20.0), 0.8 - 0.5 * 0.8 * np.exp(s / 20.0))
    np.testing.assert_allclose(w, want, rtol=1e-9)
    strong = STDP(A_plus=5.0, A_minus=0.0, w_min=0.0, w_max=1.0)  # additive, overshoots: clipped
    net, proj, _ = pair_network(strong, np.array([1.0]), 0.9)
    net.run(100.0, progress=False)
    assert net.get_weights(proj)[0] == 1.0


def test_vogels_istdp_pair_and_lone_spike():
    rule = InhibitorySTDP(eta=0.01, rho0_hz=5.0, tau_ms=20.0, w_min=0.0, w_max=10.0)
    assert rule.alpha == pytest.approx(0.2)
    lags = np.array([-15.0, -2.0, 2.0, 15.0, 500.0])  # 500 ms: post after the run, lone pre spike
    cond = models.coba_vogels_abbott(lags.size, I_bias_mV=0.0)
    net, proj, _ = pair_network(rule, lags, 1.0, receptor="inh", post_model=cond)
    net.run(150.0, progress=False)
    w = net.get_weights(proj)
    want = 1.0 + 0.01 * (np.exp(-np.abs(lags) / 20.0) - 0.2)
    want[-1] = 1.0 - 0.01 * 0.2
    np.testing.assert_allclose(w, want, rtol=1e-9)


def test_plasticity_compiled_equals_reference():
    out = []
    for engine in ("compiled", "reference"):
        net = Network(dt_ms=0.1, seed=8)
        A = net.add(LIF(40, I_bias_mV=18.0), "A", v_init_mV=cn.Uniform(0, 20))
        B = net.add(models.coba_vogels_abbott(30), "B", v_init_mV=cn.Normal(-55, 5))
        Inh = net.add(models.coba_vogels_abbott(10), "Inh", v_init_mV=cn.Normal(-55, 5))
        stdp = STDP(A_plus=0.05, A_minus=0.06, w_min=0.0, w_max=2.0)
        net.connect(A, A, cn.FixedProbability(0.3), weight=cn.Uniform(0.2, 1.0), delay_ms=1.0,
                    receptor="v", plasticity=stdp)
        net.connect(A, [B, Inh], cn.FixedInDegree(10), weight=0.4, receptor="exc",
                    plasticity=STDP(A_plus=0.02, A_minus=0.02, w_max=1.0, multiplicative=True))
        ip = net.connect(Inh, B, cn.FixedProbability(0.5), weight=0.5, receptor="inh",
                         plasticity=InhibitorySTDP(eta=0.05, rho0_hz=5.0))
        net.poisson_input(B, 100, 30.0, 0.3, "exc")
        net.poisson_input(Inh, 100, 30.0, 0.3, "exc")
        sm = net.spike_monitor()
        net.run(80.0, engine=engine, progress=False, chunk_steps=300)
        out.append((sm.arrays(), [net.get_weights(p) for p in net.projections], ip))
    (a, b) = out
    assert a[0][0].size > 100
    np.testing.assert_array_equal(a[0][1], b[0][1])
    np.testing.assert_array_equal(a[0][0], b[0][0])
    for wa, wb in zip(a[1], b[1]):
        np.testing.assert_allclose(wa, wb, rtol=0, atol=1e-12)
    assert not np.allclose(a[1][-1], 0.5)  # the inhibitory weights did change


def test_bad_plasticity_is_rejected():
    with pytest.raises(ValueError, match="w_max"):
        STDP(w_min=1.0, w_max=0.5)
    with pytest.raises(ValueError, match="tau_ms must be > 0"):
        InhibitorySTDP(tau_ms=0.0)
    with pytest.raises(ValueError, match="eta must be >= 0"):
        InhibitorySTDP(eta=-1.0)
    net = Network()
    A = net.add(LIF(5), "A")
    C = net.add(models.coba_vogels_abbott(5), "C")
    with pytest.raises(ValueError, match="receptor 'inh'"):
        net.connect(A, C, cn.AllToAll(), weight=0.1, receptor="exc", plasticity=InhibitorySTDP())
    with pytest.raises(ValueError, match=r"must lie in \[w_min, w_max\]"):
        net.connect(A, A, cn.AllToAll(), weight=2.0, plasticity=STDP(w_max=1.0))
    with pytest.raises(TypeError, match="plasticity must be"):
        net.connect(A, A, cn.AllToAll(), weight=0.1, plasticity="hebb")
