"""Homeostatic synaptic scaling: closed forms, convergence to the target rate, ratios, engines."""

import math

import numpy as np
import pytest

from neurocircuits.plasticity.homeostatic import SynapticScaling
from neurocircuits.sim import connectors as cn
from neurocircuits.sim import models as M
from neurocircuits.sim.network import Network


def driven(w0, T_ms=20_000.0, seed=1):
    """40 LIF neurons, 50 excitatory inputs each from 100 Poisson sources at 20 Hz, scaled."""
    net = Network(dt_ms=0.1, seed=seed)
    S = net.add(M.PoissonSource(100, 20.0), "S")
    E = net.add(M.LIF(40, t_ref_ms=2.0), "E")
    rule = SynapticScaling(target_rate_hz=10.0, tau_rate_ms=500.0, gamma_per_hz_s=0.02, every_steps=10,
                           w_min=0.0, w_max=100.0)
    pr = net.connect(S, E, cn.FixedInDegree(50), weight=cn.Uniform(0.5 * w0, 1.5 * w0), receptor="exc",
                     plasticity=rule)
    rm = net.rate_monitor(E)
    net.run(T_ms, progress=False)
    return net, pr, rm.rate_hz(1000.0)


@pytest.mark.parametrize("w0", [1.0, 8.0])
def test_too_weak_or_too_strong_drive_converges_to_target_and_keeps_ratios(w0):
    net, pr, rate = driven(w0)
    if w0 == 1.0:
        assert rate[0] < 1.0  # too weak at the start (mean input 5 mV below threshold 20 mV)
    else:
        assert rate[0] > 40.0  # too strong
    late = rate[-10:].mean()
    assert abs(late - 10.0) < 1.0, late  # measured 9.97 Hz for both
    w = net.get_weights(pr)
    ratio = w / pr.weight
    assert (ratio > 1.5).all() if w0 == 1.0 else (ratio < 0.8).all()
    # one common factor per postsynaptic neuron: weight ratios onto a neuron are kept
    post = pr.post_idx
    for i in range(pr.post.n):
        r = ratio[post == i]
        np.testing.assert_allclose(r, r[0], rtol=1e-12)
    assert np.ptp([ratio[post == i][0] for i in range(pr.post.n)]) > 1e-3  # factors differ per neuron


@pytest.mark.parametrize("inhibitory", [False, True])
def test_silent_neuron_follows_closed_form(inhibitory):
    """No spikes: rho_n = rho* d^n, and after M scalings w = w0 exp(+-g rho* sum_m (1 - d^{mk}))."""
    dt, k, n_steps = 0.1, 7, 7 * 300
    rule = SynapticScaling(target_rate_hz=8.0, tau_rate_ms=40.0, gamma_per_hz_s=0.3, every_steps=k,
                           w_max=1e6, inhibitory=inhibitory)
    net = Network(dt_ms=dt, seed=0)
    S = net.add(M.SpikeSource(3), "S")
    E = net.add(M.LIF(2), "E")
    pr = net.connect(S, E, cn.AllToAll(), weight=np.array([0.5, 1.0, 2.0, 3.0, 0.1, 4.0]),
                     receptor="inh" if inhibitory else "exc", plasticity=rule)
    net.run(n_steps * dt, progress=False)
    d = math.exp(-dt / 40.0)
    g = 0.3 * k * dt * 1e-3 * (-1 if inhibitory else 1)
    m = np.arange(1, n_steps // k + 1)
    expected = pr.weight * math.exp(g * 8.0 * np.sum(1.0 - d ** (m * k)))
    np.testing.assert_allclose(net.get_weights(pr), expected, rtol=1e-10)
    np.testing.assert_allclose(net.state["rho"][0], 8.0 * d ** n_steps, rtol=1e-10)


def test_rate_estimate_of_a_regular_train_is_exact():
    """Periodic spikes every P steps: rho after the n-th spike is rho0 d^{(n-1)P+1} +
    c sum_j d^{jP}, c = (1 - d)/dt; in the steady state c / (1 - d^P), whose mean over a period
    is exactly the rate."""
    dt, P = 0.1, 500  # 20 Hz
    times = np.arange(0, 3000.0, P * dt)
    net = Network(dt_ms=dt, seed=0)
    S = net.add(M.SpikeSource(1, times_ms=times, ids=np.zeros(times.size, np.int64)), "S")
    E = net.add(M.LIF(1), "E")
    net.connect(S, E, cn.AllToAll(), weight=0.1, plasticity=SynapticScaling(tau_rate_ms=200.0))
    net.run(times[-1] + dt, progress=False)
    d = math.exp(-dt / 200.0)
    c = (1 - d) / (dt * 1e-3)
    n = times.size
    S_last = (n - 1) * P  # rho starts at the target (5 Hz), then a finite geometric sum
    exact = 5.0 * d ** (S_last + 1) + c * np.sum(d ** (P * np.arange(n)))
    assert net.state["rho"][0, 0] == pytest.approx(exact, rel=1e-10)
    peak = c / (1 - d ** P)  # the periodic steady state, reached up to e^{-3000/200}
    assert net.state["rho"][0, 0] == pytest.approx(peak, rel=1e-6)
    assert peak * (1 - d ** P) / (1 - d) / P == pytest.approx(20.0, rel=1e-12)  # mean over a period


def test_scaling_compiled_equals_reference():
    out = []
    for engine in ("compiled", "reference"):
        net = Network(dt_ms=0.1, seed=2)
        S = net.add(M.PoissonSource(30, 40.0), "S")
        E = net.add(M.LIF(20, I_bias_mV=12.0), "E", v_init_mV=cn.Uniform(0, 20))
        C = net.add(M.coba_vogels_abbott(15), "C", v_init_mV=cn.Normal(-55, 4))
        up = SynapticScaling(target_rate_hz=30.0, tau_rate_ms=10.0, gamma_per_hz_s=0.5, every_steps=4, w_max=6.0)
        inh = SynapticScaling(target_rate_hz=5.0, tau_rate_ms=15.0, gamma_per_hz_s=0.2, every_steps=1,
                              inhibitory=True)
        p1 = net.connect(S, [E, C], cn.FixedProbability(0.4), weight=cn.Uniform(0.5, 2.0), plasticity=up)
        p2 = net.connect(C, E, cn.FixedProbability(0.5), weight=cn.Uniform(0.1, 1.0), receptor="inh",
                         plasticity=inh)
        sm = net.spike_monitor()
        net.run(80.0, engine=engine, progress=False, chunk_steps=113)
        out.append((sm.arrays(), [net.get_weights(p) for p in p1 + [p2]], net.state["rho"].copy()))
    a, b = out
    assert a[0][0].size > 200
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[0][1], b[0][1])
    for x, y in zip(a[1], b[1]):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=0)
    np.testing.assert_allclose(a[2], b[2], rtol=1e-12, atol=1e-12)
    assert np.abs(a[1][0] - p1[0].weight).max() > 0.05 and np.abs(a[1][2] - p2.weight).max() > 0.05


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(target_rate_hz=-1.0), ValueError, "target_rate_hz must be >= 0"),
    (dict(target_rate_hz=float("nan")), ValueError, "target_rate_hz must be finite"),
    (dict(tau_rate_ms=0.0), ValueError, "tau_rate_ms must be > 0"),
    (dict(gamma_per_hz_s=0.0), ValueError, "gamma_per_hz_s must be > 0"),
    (dict(every_steps=0), ValueError, "every_steps must be >= 1"),
    (dict(every_steps=2.5), TypeError, "every_steps must be an integer"),
    (dict(w_min=2.0, w_max=1.0), ValueError, r"w_max \(1.0\) must be >= w_min \(2.0\)"),
    (dict(inhibitory="yes"), TypeError, "inhibitory must be a bool"),
])
def test_bad_parameters_are_rejected(kwargs, err, match):
    with pytest.raises(err, match=match):
        SynapticScaling(**kwargs)


def test_bad_use_is_rejected():
    net = Network(dt_ms=0.1)
    S = net.add(M.PoissonSource(5, 10.0))
    E = net.add(M.LIF(3))
    with pytest.raises(ValueError, match=r"initial weights \[5.0, 5.0\] must lie in \[w_min, w_max\]"):
        net.connect(S, E, cn.AllToAll(), weight=5.0, plasticity=SynapticScaling(w_max=2.0))
    net.connect(S, E, cn.AllToAll(), weight=1.0, plasticity=SynapticScaling(tau_rate_ms=0.05))
    with pytest.raises(ValueError, match=r"tau_rate_ms \(0.05\) must exceed dt_ms \(0.1\)"):
        net.build()
