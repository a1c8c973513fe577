"""Sparse distributed representations, dendritic segments and their exact error theory
(Ahmad & Hawkins 2016, arXiv:1601.00720).

- :mod:`neurocircuits.sdr.theory`: exact false-match, union and false-negative probabilities,
  optimal thresholds;
- :mod:`neurocircuits.sdr.ops`: random SDRs, overlap, union, noise on torch tensors;
- :mod:`neurocircuits.sdr.segments`: :class:`DendriticSegments`, sparse (CSR) segment matching.
"""

from neurocircuits.sdr import theory
from neurocircuits.sdr.ops import (
    add_noise,
    make_generator,
    overlap,
    random_sdr,
    subsample,
    to_dense,
    to_indices,
    union,
)
from neurocircuits.sdr.segments import DendriticSegments, SegmentMatch
from neurocircuits.sdr.theory import (
    ThresholdChoice,
    expected_union_size,
    false_match_probability,
    false_match_probability_exact,
    false_negative_probability,
    log10_false_match_probability,
    optimal_threshold,
    union_false_match_probability,
    union_size_distribution,
)

__all__ = [
    "DendriticSegments",
    "SegmentMatch",
    "ThresholdChoice",
    "add_noise",
    "expected_union_size",
    "false_match_probability",
    "false_match_probability_exact",
    "false_negative_probability",
    "log10_false_match_probability",
    "make_generator",
    "optimal_threshold",
    "overlap",
    "random_sdr",
    "subsample",
    "theory",
    "to_dense",
    "to_indices",
    "union",
    "union_false_match_probability",
    "union_size_distribution",
]
