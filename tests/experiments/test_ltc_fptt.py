from neurocircuits.experiments import run_experiment


def test_ltc_fptt_quick(tmp_path):
    res = run_experiment("ltc-fptt", scale="quick", seed=0, out=tmp_path)
    assert res.all_hold, [(c.name, c.measured) for c in res.failed_claims()]
    arms = res.metrics["arms"]
    assert len(arms) == 3
    for a in arms.values():
        assert 0 < a["spikes_per_neuron_step"] < 0.5  # sparse spiking, not silent


def test_cosine_schedule_matches_torch_reference():
    """train_arm's cosine decay equals torch's CosineAnnealingLR stepped once per optimiser update."""
    import torch

    from neurocircuits.data.tasks import adding_problem
    from neurocircuits.experiments.ltc_fptt import train_arm
    from neurocircuits.neurons.ltc import LTCSpiking, detach_state
    from neurocircuits.training.fptt import FPTT

    T, K, hidden, batch, iterations, lr, seed = 12, 3, 8, 4, 3, 5e-2, 1
    ours, curve = train_arm(alpha=0.5, learn_tau=True, T=T, K=K, hidden=hidden, batch=batch,
                            iterations=iterations, seed=seed, lr=lr, cosine=True)
    const, _ = train_arm(alpha=0.5, learn_tau=True, T=T, K=K, hidden=hidden, batch=batch,
                         iterations=iterations, seed=seed, lr=lr, cosine=False)

    torch.manual_seed(seed)
    ref = LTCSpiking(2, hidden, 1, learn_tau=True, seed=seed)
    opt = torch.optim.Adam(ref.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=iterations * K, eta_min=0.0)
    trainer = FPTT(ref.parameters(), opt, alpha=0.5)
    chunk = T // K
    for it in range(iterations):
        x, y = adding_problem(batch, T, seed * 1_000_003 + it)
        state = None
        for k in range(K):
            out, _, state = ref(x[k * chunk : (k + 1) * chunk], state)
            loss = ((out[-1, :, 0] - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            trainer.step()
            sched.step()
            state = detach_state(state)
    assert len(curve) == iterations
    differs = False
    for (name, p), q, c in zip(ours.named_parameters(), ref.parameters(), const.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6, msg=name)
        differs |= not torch.allclose(p, c, rtol=1e-5, atol=1e-6)
    assert differs  # the schedule changes the trajectory
