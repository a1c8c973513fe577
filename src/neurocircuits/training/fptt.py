"""Forward Propagation Through Time (FPTT): online training of recurrent (spiking) networks.

Kag & Saligrama (2021), "Training Recurrent Neural Networks via Forward Propagation Through
Time", ICML; applied to spiking networks by Yin, Corradi & Bohté (2023), Nat. Mach. Intell.

A sequence is cut into K chunks. The network state is carried across chunk boundaries but the
graph is cut (memory: one chunk). After each chunk t the weights W take one optimiser step on
the *dynamically regularised* loss

.. math::

    \\bar\\ell_t(W) = \\ell_t(W) + \\frac{\\alpha}{2}
        \\left\\| W - \\bar W_t - \\frac{1}{2\\alpha} \\nabla\\ell_{t-1} \\right\\|^2,

and the running-average parameters follow

.. math::

    \\bar W_{t+1} = \\tfrac12 (\\bar W_t + W_{t+1}) - \\frac{1}{2\\alpha} \\nabla\\ell_t .

``∇ℓ_t`` is the gradient of the chunk loss alone, taken at W_t (the paper evaluates it at
W_{t+1}; one extra forward/backward pass per chunk would be needed for that, and the first-order
difference is O(learning rate)). The regulariser's gradient is added analytically to each
parameter's ``.grad``, so the trainer costs one backward pass per chunk, the same as truncated
BPTT with the same window; ``alpha = 0`` *is* truncated BPTT.
"""

from __future__ import annotations

import torch

from neurocircuits.validation import check_float


class FPTT:
    """Wraps an optimiser: call :meth:`step` after ``chunk_loss.backward()``.

    ``params``: the parameters being trained (the same ones the optimiser holds);
    ``alpha``: regulariser strength (0 gives plain truncated BPTT).
    """

    def __init__(self, params, optimizer: torch.optim.Optimizer, alpha: float = 0.5):
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("FPTT needs at least one parameter that requires grad")
        self.optimizer = optimizer
        self.alpha = check_float("alpha", alpha, min_value=0.0)
        self.w_bar = [p.detach().clone() for p in self.params]
        self.grad_prev = [torch.zeros_like(p) for p in self.params]

    def regulariser(self) -> torch.Tensor:
        """Value of the dynamic regulariser at the current weights (for monitoring)."""
        if self.alpha == 0:
            return torch.zeros(())
        total = sum(((p.detach() - wb - gp / (2 * self.alpha)) ** 2).sum()
                    for p, wb, gp in zip(self.params, self.w_bar, self.grad_prev))
        return 0.5 * self.alpha * total

    @torch.no_grad()
    def step(self) -> None:
        """Optimiser step on the regularised loss, then update the running average."""
        grads = []
        for p, wb, gp in zip(self.params, self.w_bar, self.grad_prev):
            g = torch.zeros_like(p) if p.grad is None else p.grad.clone()
            grads.append(g)
            if self.alpha > 0:
                reg = self.alpha * (p - wb - gp / (2 * self.alpha))
                p.grad = g + reg
        self.optimizer.step()
        if self.alpha > 0:
            for p, wb, g, gp in zip(self.params, self.w_bar, grads, self.grad_prev):
                wb.mul_(0.5).add_(0.5 * p).sub_(g / (2 * self.alpha))
                gp.copy_(g)
