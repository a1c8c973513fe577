"""Compiled engine vs NumPy reference, repeatability, chunking and monitors."""

import numpy as np
import pytest

from neurocircuits.data.spikes import SpikeTrains
from neurocircuits.sim import connectors as cn
from neurocircuits.sim import models
from neurocircuits.sim.engine import uniform_nb
from neurocircuits.sim.inputs import poisson_cdf_table, stream_key, uniform_np
from neurocircuits.sim.models import LIF, PoissonSource, SpikeSource
from neurocircuits.sim.network import Network


def mixed_network(seed=3, dt=0.1):
    """Every model, receptor, connector and input kind in one small network."""
    net = Network(dt_ms=dt, seed=seed)
    A = net.add(LIF(60, I_bias_mV=12.0, tau_e_ms=3.0, tau_i_ms=6.0), "A", v_init_mV=cn.Uniform(0, 20))
    B = net.add(models.coba_vogels_abbott(40, method="exp_euler"), "B", v_init_mV=cn.Normal(-55, 5))
    C = net.add(models.coba_vogels_abbott(30, method="euler"), "C", v_init_mV=cn.Normal(-55, 5))
    P = net.add(PoissonSource(20, 40.0), "P")
    S = net.add(SpikeSource(5, times_ms=np.array([1.0, 2.5, 2.5, 7.3]), ids=np.array([0, 1, 2, 4])), "S")
    net.connect(A, A, cn.FixedProbability(0.2), weight=cn.Normal(0.5, 0.2), delay_ms=cn.Uniform(0.1, 3.0),
                receptor="v")
    net.connect(A, [B, C], cn.FixedInDegree(8), weight=0.3, delay_ms=1.0, receptor="exc")
    net.connect(B, A, cn.AllToAll(), weight=-0.4, delay_ms=0.5, receptor="inh")
    net.connect(C, B, cn.FixedProbability(0.3), weight=cn.Uniform(0, 2), receptor="inh")
    net.connect(P, [A, C], cn.FixedProbability(0.3), weight=1.0, receptor="exc")
    net.connect(S, A, cn.AllToAll(), weight=2.0, delay_ms=0.2, receptor="v")
    net.poisson_input(A, 100, 20.0, 0.2, "v")
    net.poisson_input(B, 50, 30.0, 0.5, "exc")
    net.poisson_input(C, 80, 30.0, 0.5, "exc")
    return net


def record(net):
    return (net.spike_monitor(), net.state_monitor(net.population("B"), ("v", "g_e"), [0, 3], every_steps=3),
            net.rate_monitor(net.population("A")))


def test_compiled_and_reference_give_identical_spikes():
    out = []
    for engine in ("compiled", "reference"):
        net = mixed_network()
        sm, st, rm = record(net)
        net.run(60.0, engine=engine, progress=False, chunk_steps=137)
        net.run(30.0, engine=engine, progress=False, chunk_steps=137)
        out.append((sm.arrays(), st["v"], st["g_e"], st.times_ms, rm.counts(), net.state))
    (a, b) = out
    assert a[0][0].size > 300  # the network is active
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[0][1], b[0][1])
    np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-10)
    np.testing.assert_allclose(a[2], b[2], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(a[3], b[3])
    np.testing.assert_array_equal(a[4], b[4])
    for k in ("ge", "gi", "ring"):
        np.testing.assert_allclose(a[5][k], b[5][k], rtol=0, atol=1e-10)
    np.testing.assert_array_equal(a[5]["ref"], b[5]["ref"])
    # every population fired, sources included
    ids = a[0][1]
    net = mixed_network()
    for p in net.populations:
        assert ((ids >= p.start) & (ids < p.stop)).any(), p.name


def test_same_seed_same_spikes_other_seed_other_spikes_and_chunking_invariant():
    runs = []
    for seed, chunk, cap in ((5, 10_000, None), (5, 7, None), (6, 10_000, None)):
        net = mixed_network(seed)
        sm = net.spike_monitor()
        from neurocircuits.sim.engine import run_steps

        b = net.build()
        net.state = net.initial_state()
        run_steps(net, b, net.state, 500, progress=False, chunk_steps=chunk, spike_capacity=cap)
        runs.append(sm.arrays())
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][0].size != runs[2][0].size or not np.array_equal(runs[0][1], runs[2][1])


def test_spike_buffer_overflow_is_handled_in_pieces():
    full, small = [], []
    for store, cap in ((full, None), (small, 200)):
        net = mixed_network(9)
        sm = net.spike_monitor()
        from neurocircuits.sim.engine import run_steps

        b = net.build()
        net.state = net.initial_state()
        run_steps(net, b, net.state, 400, progress=False, spike_capacity=cap)
        store.append(sm.arrays())
        assert net.t_step == 400
    np.testing.assert_array_equal(full[0][1], small[0][1])
    np.testing.assert_array_equal(full[0][0], small[0][0])


def test_monitors_formats_and_streaming(tmp_path):
    net = mixed_network(4)
    A = net.population("A")
    mem = net.spike_monitor(A)
    disk = net.spike_monitor(A, stream_to=tmp_path / "spikes_A")
    rate = net.rate_monitor(A)
    net.run(50.0, progress=False, chunk_steps=64)
    st = mem.spike_trains()
    assert isinstance(st, SpikeTrains)
    assert st.n_neurons == 60 and st.duration_ms == pytest.approx(50.0)
    sd = disk.spike_trains()
    np.testing.assert_array_equal(st.times_ms, sd.times_ms)
    np.testing.assert_array_equal(st.ids, sd.ids)
    assert rate.counts().sum() == st.n_spikes
    assert rate.counts().size == 500
    r = rate.rate_hz(bin_ms=5.0)
    assert r.size == 10
    assert r.mean() == pytest.approx(st.mean_rate_hz())
    # spike counts kept by the engine agree with the monitor
    np.testing.assert_array_equal(net.state["spike_count"][A.start:A.stop], st.rates_hz() * 0.05)


def test_counter_rng_compiled_equals_numpy_and_is_uniform():
    key = stream_key(11, 3)
    c = np.arange(200_000, dtype=np.int64) * 7 + 5
    u1 = uniform_nb(np.uint64(key), c)
    u2 = uniform_np(key, c)
    np.testing.assert_array_equal(u1, u2)
    assert 0.0 <= u1.min() and u1.max() < 1.0
    assert abs(u1.mean() - 0.5) < 5 * (1 / np.sqrt(12 * c.size))
    hist = np.bincount((u1 * 10).astype(int), minlength=10)
    chi2 = ((hist - c.size / 10) ** 2 / (c.size / 10)).sum()
    assert chi2 < 40  # 9 dof; p ~ 1e-5
    assert stream_key(11, 3) != stream_key(11, 4) != stream_key(12, 3)


@pytest.mark.parametrize("lam", [0.3, 2.0, 37.5, 900.0])
def test_poisson_table_matches_scipy(lam):
    from scipy.stats import poisson

    k0, cdf = poisson_cdf_table(lam)
    k = k0 + np.arange(cdf.size)
    np.testing.assert_allclose(cdf[:-1], poisson.cdf(k[:-1], lam), atol=1e-12)
    assert cdf[-1] == 1.0


def test_poisson_drive_counts_have_poisson_statistics():
    """v-receptor drive onto neurons that never fire: v jumps by exactly k * w per step."""
    net = Network(dt_ms=0.1, seed=2)
    P = net.add(LIF(2000, tau_m_ms=1e9, v_th_mV=1e9, v_reset_mV=0.0, t_ref_ms=0.0), "P")
    net.poisson_input(P, 30, 500.0, 1.0, "v")  # lambda = 1.5 per step
    mon = net.state_monitor(P, "v", every_steps=1)
    net.run(2.0, progress=False)
    v = mon["v"]
    k = np.diff(v, axis=0).ravel()
    assert np.allclose(k, np.rint(k), atol=1e-6)
    assert k.mean() == pytest.approx(1.5, abs=0.05)
    assert k.var() == pytest.approx(1.5, abs=0.08)
