"""Connectivity rules and parameter distributions for projections.

A connector turns ``(n_pre, n_post, rng, same_population)`` into two int64 arrays
``(pre, post)`` of local indices, one entry per synapse. Every rule draws from the
``numpy.random.Generator`` it is given, so a seeded network is reproducible.

- :class:`AllToAll` every pair (optionally without autapses)
- :class:`FixedProbability` each pair independently with probability ``p`` (Bernoulli; drawn
  exactly with geometric gaps between successive chosen pairs, O(synapses) time and memory)
- :class:`FixedInDegree` ``k`` presynaptic partners per target, uniformly (with or without
  multapses), as NEST's ``fixed_indegree``
- :class:`OneToOne` ``i -> i``
- :class:`FromArrays` explicit ``pre`` / ``post`` arrays

Distributions for weights and delays: :class:`Normal`, :class:`Uniform`, :class:`LogNormal`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocircuits.validation import check_array, check_float, check_int, check_probability


class Connector:
    def connect(self, n_pre: int, n_post: int, rng: np.random.Generator, same: bool):
        raise NotImplementedError


@dataclass(frozen=True)
class AllToAll(Connector):
    allow_autapses: bool = True

    def connect(self, n_pre, n_post, rng, same):
        pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post)
        post = np.tile(np.arange(n_post, dtype=np.int64), n_pre)
        if same and not self.allow_autapses:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post


@dataclass(frozen=True)
class FixedProbability(Connector):
    """Each ordered pair is connected independently with probability ``p``."""

    p: float
    allow_autapses: bool = True

    def __post_init__(self):
        check_probability("p", self.p)

    def connect(self, n_pre, n_post, rng, same):
        total = n_pre * n_post
        p = self.p
        if p == 0.0 or total == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if p == 1.0:
            flat = np.arange(total, dtype=np.int64)
        else:
            # positions of successes in a Bernoulli(p) sequence: cumulative geometric gaps
            chunks, pos = [], -1
            expect = int(total * p + 6 * np.sqrt(total * p) + 16)
            while True:
                gaps = rng.geometric(p, size=expect)
                idx = pos + np.cumsum(gaps)
                if idx[-1] >= total:
                    chunks.append(idx[idx < total])
                    break
                chunks.append(idx)
                pos = int(idx[-1])
                expect = max(16, int((total - pos) * p * 1.1) + 16)
            flat = np.concatenate(chunks)
        pre, post = np.divmod(flat, n_post)
        if same and not self.allow_autapses:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre.astype(np.int64), post.astype(np.int64)


@dataclass(frozen=True)
class FixedInDegree(Connector):
    """Each target receives exactly ``k`` synapses from presynaptic neurons drawn uniformly."""

    k: int
    allow_autapses: bool = True
    allow_multapses: bool = True

    def __post_init__(self):
        check_int("k", self.k, min_value=0)

    def connect(self, n_pre, n_post, rng, same):
        k = self.k
        avail = n_pre - (1 if same and not self.allow_autapses else 0)
        if not self.allow_multapses and k > avail:
            raise ValueError(f"in-degree k = {k} exceeds the {avail} available presynaptic neurons "
                             "(allow_multapses=False)")
        post = np.repeat(np.arange(n_post, dtype=np.int64), k)
        if self.allow_multapses:
            if same and not self.allow_autapses:
                if n_pre < 2 and k > 0:
                    raise ValueError("no presynaptic partner left without autapses (n_pre = 1)")
                pre = rng.integers(0, n_pre - 1, size=n_post * k)
                pre = pre + (pre >= post)  # skip the neuron itself
            else:
                pre = rng.integers(0, n_pre, size=n_post * k)
        else:
            pre = np.empty(n_post * k, dtype=np.int64)
            for j in range(n_post):
                if same and not self.allow_autapses:
                    c = rng.choice(n_pre - 1, size=k, replace=False)
                    c = c + (c >= j)
                else:
                    c = rng.choice(n_pre, size=k, replace=False)
                pre[j * k:(j + 1) * k] = c
        return pre.astype(np.int64), post


@dataclass(frozen=True)
class OneToOne(Connector):
    def connect(self, n_pre, n_post, rng, same):
        if n_pre != n_post:
            raise ValueError(f"OneToOne needs equal sizes, got n_pre = {n_pre} and n_post = {n_post}")
        i = np.arange(n_pre, dtype=np.int64)
        return i, i.copy()


class FromArrays(Connector):
    """Explicit synapse list: ``pre[k] -> post[k]`` (local indices)."""

    def __init__(self, pre, post):
        pre = check_array("pre", pre, ndim=1)
        post = check_array("post", post, ndim=1)
        if pre.shape != post.shape:
            raise ValueError(f"pre and post must have equal length, got {pre.size} and {post.size}")
        for name, a in (("pre", pre), ("post", post)):
            if a.size and a.dtype.kind not in "iu":
                raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
        self.pre, self.post = pre.astype(np.int64), post.astype(np.int64)

    def connect(self, n_pre, n_post, rng, same):
        for name, a, n in (("pre", self.pre, n_pre), ("post", self.post, n_post)):
            if a.size and (a.min() < 0 or a.max() >= n):
                raise ValueError(f"{name} indices must lie in [0, {n}), got range [{a.min()}, {a.max()}]")
        return self.pre.copy(), self.post.copy()


# ------------------------------------------------------------------------- distributions
class Distribution:
    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Normal(Distribution):
    mean: float
    std: float

    def __post_init__(self):
        check_float("mean", self.mean)
        check_float("std", self.std, min_value=0.0)

    def sample(self, size, rng):
        return rng.normal(self.mean, self.std, size)


@dataclass(frozen=True)
class Uniform(Distribution):
    low: float
    high: float

    def __post_init__(self):
        check_float("low", self.low)
        check_float("high", self.high)
        if self.high < self.low:
            raise ValueError(f"Uniform needs low <= high, got [{self.low}, {self.high}]")

    def sample(self, size, rng):
        return rng.uniform(self.low, self.high, size)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """exp(Normal(mu, sigma)) of the underlying normal's parameters."""

    mu: float
    sigma: float

    def __post_init__(self):
        check_float("mu", self.mu)
        check_float("sigma", self.sigma, min_value=0.0)

    def sample(self, size, rng):
        return rng.lognormal(self.mu, self.sigma, size)


def resolve(name: str, spec, size: int, rng: np.random.Generator) -> np.ndarray:
    """A scalar, an array of ``size`` values or a :class:`Distribution` -> float64 ``[size]``."""
    if isinstance(spec, Distribution):
        return np.asarray(spec.sample(size, rng), dtype=np.float64)
    if np.ndim(spec) == 0:
        return np.full(size, check_float(name, spec))
    arr = check_array(name, spec, ndim=1)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.size != size:
        raise ValueError(f"{name} has {arr.size} values but the projection has {size} synapses")
    return arr.astype(np.float64)
