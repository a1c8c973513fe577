import math

import numpy as np
import pytest
import torch

from neurocircuits.data.encoders import delta, latency, latency_raster, poisson


def test_poisson_shape_determinism_and_rate():
    rates = torch.tensor([[0.0, 50.0, 200.0]])
    a = poisson(rates, 20000, 1.0, seed=3)
    b = poisson(rates, 20000, 1.0, seed=3)
    c = poisson(rates, 20000, 1.0, seed=4)
    assert a.shape == (20000, 1, 3)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    est = a.mean(0)[0] / 1e-3  # Hz
    assert est[0] == 0
    # binomial standard error of p = r dt over 20000 steps, within 4 SE
    for k, r in ((1, 50.0), (2, 200.0)):
        p = r * 1e-3
        se = math.sqrt(p * (1 - p) / 20000) / 1e-3
        assert abs(est[k].item() - r) < 4 * se


def test_poisson_rejects_bad_input():
    with pytest.raises(ValueError, match="rates_hz must be >= 0"):
        poisson(torch.tensor([-1.0]), 10, 1.0, seed=0)
    with pytest.raises(ValueError, match="rate \\* dt"):
        poisson(torch.tensor([2000.0]), 10, 1.0, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        poisson(torch.tensor([float("nan")]), 10, 1.0, seed=0)
    with pytest.raises(ValueError, match="n_steps"):
        poisson(torch.tensor([1.0]), 0, 1.0, seed=0)
    with pytest.raises(ValueError, match="seed"):
        poisson(torch.tensor([1.0]), 5, 1.0)
    with pytest.raises(ValueError, match="dt_ms"):
        poisson(torch.tensor([1.0]), 5, -1.0, seed=0)


def test_latency_linear_and_log():
    x = torch.tensor([[0.0, 0.5, 1.0]])
    t = latency(x, 10.0, t_min_ms=2.0)
    assert torch.allclose(t, torch.tensor([[10.0, 6.0, 2.0]], dtype=torch.float64))
    t2 = latency(x, 10.0, threshold_value=0.1)
    assert math.isinf(t2[0, 0].item()) and t2[0, 2].item() == 0.0
    # log code: RC charging time tau ln(x / (x - theta)), brighter = earlier, clipped at t_max
    tl = latency(torch.tensor([0.1, 0.3, 1.0]), 50.0, mode="log", tau_ms=5.0, theta=0.2)
    assert math.isinf(tl[0].item())
    assert tl[1].item() == pytest.approx(5.0 * math.log(0.3 / 0.1))
    assert tl[2].item() == pytest.approx(5.0 * math.log(1.0 / 0.8))
    with pytest.raises(ValueError, match=r"x in \[0, 1\]"):
        latency(torch.tensor([1.5]), 10.0)
    with pytest.raises(ValueError, match="t_min_ms"):
        latency(x, 10.0, t_min_ms=10.0)
    with pytest.raises(ValueError, match="mode"):
        latency(x, 10.0, mode="cubic")


def test_latency_raster_places_spikes():
    t = torch.tensor([[0.0, 2.5, math.inf, 99.0]], dtype=torch.float64)
    r = latency_raster(t, 10, 1.0)
    assert r.shape == (10, 1, 4)
    assert r[0, 0, 0] == 1 and r[2, 0, 1] == 1
    assert r.sum() == 2  # inf and out-of-range dropped
    with pytest.raises(ValueError, match="NaN"):
        latency_raster(torch.tensor([float("nan")]), 10, 1.0)


def test_delta_on_off():
    x = torch.tensor([0.0, 0.3, 0.6, 1.2, 1.2, 0.5, 0.0]).reshape(7, 1)
    s = delta(x, 0.5)
    assert s.shape == (7, 1, 2)
    on, off = s[:, 0, 0], s[:, 0, 1]
    # ref 0 -> spike at 0.6 (ref 0.5) -> 1.2 (ref 1.0) -> down at 0.5 (ref 0.5) -> 0.0 (ref 0.0)
    assert on.tolist() == [0, 0, 1, 1, 0, 0, 0]
    assert off.tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert delta(x, 0.5, off_spikes=False).shape == (7, 1)
    with pytest.raises(ValueError, match="threshold"):
        delta(x, 0.0)
    with pytest.raises(ValueError, match="T > 0"):
        delta(torch.zeros(0, 3), 0.1)
