import pytest
import torch
from torch import nn

from neurocircuits.data.tasks import adding_problem, yin_yang
from neurocircuits.training.loop import evaluate, fit, load_checkpoint, save_checkpoint


class Payload:
    """An arbitrary Python object, which a weights-only load must refuse."""

    def __init__(self):
        self.command = "anything"


def _yin_yang_set(n, seed):
    X, y = yin_yang(n, seed=seed)
    return torch.utils.data.TensorDataset(X, y)


def _mlp(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.1), nn.Tanh(), nn.Linear(16, 3))


def _train(epochs, seed=0, **kw):
    model = _mlp(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    hist = fit(model, _yin_yang_set(128, 1), opt, epochs=epochs, loss_fn=nn.functional.cross_entropy,
               batch_size=16, seed=seed, **kw)
    return model, opt, hist


def test_classification_learns_and_reports_accuracy():
    model, _, hist = _train(12, val_data=_yin_yang_set(200, 2))
    assert [h["epoch"] for h in hist] == list(range(1, 13))
    assert hist[-1]["loss"] < 0.8 * hist[0]["loss"]
    assert hist[-1]["val_accuracy"] > 0.5  # chance is 1/3
    # the reported validation numbers are what evaluate() measures on the trained model
    v = evaluate(model, _yin_yang_set(200, 2), loss_fn=nn.functional.cross_entropy, batch_size=16)
    assert v["accuracy"] == pytest.approx(hist[-1]["val_accuracy"])
    assert v["loss"] == pytest.approx(hist[-1]["val_loss"], rel=1e-6)
    # the epoch loss is the mean over samples of the per-batch losses
    assert all(0 <= h["accuracy"] <= 1 for h in hist)


def test_resume_is_bit_exact(tmp_path):
    straight, _, hist4 = _train(4)
    ck = tmp_path / "ck.pt"
    _train(2, checkpoint=ck)
    assert load_checkpoint(ck)["epoch"] == 2
    model = _mlp(123)  # different initial weights: everything must come from the checkpoint
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    hist = fit(model, _yin_yang_set(128, 1), opt, epochs=4, loss_fn=nn.functional.cross_entropy,
               batch_size=16, seed=0, resume=ck)
    for a, b in zip(straight.state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)
    assert hist == hist4
    # a different seed gives different weights (the check above can fail)
    other, _, _ = _train(4, seed=1)
    assert not torch.equal(other[0].weight, straight[0].weight)


def test_refuses_checkpoint_with_python_objects(tmp_path):
    model = _mlp(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    good = save_checkpoint(tmp_path / "good.pt", model, opt, 1, [{"loss": 1.0}])
    ck = torch.load(good, weights_only=True)
    ck["extra"] = Payload()
    torch.save(ck, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="weights_only"):
        load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="weights_only"):
        fit(model, [(torch.zeros(2, 4), torch.zeros(2, dtype=torch.long))], opt, epochs=2,
            loss_fn=nn.functional.cross_entropy, resume=tmp_path / "bad.pt")
    torch.save({"model": {}}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="format"):
        load_checkpoint(tmp_path / "foreign.pt")


def test_procedural_sequences_with_step_fn():
    """Regression on the adding problem through a GRU, batches drawn fresh each epoch."""
    torch.manual_seed(0)
    gru, head = nn.GRU(2, 16), nn.Linear(16, 1)
    model = nn.ModuleDict({"gru": gru, "head": head})

    def step(m, batch):
        x, y = batch
        h, _ = m["gru"](x)
        return ((m["head"](h[-1])[:, 0] - y) ** 2).mean()

    def data(epoch):
        return [adding_problem(32, 10, seed=1000 * epoch + k) for k in range(20)]

    hist = fit(model, data, torch.optim.Adam(model.parameters(), lr=1e-2), epochs=10, step_fn=step,
               val_data=lambda e: [adding_problem(256, 10, seed=999_999)])
    assert "accuracy" not in hist[0]
    assert hist[-1]["val_loss"] < 0.5 / 6  # trivial predictor (always 1): 1/6


def test_bad_arguments():
    model = _mlp(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    data = [(torch.zeros(4, 4), torch.zeros(4, dtype=torch.long))]
    ce = nn.functional.cross_entropy
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        fit(model, data, opt, epochs=0, loss_fn=ce)
    with pytest.raises(TypeError, match="epochs must be an integer"):
        fit(model, data, opt, epochs=2.5, loss_fn=ce)
    with pytest.raises(ValueError, match="exactly one of loss_fn"):
        fit(model, data, opt, epochs=1)
    with pytest.raises(TypeError, match="optimizer"):
        fit(model, data, "adam", epochs=1, loss_fn=ce)
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, _yin_yang_set(8, 0), opt, epochs=1, loss_fn=ce)
    with pytest.raises(ValueError, match="leading size 4 .* target has 3"):
        fit(model, [(torch.zeros(4, 4), torch.zeros(3, dtype=torch.long))], opt, epochs=1, loss_fn=ce)
    with pytest.raises(RuntimeError):  # wrong feature width: the model's own error
        fit(model, [(torch.zeros(4, 5), torch.zeros(4, dtype=torch.long))], opt, epochs=1, loss_fn=ce)
    with pytest.raises(TypeError, match="one-shot iterator"):
        fit(model, iter(data), opt, epochs=2, loss_fn=ce)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, [], opt, epochs=1, loss_fn=ce)
