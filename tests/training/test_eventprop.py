import math

import numpy as np
import pytest
import torch

from neurocircuits.training.eventprop import (EventPropConfig, EventPropNetwork, SpikeEvents,
                                              eventprop_forward, first_spike_loss, voltage_ce_loss)

LABELS = torch.tensor([0, 1, 2])


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny tensors: thread hand-offs would dominate on a shared machine
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _events(seed=0, B=3, n_in=6, T=30.0):
    rng = np.random.default_rng(seed)
    return SpikeEvents.from_latencies(rng.uniform(0, 15, (B, n_in)), T)


def _loss(net, ev, readout):
    out = net(ev)
    if readout == "first_spike":
        return first_spike_loss(out.readout, LABELS), out
    return voltage_ce_loss(out.readout, LABELS), out


def _fd_check(net, ev, readout, h=1e-6):
    loss, out = _loss(net, ev, readout)
    counts = [c.clone() for c in out.spike_counts]
    assert counts[0].sum() > 0  # hidden layer is active
    net.zero_grad()
    loss.backward()
    worst = 0.0
    for p in net.parameters():
        fd = torch.zeros_like(p)
        with torch.no_grad():
            for idx in np.ndindex(*p.shape):
                old = p[idx].item()
                p[idx] = old + h
                lp, op = _loss(net, ev, readout)
                p[idx] = old - h
                lm, om = _loss(net, ev, readout)
                p[idx] = old
                # differentiable region: no spike created or deleted by the perturbation
                for a, b, c in zip(op.spike_counts, om.spike_counts, counts):
                    assert torch.equal(a, c) and torch.equal(b, c)
                fd[idx] = (lp.item() - lm.item()) / (2 * h)
        assert fd.abs().max() > 0
        worst = max(worst, ((p.grad - fd).abs().max() / fd.abs().max()).item())
    return worst


@pytest.mark.parametrize("readout, recurrent", [("sum_exp", False), ("max", False),
                                                 ("first_spike", False), ("sum_exp", True)])
def test_gradients_match_central_finite_differences(readout, recurrent):
    cfg = EventPropConfig(tau_mem_ms=20, tau_syn_ms=5, duration_ms=30, dt_ms=0.5, readout=readout,
                          recurrent=recurrent)
    out_mean = 3.0 if readout == "first_spike" else 1.0
    net = EventPropNetwork([6, 8, 3], cfg, init_mean=[2.5, out_mean], init_std=[1.5, 1.0], seed=1,
                           dtype=torch.float64)
    assert _fd_check(net, _events(), readout) < 1e-5


def test_gradients_equal_time_constants_and_two_hidden_layers():
    cfg = EventPropConfig(tau_mem_ms=10, tau_syn_ms=10, duration_ms=40, dt_ms=1.0, readout="sum_exp",
                          tau_readout_ms=15.0)
    net = EventPropNetwork([6, 6, 5, 3], cfg, init_mean=[1.5, 1.2, 0.5], init_std=[1.0, 1.0, 1.0],
                           seed=2, dtype=torch.float64)
    out = net(_events(T=40.0))
    assert out.spike_counts[1].sum() > 0  # second hidden layer spikes too
    assert _fd_check(net, _events(T=40.0), "sum_exp") < 1e-5


def _brute_force_spikes(in_t, in_id, w, T, dt, tau_m, tau_s, theta):
    """Exact propagator on a fine grid, spikes at linearly interpolated crossings, reset at the
    interpolated time."""
    n_steps = int(round(T / dt))
    V = np.zeros(w.shape[1])
    I = np.zeros(w.shape[1])
    em, es = math.exp(-dt / tau_m), math.exp(-dt / tau_s)
    k = tau_s / (tau_s - tau_m) * (es - em)
    spikes = []
    e = 0
    for s in range(n_steps):
        t = s * dt
        while e < len(in_t) and in_t[e] <= t + 1e-12:
            I += w[in_id[e]]
            e += 1
        Vn = V * em + I * k
        for j in np.nonzero(Vn >= theta)[0]:
            ts = t + dt * (theta - V[j]) / (Vn[j] - V[j])
            spikes.append((ts, j))
            r = t + dt - ts  # time since the reset, integrated from V = 0
            Vn[j] = I[j] * math.exp(-(ts - t) / tau_s) * tau_s / (tau_s - tau_m) * (
                math.exp(-r / tau_s) - math.exp(-r / tau_m))
        I = I * es
        V = Vn
    return sorted(spikes)


def test_forward_spike_times_match_fine_grid_simulation():
    # input spikes on the fine grid so that both simulations see identical drive
    rng = np.random.default_rng(4)
    in_t = np.sort(np.round(rng.uniform(0, 20, 12), 3))
    in_id = rng.integers(0, 4, 12)
    w = rng.normal(1.5, 1.0, (4, 5))
    ev = SpikeEvents(in_t, in_id, np.array([0, 12]), 4, 40.0)
    cfg = EventPropConfig(duration_ms=40.0, dt_ms=1.0, readout="first_spike")
    out = eventprop_forward(ev, [torch.tensor(w)], cfg)
    st, sid, _ = out.spikes[0]
    ref = _brute_force_spikes(in_t, in_id, w, 40.0, 1e-3, 20.0, 5.0, 1.0)
    assert len(ref) == st.size and len(ref) > 3
    order = np.lexsort((sid, st))
    for (tr, jr), t, j in zip(ref, st[order], sid[order]):
        assert j == jr and abs(t - tr) < 2e-3


def test_detects_crossing_between_events_exactly():
    # one input, V rises above threshold and falls back well before the trial ends: the
    # crossing lies between events and is still found, at the root of V(t) = theta
    w = torch.tensor([[8.0]], dtype=torch.float64)
    ev = SpikeEvents(np.array([1.0]), np.array([0]), np.array([0, 1]), 1, 50.0)
    cfg = EventPropConfig(duration_ms=50.0, dt_ms=1.0, readout="first_spike")
    t = eventprop_forward(ev, [w], cfg).readout.item()
    s = t - 1.0
    v = 8.0 * 5.0 / (5.0 - 20.0) * (math.exp(-s / 5.0) - math.exp(-s / 20.0))
    assert v == pytest.approx(1.0, abs=1e-12)


def test_stored_state_grows_with_spikes_not_duration():
    rng = np.random.default_rng(0)
    w = [torch.tensor(rng.normal(2.0, 1.0, (6, 20))), torch.tensor(rng.normal(0, 0.5, (20, 3)))]
    sizes = []
    for T in (30.0, 300.0, 3000.0):
        ev = SpikeEvents.from_latencies(rng.uniform(0, 15, (4, 6)), T)
        cfg = EventPropConfig(duration_ms=T, dt_ms=1.0, readout="sum_exp")
        out = eventprop_forward(ev, w, cfg)
        n_sp = sum(int(c.sum()) for c in out.spike_counts)
        sizes.append((out.stored_bytes, n_sp))
    # identical inputs in the first 15 ms; activity dies out, so neither spikes nor storage
    # grow 100-fold with the duration
    assert sizes[2][0] <= 1.5 * sizes[0][0] + 64 * 4


def test_count_regulariser_pushes_towards_target():
    cfg0 = EventPropConfig(duration_ms=30, dt_ms=1.0, readout="sum_exp")
    cfg1 = EventPropConfig(duration_ms=30, dt_ms=1.0, readout="sum_exp", reg_strength=1.0,
                           reg_target_count=0.0)
    ev = _events()
    grads = []
    for cfg in (cfg0, cfg1):
        net = EventPropNetwork([6, 8, 3], cfg, init_mean=[2.5, 1.0], init_std=[1.5, 1.0], seed=1,
                               dtype=torch.float64)
        loss, _ = _loss(net, ev, "sum_exp")
        loss.backward()
        grads.append(net.weights[0].grad.clone())
    diff = grads[1] - grads[0]
    # penalising spikes adds a positive gradient on input weights (descent lowers them)
    assert diff.sum() > 0


def test_trains_with_torch_optimiser():
    torch.manual_seed(0)
    cfg = EventPropConfig(duration_ms=30, dt_ms=1.0, readout="sum_exp")
    net = EventPropNetwork([6, 20, 3], cfg, init_mean=[2.0, 0.0], init_std=[1.5, 0.5], seed=0)
    ev = _events(seed=1, B=3)
    opt = torch.optim.Adam(net.parameters(), lr=0.2)
    first = None
    for _ in range(40):
        loss = voltage_ce_loss(net(ev).readout, LABELS)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="tau_mem_ms must be > 0"):
        EventPropConfig(tau_mem_ms=0.0)
    with pytest.raises(ValueError, match="tau_syn_ms must be > 0"):
        EventPropConfig(tau_syn_ms=-5.0)
    with pytest.raises(ValueError, match="duration_ms must be > 0"):
        EventPropConfig(duration_ms=0.0)
    with pytest.raises(ValueError, match="readout"):
        EventPropConfig(readout="mean")
    with pytest.raises(ValueError, match="whole number"):
        EventPropConfig(duration_ms=10.0, dt_ms=0.3)
    with pytest.raises(ValueError, match="NaN"):
        SpikeEvents.from_latencies(np.array([[1.0, np.nan]]), 10.0)
    with pytest.raises(ValueError, match="non-empty"):
        SpikeEvents.from_latencies(np.zeros((0, 3)), 10.0)
    with pytest.raises(ValueError, match="sorted"):
        SpikeEvents(np.array([2.0, 1.0]), np.array([0, 0]), np.array([0, 2]), 1, 10.0)
    with pytest.raises(ValueError, match=r"lie in \[0, 10"):
        SpikeEvents(np.array([1.0, 12.0]), np.array([0, 0]), np.array([0, 2]), 1, 10.0)
    ev = _events()
    cfg = EventPropConfig()
    with pytest.raises(ValueError, match="rows"):
        eventprop_forward(ev, [torch.zeros(5, 3)], cfg)
    with pytest.raises(ValueError, match="NaN"):
        eventprop_forward(ev, [torch.full((6, 3), float("nan"))], cfg)
    with pytest.raises(ValueError, match="duration"):
        eventprop_forward(ev, [torch.zeros(6, 3)], EventPropConfig(duration_ms=20.0))
    with pytest.raises(ValueError, match="sizes"):
        EventPropNetwork([6], cfg)
    with pytest.raises(ValueError, match="labels must lie"):
        voltage_ce_loss(torch.zeros(3, 3), torch.tensor([0, 1, 5]))
    with pytest.raises(ValueError, match="tau0_ms"):
        first_spike_loss(torch.zeros(3, 3), LABELS, tau0_ms=0.0)


def test_input_spike_time_gradient_matches_finite_differences():
    rng = np.random.default_rng(7)
    lat = rng.uniform(0, 15, (2, 6))
    cfg = EventPropConfig(duration_ms=30, dt_ms=0.5, readout="sum_exp")
    net = EventPropNetwork([6, 8, 3], cfg, init_mean=[2.5, 1.0], init_std=[1.5, 1.0], seed=1,
                           dtype=torch.float64)
    labels = torch.tensor([0, 2])

    def loss_at(lat_):
        return voltage_ce_loss(net(SpikeEvents.from_latencies(lat_, 30.0)).readout, labels)

    out = net(SpikeEvents.from_latencies(lat, 30.0))
    voltage_ce_loss(out.readout, labels).backward()
    g_events = out.info["input_time_grad"]
    ev = SpikeEvents.from_latencies(lat, 30.0)
    h = 1e-6
    fd_events = np.zeros(ev.n_events)
    for e in range(ev.n_events):
        b = int(np.searchsorted(ev.ptr, e, side="right") - 1)
        i = ev.ids[e]
        lp, lm = lat.copy(), lat.copy()
        lp[b, i] += h
        lm[b, i] -= h
        with torch.no_grad():
            fd_events[e] = (loss_at(lp).item() - loss_at(lm).item()) / (2 * h)
    assert np.abs(fd_events).max() > 0
    assert np.abs(g_events - fd_events).max() / np.abs(fd_events).max() < 1e-5
