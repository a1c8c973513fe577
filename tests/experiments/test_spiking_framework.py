import math
import subprocess
import sys

import pytest
import torch

from neurocircuits.experiments.registry import run_experiment
from neurocircuits.experiments.spiking_framework import (
    LIFMLP,
    gradient_agreement,
    make_batch,
    peak_rss_mb,
    peer_available,
    teacher_task,
)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_experiment("spiking-framework", "quick", seed=0, out=tmp_path_factory.mktemp("sf"))


def test_quick_claims(result):
    claims = {c.name: c for c in result.claims}
    grad = claims["fused vs plain-autograd gradients, max relative error (float64)"]
    assert grad.holds and grad.measured < 1e-6
    learn = claims["teacher task: final loss / chance-level loss ln(10)"]
    assert learn.holds, learn.measured
    assert claims["teacher task: held-out accuracy"].holds
    assert result.metrics["task_accuracy"] > 0.3  # 10 classes: chance is 0.1
    assert result.metrics["task_loss_last"] < result.metrics["task_loss_first"]
    speed = [c for c in result.claims if c.name.startswith("fused steps/s")]
    assert speed  # one claim per comparator; timing itself is not asserted in tests
    for c in speed:
        assert math.isfinite(c.measured) and c.measured > 0
    if not any(peer_available(p)[0] for p in ("snntorch", "spikingjelly", "norse")):
        assert "plain-autograd" in result.notes
        assert [c.name for c in speed] == ["fused steps/s / ours-plain steps/s"]
    assert set(result.figure_files) >= {"figures/ms_per_step.png", "figures/memory.png",
                                         "figures/teacher_loss.png"} or len(result.figure_files) == 3


def test_quick_metrics_consistent(result):
    t = result.metrics["timing"]
    for lib in ("ours-fused", "ours-fused-dense", "ours-plain", "roofline"):
        assert t[lib]["ms_per_step"] > 0
    # the three paths of ours compute the same network: same spikes and losses at step 0
    assert t["ours-fused"]["loss_first"] == pytest.approx(t["ours-plain"]["loss_first"], rel=1e-5)
    assert t["ours-fused"]["hidden_spike_prob"] == pytest.approx(t["ours-plain"]["hidden_spike_prob"], rel=1e-6)
    assert 0.01 < t["ours-fused"]["hidden_spike_prob"] < 0.5


def test_gradient_agreement_detects_difference(monkeypatch):
    # the measurement is able to fail: break the fused backward and the error must grow
    import neurocircuits.training.bptt as bptt

    good = gradient_agreement(seed=1, T=6, B=2, N=3)
    assert good["max_rel_error"] < 1e-10
    orig = bptt._reduce_to
    monkeypatch.setattr(bptt, "_reduce_to", lambda g, like: 1.01 * orig(g, like))
    bad = gradient_agreement(seed=1, T=6, B=2, N=3)
    assert bad["max_rel_error"] > 1e-3


def test_teacher_task_and_model_are_seeded():
    draw = teacher_task(5, 12, 4, 8, seed=3, rng_seed=3)
    a = draw(torch.Generator().manual_seed(0))
    b = draw(torch.Generator().manual_seed(0))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert set(a[0].unique().tolist()) <= {0.0, 1.0}
    x, y = make_batch(4, 3, 10, 5, seed=2)
    assert x.shape == (4, 3, 10) and y.shape == (3,)
    m1 = LIFMLP(10, 6, 5, generator=torch.Generator().manual_seed(1))
    m2 = LIFMLP(10, 6, 5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(m1(x), m2(x))


def test_fused_linear_model_matches_split_model():
    # ours-fused (linear + LIF fused per layer) and ours-split compute the same network
    m1 = LIFMLP(30, 140, 5, generator=torch.Generator().manual_seed(4)).double()
    m2 = LIFMLP(30, 140, 5, generator=torch.Generator().manual_seed(4), fuse_linear=False).double()
    assert m1.fuse_linear and not m2.fuse_linear
    with torch.no_grad():
        for m in (m1, m2):
            m.fc1.weight.mul_(4.0)
    x, _ = make_batch(7, 4, 30, 5, p=0.2, seed=5)
    x = x.double()
    o1, o2 = m1(x), m2(x)
    assert torch.equal(o1, o2) and torch.equal(m1.last_hidden, m2.last_hidden)
    assert m1.last_hidden.mean() > 0.02
    w = torch.randn(o1.shape, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    (o1 * w).sum().backward()
    (o2 * w).sum().backward()
    for (n, p1), p2 in zip(m1.named_parameters(), m2.parameters()):
        assert float((p1.grad - p2.grad).norm()) <= 1e-9 * float(p2.grad.norm()) + 1e-300, n


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_worker_peak_rss_is_its_own_not_its_parents():
    # A child's ru_maxrss starts at its parent's RSS (fork / vfork + exec); the worker's
    # peak must not: hold 300 MiB more here than the child (which imports torch and this
    # module) ever uses, and the child must report far less than this process.
    ballast = bytearray(300 * 2**20)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    code = "from neurocircuits.experiments.spiking_framework import peak_rss_mb; print(peak_rss_mb())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    parent = peak_rss_mb()
    assert parent > 300.0
    assert 1.0 < float(out.stdout) < parent - 250.0
    del ballast


def test_median_record_takes_the_median_of_repetitions():
    from neurocircuits.experiments.spiking_framework import median_record

    runs = [dict(lib="a", ms_per_step=30.0, steps_per_s=33.3, peak_rss_mb=400.0, saved_for_backward_mb=10.0),
            dict(lib="a", ms_per_step=10.0, steps_per_s=100.0, peak_rss_mb=420.0, saved_for_backward_mb=10.0),
            dict(lib="a", ms_per_step=20.0, steps_per_s=50.0, peak_rss_mb=410.0, saved_for_backward_mb=10.0)]
    r = median_record(runs)
    assert r["ms_per_step"] == 20.0 and r["steps_per_s"] == 50.0
    assert r["ms_per_step_range"] == [10.0, 30.0] and r["ms_per_step_reps"] == [30.0, 10.0, 20.0]
    assert r["peak_rss_mb"] == 410.0 and r["reps"] == 3 and r["lib"] == "a"
