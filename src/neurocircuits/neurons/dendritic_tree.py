"""Dendritic k-tree neuron: a single neuron as a binary tree of thresholded linear units.

Jones & Kording (2021), "Might a single neuron solve interesting machine learning problems
through successive computations on its dendritic tree?", Neural Computation 33(6):1554-1571,
doi:10.1162/neco_a_01390 (preprint arXiv:2009.01269).

A dendritic subtree with ``n_inputs = 2^D`` synapses is a binary tree of depth D. Each
dendritic compartment (tree node) sums exactly two children, weighted, and applies a leaky
ReLU φ(u) = max(u, α u) (α = 0.01):

    h^(0)           = x                                        [2^D] synaptic input
    h^(l)_i         = φ(w^(l)_{i,0} h^(l-1)_{2i} + w^(l)_{i,1} h^(l-1)_{2i+1} + c^(l)_i)
                      for i = 0 .. 2^(D-l) - 1, l = 1 .. D     (the root is h^(D)_0)

The synaptic layer (l = 1) carries one weight per synapse; layer l has 2^(D-l+1) weights, so
the tree's weight matrix of layer l is a sparse, block-diagonal matrix with blocks of size 1 x 2
(:meth:`KTree.dense_weights` builds it). The k-tree repeats the subtree k times, each subtree
seeing the same input (repeated synaptic input) with its own weights, and sums the k roots at
the soma:

    y = Σ_j v_j h^(D)_{j,0} + c_soma                           (one output logit)

Trainable parameters: per subtree (2^(D+1) - 2) weights and (2^D - 1) biases, plus k soma
weights and one soma bias: ``k (3 n - 2) + 1`` with n = 2^D (:func:`ktree_param_count`).
Inputs are ``[B, n_inputs]``; :func:`pad_inputs` zero-pads features to a power of two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from neurocircuits.validation import check_float, check_int, check_tensor

__all__ = ["KTree", "KTreeParams", "ktree_forward", "ktree_param_count", "pad_inputs"]


def _check_power_of_two(name: str, n) -> int:
    n = check_int(name, n, min_value=2)
    if n & (n - 1):
        raise ValueError(f"{name} must be a power of two >= 2 (a full binary tree), got {n}")
    return n


def ktree_param_count(n_inputs: int, k: int) -> int:
    """Trainable parameters of a k-tree over ``n_inputs`` synapses: k (3 n - 2) + 1."""
    n = _check_power_of_two("n_inputs", n_inputs)
    k = check_int("k", k, min_value=1)
    return k * (3 * n - 2) + 1


def pad_inputs(x: torch.Tensor, n_inputs: int) -> torch.Tensor:
    """Zero-pad the last dimension of ``x`` to ``n_inputs`` features."""
    n_inputs = check_int("n_inputs", n_inputs, min_value=1)
    check_tensor("x", x, dtype_kind="float")
    if x.shape[-1] > n_inputs:
        raise ValueError(f"x has {x.shape[-1]} features, more than n_inputs = {n_inputs}")
    return F.pad(x, (0, n_inputs - x.shape[-1]))


@dataclass
class KTreeParams:
    """Layer weights ``w[l]`` [k, n_l, 2] and biases ``c[l]`` [k, n_l] (n_l = n / 2^(l+1)),
    soma weights ``v`` [k] and bias ``c_soma`` [] and the leaky-ReLU slope."""

    w: list[torch.Tensor]
    c: list[torch.Tensor]
    v: torch.Tensor
    c_soma: torch.Tensor
    negative_slope: float = 0.01


def ktree_forward(x: torch.Tensor, p: KTreeParams) -> torch.Tensor:
    """Soma output [B] of the k-tree (module doc) for input ``x`` [B, n_inputs]."""
    B = x.shape[0]
    h = x.reshape(B, 1, -1)  # every subtree sees the same input: broadcast over k
    for w, c in zip(p.w, p.c):
        h = h.reshape(B, h.shape[1], -1, 2)
        h = F.leaky_relu((h * w).sum(-1) + c, p.negative_slope)
    return h[:, :, 0] @ p.v + p.c_soma


class KTree(nn.Module):
    """k repeated dendritic binary subtrees summed at a soma (module doc for equations).

    Args:
        n_inputs: synapses per subtree, a power of two (pad inputs with :func:`pad_inputs`).
        k: number of repeated subtrees (>= 1).
        negative_slope: leaky-ReLU slope α in [0, 1).
        seed: fixes the initial weights. Each node's two weights start uniform in
            ±1/sqrt(2) (its fan-in is 2), the soma weights in ±1/sqrt(k); biases start at 0.
    """

    def __init__(self, n_inputs: int, k: int, negative_slope: float = 0.01, seed: int | None = None):
        super().__init__()
        self.n_inputs = _check_power_of_two("n_inputs", n_inputs)
        self.k = check_int("k", k, min_value=1)
        self.negative_slope = check_float("negative_slope", negative_slope, min_value=0.0)
        if self.negative_slope >= 1:
            raise ValueError(f"negative_slope must be < 1, got {self.negative_slope}")
        self.depth = int(math.log2(self.n_inputs))
        gen = None
        if seed is not None:
            gen = torch.Generator()
            gen.manual_seed(check_int("seed", seed, min_value=0))
        self.w = nn.ParameterList()
        self.c = nn.ParameterList()
        n = self.n_inputs
        for _ in range(self.depth):
            n //= 2
            bound = 1.0 / math.sqrt(2.0)
            self.w.append(nn.Parameter((torch.rand(self.k, n, 2, generator=gen) * 2 - 1) * bound))
            self.c.append(nn.Parameter(torch.zeros(self.k, n)))
        self.v = nn.Parameter((torch.rand(self.k, generator=gen) * 2 - 1) / math.sqrt(self.k))
        self.c_soma = nn.Parameter(torch.zeros(()))

    def params(self) -> KTreeParams:
        return KTreeParams(list(self.w), list(self.c), self.v, self.c_soma, self.negative_slope)

    def param_count(self) -> int:
        return ktree_param_count(self.n_inputs, self.k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Soma output (logit) [B] for input ``x`` [B, n_inputs]."""
        check_tensor("x", x, ndim=2, dtype_kind="float")
        if x.shape[1] != self.n_inputs:
            raise ValueError(f"x must be [B, {self.n_inputs}] (pad with pad_inputs), got shape "
                             f"{tuple(x.shape)}")
        return ktree_forward(x, self.params())

    def dense_weights(self) -> list[torch.Tensor]:
        """The same tree as dense masked matrices: layer l maps the stacked activity of all k
        subtrees [k n_{l-1}] to [k n_l] with a block-diagonal matrix whose only non-zeros are
        the two child weights of each node (the first maps the k-fold repeated input)."""
        mats = []
        for w in self.w:
            k, n, _ = w.shape
            M = torch.zeros(k * n, k * 2 * n, dtype=w.dtype)
            rows = torch.arange(k * n)
            M[rows, 2 * rows] = w.reshape(-1, 2)[:, 0]
            M[rows, 2 * rows + 1] = w.reshape(-1, 2)[:, 1]
            mats.append(M)
        return mats
