from neurocircuits.experiments import run_experiment


def test_ltc_fptt_quick(tmp_path):
    res = run_experiment("ltc-fptt", scale="quick", seed=0, out=tmp_path)
    assert res.all_hold, [(c.name, c.measured) for c in res.failed_claims()]
    arms = res.metrics["arms"]
    assert len(arms) == 3
    for a in arms.values():
        assert 0 < a["spikes_per_neuron_step"] < 0.5  # sparse spiking, not silent
