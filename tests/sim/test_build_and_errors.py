"""Connectors, CSR storage, and rejection of bad input with clear messages."""

import numpy as np
import pytest

from neurocircuits.sim import connectors as cn
from neurocircuits.sim import models
from neurocircuits.sim.inputs import PoissonInput
from neurocircuits.sim.models import LIF, LIFCond, PoissonSource, SpikeSource
from neurocircuits.sim.network import Network


def rng(seed=0):
    return np.random.default_rng(seed)


def test_fixed_probability_statistics_and_autapses():
    pre, post = cn.FixedProbability(0.1).connect(300, 400, rng(), False)
    n = pre.size
    assert abs(n - 12_000) < 5 * np.sqrt(12_000 * 0.9)
    pairs = pre * 400 + post
    assert np.unique(pairs).size == n  # Bernoulli: no multapses
    assert pre.min() >= 0 and pre.max() < 300 and post.max() < 400
    # each post column gets ~ Binomial(300, 0.1)
    indeg = np.bincount(post, minlength=400)
    assert abs(indeg.var() - 300 * 0.1 * 0.9) < 8
    p2, q2 = cn.FixedProbability(0.5, allow_autapses=False).connect(50, 50, rng(1), True)
    assert not np.any(p2 == q2)
    p3, _ = cn.FixedProbability(1.0).connect(7, 9, rng(), False)
    assert p3.size == 63
    a, b = cn.FixedProbability(0.1).connect(300, 400, rng(), False)
    np.testing.assert_array_equal(a, pre)  # seeded


def test_fixed_indegree_and_others():
    pre, post = cn.FixedInDegree(25).connect(100, 80, rng(), False)
    np.testing.assert_array_equal(np.bincount(post), np.full(80, 25))
    pre, post = cn.FixedInDegree(30, allow_autapses=False, allow_multapses=False).connect(40, 40, rng(), True)
    assert not np.any(pre == post)
    for j in range(40):
        assert np.unique(pre[post == j]).size == 30
    pre, post = cn.FixedInDegree(10, allow_autapses=False).connect(20, 20, rng(), True)
    assert not np.any(pre == post)
    pre, post = cn.OneToOne().connect(5, 5, rng(), False)
    np.testing.assert_array_equal(pre, post)
    pre, post = cn.AllToAll(allow_autapses=False).connect(4, 4, rng(), True)
    assert pre.size == 12
    pre, post = cn.FromArrays([0, 2], [1, 1]).connect(3, 2, rng(), False)
    np.testing.assert_array_equal(pre, [0, 2])


def test_csr_storage_holds_every_synapse_with_its_weight_and_delay():
    net = Network(dt_ms=0.1, seed=1)
    A = net.add(LIF(30), "A")
    B = net.add(LIF(20), "B")
    p1 = net.connect(A, B, cn.FixedProbability(0.3), weight=cn.Normal(1, 0.1), delay_ms=cn.Uniform(0.1, 2.0))
    p2 = net.connect(B, A, cn.FixedInDegree(3), weight=-2.0, delay_ms=0.7, receptor="inh")
    b = net.build()
    assert b.indptr[-1] == p1.n_synapses + p2.n_synapses
    want = set()
    for pr in (p1, p2):
        for i, j, w, d in zip(pr.pre.start + pr.pre_idx, pr.post.start + pr.post_idx, pr.weight,
                              pr.delay_steps):
            want.add((int(i), int(j), float(w), int(d)))
    got = set()
    for i in range(b.N):
        for s in range(b.indptr[i], b.indptr[i + 1]):
            got.add((i, int(b.syn_post[s]), float(b.syn_w[s]), int(b.syn_delay[s])))
            assert b.syn_off[s] == (b.syn_delay[s] * 3 + b.syn_chan[s]) * b.N + b.syn_post[s]
    assert got == want
    assert b.L >= b.syn_delay.max() + 1 and b.L & (b.L - 1) == 0


@pytest.mark.parametrize("make, match", [
    (lambda: LIF(0), "n must be >= 1"),
    (lambda: LIF(5, tau_m_ms=-1.0), "tau_m_ms must be > 0"),
    (lambda: LIF(5, tau_m_ms=float("nan")), "tau_m_ms must be finite"),
    (lambda: LIF(5, t_ref_ms=-2.0), "t_ref_ms must be >= 0"),
    (lambda: LIF(5, v_reset_mV=25.0), "v_reset_mV"),
    (lambda: LIFCond(5, tau_e_ms=0.0), "tau_e_ms must be > 0"),
    (lambda: LIFCond(5, method="rk4"), "method"),
    (lambda: PoissonSource(5, -1.0), "rate_hz must be >= 0"),
    (lambda: SpikeSource(2, times_ms=[1.0, -1.0], ids=[0, 1]), "spike times must be >= 0"),
    (lambda: SpikeSource(2, times_ms=[1.0], ids=[2]), r"ids must lie in \[0, 2\)"),
    (lambda: SpikeSource(2, times_ms=[1.0, 2.0], ids=[0]), "length of times_ms"),
    (lambda: cn.FixedProbability(1.5), "p must be <= 1"),
    (lambda: cn.FixedProbability(-0.1), "p must be >= 0"),
    (lambda: cn.FixedInDegree(-1), "k must be >= 0"),
    (lambda: cn.Normal(0.0, -1.0), "std must be >= 0"),
    (lambda: cn.FromArrays([0, 1], [0]), "equal length"),
    (lambda: PoissonInput(0, 10.0, 0.1), "n_sources must be >= 1"),
    (lambda: PoissonInput(10, 10.0, 0.1, receptor="gaba"), "receptor"),
    (lambda: Network(dt_ms=0.0), "dt_ms must be > 0"),
    (lambda: Network(dt_ms=-0.1), "dt_ms must be > 0"),
    (lambda: Network(seed=-1), "seed must be >= 0"),
])
def test_bad_parameters_are_rejected(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_bad_network_wiring_is_rejected():
    net = Network(dt_ms=0.1, seed=0)
    A = net.add(LIF(10), "A")
    C = net.add(models.coba_vogels_abbott(10), "C")
    S = net.add(PoissonSource(4, 10.0), "S")
    with pytest.raises(ValueError, match="not a multiple of dt_ms"):
        net.connect(A, A, cn.AllToAll(), weight=1.0, delay_ms=0.25)
    with pytest.raises(ValueError, match="below 1 step"):
        net.connect(A, A, cn.AllToAll(), weight=1.0, delay_ms=0.0)
    with pytest.raises(ValueError, match="delay_ms must be finite"):
        net.connect(A, A, cn.AllToAll(), weight=1.0, delay_ms=float("nan"))
    with pytest.raises(ValueError, match="gives delays below dt_ms"):
        net.connect(A, A, cn.AllToAll(), weight=1.0, delay_ms=cn.Uniform(0.0, 0.04))
    with pytest.raises(ValueError, match="weight has 3 values but the projection has 100"):
        net.connect(A, A, cn.AllToAll(), weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="weight contains 1 NaN"):
        net.connect(A, A, cn.OneToOne(), weight=[1.0] * 9 + [float("nan")])
    with pytest.raises(ValueError, match="conductance weights onto 'C' must be >= 0"):
        net.connect(A, C, cn.AllToAll(), weight=-1.0, receptor="exc")
    with pytest.raises(ValueError, match="is a source"):
        net.connect(A, S, cn.AllToAll(), weight=1.0)
    with pytest.raises(ValueError, match="receptor must be one of"):
        net.connect(A, A, cn.AllToAll(), weight=1.0, receptor="nmda")
    with pytest.raises(ValueError, match="OneToOne needs equal sizes"):
        net.connect(A, net.add(LIF(3), "B"), cn.OneToOne(), weight=1.0)
    with pytest.raises(ValueError, match="must be a population of this network"):
        net.connect(A, Network().add(LIF(2)), cn.AllToAll(), weight=1.0)
    with pytest.raises(ValueError, match="name 'A' is already used"):
        net.add(LIF(2), "A")
    with pytest.raises(ValueError, match=r"I_mV must be a scalar or have shape \(10,\)"):
        net.set_current(A, [1.0, 2.0])
    with pytest.raises(ValueError, match="has no variable 'g_e'"):
        net.state_monitor(A, "g_e")
    with pytest.raises(ValueError, match=r"neurons must lie in \[0, 10\)"):
        net.state_monitor(A, "v", neurons=[3, 10])
    with pytest.raises(ValueError, match="source and has no state"):
        net.state_monitor(S, "v")
    with pytest.raises(ValueError, match="not a multiple of dt_ms"):
        net.run(1.05, progress=False)
    with pytest.raises(ValueError, match="engine must be"):
        net.run(1.0, engine="gpu", progress=False)


def test_too_fast_poisson_source_and_same_step_spikes_are_rejected_at_build():
    net = Network(dt_ms=1.0)
    net.add(PoissonSource(2, 2000.0))
    with pytest.raises(ValueError, match="too high for dt_ms"):
        net.build()
    net = Network(dt_ms=0.1)
    net.add(SpikeSource(1, times_ms=[1.0, 1.04], ids=[0, 0]))
    with pytest.raises(ValueError, match="same step"):
        net.build()
    net = Network(dt_ms=0.1)
    net.add(LIF(2, t_ref_ms=0.25))
    with pytest.raises(ValueError, match="t_ref_ms = 0.25 ms is not a multiple"):
        net.build()
