"""Reproduction of Ahmad & Hawkins (2016), "How do neurons operate on sparse distributed
representations? A mathematical theory of sparsity, neurons and active dendrites",
arXiv:1601.00720.

A dendritic segment with s synapses and NMDA-spike threshold θ detects SDRs of a active cells
out of n. The paper gives exact error probabilities (false matches, Eq. 4; false negatives under
noise, Eq. 6; unions of M patterns on one segment, §3.3) and checks them by sampling (§4.1,
Fig. 4). Here:

1. Monte-Carlo estimates, with :class:`~neurocircuits.sdr.DendriticSegments` doing the matching,
   are compared with the exact theory of :mod:`neurocircuits.sdr.theory` at 20 grid points
   (false matches vs θ, s and n; unions of M patterns; false negatives under noise). Each point
   uses its own random numbers. Every (segment, input) pair of a block is one trial: pairs that
   share a segment or an input are pairwise independent (the conditional probability given the
   shared segment or input does not depend on it), so the count has exactly the binomial
   variance N p (1 − p). For unions the segment's size is random and pairs sharing a segment are
   correlated; the exact variance N p (1 − p) + N (B − 1) Var_U[P(U)] (B inputs per segment) is
   used instead.
2. The paper's numeric examples (§3.1–3.3, Fig. 5A caption, Fig. 6) are evaluated exactly.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from neurocircuits.experiments import Claim, Result, experiment
from neurocircuits.progress import progress
from neurocircuits.sdr import DendriticSegments, add_noise, random_sdr, subsample
from neurocircuits.sdr import theory as T

PAPER = "Ahmad & Hawkins 2016, arXiv:1601.00720"

# Monte-Carlo budget per grid point: aim for `target` expected events, between `min_pairs` and
# `max_pairs` (segment, input) trials.
BUDGET = {
    "quick": dict(target=100, min_pairs=500_000, max_pairs=4_000_000, k_seg=2_000, b_in=500),
    "full": dict(target=5_000, min_pairs=10_000_000, max_pairs=4_000_000_000, k_seg=10_000, b_in=1_000),
}
MIN_EXPECTED = 10  # points with fewer expected events are shown but not tested

# The grid (20 points). Sweeps follow the paper's figures: θ (Fig. 3 idea), s with θ = s/2
# (Fig. 5B), n at a = 128, s = 24, θ = 12 (Fig. 4A / 5A), unions (Fig. 7B), noise (Fig. 4B).
SWEEP_THETA = dict(n=2048, a=40, s=40, thetas=(2, 4, 6, 8))
SWEEP_S = dict(n=1000, a=50, ss=(8, 12, 16, 20))  # θ = s / 2
SWEEP_N = dict(a=128, s=24, theta=12, ns=(500, 800, 1200, 2000))
UNION = dict(n=2000, a=64, s=20, theta=10, ms=(3, 4, 6, 8))
NOISE = dict(n=6000, a=128, s=30, points=((10, 0.4), (12, 0.3), (14, 0.5), (16, 0.4)))

# Fig. 6 grid: n from 10,000 to 200,000, a from 0.5 % to 3 % of n, s from 20 to 50
FIG6 = dict(ns=tuple(range(10_000, 200_001, 10_000)), fractions=(0.005, 0.01, 0.015, 0.02, 0.025, 0.03),
            ss=tuple(range(20, 51)), thetas=tuple(range(1, 31)))


# ---------------------------------------------------------------------------------------------
# Monte Carlo
def _n_pairs(p: float, budget: dict, block: int) -> int:
    want = budget["target"] / max(p, 1e-300)
    n = min(max(want, budget["min_pairs"]), budget["max_pairs"])
    return int(math.ceil(n / block) * block)


def _mc_false_match(n, a, s, theta, n_pairs, gen, k_seg, b_in, rounds=10):
    """Matches of random segments (s random synapses) against random SDRs: (count, trials)."""
    count = done = 0
    while done < n_pairs:
        ds = DendriticSegments(n, random_sdr(k_seg, n, s, generator=gen), theta)
        for _ in range(rounds):
            if done >= n_pairs:
                break
            count += int(ds.fire_counts(random_sdr(b_in, n, a, generator=gen)).sum())
            done += k_seg * b_in
    return count, done


def _mc_union(n, a, s, theta, m, n_pairs, gen, k_seg, b_in, rounds=4):
    """Segments storing the union of m patterns (s synapses subsampled from each random SDR)
    against random SDRs: (count, trials, Σ over segments of B_k (B_k − 1)), B_k being the
    number of inputs segment k saw (for the variance of the count)."""
    count = done = shared = 0
    while done < n_pairs:
        patterns = random_sdr(k_seg * m, n, a, generator=gen)
        syn = subsample(patterns, s, generator=gen).view(k_seg, m * s)
        mask = torch.zeros(k_seg, n, dtype=torch.bool).scatter_(1, syn, True)
        ds = DendriticSegments.from_dense(mask, theta)
        seen = 0
        for _ in range(rounds):
            if done >= n_pairs:
                break
            count += int(ds.fire_counts(random_sdr(b_in, n, a, generator=gen)).sum())
            done += k_seg * b_in
            seen += b_in
        shared += k_seg * seen * (seen - 1)
    return count, done, shared


def _mc_noise(n, a, s, theta, v, n_pairs, gen, k_seg, b_in):
    """Segments subsampling a pattern A against copies of A with v active cells replaced:
    (misses, trials)."""
    misses = done = 0
    while done < n_pairs:
        pattern = random_sdr(1, n, a, generator=gen)
        segs = subsample(pattern.expand(k_seg, a), s, generator=gen)
        noisy = add_noise(pattern.expand(b_in, a), v, n, generator=gen)
        fired = int(DendriticSegments(n, segs, theta).fire_counts(noisy).sum())
        misses += k_seg * b_in - fired
        done += k_seg * b_in
    return misses, done


def _point(kind, params, p, count, trials, var=None):
    expected = trials * p
    var = trials * p * (1 - p) if var is None else var
    se = math.sqrt(var) if var > 0 else 0.0
    z = (count - expected) / se if se > 0 else (0.0 if count == expected else math.inf)
    return dict(kind=kind, **params, p_theory=p, trials=trials, count=count,
                p_mc=count / trials, se_p=se / trials, expected=expected, z=z,
                tested=bool(expected >= MIN_EXPECTED))


def monte_carlo(scale: str, gen: torch.Generator) -> list[dict]:
    budget = BUDGET[scale]
    jobs = []
    c = SWEEP_THETA
    for t in c["thetas"]:
        jobs.append(("theta", dict(n=c["n"], a=c["a"], s=c["s"], theta=t)))
    c = SWEEP_S
    for s in c["ss"]:
        jobs.append(("s", dict(n=c["n"], a=c["a"], s=s, theta=s // 2)))
    c = SWEEP_N
    for n in c["ns"]:
        jobs.append(("n", dict(n=n, a=c["a"], s=c["s"], theta=c["theta"])))
    c = UNION
    for m in c["ms"]:
        jobs.append(("union", dict(n=c["n"], a=c["a"], s=c["s"], theta=c["theta"], m=m)))
    c = NOISE
    for t, f in c["points"]:
        jobs.append(("noise", dict(n=c["n"], a=c["a"], s=c["s"], theta=t, v=int(round(f * c["a"])))))
    points = []
    for kind, prm in progress(jobs, desc="sdr-dendrites Monte Carlo"):
        if kind == "union":
            p = T.union_false_match_probability(prm["n"], prm["a"], prm["s"], prm["theta"], prm["m"])
            p2 = T.union_false_match_second_moment(prm["n"], prm["a"], prm["s"], prm["theta"], prm["m"])
            k, b = budget["k_seg"] // 2, budget["b_in"]
            count, trials, shared = _mc_union(**prm, n_pairs=_n_pairs(p, budget, k * b), gen=gen,
                                              k_seg=k, b_in=b)
            # Var = Σ_pairs p(1 − p) + Σ_(pairs sharing a segment) Cov, Cov = Var_U[P(U)]
            var = trials * p * (1 - p) + shared * (p2 - p * p)
            points.append(_point(kind, prm, p, count, trials, var))
        elif kind == "noise":
            p = T.false_negative_probability(prm["a"], prm["s"], prm["theta"], prm["v"])
            k, b = budget["k_seg"] // 5, budget["b_in"] // 2
            count, trials = _mc_noise(**prm, n_pairs=_n_pairs(p, budget, k * b), gen=gen, k_seg=k, b_in=b)
            points.append(_point(kind, prm, p, count, trials))
        else:
            p = T.false_match_probability(prm["n"], prm["a"], prm["s"], prm["theta"])
            k, b = budget["k_seg"], budget["b_in"]
            count, trials = _mc_false_match(**prm, n_pairs=_n_pairs(p, budget, k * b), gen=gen,
                                            k_seg=k, b_in=b)
            points.append(_point(kind, prm, p, count, trials))
    return points


# ---------------------------------------------------------------------------------------------
# figures
def _mc_errorbars(ax, pts, x_key):
    pts = [q for q in pts if q["count"] > 0]
    if not pts:
        return
    x = [q[x_key] for q in pts]
    y = np.array([q["p_mc"] for q in pts])
    e = np.array([2 * q["se_p"] for q in pts])
    lo = np.minimum(e, y * 0.999)
    ax.errorbar(x, y, yerr=[lo, e], fmt="o", color="k", ms=5, capsize=3,
                label="Monte Carlo (±2 SE)")


def _figures(points, fig6, fig6_noise):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = {}
    by = lambda k: [q for q in points if q["kind"] == k]  # noqa: E731

    c = SWEEP_THETA
    fig, ax = plt.subplots(figsize=(6, 4.2))
    th = np.arange(1, c["s"] + 1)
    ax.semilogy(th, [10 ** T.log10_false_match_probability(c["n"], c["a"], c["s"], int(t)) for t in th],
                "-", label=f"theory (Eq. 4), n={c['n']}, a={c['a']}, s={c['s']}")
    _mc_errorbars(ax, by("theta"), "theta")
    ax.set_xlabel("segment threshold θ (synapses)")
    ax.set_ylabel("P(false match)")
    ax.set_title("False match vs threshold")
    ax.legend(fontsize=8)
    figs["p_vs_theta"] = fig

    c = SWEEP_S
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ss = np.arange(2, 41, 2)
    ax.semilogy(ss, [T.false_match_probability(c["n"], c["a"], int(s), int(s) // 2) for s in ss], "-",
                label=f"theory, n={c['n']}, a={c['a']}, θ=s/2")
    for n, a, st in ((2000, 40, "--"), (4000, 64, ":")):
        ax.semilogy(ss, [T.false_match_probability(n, a, int(s), int(s) // 2) for s in ss], st,
                    label=f"theory, n={n}, a={a}, θ=s/2")
    _mc_errorbars(ax, by("s"), "s")
    ax.set_xlabel("synapses per segment s")
    ax.set_ylabel("P(false match)")
    ax.set_title("False match vs number of synapses (cf. Fig. 5B)")
    ax.legend(fontsize=8)
    figs["p_vs_s"] = fig

    c = SWEEP_N
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ns = np.unique(np.geomspace(300, 20000, 60).astype(int))
    for a, st in ((64, "--"), (128, "-"), (256, ":")):
        ax.semilogy(ns, [10 ** T.log10_false_match_probability(int(n), a, c["s"], c["theta"]) if n >= a else np.nan
                         for n in ns], st, label=f"theory, a={a}, s={c['s']}, θ={c['theta']}")
    _mc_errorbars(ax, by("n"), "n")
    ax.set_xscale("log")
    ax.set_xlabel("population size n (cells)")
    ax.set_ylabel("P(false match)")
    ax.set_title("False match vs population size (cf. Fig. 4A, 5A)")
    ax.legend(fontsize=8)
    figs["p_vs_n"] = fig

    c = UNION
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ms = np.arange(1, 21)
    for s in (20, 25, 30):
        ax1.plot(ms, [T.expected_union_size(20000, s, int(m)) for m in ms], "-", label=f"Eq. 13, s={s}")
        ax1.plot(ms, ms * s, ":", color=ax1.lines[-1].get_color(), lw=0.8)
    ax1.set_xlabel("patterns stored on the segment M")
    ax1.set_ylabel("expected synapses on the segment s_M")
    ax1.set_title("Union size (n = 20,000; dotted: M·s)")
    ax1.legend(fontsize=8)
    ms2 = np.arange(1, 11)
    for n in (1000, 2000, 4000):
        exact = [T.union_false_match_probability(n, c["a"], c["s"], c["theta"], int(m)) for m in ms2]
        approx = [T.union_false_match_probability(n, c["a"], c["s"], c["theta"], int(m), "expected") for m in ms2]
        ax2.semilogy(ms2, exact, "-", label=f"exact, n={n}")
        ax2.semilogy(ms2, approx, "--", color=ax2.lines[-1].get_color(), lw=1)
    _mc_errorbars(ax2, by("union"), "m")
    ax2.set_xlabel("patterns stored on the segment M")
    ax2.set_ylabel("P(false match)")
    ax2.set_title(f"Union capacity (a={c['a']}, s={c['s']}, θ={c['theta']}; dashed: s_M approx.)")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    figs["union_capacity"] = fig

    c = NOISE
    fig, ax = plt.subplots(figsize=(6, 4.2))
    vs = np.arange(0, c["a"] + 1, 4)
    for t in (8, 10, 12, 14, 16):
        ax.semilogy(vs / c["a"], [T.false_negative_probability(c["a"], c["s"], t, int(v)) for v in vs], "-",
                    label=f"theory (Eq. 6), θ={t}")
    pts = by("noise")
    for q in pts:
        q["noise_fraction"] = q["v"] / c["a"]
    _mc_errorbars(ax, pts, "noise_fraction")
    ax.set_ylim(1e-12, 2)
    ax.set_xlabel("noise: fraction of the a active cells replaced")
    ax.set_ylabel("P(false negative)")
    ax.set_title(f"Noise robustness (a={c['a']}, n={c['n']}, s={c['s']}; cf. Fig. 4B)")
    ax.legend(fontsize=8)
    figs["noise_robustness"] = fig

    fig, ax = plt.subplots(figsize=(6, 4.2))
    ax.plot(FIG6["thetas"], fig6, "o-", label="median P(false match)")
    for nf, prof in fig6_noise.items():
        ax.plot(FIG6["thetas"], prof, ".--", lw=1, label=f"median P(fm) + P(fn), noise {int(nf * 100)} %")
    ax.axhline(-9, color="grey", lw=0.8)
    ax.axhspan(-60, -9, color="grey", alpha=0.1)
    ax.set_ylim(-50, 0.5)
    ax.set_xlabel("segment threshold θ (synapses)")
    ax.set_ylabel("log10 median probability of error")
    ax.set_title("Error vs threshold over n 10k–200k, a 0.5–3 %, s 20–50 (cf. Fig. 6)")
    ax.legend(fontsize=7)
    figs["threshold_profile"] = fig
    return figs


# ---------------------------------------------------------------------------------------------
@experiment("sdr-dendrites", paper=PAPER)
def run(scale: str, seed: int, out) -> Result:
    """Exact SDR matching theory of dendritic segments vs Monte Carlo with DendriticSegments."""
    gen = torch.Generator().manual_seed(seed)
    points = monte_carlo(scale, gen)
    tested = [q for q in points if q["tested"]]
    zs = np.array([q["z"] for q in tested])
    worst = float(np.max(np.abs(zs))) if zs.size else float("nan")
    from scipy.special import gammaincc

    chi_sq = float(np.sum(zs ** 2))
    # chi-square survival function with len(zs) degrees of freedom
    p_chi = float(gammaincc(len(zs) / 2, chi_sq / 2)) if zs.size else float("nan")
    chance_excursion = 1 - (1 - 2 * 0.0013499) ** len(zs)

    # -- the paper's numeric examples (exact) ------------------------------------------------
    ex31_fm = T.false_match_probability(10_000, 300, 30, 12)
    ex31_fn = T.false_negative_probability(300, 30, 12, 60)
    ex32_p = T.false_match_probability(10_000, 300, 30, 15)
    ex32_any = T.any_segment_false_match_probability(10_000, 300, 30, 15, 1_000_000)
    ex32_bound = 1_000_000 * ex32_p
    s_m = T.expected_union_size(20_000, 25, 10)
    ex33_exact = T.union_false_match_probability(20_000, 100, 25, 15, 10)
    ex33_approx = T.union_false_match_probability(20_000, 100, 25, 15, 10, method="expected")
    fig5a = T.false_match_probability(4000, 128, 24, 12)
    tiny = T.false_match_probability(2048, 40, 40, 40)
    tiny_log10 = T.log10_false_match_probability(2048, 40, 40, 40)

    # -- Fig. 6: median error vs threshold; optimal thresholds with noise ----------------------
    fig6 = T.threshold_error_profile(FIG6["thetas"], FIG6["ns"], FIG6["fractions"], FIG6["ss"])
    below = [t for t, v in zip(FIG6["thetas"], fig6) if v <= -9]
    theta_low_error = int(below[0]) if below else -1
    fig6_noise = {}
    opt_by_noise = {}
    for nf in (0.1, 0.2, 0.3, 0.4, 0.5):
        prof = T.threshold_error_profile(FIG6["thetas"], FIG6["ns"], FIG6["fractions"], FIG6["ss"],
                                         noise_fraction=nf)
        fig6_noise[nf] = prof
        opt_by_noise[str(nf)] = int(FIG6["thetas"][int(np.nanargmin(prof))])
    single_opt = T.optimal_threshold(10_000, 300, 30, 60)

    # union approximation vs exact over the union grid and the paper's example
    union_rel = [abs(T.union_false_match_probability(UNION["n"], UNION["a"], UNION["s"], UNION["theta"], m,
                                                     "expected") / q["p_theory"] - 1)
                 for m, q in zip(UNION["ms"], [q for q in points if q["kind"] == "union"])]

    figures = _figures(points, fig6, {k: v for k, v in fig6_noise.items() if k in (0.1, 0.3, 0.5)})

    claims = [
        Claim(f"Monte Carlo within 3 SE of theory at every tested grid point ({len(zs)} points, "
              f"max |z|)", worst, 3.0, "<=", source="§4.1, Fig. 4",
              note=f"{len(points) - len(tested)} of {len(points)} points have < {MIN_EXPECTED} expected "
                   f"events at this scale and are not tested; by chance alone some |z| > 3 occurs with "
                   f"probability {chance_excursion:.3f} over {len(zs)} points"),
        Claim("global chi-square test of Monte Carlo vs theory (p-value)", p_chi, 0.001, ">=",
              source="§4.1, Fig. 4", note=f"chi2 = {chi_sq:.2f} with {len(zs)} degrees of freedom"),
        Claim("n=10,000, a=300, s=30, θ=12: false match 'about one in 10^(two-digit exponent)'", ex31_fm,
              1e-10, "<=", source="§3.1"),
        Claim("10^6 segments, θ=15: P(any false match) is '1 in a billion' to the nearest order of "
              "magnitude", ex32_any, (10 ** -9.5, 10 ** -8.5), "within", source="§3.2",
              note=f"exact 1 − (1 − P)^M; the union bound M·P (Eq. 9) agrees to 5 digits. The paper's "
                   f"literal 'better than 1 in a billion' does NOT hold: the exact value is "
                   f"{100 * (ex32_any / 1e-9 - 1):.1f} % above 1e-9 (metric ex32_literal_margin)"),
        Claim("union of M=10 patterns (n=20,000, s=25): 'fewer than 250 synapses'", s_m, 250, "<",
              source="§3.3, Eq. 13"),
        Claim("same union, θ=15, a=100: false positive 'less than one in 10^(two-digit exponent)'",
              ex33_exact, 1e-10, "<=", source="§3.3"),
        Claim("128 of 4000 cells active, s=24, θ=12: error 'a little higher than 1e-12'", fig5a,
              (1e-12, 2e-12), "within", source="Fig. 5A caption"),
        Claim("smallest θ with median false-match probability <= 1e-9 over the Fig. 6 grid",
              theta_low_error, 9, "approx", tolerance=1, source="§4.3, Fig. 6",
              note="the paper gives the parameter ranges but not the grid spacing; one threshold step "
                   "of tolerance"),
    ]
    metrics = {
        "mc_points": points,
        "mc_points_tested": len(zs),
        "mc_worst_abs_z": worst,
        "mc_chi_square": chi_sq,
        "mc_chi_square_p": p_chi,
        "mc_total_trials": int(sum(q["trials"] for q in points)),
        "ex31_false_match": ex31_fm,
        "ex31_false_negative_v60": ex31_fn,
        "ex32_single_segment": ex32_p,
        "ex32_any_of_1e6": ex32_any,
        "ex32_union_bound": ex32_bound,
        # > 0 means the paper's literal "better than 1 in a billion" fails by this fraction
        "ex32_literal_margin": ex32_any / 1e-9 - 1,
        "ex32_max_segments_below_1e-9": int(1e-9 / ex32_p),
        "ex33_expected_union_size": s_m,
        "ex33_zero_fraction_percent": 100 * (1 - s_m / 20_000),
        "ex33_union_exact": ex33_exact,
        "ex33_union_paper_approx": ex33_approx,
        "ex33_approx_rel_error": ex33_approx / ex33_exact - 1,
        "union_grid_approx_rel_error_max": max(union_rel) if union_rel else float("nan"),
        "fig5a_false_match": fig5a,
        "p_fm_2048_40_40_40": tiny,
        "log10_p_fm_2048_40_40_40": tiny_log10,
        "fig6_log10_median_error": [float(v) for v in fig6],
        "fig6_smallest_theta_below_1e-9": theta_low_error,
        "fig6_optimal_theta_by_noise_fraction": opt_by_noise,
        "optimal_theta_n10000_a300_s30_v60": single_opt.theta,
        "optimal_error_n10000_a300_s30_v60": single_opt.error,
    }
    params = {
        "sweep_theta": SWEEP_THETA, "sweep_s": SWEEP_S, "sweep_n": SWEEP_N, "union": UNION,
        "noise": NOISE, "budget": BUDGET[scale], "min_expected_events": MIN_EXPECTED,
        "fig6_grid": {"n": [FIG6["ns"][0], FIG6["ns"][-1], 10_000], "a_fraction": FIG6["fractions"],
                      "s": [FIG6["ss"][0], FIG6["ss"][-1]]},
    }
    notes = (
        "No data set: SDRs, segments and noise are drawn uniformly at random, as in the paper. "
        "Monte-Carlo trials are (segment, input) pairs matched by DendriticSegments; each grid point "
        "uses fresh random numbers. Standard errors are binomial (exact for these pairwise-independent "
        "trials); for unions the exact variance adds N (B − 1) Var_U[P(U)] for B inputs per segment. "
        "Union probabilities are compared with the exact mixture over the union-size distribution; "
        f"the paper's expected-size approximation differs from it by up to "
        f"{100 * metrics['union_grid_approx_rel_error_max']:.1f} % on the union grid and by "
        f"{100 * metrics['ex33_approx_rel_error']:+.1f} % for the §3.3 example "
        f"(exact {ex33_exact:.3e}, approx. {ex33_approx:.3e}). "
        f"§3.2: the exact probability that any of 10^6 segments falsely matches is {ex32_any:.4e}, "
        f"{100 * (ex32_any / 1e-9 - 1):.1f} % above the paper's 'better than 1 in a billion' "
        f"(single segment {ex32_p:.4e}); the claim holds only up to about "
        f"{int(1e-9 / ex32_p):,} segments. "
        f"§3.1: the false-negative probability at 20 % noise (v = 60) is {ex31_fn:.2e}; the exponent "
        "printed in the text copy we read is not legible, so it is reported, not checked. The "
        "exponents of the §3.1 and §3.3 false-positive examples were only legible as two-digit, so "
        "those claims check the weaker bound 1e-10. "
        f"Fig. 6: the median false-match probability is {10 ** fig6[8]:.2e} at θ = 9 and "
        f"{10 ** fig6[9]:.2e} at θ = 10 on a grid with n in steps of 10,000, a in steps of 0.5 % and "
        "every s from 20 to 50. With noise added to the error (P_fm + P_fn), the best threshold "
        f"moves with the noise level: {opt_by_noise} (noise fraction: θ)."
    )
    return Result(metrics=metrics, claims=claims, figures=figures, params=params, notes=notes)
