import math

import pytest
import torch

from neurocircuits.models import (RecurrentClassifier, count_parameters, gru_param_count,
                                  lstm_param_count, match_hidden)
from neurocircuits.neurons.elm import ELM, elm_param_count, elm_step, memory_taus


@pytest.mark.parametrize("d_m,expected", [(1, 4601), (10, 5852), (20, 8002), (100, 54002)])
def test_param_count_matches_published_branch_elm(d_m, expected):
    # Spieler et al. 2024: Branch-ELM on NeuronIO, 4,500 synapses in 45 branches, 2 outputs.
    assert elm_param_count(4500, d_m, 2, n_branches=45) == expected
    model = ELM(4500, 2, d_m, n_branches=45)
    assert count_parameters(model) == expected == model.param_count()


def test_param_count_other_configs_and_learned_tau():
    m = ELM(12, 3, 4, n_branches=4, mlp_hidden=7, mlp_layers=2, learn_tau=True)
    assert count_parameters(m) == m.param_count() == elm_param_count(12, 4, 3, 4, 7, 2) + 4


def test_taus_log_spaced_and_single_unit():
    t = memory_taus(5, 1.0, 1e4)
    torch.testing.assert_close(t, torch.tensor([1.0, 10.0, 100.0, 1e3, 1e4], dtype=torch.float64))
    assert memory_taus(1, 2.0, 50.0).tolist() == [50.0]


def test_forward_equals_step_function():
    torch.manual_seed(0)
    m = ELM(12, 3, n_memory=5, n_branches=4, mlp_layers=2, seed=1).double()
    with torch.no_grad():
        m.w_s_raw.normal_()  # some negative weights: rectified
    x = torch.rand(30, 4, 12, dtype=torch.float64)
    state = m.initial_state(4, torch.float64)
    state.b.normal_()
    state.m.normal_()
    y, mem = m(x, state, return_memory=True)
    p = m.params()
    s = state
    for t in range(30):
        yt, s = elm_step(x[t], s, p)
        torch.testing.assert_close(yt, y[t])
        torch.testing.assert_close(s.m, mem[t])
    y1, s1 = m.step(x[0], state)
    torch.testing.assert_close(y1, y[0])


def test_memory_closed_form_with_constant_drive():
    # Zero output weights and bias β: Δm = 1.7159 tanh(2β/3) for every input, so
    # m_t = (1 - κ_λ) Δm (1 - κ_m^(t+1)) / (1 - κ_m) from m_{-1} = 0.
    m = ELM(6, 1, n_memory=3, tau_min_ms=2.0, tau_max_ms=200.0, dt_ms=0.5).double()
    beta = 0.7
    with torch.no_grad():
        m.mlp[-1].weight.zero_()
        m.mlp[-1].bias.fill_(beta)
    x = torch.rand(50, 2, 6, dtype=torch.float64)
    _, mem = m(x, return_memory=True)
    tau = torch.tensor([2.0, 20.0, 200.0], dtype=torch.float64)
    km, kl = torch.exp(-0.5 / tau), torch.exp(-5 * 0.5 / tau)
    dm = 1.7159 * math.tanh(2 * beta / 3)
    t = torch.arange(50, dtype=torch.float64)[:, None]
    expect = (1 - kl) * dm * (1 - km ** (t + 1)) / (1 - km)
    torch.testing.assert_close(mem[:, 0], expect)
    torch.testing.assert_close(mem[:, 1], expect)


def test_branch_current_impulse_response():
    # b_t = κ_b b_{t-1} + Σ relu(w_s) x_t: an impulse on synapse 5 (branch 1 of 3) at t = 0
    # gives b_1(t) = relu(w_5) κ_b^t.
    m = ELM(9, 1, n_memory=2, n_branches=3, tau_branch_ms=4.0).double()
    with torch.no_grad():
        m.w_s_raw.copy_(torch.linspace(-0.5, 1.5, 9))
    x = torch.zeros(20, 1, 9, dtype=torch.float64)
    x[0, 0, 5] = 1.0
    p = m.params()
    s = m.initial_state(1, torch.float64)
    bs = []
    for t in range(20):
        _, s = elm_step(x[t], s, p)
        bs.append(s.b[0])
    bs = torch.stack(bs)
    w5 = float(torch.relu(m.w_s_raw[5]).detach())
    torch.testing.assert_close(bs[:, 1], w5 * math.exp(-1 / 4.0) ** torch.arange(20.0, dtype=torch.float64))
    assert torch.all(bs[:, 0] == 0) and torch.all(bs[:, 2] == 0)


def test_gradients_match_finite_differences():
    m = ELM(4, 2, n_memory=3, n_branches=2, tau_min_ms=1.0, tau_max_ms=30.0, learn_tau=True,
            seed=3).double()
    x = torch.rand(12, 2, 4, dtype=torch.float64)
    params = [p for p in m.parameters() if p.requires_grad]

    def f(*ps):
        for p, v in zip(params, ps):
            p.data = v
        return m(x).pow(2).sum()

    loss = m(x).pow(2).sum()
    grads = torch.autograd.grad(loss, params)
    eps = 1e-6
    for p, g in zip(params, grads):
        flat = p.data.view(-1)
        for i in range(0, flat.numel(), max(1, flat.numel() // 4)):
            old = flat[i].item()
            flat[i] = old + eps
            lp = m(x).pow(2).sum().item()
            flat[i] = old - eps
            lm = m(x).pow(2).sum().item()
            flat[i] = old
            assert abs((lp - lm) / (2 * eps) - g.view(-1)[i].item()) < 1e-5 * (1 + abs(g.view(-1)[i].item()))


def test_linear_update_variant():
    m = ELM(3, 1, n_memory=2, memory_update="linear", lambda_=5.0, tau_min_ms=10, tau_max_ms=100)
    p = m.params()
    torch.testing.assert_close(p.update_gain, 5 * (1 - torch.exp(-1 / torch.tensor([10.0, 100.0]))))


def test_same_seed_same_model():
    a, b = ELM(8, 2, 4, seed=7), ELM(8, 2, 4, seed=7)
    x = torch.rand(10, 3, 8)
    torch.testing.assert_close(a(x), b(x))
    assert not torch.equal(ELM(8, 2, 4, seed=8)(x), a(x))


@pytest.mark.parametrize("kwargs,match", [
    (dict(n_synapses=10, n_outputs=1, n_branches=3), "must divide"),
    (dict(n_synapses=10, n_outputs=1, n_memory=0), "n_memory"),
    (dict(n_synapses=10, n_outputs=1, tau_min_ms=100.0, tau_max_ms=10.0), "tau_min_ms"),
    (dict(n_synapses=10, n_outputs=1, tau_min_ms=5.0, tau_max_ms=5.0), "tau_min_ms"),
    (dict(n_synapses=10, n_outputs=1, tau_min_ms=-1.0), "tau_min_ms"),
    (dict(n_synapses=10, n_outputs=1, lambda_=0.0), "lambda_"),
    (dict(n_synapses=10, n_outputs=1, dt_ms=float("nan")), "dt_ms"),
    (dict(n_synapses=0, n_outputs=1), "n_synapses"),
    (dict(n_synapses=10, n_outputs=1, memory_update="cubic"), "memory_update"),
])
def test_bad_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ELM(**kwargs)


def test_bad_input():
    m = ELM(6, 2, 3)
    with pytest.raises(ValueError, match="n_synapses = 6"):
        m(torch.zeros(5, 2, 7))
    with pytest.raises(ValueError, match="dimensions"):
        m(torch.zeros(5, 6))
    with pytest.raises(TypeError, match="floating"):
        m(torch.zeros(5, 2, 6, dtype=torch.int64))
    x = torch.zeros(5, 2, 6)
    x[1, 0, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        m(x)
    with pytest.raises(TypeError, match="n_memory"):
        ELM(6, 2, 2.5)


def test_recurrent_baselines_counts_and_matching():
    for kind, f in (("lstm", lstm_param_count), ("gru", gru_param_count)):
        net = RecurrentClassifier(kind, 5, 7, 3, seed=0)
        assert count_parameters(net) == f(5, 7, 3) == net.param_count()
        assert net(torch.rand(4, 2, 5)).shape == (4, 2, 3)
    target = 2484
    h = match_hidden(target, lambda h: lstm_param_count(16, h, 8))
    assert abs(lstm_param_count(16, h, 8) - target) <= min(
        abs(lstm_param_count(16, h + 1, 8) - target), abs(lstm_param_count(16, h - 1, 8) - target))
    with pytest.raises(ValueError, match="kind"):
        RecurrentClassifier("rnn", 2, 2, 2)
