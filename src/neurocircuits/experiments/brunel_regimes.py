"""Brunel (2000): the states of a sparse balanced E/I network of LIF neurons.

Brunel N. (2000) "Dynamics of sparsely connected networks of excitatory and inhibitory spiking
neurons", J. Comput. Neurosci. 8:183-208, doi:10.1023/A:1008925309027. Model A: N_E = 4 N_I
delta-synapse LIF neurons (tau = 20 ms, theta = 20 mV, V_r = 10 mV, tau_rp = 2 ms), each
receiving C_E = eps N_E excitatory (J) and C_I = C_E / 4 inhibitory (-g J) inputs with delay
D = 1.5 ms, plus C_E external Poisson inputs at nu_ext = eta nu_thr, nu_thr = theta / (J C_E tau).

The paper's Fig. 8 shows four states at (g, eta = nu_ext / nu_thr):
A (3, 2) synchronous regular (SR); B (6, 4) synchronous irregular, fast oscillation (SI fast);
C (5, 2) asynchronous irregular (AI); D (4.5, 0.9) synchronous irregular, slow oscillation
(SI slow). We classify each simulated state from three measured numbers of the excitatory
population (after a 100 ms transient):

- irregularity: mean CV of the inter-spike intervals; *regular* if CV < 0.25;
- synchrony: chi = sqrt(Var_t[mean_i V_i(t)] / mean_i Var_t[V_i(t)]) over 1,000 recorded
  membranes (Golomb 2007, Scholarpedia 2:1347); ~1/sqrt(K) for independent neurons, 1 for
  identical ones; *synchronous* if chi >= 0.3;
- oscillation frequency: peak of the power spectrum of the population spike count (1 ms bins,
  above 5 Hz); a synchronous irregular state is *fast* above 100 Hz, *slow* below.

Full scale is the paper's network (N_E = 10,000, eps = 0.1, J = 0.1 mV, 15.6 M synapses) with
a coarse (g, eta) diagram; quick scale a reduced network (N_E = 5,000, eps = 0.1, C_E = 500)
with J = 0.2 mV so that J C_E (the mean recurrent and external drive) is unchanged.
"""

from __future__ import annotations

import numpy as np

from neurocircuits.experiments import Claim, Result, experiment
from neurocircuits.progress import progress
from neurocircuits.sim import connectors as cn
from neurocircuits.sim import models
from neurocircuits.sim.network import Network

CANONICAL = {"A": (3.0, 2.0, "SR"), "B": (6.0, 4.0, "SI fast"), "C": (5.0, 2.0, "AI"),
             "D": (4.5, 0.9, "SI slow")}
CV_REGULAR = 0.25
CHI_SYNC = 0.3
F_FAST_HZ = 100.0
TRANSIENT_MS = 100.0


def classify(cv: float, chi: float, f_peak_hz: float) -> str:
    """State label from irregularity, synchrony and oscillation frequency (module doc)."""
    if not chi >= CHI_SYNC:
        return "AI" if not cv < CV_REGULAR else "AR"
    if cv < CV_REGULAR:
        return "SR"
    return "SI fast" if f_peak_hz >= F_FAST_HZ else "SI slow"


def synchrony_chi(v: np.ndarray) -> float:
    """Golomb's chi from membrane potentials ``v`` [time, neurons]."""
    var_i = v.var(axis=0).mean()
    return float(np.sqrt(v.mean(axis=1).var() / var_i)) if var_i > 0 else float("nan")


class BrunelNetwork:
    """One network (connectivity drawn once); :meth:`simulate` sets g and eta and runs."""

    def __init__(self, n_e: int, c_e: int, J: float, seed: int, n_rec: int = 1000):
        self.n_e, self.c_e, self.J = n_e, c_e, J
        n_i, c_i = n_e // 4, c_e // 4
        self.nu_thr_hz = 20.0 / (J * c_e * 20.0) * 1000.0
        net = Network(dt_ms=0.1, seed=seed)
        E = net.add(models.brunel2000_A(n_e), "E", v_init_mV=cn.Uniform(0.0, 20.0))
        I = net.add(models.brunel2000_A(n_i), "I", v_init_mV=cn.Uniform(0.0, 20.0))
        net.connect(E, [E, I], cn.FixedInDegree(c_e), weight=J, delay_ms=1.5, receptor="v")
        self.inh = net.connect(I, [E, I], cn.FixedInDegree(c_i), weight=-5.0 * J, delay_ms=1.5,
                               receptor="v")
        self.drives = [net.poisson_input(p, c_e, 2.0 * self.nu_thr_hz, J, "v") for p in (E, I)]
        self.spikes = net.spike_monitor(E)
        rec = np.linspace(0, n_e - 1, min(n_rec, n_e)).astype(np.int64)
        self.vmon = net.state_monitor(E, "v", neurons=rec, every_steps=2)
        self.rate = net.rate_monitor(E)
        self.net = net
        net.build()

    def simulate(self, g: float, eta: float, duration_ms: float) -> dict:
        net = self.net
        net.reset()
        for proj in self.inh:
            net.set_weights(proj, -g * self.J)
        for d in self.drives:
            net.set_input_rate(d, eta * self.nu_thr_hz)
        info = net.run(duration_ms, progress=False)
        st = self.spikes.spike_trains().select(t_start_ms=TRANSIENT_MS)
        cv = float(np.nanmean(st.isi_cv())) if np.isfinite(st.isi_cv()).any() else float("nan")
        v = self.vmon["v"][self.vmon.times_ms >= TRANSIENT_MS]
        chi = synchrony_chi(v)
        counts = st.population_counts(1.0).astype(float)
        freqs = np.fft.rfftfreq(counts.size, 1e-3)
        power = np.abs(np.fft.rfft(counts - counts.mean())) ** 2
        band = freqs > 5.0
        f_peak = float(freqs[band][np.argmax(power[band])]) if band.any() else float("nan")
        rate = st.mean_rate_hz()
        return dict(g=g, eta=eta, rate_hz=rate, cv=cv, chi=chi, f_peak_hz=f_peak,
                    label=classify(cv, chi, f_peak), wall_s=info["wall_s"], trains=st,
                    pop_rate=self.rate.rate_hz(bin_ms=0.5))


@experiment("brunel-regimes", paper="Brunel 2000, J. Comput. Neurosci. 8:183, doi:10.1023/A:1008925309027")
def run(scale: str, seed: int, out) -> Result:
    """Brunel (2000) Fig. 8: SR, SI fast, AI and SI slow states of a sparse E/I LIF network."""
    import matplotlib.pyplot as plt

    if scale == "full":
        n_e, c_e, J, dur = 10_000, 1000, 0.1, 1100.0
        grid_g, grid_eta, grid_dur = [3.0, 4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 4.0], 500.0
    else:
        n_e, c_e, J, dur = 5000, 500, 0.2, 500.0
        grid_g, grid_eta, grid_dur = [], [], 0.0
    bn = BrunelNetwork(n_e, c_e, J, seed)
    points = {}
    for key, (g, eta, _) in progress(CANONICAL.items(), desc="Brunel Fig. 8 points"):
        points[key] = bn.simulate(g, eta, dur)
    grid = []
    for g in progress(grid_g, desc="(g, eta) diagram"):
        for eta in grid_eta:
            r = bn.simulate(g, eta, grid_dur)
            grid.append({k: r[k] for k in ("g", "eta", "rate_hz", "cv", "chi", "f_peak_hz", "label")})

    claims, metrics = [], {}
    for key, (g, eta, want) in CANONICAL.items():
        r = points[key]
        for k in ("rate_hz", "cv", "chi", "f_peak_hz"):
            metrics[f"{key}_{k}"] = round(float(r[k]), 4)
        metrics[f"{key}_label"] = r["label"]
        src = f"Fig. 8{key}"
        tag = f"{key} (g={g:g}, eta={eta:g}) {want}"
        if want == "AI":
            claims.append(Claim(f"{tag}: asynchronous, chi", r["chi"], CHI_SYNC, "<", source=src))
        else:
            claims.append(Claim(f"{tag}: synchronous, chi", r["chi"], CHI_SYNC, ">=", source=src))
        if want == "SR":
            claims.append(Claim(f"{tag}: regular, CV of ISI", r["cv"], CV_REGULAR, "<", source=src))
        else:
            claims.append(Claim(f"{tag}: irregular, CV of ISI", r["cv"], CV_REGULAR, ">=", source=src))
        if want == "SI fast":
            claims.append(Claim(f"{tag}: fast oscillation, peak Hz", r["f_peak_hz"], F_FAST_HZ, ">=",
                                source=src))
        if want == "SI slow":
            claims.append(Claim(f"{tag}: slow oscillation, peak Hz", r["f_peak_hz"], F_FAST_HZ, "<",
                                source=src))
    metrics["n_correct_labels"] = sum(points[k]["label"] == CANONICAL[k][2] for k in CANONICAL)
    claims.append(Claim("all four Fig. 8 points classified as in the paper", metrics["n_correct_labels"], 4,
                        "==", source="Fig. 8"))
    if grid:
        metrics["diagram"] = grid

    figs = {"fig8_states": _state_figure(plt, points), }
    if grid:
        figs["phase_diagram"] = _diagram_figure(plt, grid, points)
    notes = (
        f"Network: N_E = {n_e}, N_I = {n_e // 4}, C_E = {c_e}, C_I = {c_e // 4}, J = {J} mV, D = 1.5 ms, "
        f"dt = 0.1 ms, {dur:g} ms per point ({TRANSIENT_MS:g} ms transient discarded). "
        f"Classification thresholds: regular if CV < {CV_REGULAR}, synchronous if chi >= {CHI_SYNC}, fast if "
        f"the population-rate spectrum peaks at >= {F_FAST_HZ:g} Hz. "
        + ("Quick scale is a reduced network (eps = 0.1, C_E = 500, J = 0.2 mV keeps J C_E): the larger "
           "synaptic noise relative to theta moves the AI / SI-fast boundary (at C_E = 200, J = 0.5 mV "
           "point B is no longer synchronous), so B sits close to the threshold at this size; the full "
           "scale is the paper's network. "
           if scale == "quick" else
           "The (g, eta) diagram reuses one connectivity draw and runs 500 ms per grid point. ")
        + "Measured: " + "; ".join(f"{k}: {points[k]['label']} (rate {points[k]['rate_hz']:.1f} Hz, CV "
                                   f"{points[k]['cv']:.2f}, chi {points[k]['chi']:.3f}, peak "
                                   f"{points[k]['f_peak_hz']:.0f} Hz)" for k in CANONICAL))
    return Result(metrics=metrics, claims=claims, figures=figs,
                  params=dict(N_E=n_e, N_I=n_e // 4, C_E=c_e, C_I=c_e // 4, J_mV=J, D_ms=1.5, dt_ms=0.1,
                              duration_ms=dur, transient_ms=TRANSIENT_MS, grid_g=grid_g, grid_eta=grid_eta,
                              grid_duration_ms=grid_dur, seed=seed),
                  notes=notes)


def _state_figure(plt, points):
    fig, axes = plt.subplots(4, 2, figsize=(11, 10), gridspec_kw=dict(width_ratios=[1, 1]))
    for row, key in enumerate(CANONICAL):
        r = points[key]
        g, eta, want = CANONICAL[key]
        st = r["trains"].select(neurons=np.arange(50), t_start_ms=0.0, t_stop_ms=min(200.0, r["trains"].duration_ms))
        ax = axes[row, 0]
        ax.plot(st.times_ms + TRANSIENT_MS, st.ids, "|", ms=3, color="k")
        ax.set_ylabel("neuron")
        ax.set_title(f"{key}: g={g:g}, nu_ext/nu_thr={eta:g} (paper: {want}; measured: {r['label']})", fontsize=9)
        ax2 = axes[row, 1]
        pr = r["pop_rate"]
        t = np.arange(pr.size) * 0.5
        m = (t >= TRANSIENT_MS) & (t < TRANSIENT_MS + 200.0)
        ax2.plot(t[m], pr[m], lw=0.7)
        ax2.set_ylabel("E rate (Hz)")
    for ax in axes[-1]:
        ax.set_xlabel("time (ms)")
    fig.tight_layout()
    return fig


def _diagram_figure(plt, grid, points):
    colors = {"AI": "tab:green", "SR": "tab:red", "SI fast": "tab:blue", "SI slow": "tab:purple", "AR": "tab:gray"}
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for lab, c in colors.items():
        pts = [(r["g"], r["eta"]) for r in grid if r["label"] == lab]
        if pts:
            ax.scatter(*zip(*pts), s=120, c=c, label=lab, alpha=0.6)
    for key, (g, eta, want) in CANONICAL.items():
        ax.scatter([g], [eta], marker="*", s=220, c=colors[points[key]["label"]], edgecolors="k")
        ax.annotate(key, (g, eta), xytext=(6, 6), textcoords="offset points")
    ax.set_xlabel("relative inhibition g")
    ax.set_ylabel("external rate nu_ext / nu_thr")
    ax.set_title("measured states (stars: Fig. 8 points A-D)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
