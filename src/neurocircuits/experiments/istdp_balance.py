"""Vogels et al. (2011): inhibitory STDP sets the excitatory rate to rho0 and balances E and I.

Vogels T.P., Sprekeler H., Zenke F., Clopath C., Gerstner W. (2011) "Inhibitory plasticity
balances excitation and inhibition in sensory pathways and memory networks", Science 334:1569,
doi:10.1126/science.1211095. Rule (see :mod:`neurocircuits.plasticity.istdp`): on a presynaptic
(inhibitory) spike ``w += eta (x_post - alpha)``, on a postsynaptic spike ``w += eta x_pre``,
``alpha = 2 rho0 tau``, traces with ``tau = 20 ms``; target ``rho0 = 3 Hz``.

Network: conductance-based LIF neurons (Vogels & Abbott 2005 parameters: tau_m 20 ms, E_L =
V_reset = -60 mV, V_th -50 mV, t_ref 5 ms, tau_e 5 ms, tau_i 10 ms, E_e 0 mV, E_i -80 mV),
N_E = 4 N_I, fixed in-degrees (100 excitatory inputs of 0.1 g_L, 100 inhibitory inputs;
I->I 0.3 g_L), every neuron driven by 100 external Poisson trains at 20 Hz (0.3 g_L each).
Only I->E synapses are plastic. Two runs from very different starts: weak inhibition
(w0 = 0.01 g_L, E fires at > 10 Hz) and strong inhibition (w0 = 1 g_L, E nearly silent).

Measured: E rate in the last quarter of each run (claim: 3 +- 0.5 Hz, Vogels Fig. 4 / text),
and E/I current balance of 50 recorded E neurons in that window: with
``I_e = g_e (E_e - v)`` and ``I_i = g_i (E_i - v)`` (mV, currents times R_m), the ratio
``-<I_i> / <I_e>`` (claim: 1 +- 0.1, the inhibitory current cancels the excitatory one).
"""

from __future__ import annotations

import numpy as np

from neurocircuits.experiments import Claim, Result, experiment
from neurocircuits.plasticity.istdp import InhibitorySTDP
from neurocircuits.progress import progress
from neurocircuits.sim import connectors as cn
from neurocircuits.sim import models
from neurocircuits.sim.network import Network

RHO0_HZ = 3.0
E_E_MV, E_I_MV = 0.0, -80.0


def simulate(n_e: int, w0: float, eta: float, duration_s: int, seed: int, desc: str) -> dict:
    n_i = n_e // 4
    net = Network(dt_ms=0.1, seed=seed)
    E = net.add(models.coba_vogels_abbott(n_e, I_bias_mV=0.0), "E", v_init_mV=cn.Uniform(-60.0, -50.0))
    I = net.add(models.coba_vogels_abbott(n_i, I_bias_mV=0.0), "I", v_init_mV=cn.Uniform(-60.0, -50.0))
    net.connect(E, [E, I], cn.FixedInDegree(100), weight=0.1, receptor="exc")
    net.connect(I, I, cn.FixedInDegree(100), weight=0.3, receptor="inh")
    rule = InhibitorySTDP(eta=eta, rho0_hz=RHO0_HZ, tau_ms=20.0, w_min=0.0, w_max=100.0)
    ie = net.connect(I, E, cn.FixedInDegree(100), weight=w0, receptor="inh", plasticity=rule)
    for pop in (E, I):
        net.poisson_input(pop, 100, 20.0, 0.3, "exc")
    rate_e, rate_i = net.rate_monitor(E), net.rate_monitor(I)
    rec = np.linspace(0, n_e - 1, 50).astype(np.int64)
    st = net.state_monitor(E, ("v", "g_e", "g_i"), neurons=rec, every_steps=10)
    w_mean = [float(net.get_weights(ie).mean())]
    for _ in progress(range(duration_s), desc=desc):
        net.run(1000.0, progress=False)
        w_mean.append(float(net.get_weights(ie).mean()))
    r_e = rate_e.rate_hz(bin_ms=1000.0)
    r_i = rate_i.rate_hz(bin_ms=1000.0)
    t = st.times_ms
    v, ge, gi = st["v"], st["g_e"], st["g_i"]
    I_e = ge * (E_E_MV - v)
    I_i = gi * (E_I_MV - v)
    final = t >= 0.75 * duration_s * 1000.0
    first = t < 1000.0
    ratio = lambda m: float(-I_i[m].mean() / I_e[m].mean())  # noqa: E731
    n_last = max(1, duration_s // 4)
    return dict(w0=w0, rate_e=r_e, rate_i=r_i, w_mean=np.array(w_mean),
                final_rate_hz=float(r_e[-n_last:].mean()), first_rate_hz=float(r_e[0]),
                final_ratio=ratio(final), first_ratio=ratio(first),
                trace_t=t[final][:2000], trace_Ie=I_e[final][:2000, 0], trace_Ii=I_i[final][:2000, 0])


@experiment("istdp-balance", paper="Vogels et al. 2011, Science 334:1569, doi:10.1126/science.1211095")
def run(scale: str, seed: int, out) -> Result:
    """Vogels et al. (2011): iSTDP drives the E rate to rho0 = 3 Hz from weak and strong starts."""
    import matplotlib.pyplot as plt

    n_e, eta, T = {"quick": (1000, 0.03, 15), "full": (8000, 0.02, 30)}[scale]
    runs = {name: simulate(n_e, w0, eta, T, seed, f"iSTDP {name} start")
            for name, w0 in (("weak", 0.01), ("strong", 1.0))}
    claims, metrics = [], {}
    for name, r in runs.items():
        metrics[f"{name}_first_rate_hz"] = round(r["first_rate_hz"], 3)
        metrics[f"{name}_final_rate_hz"] = round(r["final_rate_hz"], 3)
        metrics[f"{name}_first_ratio_I_over_E"] = round(r["first_ratio"], 4)
        metrics[f"{name}_final_ratio_I_over_E"] = round(r["final_ratio"], 4)
        metrics[f"{name}_w_start"], metrics[f"{name}_w_end"] = float(r["w_mean"][0]), round(float(r["w_mean"][-1]), 4)
        metrics[f"{name}_rate_per_s"] = [round(float(x), 3) for x in r["rate_e"]]
        claims.append(Claim(f"{name}-inhibition start: E rate converges to rho0", r["final_rate_hz"], RHO0_HZ,
                            "approx", tolerance=0.5, source="Vogels et al. 2011, Fig. 4 / text (rho0 = 3 Hz)"))
        claims.append(Claim(f"{name}-inhibition start: E/I currents balance, -<I_i>/<I_e>", r["final_ratio"], 1.0,
                            "approx", tolerance=0.1, source="Vogels et al. 2011, Fig. 1-2"))
    metrics["start_rate_ratio_weak_over_strong"] = round(runs["weak"]["first_rate_hz"]
                                                         / max(runs["strong"]["first_rate_hz"], 1e-3), 1)
    claims.append(Claim("starts are very different: first-second E rates differ > 10x",
                        metrics["start_rate_ratio_weak_over_strong"], 10.0, ">", source="setup"))

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for name, r in runs.items():
        axes[0].plot(np.arange(r["rate_e"].size) + 0.5, r["rate_e"], "o-", ms=3, label=f"{name} start")
        axes[1].plot(np.arange(r["w_mean"].size), r["w_mean"], label=f"{name} start")
    axes[0].axhline(RHO0_HZ, color="k", ls="--", lw=1, label="rho0")
    axes[0].set_yscale("symlog", linthresh=1.0)
    axes[0].set_xlabel("time (s)")
    axes[0].set_ylabel("excitatory rate (Hz)")
    axes[0].legend(fontsize=8)
    axes[1].set_xlabel("time (s)")
    axes[1].set_ylabel("mean I->E weight (units of g_L)")
    axes[1].legend(fontsize=8)
    r = runs["weak"]
    axes[2].plot(r["trace_t"] / 1000.0, r["trace_Ie"], lw=0.6, label="I_e = g_e (E_e - v)")
    axes[2].plot(r["trace_t"] / 1000.0, -r["trace_Ii"], lw=0.6, label="-I_i = -g_i (E_i - v)")
    axes[2].set_xlabel("time (s)")
    axes[2].set_ylabel("current x R_m (mV)")
    axes[2].set_title("one E neuron after learning (weak start)", fontsize=9)
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    return Result(
        metrics=metrics, claims=claims, figures={"istdp_convergence": fig},
        params=dict(N_E=n_e, N_I=n_e // 4, eta=eta, rho0_hz=RHO0_HZ, tau_stdp_ms=20.0, duration_s=T,
                    w0_weak=0.01, w0_strong=1.0, in_degree=100, ext_inputs="100 x 20 Hz x 0.3 g_L", seed=seed),
        notes=(f"Network stand-in of our own (conductance LIF, fixed in-degrees, Poisson background), not the "
               f"paper's exact network; learning rate eta = {eta} (units of g_L) chosen so both starts converge "
               f"within {T} s of simulated time. Final rates are averaged over the last quarter of each run; "
               f"currents over the same window of 50 recorded E neurons. Measured: weak start "
               f"{runs['weak']['first_rate_hz']:.2f} -> {runs['weak']['final_rate_hz']:.2f} Hz, strong start "
               f"{runs['strong']['first_rate_hz']:.2f} -> {runs['strong']['final_rate_hz']:.2f} Hz; "
               f"-<I_i>/<I_e> weak {runs['weak']['first_ratio']:.2f} -> {runs['weak']['final_ratio']:.3f}, "
               f"strong {runs['strong']['first_ratio']:.2f} -> {runs['strong']['final_ratio']:.3f}."))
