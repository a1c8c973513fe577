import math

import numpy as np
import pytest

from neurocircuits.experiments import run_experiment
from neurocircuits.experiments.brunel_regimes import classify, synchrony_chi


def test_classifier_and_synchrony_index():
    rng = np.random.default_rng(0)
    common = np.sin(np.linspace(0, 20, 500))[:, None]
    assert synchrony_chi(np.repeat(common, 50, axis=1)) == pytest.approx(1.0)
    indep = rng.standard_normal((5000, 400))
    assert synchrony_chi(indep) == pytest.approx(1 / math.sqrt(400), rel=0.1)
    assert classify(cv=0.05, chi=0.6, f_peak_hz=300) == "SR"
    assert classify(cv=0.9, chi=0.6, f_peak_hz=180) == "SI fast"
    assert classify(cv=0.9, chi=0.6, f_peak_hz=20) == "SI slow"
    assert classify(cv=0.9, chi=0.1, f_peak_hz=120) == "AI"


def test_brunel_regimes_quick(tmp_path):
    res = run_experiment("brunel-regimes", "quick", seed=0, out=tmp_path)
    m = res.metrics
    assert len(res.claims) == 11
    for k in "ABCD":
        for q in ("rate_hz", "cv", "chi", "f_peak_hz"):
            assert np.isfinite(m[f"{k}_{q}"]), (k, q)
    # robust at the reduced size: C is asynchronous irregular, A fires regularly near
    # 1 / (t_ref + ~1 ms), D oscillates slowly at the lowest rate, B oscillates fast
    assert m["C_label"] == "AI"
    assert m["A_cv"] < 0.25 and m["A_rate_hz"] > 200
    assert m["D_f_peak_hz"] < 100 and m["D_rate_hz"] == min(m[f"{k}_rate_hz"] for k in "ABCD")
    assert m["B_f_peak_hz"] >= 100 and m["B_cv"] > 0.5
    assert (tmp_path / "brunel-regimes" / "figures" / "fig8_states.png").exists()
