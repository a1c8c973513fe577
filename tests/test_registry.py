import math

import pytest

from neurocircuits.catalog import catalog, catalog_names, row
from neurocircuits.experiments import Claim, Result, experiment, registered
from neurocircuits.experiments.registry import check_scale, check_seed


@pytest.mark.parametrize("cmp, measured, expected, tol, holds", [
    ("approx", 1.05, 1.0, 0.1, True),
    ("approx", 1.2, 1.0, 0.1, False),
    (">=", 3, 3, None, True),
    (">", 3, 3, None, False),
    ("<=", 2.0, 3, None, True),
    ("<", 4.0, 3, None, False),
    ("==", 5, 5, None, True),
    ("within", 0.5, (0, 1), None, True),
    ("within", 1.5, (0, 1), None, False),
    ("approx", float("nan"), 1.0, 10.0, False),
])
def test_claim_comparisons(cmp, measured, expected, tol, holds):
    c = Claim("c", measured, expected, cmp, tolerance=tol)
    assert c.holds is holds
    assert c.shortfall >= 0 or math.isnan(measured)
    if holds:
        assert c.shortfall == 0


def test_claim_shortfall_and_text():
    c = Claim("c", 1.5, 1.0, "approx", tolerance=0.2)
    assert c.shortfall == pytest.approx(0.3)
    assert c.expected_text() == "1 ± 0.2"
    assert Claim("d", 5, (0, 1), "within").shortfall == 4


def test_claim_rejects_bad_definitions():
    with pytest.raises(ValueError, match="comparison"):
        Claim("c", 1, 1, "about")
    with pytest.raises(ValueError, match="tolerance"):
        Claim("c", 1, 1, "approx")
    with pytest.raises(ValueError, match="low > high"):
        Claim("c", 1, (2, 1), "within")


def test_numpy_scalars_become_plain_numbers():
    import numpy as np

    c = Claim("c", np.float32(0.5), np.int64(1), "<")
    assert type(c.measured) is float and type(c.expected) is int
    assert Result(claims=[c]).all_hold


def test_register_only_catalog_rows():
    with pytest.raises(ValueError, match="not a row of the catalog"):
        experiment("not-a-row", paper="x")
    with pytest.raises(ValueError, match="unknown scale"):
        experiment("attractors", paper="x", scales=("tiny",))


def test_registered_experiments_are_catalog_rows():
    names = set(catalog_names())
    for name, exp in registered().items():
        assert name in names
        assert exp.paper and exp.scales


def test_catalog_is_complete():
    rows = catalog()
    assert len(rows) == 65
    assert len(set(catalog_names())) == len(rows)
    assert sum(r.has_system for r in rows) == 56
    assert row("sdr-dendrites").tier == 1
    assert all(r.source and r.system for r in rows)
    with pytest.raises(KeyError):
        row("nope")


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        check_seed(bad)


def test_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        check_scale("medium")


def test_every_experiment_module_imports():
    from neurocircuits import experiments

    registered()
    assert experiments.import_errors == {}
