import json

from neurocircuits.experiments import run_experiment


def test_dendritic_tree_quick(tmp_path):
    r = run_experiment("dendritic-tree", scale="quick", seed=0, out=tmp_path)
    m = r.metrics
    assert m["ks"] == [1, 8]
    # Parameter matching is exact to within one hidden unit's worth of parameters (66).
    for t, p in zip(m["tree_params"], m["mlp_params"]):
        assert abs(t - p) <= 33
    for a in m["tree_accuracy_mean"] + m["mlp_accuracy_mean"]:
        assert 0.5 <= a <= 1.0
    # The 8-tree classifies 3 vs 5 well and is close to its parameter-matched MLP.
    assert m["tree_accuracy_mean"][1] > 0.95
    by_name = {c.name: c for c in r.claims}
    assert by_name["largest gap MLP minus k-tree for k >= 8 (fraction)"].holds
    assert len(r.claims) == 4
    saved = json.loads((tmp_path / "dendritic-tree" / "metrics.json").read_text())
    assert saved["metrics"]["ks"] == [1, 8]
    assert (tmp_path / "dendritic-tree" / "figures" / "accuracy_vs_k.png").exists()
