from neurocircuits.experiments import run_experiment


def test_btsp_quick(tmp_path):
    res = run_experiment("btsp", scale="quick", seed=0, out=tmp_path)
    assert res.all_hold, [(c.name, c.measured) for c in res.failed_claims()]
    m = res.metrics
    # Fields form slightly before the plateau: the eligibility trace outlasts the plateau signal.
    assert -40 < m["shift1_cm"] < 0
    assert (tmp_path / "btsp" / "figures" / "ramps.png").exists()
