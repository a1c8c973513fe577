import numpy as np

from neurocircuits.experiments import run_experiment
from neurocircuits.experiments.ntf_connectome import planted_partitions, simulate_calcium


def test_ntf_connectome_quick(tmp_path):
    res = run_experiment("ntf-connectome", "quick", seed=0, out=tmp_path)
    assert res.all_hold, [(c.name, c.measured) for c in res.failed_claims()]
    assert min(res.metrics["ari_per_epoch"]) > 0.9
    assert res.metrics["communities_found_per_epoch"] == [3, 3, 3]


def test_planted_data():
    rng = np.random.default_rng(0)
    lab = planted_partitions(12, 3, 2, rng)
    assert lab.shape == (2, 12) and all(np.bincount(r).tolist() == [4, 4, 4] for r in lab)
    tr = simulate_calcium(lab, 30.0, rng)
    assert tr.shape == (600, 12) and np.isfinite(tr).all()
    c = np.corrcoef(tr[:300].T)
    same = (lab[0][:, None] == lab[0][None, :]) & ~np.eye(12, dtype=bool)
    assert c[same].mean() > c[~same & ~np.eye(12, dtype=bool)].mean() + 0.3
