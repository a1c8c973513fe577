"""Small conventional baselines (MLP, LSTM, GRU) with exact parameter counting.

Reproductions compare brain-inspired models against conventional networks *of equal parameter
count*. Each baseline here has a closed-form parameter count (checked in the tests against
``sum(p.numel())``) and :func:`match_hidden` picks the hidden width whose count is closest to a
target, so "equal parameters" is a computed statement rather than a guess.

Counts (``n_in`` inputs, ``h`` hidden units, ``n_out`` outputs):

- MLP with L hidden layers of width h:  (n_in + 1) h + (L - 1)(h + 1) h + (h + 1) n_out
- LSTM (PyTorch, two bias vectors) + linear readout:  4h (n_in + h + 2) + (h + 1) n_out
- GRU  (PyTorch, two bias vectors) + linear readout:  3h (n_in + h + 2) + (h + 1) n_out
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from neurocircuits.validation import check_int, check_last_dim, check_tensor

__all__ = [
    "MLP",
    "RecurrentClassifier",
    "count_parameters",
    "gru_param_count",
    "lstm_param_count",
    "match_hidden",
    "mlp_param_count",
]


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters of ``module``."""
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only))


def mlp_param_count(n_in: int, hidden: int, n_out: int, n_layers: int = 1) -> int:
    """Parameters of :class:`MLP` (weights and biases), closed form."""
    n_in = check_int("n_in", n_in, min_value=1)
    hidden = check_int("hidden", hidden, min_value=1)
    n_out = check_int("n_out", n_out, min_value=1)
    n_layers = check_int("n_layers", n_layers, min_value=1)
    return (n_in + 1) * hidden + (n_layers - 1) * (hidden + 1) * hidden + (hidden + 1) * n_out


def lstm_param_count(n_in: int, hidden: int, n_out: int) -> int:
    """Parameters of a one-layer ``nn.LSTM`` plus a linear readout, closed form."""
    n_in = check_int("n_in", n_in, min_value=1)
    hidden = check_int("hidden", hidden, min_value=1)
    n_out = check_int("n_out", n_out, min_value=1)
    return 4 * hidden * (n_in + hidden + 2) + (hidden + 1) * n_out


def gru_param_count(n_in: int, hidden: int, n_out: int) -> int:
    """Parameters of a one-layer ``nn.GRU`` plus a linear readout, closed form."""
    n_in = check_int("n_in", n_in, min_value=1)
    hidden = check_int("hidden", hidden, min_value=1)
    n_out = check_int("n_out", n_out, min_value=1)
    return 3 * hidden * (n_in + hidden + 2) + (hidden + 1) * n_out


def match_hidden(target: int, count: Callable[[int], int], max_hidden: int = 4096) -> int:
    """The hidden width ``h >= 1`` whose ``count(h)`` is closest to ``target`` (ties: smaller h).

    ``count`` must be increasing in ``h`` (all counts above are).
    """
    target = check_int("target", target, min_value=1)
    best_h, best_d = 1, abs(count(1) - target)
    for h in range(2, max_hidden + 1):
        d = abs(count(h) - target)
        if d < best_d:
            best_h, best_d = h, d
        if count(h) > target:
            break
    return best_h


def _generator(seed) -> torch.Generator | None:
    if seed is None:
        return None
    g = torch.Generator()
    g.manual_seed(check_int("seed", seed, min_value=0))
    return g


def _init_linear_(layer: nn.Linear, gen: torch.Generator | None) -> None:
    """PyTorch's default initialisation (uniform in ±1/sqrt(fan_in)), drawn from ``gen``."""
    bound = 1.0 / layer.in_features ** 0.5
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=gen)
        if layer.bias is not None:
            layer.bias.uniform_(-bound, bound, generator=gen)


class MLP(nn.Module):
    """Fully connected network ``n_in -> hidden (x n_layers) -> n_out``.

    Hidden units use ``activation`` ("relu", "leaky_relu" with slope 0.01, or "tanh"); the
    output is linear. ``seed`` fixes the initial weights.
    """

    def __init__(self, n_in: int, hidden: int, n_out: int, n_layers: int = 1,
                 activation: str = "relu", seed: int | None = None):
        super().__init__()
        self.n_in = check_int("n_in", n_in, min_value=1)
        self.hidden = check_int("hidden", hidden, min_value=1)
        self.n_out = check_int("n_out", n_out, min_value=1)
        self.n_layers = check_int("n_layers", n_layers, min_value=1)
        acts = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.01), "tanh": nn.Tanh}
        if activation not in acts:
            raise ValueError(f"activation must be one of {sorted(acts)}, got {activation!r}")
        gen = _generator(seed)
        layers: list[nn.Module] = []
        width = self.n_in
        for _ in range(self.n_layers):
            lin = nn.Linear(width, self.hidden)
            _init_linear_(lin, gen)
            layers += [lin, acts[activation]()]
            width = self.hidden
        out = nn.Linear(width, self.n_out)
        _init_linear_(out, gen)
        layers.append(out)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x, dtype_kind="float")
        check_last_dim("x", x, self.n_in)
        return self.net(x)


class RecurrentClassifier(nn.Module):
    """One-layer LSTM or GRU over ``[T, B, n_in]`` with a linear readout.

    ``forward`` returns the readout at every step, ``[T, B, n_out]``; classification tasks read
    the last step. ``seed`` fixes the initial weights (PyTorch's default uniform scheme). The
    LSTM forget-gate bias starts at ``forget_bias`` (1.0 by default, a standard choice that
    helps long memories).
    """

    def __init__(self, kind: str, n_in: int, hidden: int, n_out: int, seed: int | None = None,
                 forget_bias: float = 1.0):
        super().__init__()
        if kind not in ("lstm", "gru"):
            raise ValueError(f"kind must be 'lstm' or 'gru', got {kind!r}")
        self.kind = kind
        self.n_in = check_int("n_in", n_in, min_value=1)
        self.hidden = check_int("hidden", hidden, min_value=1)
        self.n_out = check_int("n_out", n_out, min_value=1)
        cls = nn.LSTM if kind == "lstm" else nn.GRU
        self.rnn = cls(self.n_in, self.hidden)
        self.readout = nn.Linear(self.hidden, self.n_out)
        gen = _generator(seed)
        bound = 1.0 / self.hidden ** 0.5
        with torch.no_grad():
            for p in self.rnn.parameters():
                p.uniform_(-bound, bound, generator=gen)
            if kind == "lstm":
                h = self.hidden
                self.rnn.bias_ih_l0[h:2 * h].fill_(forget_bias)
                self.rnn.bias_hh_l0[h:2 * h].zero_()
        _init_linear_(self.readout, gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x, ndim=3, dtype_kind="float")
        if x.shape[-1] != self.n_in:
            raise ValueError(f"x must be [T, B, {self.n_in}], got shape {tuple(x.shape)}")
        h, _ = self.rnn(x)
        return self.readout(h)

    def param_count(self) -> int:
        f = lstm_param_count if self.kind == "lstm" else gru_param_count
        return f(self.n_in, self.hidden, self.n_out)
