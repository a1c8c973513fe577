"""Spike encoders: turn real values into spikes. All random encoders take a seed or generator.

- :func:`poisson`: rate coding. In each step of ``dt_ms`` a neuron with rate ``r`` (Hz) spikes
  with probability ``p = r * dt_ms / 1000`` (Bernoulli approximation of a Poisson process; exact
  in the limit ``p -> 0``). Output ``[T, *shape]`` of 0/1.
- :func:`latency`: time-to-first-spike coding, one spike per input; larger values spike earlier.
  ``linear``: ``t = t_min + (1 - x) (t_max - t_min)`` for ``x`` in [0, 1]; ``log`` (the RC
  charging time of a neuron driven by constant current ``x`` with threshold ``theta``, as in
  snnTorch-style latency codes): ``t = tau ln(x / (x - theta))`` for ``x > theta``, else no
  spike, clipped to ``t_max``. Values below ``threshold_value`` give no spike (``inf``).
- :func:`delta`: send-on-delta coding of a sequence ``x[T, ...]``: an ON spike when the signal
  has risen by at least ``threshold`` since the last spike of that channel, an OFF spike when it
  has fallen by at least ``threshold``; the reference moves by ``threshold`` per spike (at most
  one spike per channel and step).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from neurocircuits.validation import check_float, check_int, check_tensor

__all__ = ["poisson", "latency", "latency_raster", "delta", "make_generator"]


def make_generator(seed=None, generator: torch.Generator | None = None) -> torch.Generator:
    """A ``torch.Generator`` from a seed (int >= 0) or the one given; one of them is required."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return generator
    if seed is None:
        raise ValueError("pass a seed (int >= 0) or a torch.Generator: encoders are reproducible")
    return torch.Generator().manual_seed(check_int("seed", seed, min_value=0))


def poisson(rates_hz: torch.Tensor, n_steps: int, dt_ms: float, *, seed=None,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Bernoulli-per-step Poisson spikes, ``[n_steps, *rates_hz.shape]`` float 0/1.

    ``rates_hz`` >= 0 with ``rate * dt_ms / 1000 <= 1``."""
    check_tensor("rates_hz", rates_hz, dtype_kind="float")
    T = check_int("n_steps", n_steps, min_value=1)
    dt = check_float("dt_ms", dt_ms, positive=True)
    if rates_hz.numel() == 0:
        raise ValueError("rates_hz is empty")
    p = rates_hz * (dt * 1e-3)
    if bool((rates_hz < 0).any()):
        raise ValueError(f"rates_hz must be >= 0, got minimum {rates_hz.min().item()}")
    if bool((p > 1).any()):
        raise ValueError(f"rate * dt must be <= 1 per step, got {p.max().item():.3g} "
                         f"(rate {rates_hz.max().item():.3g} Hz, dt {dt} ms)")
    g = make_generator(seed, generator)
    u = torch.rand((T, *rates_hz.shape), generator=g, dtype=torch.float64)
    return (u < p.to(torch.float64).unsqueeze(0)).to(rates_hz.dtype)


def latency(x: torch.Tensor, t_max_ms: float, *, t_min_ms: float = 0.0, mode: str = "linear",
            tau_ms: float = 5.0, theta: float = 0.2, threshold_value: float | None = None) -> torch.Tensor:
    """Spike time (ms) of each value of ``x`` (same shape, float64); ``inf`` = no spike.

    ``linear`` needs ``x`` in [0, 1]; ``log`` needs ``x >= 0`` (see module docstring)."""
    check_tensor("x", x, dtype_kind="float")
    t_max = check_float("t_max_ms", t_max_ms, positive=True)
    t_min = check_float("t_min_ms", t_min_ms, min_value=0.0)
    if t_min >= t_max:
        raise ValueError(f"t_min_ms = {t_min} must be < t_max_ms = {t_max}")
    x64 = x.to(torch.float64)
    if mode == "linear":
        if x.numel() and (bool((x64 < 0).any()) or bool((x64 > 1).any())):
            raise ValueError(f"linear latency coding needs x in [0, 1], got range "
                             f"[{x64.min().item()}, {x64.max().item()}]")
        t = t_min + (1.0 - x64) * (t_max - t_min)
    elif mode == "log":
        tau = check_float("tau_ms", tau_ms, positive=True)
        th = check_float("theta", theta, positive=True)
        if x.numel() and bool((x64 < 0).any()):
            raise ValueError(f"log latency coding needs x >= 0, got minimum {x64.min().item()}")
        safe = torch.where(x64 > th, x64, torch.full_like(x64, 2 * th))
        t = torch.where(x64 > th, t_min + tau * torch.log(safe / (safe - th)),
                        torch.full_like(x64, math.inf))
        t = torch.where(torch.isfinite(t), t.clamp(max=t_max), t)
    else:
        raise ValueError(f"mode must be 'linear' or 'log', got {mode!r}")
    if threshold_value is not None:
        thr = check_float("threshold_value", threshold_value)
        t = torch.where(x64 < thr, torch.full_like(t, math.inf), t)
    return t


def latency_raster(times_ms: torch.Tensor, n_steps: int, dt_ms: float) -> torch.Tensor:
    """Spike times ``[...]`` (``inf`` = none) as a raster ``[n_steps, ...]`` of 0/1 (float32);
    a spike at time t falls in step ``floor(t / dt)``; times beyond the raster are dropped."""
    check_tensor("times_ms", times_ms, dtype_kind="float", finite=False)
    if bool(torch.isnan(times_ms).any()):
        raise ValueError("times_ms contains NaN (use inf for 'no spike')")
    if times_ms.numel() and bool((times_ms < 0).any()):
        raise ValueError("times_ms must be >= 0")
    T = check_int("n_steps", n_steps, min_value=1)
    dt = check_float("dt_ms", dt_ms, positive=True)
    out = torch.zeros((T, *times_ms.shape), dtype=torch.float32)
    fin = torch.isfinite(times_ms)
    step = torch.where(fin, torch.floor(times_ms / dt), torch.full_like(times_ms, -1.0)).long()
    ok = fin & (step < T)
    idx = torch.nonzero(ok, as_tuple=False)
    if idx.numel():
        out[(step[ok],) + tuple(idx.T)] = 1.0
    return out


def delta(x: torch.Tensor, threshold: float, *, off_spikes: bool = True) -> torch.Tensor:
    """Send-on-delta spikes of a sequence ``x`` ``[T, ...]``: returns ``[T, ..., 2]`` (ON, OFF)
    when ``off_spikes`` else ``[T, ...]`` (ON only), float 0/1. The reference starts at
    ``x[0]`` (no spike at t = 0)."""
    check_tensor("x", x, dtype_kind="float")
    if x.dim() < 1 or x.shape[0] == 0:
        raise ValueError(f"x must be a sequence [T, ...] with T > 0, got shape {tuple(x.shape)}")
    th = check_float("threshold", threshold, positive=True)
    ref = x[0].clone()
    on = torch.zeros_like(x)
    off = torch.zeros_like(x)
    for t in range(1, x.shape[0]):
        up = x[t] - ref >= th
        down = ref - x[t] >= th
        on[t] = up.to(x.dtype)
        off[t] = down.to(x.dtype)
        ref = ref + th * up.to(x.dtype) - th * down.to(x.dtype)
    return torch.stack([on, off], dim=-1) if off_spikes else on
