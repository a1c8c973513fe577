import math

import numpy as np
import pytest

from neurocircuits.experiments import run_experiment
from neurocircuits.experiments.criticality_coding import simulate_scn


def test_criticality_coding_quick(tmp_path):
    res = run_experiment("criticality-coding", scale="quick", seed=0, out=tmp_path)
    claims = {c.name: c for c in res.claims}
    # branching-process controls through the same analysis
    for name in ("control: critical branching process alpha_S", "control: critical branching process alpha_T",
                 "control: critical branching process gamma = <S>(T) exponent",
                 "control: critical branching process size distribution is straight (curvature)"):
        assert claims[name].holds, (name, claims[name].measured)
    # low noise: synchronous volleys, a bump (supercritical); high noise: a cutoff (subcritical);
    # coding error minimal at intermediate noise, next to the most scale-free sizes
    for name in ("Shew's kappa at the lowest noise (supercritical)",
                 "size distribution bends up at the lowest noise (curvature, lower 95% bound)",
                 "size distribution bends down at the highest noise (curvature, upper 95% bound)",
                 "coding error is minimal at an intermediate noise (index of minimum, interior)",
                 "|log10(noise at minimal deviation from a power law / noise at minimal error)|"):
        assert claims[name].holds, (name, claims[name].measured)
    levels = res.metrics["levels"]
    mse = np.array([r["mse"] for r in levels])
    assert mse.argmin() not in (0, len(mse) - 1) and mse.min() < 0.5 * mse[0]
    assert all(math.isfinite(r["kappa"]) and r["n_avalanches"] > 50 for r in levels)
    dev = np.array([r["deviation"] for r in levels])
    curv = np.array([r["curvature"] for r in levels])
    assert dev.argmin() == res.metrics["index_min_deviation"] and dev.argmin() not in (0, len(dev) - 1)
    assert curv[0] > 0 > curv[-1] and abs(curv[dev.argmin()]) < abs(curv[0])
    # the bin follows the mean inter-event interval: at least 2 simulation steps per interval at
    # every level, about one spike per bin, and a rate-matched Poisson surrogate binned the same way
    # sits near kappa = 1
    dt = res.params["dt_ms"]
    for r in levels:
        assert r["iei_steps"] >= 2.0 and r["bin_ms"] >= dt - 1e-12
        assert 0.7 < r["events_per_bin"] < 1.3 and r["fano"] > 0
        assert abs(r["kappa_poisson_surrogate"] - 1.0) < 0.1
    # high noise: the shared coding error keeps the count over-dispersed, kappa above chance's
    assert levels[-1]["fano"] > 1.0 and levels[-1]["kappa"] > levels[-1]["kappa_poisson_surrogate"]
    assert levels[0]["kappa"] > levels[0]["kappa_poisson_surrogate"]  # low noise: synchrony, not chance
    assert (tmp_path / "criticality-coding" / "figures" / "error_and_kappa_vs_noise.png").exists()


def test_scn_tracks_signal_and_rejects_bad_input():
    st, mse = simulate_scn(50, 0.5 / 50**2 * 3, 500.0, seed=1)
    assert mse < 0.3 and st.n_spikes > 0
    st2, mse2 = simulate_scn(50, 0.5 / 50**2 * 3, 500.0, seed=1)
    np.testing.assert_array_equal(st.times_ms, st2.times_ms)
    with pytest.raises(ValueError, match="noise"):
        simulate_scn(50, -1.0, 100.0)
    with pytest.raises(ValueError, match="dt_ms"):
        simulate_scn(50, 0.0, 100.0, dt_ms=0.0)
    with pytest.raises(ValueError, match="n_neurons"):
        simulate_scn(0, 0.0, 100.0)


def test_step_binning_is_exact():
    from neurocircuits.analysis.avalanches import avalanches_from_counts
    from neurocircuits.experiments.criticality_coding import _avalanches_on_steps, _binned_counts

    # spikes on the first step of bins 1, 2, 3, 5, 7, 8 (bin = 3 steps of 0.1 ms): avalanches of
    # sizes 3, 1, 2. In floating point 0.9 / 0.3, 1.5 / 0.3 and 2.1 / 0.3 (ms) give 2.999..., 4.999...
    # and 6.999..., moving those spikes one bin back and splitting the last avalanche
    # ([3, 1, 1, 1]); integer step quotients are exact
    steps = np.array([3, 6, 9, 15, 21, 24])
    av = _avalanches_on_steps(steps, 30, 3, 0.1)
    np.testing.assert_array_equal(av.sizes, [3, 1, 2])
    np.testing.assert_array_equal(av.durations, [3, 1, 2])
    assert av.bin_ms == pytest.approx(0.3)
    # random spikes: same avalanches as the integer-binned counts, for several bin widths
    rng = np.random.default_rng(3)
    for m in (1, 2, 3, 7):
        n_steps = 6000 * m
        s = np.sort(rng.integers(0, n_steps, 5000))
        counts = _binned_counts(s, n_steps, m)
        np.testing.assert_array_equal(counts, np.bincount(s // m, minlength=n_steps // m))
        ref = avalanches_from_counts(counts, bin_ms=0.1 * m, drop_edges=True)
        got = _avalanches_on_steps(s, n_steps, m, 0.1)
        np.testing.assert_array_equal(got.sizes, ref.sizes)
        np.testing.assert_array_equal(got.durations, ref.durations)
