from neurocircuits.experiments import run_experiment


def test_strongly_recurrent_quick(tmp_path):
    res = run_experiment("strongly-recurrent", "quick", seed=0, out=tmp_path)
    assert res.all_hold, [(c.name, c.measured) for c in res.failed_claims()]
    rows = res.metrics["rows"]
    assert len(rows) == 3
    for r in rows:
        # the finite-sample correction moves the estimate towards the truth at low R
        assert abs(r["r_est"] - r["r_true"]) <= 0.03
    low = rows[0]
    assert abs(low["r_est_uncorrected"] - low["r_true"]) > abs(low["r_est"] - low["r_true"])
    assert res.metrics["max_abs_error_closed_form"] < 0.05
    assert (tmp_path / "strongly-recurrent" / "figures" / "estimated_vs_true_R.png").exists()
