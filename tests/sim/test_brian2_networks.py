"""Cross-check against Brian2 on whole networks: the Vogels-Abbott COBA network and Brunel's
model A, built from one parameter set in both simulators, give mean rates and mean CV of ISI
within 5 % of each other.

Brian2 is an optional test dependency (the ``bench`` extra); without it these tests are skipped.
Each simulator draws its own random connectivity and initial potentials, so single network
draws differ by several percent (COBA: about 6 % SD of the rate across draws); the COBA check
therefore averages over several draws per simulator. Both use forward Euler for the COBA
membrane (Brian2's ``method="euler"``; our ``LIFCond(method="euler")``); ours delivers recurrent
spikes one step later (0.1 ms), Brian2's COBA has no delay.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

b2 = pytest.importorskip("brian2", reason="brian2 is not installed (optional [bench] extra)")

from sim_brunel import PARAMS as BRUNEL, build_brunel  # noqa: E402
from sim_coba import PARAMS as COBA, build_coba  # noqa: E402

from neurocircuits.data.spikes import SpikeTrains  # noqa: E402

pytestmark = pytest.mark.slow
T_MS, SKIP_MS = 1000.0, 100.0
COBA_DRAWS = 10


def _stats(times_ms, ids, n):
    st = SpikeTrains.from_arrays(times_ms, ids, n, T_MS).select(t_start_ms=SKIP_MS)
    return st.mean_rate_hz(), float(np.nanmean(st.isi_cv()))


def _ours(net):
    sm = net.spike_monitor()
    net.run(T_MS, progress=False)
    st = sm.spike_trains()
    return _stats(st.times_ms, st.ids, net.n_neurons)


def _brian2_coba(seed):
    from brian2 import ms, mV
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.seed(seed)
    b2.defaultclock.dt = COBA["dt"] * ms
    P = COBA
    ns = dict(taum=P["tau_m"] * ms, taue=P["tau_e"] * ms, taui=P["tau_i"] * ms, Vt=P["V_th"] * mV,
              Vr=P["V_reset"] * mV, El=P["E_L"] * mV, Ee=P["E_e"] * mV, Ei=P["E_i"] * mV,
              I=P["I_bias"] * mV, we=P["w_e"], wi=P["w_i"])
    eqs = """dv/dt = (ge*(Ee-v) + gi*(Ei-v) - (v-El) + I) / taum : volt (unless refractory)
             dge/dt = -ge/taue : 1
             dgi/dt = -gi/taui : 1"""
    n = P["N_E"] + P["N_I"]
    G = b2.NeuronGroup(n, eqs, threshold="v>Vt", reset="v=Vr", refractory=P["t_ref"] * ms,
                       method="euler", namespace=ns)
    G.v = (P["V0_mean"] + P["V0_std"] * np.random.default_rng(seed).standard_normal(n)) * mV
    Ce = b2.Synapses(G[:P["N_E"]], G, on_pre="ge += we", namespace=ns)
    Ci = b2.Synapses(G[P["N_E"]:], G, on_pre="gi += wi", namespace=ns)
    Ce.connect(p=P["p"])
    Ci.connect(p=P["p"])
    mon = b2.SpikeMonitor(G)
    b2.run(T_MS * ms)
    return _stats(np.asarray(mon.t / ms), np.asarray(mon.i[:]), n)


def _brian2_brunel(P, seed):
    from brian2 import Hz, ms, mV
    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.seed(seed)
    b2.defaultclock.dt = P["dt"] * ms
    n_e, n_i = P["N_E"], P["N_I"]
    n = n_e + n_i
    nu_thr = P["theta"] / (P["J"] * P["C_E"] * P["tau_m"]) * 1000.0
    G = b2.NeuronGroup(n, "dv/dt = -v / (tau_m * ms) : volt (unless refractory)",
                       threshold="v > theta * mV", reset="v = V_reset * mV",
                       refractory=P["t_ref"] * ms, method="exact",
                       namespace={"tau_m": P["tau_m"], "theta": P["theta"], "V_reset": P["V_reset"]})
    G.v = np.random.default_rng(seed).uniform(0.0, P["theta"], n) * mV
    rng = np.random.default_rng(seed + 1)
    objects = [G]
    for src, c, w in ((slice(0, n_e), P["C_E"], P["J"]), (slice(n_e, n), P["C_I"], -P["g"] * P["J"])):
        pre = rng.integers(src.start, src.stop, size=(n, c)).ravel()   # fixed in-degree, multapses
        post = np.repeat(np.arange(n), c)
        S = b2.Synapses(G, G, on_pre=f"v_post += {w} * mV", delay=P["D"] * ms)
        S.connect(i=pre, j=post)
        objects.append(S)
    objects.append(b2.PoissonInput(G, "v", P["C_E"], P["eta"] * nu_thr * Hz, weight=P["J"] * mV))
    mon = b2.SpikeMonitor(G)
    b2.Network(*objects, mon).run(T_MS * ms)
    return _stats(np.asarray(mon.t / ms), np.asarray(mon.i[:]), n)


def test_coba_rates_and_cv_match_brian2():
    ours = np.array([_ours(build_coba(COBA, 1.0, seed)) for seed in range(COBA_DRAWS)])
    theirs = np.array([_brian2_coba(seed) for seed in range(COBA_DRAWS)])
    (r_o, cv_o), (r_b, cv_b) = ours.mean(0), theirs.mean(0)
    assert r_o == pytest.approx(r_b, rel=0.05), (ours, theirs)
    assert cv_o == pytest.approx(cv_b, rel=0.05), (ours, theirs)


def test_brunel_rates_and_cv_match_brian2():
    # model A at a fifth of the size: same in-degree fraction (10 %), g = 5, eta = 2, D = 1.5 ms
    P = dict(BRUNEL, N_E=2000, N_I=500, C_E=200, C_I=50)
    r_o, cv_o = _ours(build_brunel(P, 1.0, 1))
    r_b, cv_b = _brian2_brunel(P, 1)
    assert r_o == pytest.approx(r_b, rel=0.05), (r_o, r_b)
    assert cv_o == pytest.approx(cv_b, rel=0.05), (cv_o, cv_b)
