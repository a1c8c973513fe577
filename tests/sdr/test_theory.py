"""Exact SDR theory (Ahmad & Hawkins 2016, arXiv:1601.00720) against brute-force enumeration."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from neurocircuits.sdr import theory as T


def _subsets(n, k):
    return [frozenset(c) for c in itertools.combinations(range(n), k)]


@pytest.mark.parametrize("n, a, s", [(8, 3, 4), (10, 4, 3), (12, 5, 5), (14, 4, 6), (9, 9, 2)])
def test_false_match_equals_enumeration(n, a, s):
    segment = frozenset(range(s))  # any fixed segment: the SDR is uniform
    counts = [0] * (s + 2)
    total = 0
    for x in itertools.combinations(range(n), a):
        counts[len(segment.intersection(x))] += 1
        total += 1
    for theta in range(1, s + 2):
        want = Fraction(sum(counts[theta:]), total)
        assert T.false_match_probability_exact(n, a, s, theta) == want
        assert T.false_match_probability(n, a, s, theta) == float(want)


def test_false_match_does_not_depend_on_which_segment():
    n, a, s, theta = 10, 4, 4, 2
    want = T.false_match_probability_exact(n, a, s, theta)
    for seg in [(0, 1, 2, 3), (1, 4, 7, 9), (6, 7, 8, 9)]:
        hits = sum(len(set(seg) & set(x)) >= theta for x in itertools.combinations(range(n), a))
        assert Fraction(hits, math.comb(n, a)) == want


def test_tiny_probabilities_are_exact_and_positive():
    # θ = s = a = 40: only the segment's own cells match: 1 / C(2048, 40) ≈ 4.2e-85
    p = T.false_match_probability(2048, 40, 40, 40)
    assert p > 0 and p == 1 / math.comb(2048, 40)
    assert p == pytest.approx(4.2162452990025475e-85, rel=1e-15)
    assert T.false_match_probability_exact(2048, 40, 40, 40) == Fraction(1, math.comb(2048, 40))
    lg = T.log10_false_match_probability(2048, 40, 40, 40)
    assert lg == pytest.approx(-math.log10(math.comb(2048, 40)), abs=1e-12)
    # θ = 39 adds the C(40,39) C(2008,1) patterns sharing 39 cells
    want = Fraction(1 + 40 * 2008, math.comb(2048, 40))
    assert T.false_match_probability(2048, 40, 40, 39) == float(want)
    # 1e-30 and far below float range: the log variant stays finite and exact
    p30 = T.false_match_probability(2048, 40, 40, 24)
    assert 0 < p30 < 1e-30
    assert p30 == float(T.false_match_probability_exact(2048, 40, 40, 24))
    deep = T.log10_false_match_probability(100_000, 2000, 2000, 2000)
    assert deep == pytest.approx(-math.log10(math.comb(100_000, 2000)), abs=1e-9) and deep < -4000
    assert T.false_match_probability(100_000, 2000, 2000, 2000) == 0.0  # below float range
    assert T.log10_false_match_probability(50, 5, 3, 4) == -math.inf  # θ > s: impossible


def test_false_negative_equals_brute_force_of_the_noise_process():
    # pattern A = first a cells; the segment takes s of them; noise replaces v active cells by
    # v inactive ones (every choice equally likely): enumerate all of it
    n, a = 9, 5
    pattern = tuple(range(a))
    inactive = tuple(range(a, n))
    for s in (2, 3, 4):
        segment = set(pattern[:s])
        for v in range(0, a + 1):
            if v > n - a:
                continue
            counts = {}
            total = 0
            for drop in itertools.combinations(pattern, v):
                for add in itertools.combinations(inactive, v):
                    noisy = (set(pattern) - set(drop)) | set(add)
                    ov = len(segment & noisy)
                    counts[ov] = counts.get(ov, 0) + 1
                    total += 1
            for theta in range(1, s + 2):
                misses = sum(c for ov, c in counts.items() if ov < theta)
                assert T.false_negative_probability_exact(a, s, theta, v) == Fraction(misses, total)


def test_false_negative_formula_as_in_the_paper():
    # Eq. 6 written out directly
    a, s, theta, v = 300, 30, 12, 60
    num = sum(math.comb(s, b) * math.comb(a - s, v - b) for b in range(s - theta + 1, s + 1))
    assert T.false_negative_probability(a, s, theta, v) == num / math.comb(a, v)
    assert T.false_negative_probability(a, s, theta, 0) == 0.0
    assert T.false_negative_probability(40, 20, 21, 0) == 1.0  # θ > s never fires


@pytest.mark.parametrize("n, s, m", [(6, 2, 3), (7, 3, 2), (8, 2, 4)])
def test_union_size_distribution_equals_enumeration(n, s, m):
    subs = _subsets(n, s)
    counts = {}
    for combo in itertools.product(subs, repeat=m):
        u = len(frozenset().union(*combo))
        counts[u] = counts.get(u, 0) + 1
    total = len(subs) ** m
    got = T.union_size_distribution(n, s, m)
    assert got == {u: Fraction(c, total) for u, c in counts.items()}
    assert sum(got.values()) == 1


@pytest.mark.parametrize("n, a, s, m", [(7, 3, 2, 2), (8, 3, 2, 3), (6, 2, 2, 2)])
def test_union_false_match_equals_enumeration(n, a, s, m):
    subs = _subsets(n, s)
    inputs = _subsets(n, a)
    for theta in (1, 2, 3):
        hits = 0
        for combo in itertools.product(subs, repeat=m):
            seg = frozenset().union(*combo)
            hits += sum(len(seg & x) >= theta for x in inputs)
        want = Fraction(hits, len(subs) ** m * len(inputs))
        assert T.union_false_match_probability_exact(n, a, s, theta, m) == want
        assert T.union_false_match_probability(n, a, s, theta, m) == float(want)


def test_union_paper_approximation():
    # Eq. 13: s_M = n (1 − (1 − s/n)^M); exact mean of the union size is the same formula
    n, s, m = 20_000, 25, 10
    s_m = T.expected_union_size(n, s, m)
    assert s_m == pytest.approx(248.598427, abs=1e-5)
    mean = sum(u * p for u, p in T.union_size_distribution(200, 5, 4).items())
    assert float(mean) == pytest.approx(T.expected_union_size(200, 5, 4), rel=1e-12)
    exact = T.union_false_match_probability(n, 100, s, 15, m)
    approx = T.union_false_match_probability(n, 100, s, 15, m, method="expected")
    assert approx == T.false_match_probability(n, 100, 249, 15)
    assert 0 < abs(approx / exact - 1) < 0.05
    with pytest.raises(ValueError, match="method"):
        T.union_false_match_probability(n, 100, s, 15, m, method="mean")


def test_vectorised_helpers_match_exact():
    n = np.array([2048, 10_000, 200_000, 60])
    a = np.array([40, 300, 6000, 30])
    s = np.array([40, 30, 50, 20])
    theta = np.array([12, 12, 9, 15])
    got = T.log10_false_match_probability_array(n, a, s, theta)
    want = [T.log10_false_match_probability(*map(int, x)) for x in zip(n, a, s, theta)]
    assert np.allclose(got, want, rtol=1e-9, atol=0)
    fn = T.false_negative_probability_array([300, 128], [30, 30], [12, 14], [60, 64])
    assert np.allclose(fn, [T.false_negative_probability(300, 30, 12, 60),
                            T.false_negative_probability(128, 30, 14, 64)], rtol=1e-9)
    assert T.log10_false_match_probability_array(10, 3, 2, 3)[()] == -np.inf


def test_threshold_profile_matches_exact_median():
    import statistics

    prof = T.threshold_error_profile([2, 4], [100, 150], [0.1], [4, 6], noise_fraction=0.2)
    for theta, val in zip([2, 4], prof):
        errs = []
        for n in (100, 150):
            a = round(0.1 * n)
            for s in (4, 6):
                if s >= theta:
                    errs.append(math.log10(T.false_match_probability(n, a, s, theta)
                                           + T.false_negative_probability(a, s, theta, round(0.2 * a))))
        assert val == pytest.approx(statistics.median(errs), abs=1e-9)


def test_optimal_threshold_brute_force():
    n, a, s, v = 200, 20, 10, 6
    res = T.optimal_threshold(n, a, s, v)
    errs = {t: T.false_match_probability(n, a, s, t) + T.false_negative_probability(a, s, t, v)
            for t in range(1, s + 1)}
    best = min(errs, key=lambda t: (errs[t], t))
    assert res.theta == best
    assert res.error == pytest.approx(errs[best], rel=1e-12)
    assert res.false_positive + res.false_negative == pytest.approx(res.error, rel=1e-12)
    assert len(res.errors) == s
    # a restricted range
    res2 = T.optimal_threshold(n, a, s, v, thetas=range(8, 11))
    assert res2.theta in (8, 9, 10)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: T.false_match_probability(0, 1, 1, 1), ValueError, "n must be >= 1"),
    (lambda: T.false_match_probability(10, 11, 1, 1), ValueError, "a must be <= 10"),
    (lambda: T.false_match_probability(10, 2, -1, 1), ValueError, "s must be >= 0"),
    (lambda: T.false_match_probability(10, 2, 2, 0), ValueError, "theta must be >= 1"),
    (lambda: T.false_match_probability(10.5, 2, 2, 1), TypeError, "n must be an integer"),
    (lambda: T.false_match_probability(10, True, 2, 1), TypeError, "a must be an integer"),
    (lambda: T.false_negative_probability(10, 11, 2, 1), ValueError, "s must be <= 10"),
    (lambda: T.false_negative_probability(10, 5, 2, 11), ValueError, "v must be <= 10"),
    (lambda: T.union_false_match_probability(10, 2, 2, 1, 0), ValueError, "m must be >= 1"),
    (lambda: T.optimal_threshold(100, 10, 5, 2, thetas=[]), ValueError, "thetas must not be empty"),
    (lambda: T.log10_false_match_probability_array([10], [2], [2], [0]), ValueError, "theta"),
    (lambda: T.log10_false_match_probability_array([10.5], [2], [2], [1]), TypeError, "integers"),
    (lambda: T.threshold_error_profile([1], [100], [1.5], [5]), ValueError, "a_fractions"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
