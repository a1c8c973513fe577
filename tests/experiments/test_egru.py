import torch

from neurocircuits.experiments import run_experiment
from neurocircuits.experiments.egru import sequential_digits


def test_sequential_digits_shapes():
    Xtr, ytr, Xte, yte = sequential_digits(0)
    assert Xtr.shape[0] == 8 and Xtr.shape[2] == 8 and Xtr.shape[1] == len(ytr)
    assert len(ytr) + len(yte) == 1797
    assert float(Xtr.min()) >= 0.0 and float(Xtr.max()) <= 1.0
    assert torch.equal(sequential_digits(0)[0], Xtr)


def test_egru_quick(tmp_path):
    r = run_experiment("egru", scale="quick", seed=0, out=tmp_path)
    m = r.metrics
    # Both networks learn far above chance (0.1); the EGRU is sparse.
    assert m["gru_accuracy_mean"] > 0.6 and m["egru_accuracy_mean"] > 0.4
    assert 0.0 < m["egru_activity_mean"] < 0.5
    assert abs(m["egru_sparsity_mean"] + m["egru_activity_mean"] - 1.0) < 1e-9
    # The event-driven backward must visit at least the units that fired.
    assert m["backward_active_fraction_mean"] >= m["egru_activity_mean"]
    # One bias per gate plus 64 thresholds vs PyTorch GRU's two biases per gate: 128 fewer.
    assert m["egru_params"] == m["gru_params"] - 128
    assert len(r.claims) == 2


def test_egru_gap_from_counts():
    # The accuracy gap is computed from whole numbers of test digits, so it is exact.
    from neurocircuits.experiments.egru import _train

    rows = [_train((kind, 7, 1, 0.02, 3e-3)) for kind in ("egru", "gru")]
    for r in rows:
        assert r["n_test"] == 540 and 0 <= r["n_correct"] <= 540
        assert r["accuracy"] == r["n_correct"] / r["n_test"]
        assert 0.0 <= r["train_accuracy"] <= 1.0
