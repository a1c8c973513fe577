import torch

from neurocircuits.experiments import run_experiment
from neurocircuits.experiments.astro_snn import CONFIGS, MODELS, build, train_lm, train_retention
from neurocircuits.models import count_parameters


def test_equal_size_models():
    cfg = CONFIGS["quick"]
    n = {k: count_parameters(build(k, 58, 58, cfg["hidden"], cfg, 0)) for k in MODELS}
    # the plain LIF network lacks exactly the couplings of each astrocyte (threshold, gain and,
    # with the feedback current, current)
    n_coupling = 2 if cfg.get("k_cur") is None else 3
    assert n["astro"] - n["lif"] == n_coupling * cfg["hidden"] // cfg["group"]
    assert abs(n["lstm"] - n["astro"]) / n["astro"] < 0.03


def test_training_is_deterministic_with_seed():
    cfg = dict(CONFIGS["quick"], hidden=16, iters=4, seq_len=12, eval_every=2, ret_hidden=8,
               ret_iters=3, ret_test=32)
    a = train_lm("astro", cfg, 5)
    b = train_lm("astro", cfg, 5)
    c = train_lm("astro", cfg, 6)
    assert a["val_bpc"] == b["val_bpc"] and a["train_curve_bpc"] == b["train_curve_bpc"]
    assert a["val_bpc"] != c["val_bpc"]
    r1 = train_retention("lif", cfg, 5)
    r2 = train_retention("lif", cfg, 5)
    assert r1["accuracy"] == r2["accuracy"] and r1["loss_curve"] == r2["loss_curve"]


def test_quick_run(tmp_path):
    torch.set_num_threads(1)
    r = run_experiment("astro-snn", scale="quick", seed=0, out=tmp_path)
    m = r.metrics
    assert len(r.claims) == 5
    names = [c.name for c in r.claims]
    assert sum("unigram entropy" in n for n in names) == 3
    # every model learns something from context within the quick budget
    for k in MODELS:
        assert m[f"{k}_val_bpc"] < m["unigram_entropy_bits"]
    assert 4.0 < m["unigram_entropy_bits"] < 5.0
    assert 0.01 < m["astro_spike_rate"] < 0.6 and 0.01 < m["lif_spike_rate"] < 0.6
    acc = m["retention_accuracy"]
    assert set(acc) == set(MODELS)
    for k in MODELS:
        assert set(acc[k]) == {str(d) for d in CONFIGS["quick"]["delays"]}
        assert all(0.0 <= a <= 1.0 for a in acc[k].values())
    assert {"training_curves", "bpc", "retention_vs_delay"} <= set(r.figures)
    assert abs(m["astro_minus_lif_bpc"] - (m["astro_val_bpc"] - m["lif_val_bpc"])) < 1e-12
