from neurocircuits.experiments import run_experiment


def test_ca3_cam_quick(tmp_path):
    res = run_experiment("ca3-cam", scale="quick", seed=0, out=tmp_path)
    assert res.all_hold, [(c.name, c.measured) for c in res.failed_claims()]
    assert set(res.metrics["non_orthogonal"]) == {"2", "4", "8"}
