"""sdr-dendrites at quick scale: Monte Carlo agrees with the exact theory; paper examples."""

import math

import pytest

from neurocircuits.experiments import run_experiment
from neurocircuits.sdr import theory as T


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_experiment("sdr-dendrites", scale="quick", seed=0, out=tmp_path_factory.mktemp("sdr"))


def _claim(result, start):
    (c,) = [c for c in result.claims if c.name.startswith(start)]
    return c


def test_monte_carlo_agrees_with_theory(result):
    m = result.metrics
    pts = m["mc_points"]
    assert len(pts) == 20
    tested = [q for q in pts if q["tested"]]
    assert m["mc_points_tested"] == len(tested) >= 12
    for q in tested:
        assert q["expected"] >= 10 and q["trials"] > 0
        assert q["z"] == pytest.approx((q["count"] - q["expected"]) / (q["se_p"] * q["trials"]))
    assert m["mc_worst_abs_z"] == pytest.approx(max(abs(q["z"]) for q in tested))
    assert _claim(result, "Monte Carlo within 3 SE").holds
    assert _claim(result, "global chi-square").measured == m["mc_chi_square_p"]
    assert 0 < m["mc_chi_square_p"] <= 1
    # the theory attached to every point is the exact one
    q = [q for q in pts if q["kind"] == "theta"][0]
    assert q["p_theory"] == T.false_match_probability(q["n"], q["a"], q["s"], q["theta"])


def test_paper_examples(result):
    m = result.metrics
    assert m["ex31_false_match"] == T.false_match_probability(10_000, 300, 30, 12)
    assert _claim(result, "n=10,000, a=300").holds
    assert _claim(result, "union of M=10").measured == pytest.approx(248.598, abs=1e-3)
    assert _claim(result, "128 of 4000").holds
    assert _claim(result, "same union").holds
    assert m["p_fm_2048_40_40_40"] == 1 / math.comb(2048, 40)
    # §3.2: "1 in a billion" holds as an order of magnitude, but the literal "better than"
    # is 4.9 % too optimistic, and the report says so
    c = _claim(result, "10^6 segments")
    assert c.holds and c.measured == pytest.approx(1.0492e-9, rel=1e-4)
    assert "does NOT hold" in c.note
    assert m["ex32_literal_margin"] == pytest.approx(0.0492, abs=1e-4)
    assert m["ex32_max_segments_below_1e-9"] == int(1e-9 / m["ex32_single_segment"])
    assert m["ex32_union_bound"] == pytest.approx(c.measured, rel=1e-5)


def test_thresholds_and_figures(result):
    m = result.metrics
    assert m["fig6_smallest_theta_below_1e-9"] in (9, 10)
    assert _claim(result, "smallest θ").holds
    opt = m["fig6_optimal_theta_by_noise_fraction"]
    assert list(opt.values()) == sorted(opt.values(), reverse=True)  # more noise, lower θ
    assert set(result.figures) == {"p_vs_theta", "p_vs_s", "p_vs_n", "union_capacity",
                                   "noise_robustness", "threshold_profile"}
    assert len(result.figure_files) == 6
