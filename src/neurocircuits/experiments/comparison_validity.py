"""comparison-validity: similarity measures disagree, and can invert which model looks closer.

"Use case determines the validity of neural systems comparisons" (talk); the measures are linear
CKA (Kornblith et al. 2019, arXiv:1905.00414), RSA (Kriegeskorte et al. 2008,
doi:10.3389/neuro.06.004.2008), the Procrustes shape distance (Williams et al. 2021,
arXiv:2110.14739) and cross-validated ridge predictivity (Yamins et al. 2014,
doi:10.1073/pnas.1403112111).

Ground truth by construction. A reference "brain" representation X is the ReLU layer of a random
network on random inputs. Model A = X M with M an invertible but anisotropic (ill-conditioned)
linear map: it holds *all* of X's information, linearly decodable. Model B = X projected on its
top-k principal components plus a little isotropic noise: it keeps X's dominant geometry but
*loses* the low-variance directions. A decoding use case (what can a linear readout recover?)
should rank A closer; a geometry use case (are the representational shapes alike?) ranks B
closer. The measures split along exactly these lines.
"""

from __future__ import annotations

import numpy as np

from neurocircuits.analysis.compare import (
    linear_cka,
    procrustes_distance,
    rbf_cka,
    ridge_predictivity,
    rsa,
)
from neurocircuits.experiments import Claim, Result, experiment
from neurocircuits.progress import progress

SCALES = {
    "quick": dict(n_cond=200, n_in=20, n_units=60, keep_var=0.8, n_seeds=3),
    "full": dict(n_cond=1000, n_in=40, n_units=200, keep_var=0.8, n_seeds=20),
}

MEASURES = ("linear CKA", "RBF CKA", "RSA (Spearman, corr. dist.)", "Procrustes similarity",
            "ridge predictivity R²")


def make_representations(n_cond: int, n_in: int, n_units: int, keep_var: float, rng):
    """Reference X, model A (invertible anisotropic linear map of X) and model B (the fewest
    top PCs of X that hold ``keep_var`` of its variance, plus isotropic noise of 5 % of X's
    per-unit SD), all ``[n_cond, n_units]``; also returns the number of PCs kept."""
    u = rng.standard_normal((n_cond, n_in))
    w1 = rng.standard_normal((n_in, n_units)) / np.sqrt(n_in)
    x = np.maximum(u @ w1 + 0.3, 0.0)
    q, _ = np.linalg.qr(rng.standard_normal((n_units, n_units)))
    gains = np.logspace(-1.5, 1.5, n_units)  # condition number 1e3
    m = q @ np.diag(gains) @ q.T
    a = x @ m
    xc = x - x.mean(0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    top_k = int(np.searchsorted(np.cumsum(s**2) / np.sum(s**2), keep_var) + 1)
    proj = vt[:top_k].T @ vt[:top_k]
    sd = xc.std(0).mean()
    b = x.mean(0) + xc @ proj + 0.05 * sd * rng.standard_normal(x.shape)
    return x, a, b, top_k


def scores(x, y, seed: int) -> dict:
    return {
        "linear CKA": linear_cka(x, y),
        "RBF CKA": rbf_cka(x, y),
        "RSA (Spearman, corr. dist.)": rsa(x, y),
        "Procrustes similarity": 1.0 - procrustes_distance(x, y) / (np.pi / 2),
        # use case "decoding": how well does the model predict the reference?
        "ridge predictivity R²": ridge_predictivity(y, x, alpha=1e-3, seed=seed),
    }


@experiment("comparison-validity", paper="'Use case determines the validity of neural systems "
            "comparisons' (talk); CKA: Kornblith et al. 2019 arXiv:1905.00414; shape metrics: "
            "Williams et al. 2021 arXiv:2110.14739")
def run(scale: str, seed: int, out) -> Result:
    """CKA, RSA, Procrustes and regression rank two models with a known relation oppositely."""
    import matplotlib.pyplot as plt

    cfg = SCALES[scale]
    per_seed = []
    for s in progress(range(cfg["n_seeds"]), desc="seeds"):
        rng = np.random.default_rng([seed, s])
        x, a, b, top_k = make_representations(cfg["n_cond"], cfg["n_in"], cfg["n_units"],
                                              cfg["keep_var"], rng)
        per_seed.append({"A": scores(x, a, s), "B": scores(x, b, s)})
    mean = {m: {k: float(np.mean([p[k][m] for p in per_seed])) for k in "AB"} for m in MEASURES}
    # inversion: geometry measures prefer B, the decoding measure prefers A
    geometry = ("linear CKA", "RSA (Spearman, corr. dist.)", "Procrustes similarity")
    margins = []
    for p in per_seed:
        pref_b = min(p["B"][m] - p["A"][m] for m in geometry)
        pref_a = p["A"]["ridge predictivity R²"] - p["B"]["ridge predictivity R²"]
        margins.append(min(pref_b, pref_a))
    frac_inverted = float(np.mean(np.array(margins) > 0))

    # invariances, measured on the first seed's reference
    rng = np.random.default_rng([seed, 999])
    x, a, b, top_k = make_representations(cfg["n_cond"], cfg["n_in"], cfg["n_units"],
                                          cfg["keep_var"], rng)
    q, _ = np.linalg.qr(rng.standard_normal((x.shape[1], x.shape[1])))
    perm = rng.permutation(x.shape[1])
    xo = 2.5 * x @ q + 1.0  # orthogonal map, isotropic scaling, translation
    inv = {
        "CKA(X, cXQ+t) - 1": abs(linear_cka(x, xo) - 1.0),
        "CKA(X, X permuted) - 1": abs(linear_cka(x, x[:, perm]) - 1.0),
        "RSA_euclid(X, cXQ) - 1": abs(rsa(x, 2.5 * x @ q, metric="euclidean") - 1.0),
        "Procrustes(X, cXQ+t)": procrustes_distance(x, xo),
        "ridge R²(XM -> X) - ridge R²(X -> X)": abs(ridge_predictivity(a, x, alpha=1e-6)
                                                  - ridge_predictivity(x, x, alpha=1e-6)),
    }
    # the non-invariance that drives the inversion: CKA under the anisotropic map M
    cka_aniso = linear_cka(x, a)

    claims = [
        Claim("fraction of seeds where CKA/RSA/Procrustes prefer B while regression prefers A",
              measured=frac_inverted, expected=1.0, comparison=">=",
              source="talk: the choice of measure can invert which model looks closer"),
        Claim("mean inversion margin (min over measures of the preference gap)",
              measured=float(np.mean(margins)), expected=0.0, comparison=">",
              source="talk: measures disagree on the same models"),
        Claim("max invariance error (orthogonal maps, isotropic scaling, permutation; "
              "regression: invertible linear maps)", measured=max(inv.values()), expected=1e-6,
              comparison="<=", source="Kornblith et al. 2019 Sec. 2; Williams et al. 2021 Sec. 2"),
        Claim("model A carries all of X (ridge R² of X from A)",
              measured=mean["ridge predictivity R²"]["A"], expected=0.99, comparison=">=",
              source="construction (A = X M, M invertible)"),
    ]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    idx = np.arange(len(MEASURES))
    ax.bar(idx - 0.2, [mean[m]["A"] for m in MEASURES], 0.4,
           label="model A: X M (invertible, anisotropic)")
    ax.bar(idx + 0.2, [mean[m]["B"] for m in MEASURES], 0.4,
           label=f"model B: top PCs of X ({int(cfg['keep_var'] * 100)} % var.) + noise")
    ax.set_xticks(idx)
    ax.set_xticklabels([m.replace(" (", "\n(") for m in MEASURES], fontsize=7)
    ax.set_ylabel("similarity to reference X (dimensionless)")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return Result(
        metrics={"mean_scores": mean, "inversion_margins": margins, "fraction_inverted": frac_inverted,
                 "invariance_errors": inv, "linear_cka_under_anisotropic_map": cka_aniso},
        claims=claims,
        figures={"measures_disagree": fig},
        params=dict(cfg, top_k_last_seed=top_k, condition_number_of_M=1e3, noise_frac_B=0.05, ridge_alpha=1e-3, folds=5),
        notes=("Representations are procedural (random ReLU layer on Gaussian inputs), built so that "
               "the ground-truth relation of each model to the reference is known. CKA, RSA and "
               "Procrustes weigh directions by variance and are not invariant to anisotropic linear "
               "maps, so they penalise the information-preserving model A and favour model B, which "
               "keeps the dominant principal components but discards the rest; cross-validated "
               "regression is invariant to invertible linear maps of the predictor and ranks A first."),
    )
