import math

import numpy as np
import pytest

from neurocircuits.models.ca3_cam import (
    CAMParams,
    SpikingCAM,
    _psp_gain,
    fragment,
    orthogonal_contents,
)


def test_psp_gain_puts_unit_weight_psp_at_threshold():
    """Integrate one PSP finely and check its peak is 1 for w = 1."""
    tau_m, tau_s, dt = 10.0, 2.0, 0.001
    g = _psp_gain(tau_m, tau_s)
    v, i, peak = 0.0, g, 0.0
    for _ in range(int(30 / dt)):
        v += dt * (-v + i) / tau_m
        i -= dt * i / tau_s
        peak = max(peak, v)
    assert peak == pytest.approx(1.0, rel=1e-3)


def test_store_and_recall_orthogonal():
    rng = np.random.default_rng(1)
    mem = orthogonal_contents(4, 48, 8, rng)
    cam = SpikingCAM(4, 48)
    for k in range(4):
        cam.store(k, mem[k])
    for k in range(4):
        np.testing.assert_array_equal(cam.recall_from_cue(k), mem[k])
        frag = fragment(mem[k], 0.25, rng)
        assert frag.sum() == 2
        assert cam.cue_winners(frag) == [k]
        np.testing.assert_array_equal(cam.recall_from_fragment(frag), mem[k])


def test_overwrite_forgets_old_content():
    rng = np.random.default_rng(2)
    mem = orthogonal_contents(3, 48, 8, rng)
    cam = SpikingCAM(2, 48)
    cam.store(0, mem[0])
    cam.store(1, mem[1])
    cam.store(0, mem[2])
    np.testing.assert_array_equal(cam.recall_from_cue(0), mem[2])
    assert cam.cue_winners(fragment(mem[0], 0.5, rng)) == []
    np.testing.assert_array_equal(cam.recall_from_cue(1), mem[1])


def test_without_storage_nothing_is_recalled():
    cam = SpikingCAM(2, 16)
    assert not cam.recall_from_cue(0).any()


def test_bad_input():
    with pytest.raises(ValueError, match="n_cues"):
        SpikingCAM(0, 10)
    cam = SpikingCAM(2, 10)
    with pytest.raises(ValueError, match="cue must be <= 1"):
        cam.recall_from_cue(2)
    with pytest.raises(ValueError, match="boolean vector of length 10"):
        cam.store(0, np.ones(9, dtype=bool))
    with pytest.raises(ValueError, match="at least one active bit"):
        cam.store(0, np.zeros(10, dtype=bool))
    with pytest.raises(ValueError, match="tau_m_ms"):
        CAMParams(tau_m_ms=-1.0)
    with pytest.raises(ValueError, match="need 30 content neurons"):
        orthogonal_contents(3, 20, 10, np.random.default_rng(0))
    assert math.isfinite(_psp_gain(10.0, 2.0))
