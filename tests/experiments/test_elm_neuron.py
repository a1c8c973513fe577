import pytest
import torch

from neurocircuits.experiments import run_experiment
from neurocircuits.experiments.elm_neuron import N_IN, delayed_recall
from neurocircuits.models import lstm_param_count


def test_delayed_recall_task():
    x, y = delayed_recall(16, 40, torch.Generator().manual_seed(0))
    assert x.shape == (40, 16, N_IN) and y.shape == (16,)
    # The cue channel shown in the first 10 steps is the label; recall is on for the last 10.
    assert torch.equal(x[:10, :, :8].argmax(-1), y.expand(10, 16))
    assert torch.all(x[:10, :, :8].sum(-1) == 1) and torch.all(x[10:, :, :8] == 0)
    assert torch.all(x[-10:, :, 8] == 1) and torch.all(x[:-10, :, 8] == 0)
    x2, y2 = delayed_recall(16, 40, torch.Generator().manual_seed(0))
    assert torch.equal(x, x2) and torch.equal(y, y2)
    with pytest.raises(ValueError, match="p_distract"):
        delayed_recall(4, 40, torch.Generator(), p_distract=1.5)
    with pytest.raises(ValueError, match="T must be"):
        delayed_recall(4, 10, torch.Generator())


def test_elm_neuron_quick(tmp_path):
    r = run_experiment("elm-neuron", scale="quick", seed=0, out=tmp_path)
    acc = r.metrics["accuracy_mean"]
    chance = r.metrics["chance"]
    # Equal parameter budget (LSTM width chosen to match the ELM's count).
    p = r.metrics["params"]
    h = r.metrics["lstm_hidden"]
    assert p["lstm"] == lstm_param_count(N_IN, h, 8)
    for other in (h - 1, h + 1):
        assert abs(p["lstm"] - p["elm"]) <= abs(lstm_param_count(N_IN, other, 8) - p["elm"])
    assert abs(p["lstm"] - p["elm"]) / p["elm"] < 0.1
    # The ELM learns the task; the short-memory ELM and the LSTM stay near chance.
    assert acc["elm"] > acc["lstm"] + 0.3
    assert acc["elm_short_tau"] < chance + 0.1
    assert acc["elm"] > acc["elm_1_memory"] + 0.2
    assert len(r.claims) == 5
    assert (tmp_path / "elm-neuron" / "figures" / "delayed_recall.png").exists()
