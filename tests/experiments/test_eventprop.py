import math

from neurocircuits.experiments import run_experiment


def test_eventprop_quick(tmp_path):
    res = run_experiment("eventprop", scale="quick", seed=0, out=tmp_path)
    claims = {c.name: c for c in res.claims}
    fd = [c for n, c in claims.items() if n.startswith("EventProp gradient")][0]
    mem = [c for n, c in claims.items() if n.startswith("EventProp stores")][0]
    assert fd.holds and fd.measured < 1e-5
    assert mem.holds
    # the loss comparison (three seeds): sum-exp ahead of max-voltage and first-spike, every
    # sum-exp seed above twice chance
    assert res.all_hold, [(c.name, c.measured) for c in res.failed_claims()]
    assert len(res.params["seeds"]) == 3
    m = res.metrics
    assert min(m["accuracy_per_seed"]["sum_exp"]) > 2 / 3
    assert m["accuracy_mean"]["sum_exp"] > m["accuracy_mean"]["max"]
    # every finite-difference configuration exercised spikes and stayed in the smooth region
    for v in m["fd_checks"].values():
        assert v["hidden_spikes"] > 0 and v["spike_count_changes"] == 0
    for name in ("sum_exp", "max", "first_spike"):
        acc = m["accuracy_mean"][name]
        assert 0.0 <= acc <= 1.0 and not math.isnan(acc)
        assert len(m["acc_curves_mean"][name]) == res.params["epochs"] + 1
    rows = m["memory"]["rows"]
    assert [r["T_steps"] for r in rows] == [100, 300, 1000]
    # BPTT's saved state grows ~linearly with T; EventProp's only with the number of events
    assert rows[-1]["bptt_bytes"] > 8 * rows[0]["bptt_bytes"]
    assert all(r["eventprop_bytes"] < r["bptt_bytes"] for r in rows)
    assert (tmp_path / "eventprop" / "figures" / "memory_vs_T.png").exists()
