"""Shew's κ across known regimes: branching processes below, at and above criticality, and
independent (Poisson) activity binned with 0.3, 1 and 2 events per bin, against the exact
avalanche-size law of independent counts."""

import numpy as np
import pytest
from scipy import special

from neurocircuits.analysis.avalanches import avalanches_from_counts
from neurocircuits.analysis.branching import shew_kappa
from neurocircuits.sim.branching import galton_watson_avalanches


def test_kappa_orders_branching_regimes():
    kap = {}
    for m in (0.7, 0.9, 1.0, 1.1):
        s, _, _ = galton_watson_avalanches(m, 20_000, max_size=1000, seed=1)
        kap[m] = shew_kappa(s, size_min=1, size_max=1000)
    assert kap[0.7] < kap[0.9] < kap[1.0] < kap[1.1]
    assert kap[0.7] < 0.95  # subcritical: excess of small avalanches
    assert kap[1.0] == pytest.approx(1.0, abs=0.05)
    assert kap[1.1] > 1.05  # supercritical: excess of large avalanches


def _exact_kappa_poisson(lam: float, size_max: int) -> float:
    """κ of the avalanche sizes of i.i.d. Poisson(lam) bin counts, from the exact size law:
    the number of non-empty bins L is geometric, P(L = l) = (1 - q) q^(l-1) with q = 1 - e^-lam,
    and S is a sum of L zero-truncated Poisson counts."""
    q = 1.0 - np.exp(-lam)
    k = np.arange(size_max + 1)
    ztp = np.where(k > 0, np.exp(-lam) * lam**k / special.factorial(k) / q, 0.0)
    conv = ztp.copy()  # law of the sum of l counts, truncated at size_max
    pmf = np.zeros(size_max + 1)
    for ell in range(1, size_max + 1):
        pmf += (1 - q) * q ** (ell - 1) * conv
        conv = np.convolve(conv, ztp)[: size_max + 1]
    cdf = np.cumsum(pmf)
    pts = np.unique(np.round(np.geomspace(1, size_max, 10)).astype(np.int64))
    z = np.cumsum(np.arange(1, size_max + 1, dtype=float) ** -1.5)
    f_ref = z[pts - 1] / z[-1]
    return float(1.0 + np.mean(f_ref - cdf[pts]))


@pytest.mark.parametrize("lam", [0.3, 1.0, 2.0])
def test_kappa_of_independent_activity_matches_exact_law(lam):
    counts = np.random.default_rng(0).poisson(lam, 300_000)
    av = avalanches_from_counts(counts)
    k_emp = shew_kappa(av.sizes, size_min=1, size_max=50)
    k_ex = _exact_kappa_poisson(lam, 50)
    assert k_emp == pytest.approx(k_ex, abs=0.01)
    # independent spiking is not "subcritical" at the usual binning: kappa grows with events per bin
    expected = {0.3: (0.8, 0.95), 1.0: (1.0, 1.1), 2.0: (1.15, 1.35)}[lam]
    assert expected[0] < k_ex < expected[1]
