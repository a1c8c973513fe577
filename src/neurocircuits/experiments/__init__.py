"""Reproductions: one module per catalog row, each registering ``run(scale, seed, out)``.

Run them with ``neurocircuits run NAME`` or :func:`run_experiment`. Every module in this
package (other than ``registry``) is imported by :func:`load_all`, so adding a reproduction is
adding a file here that uses the :func:`experiment` decorator.
"""

from __future__ import annotations

import importlib
import pkgutil

from neurocircuits.experiments.registry import (
    Claim,
    Experiment,
    Result,
    UnknownExperiment,
    experiment,
    get,
    registered,
    run_experiment,
)

__all__ = [
    "Claim",
    "Experiment",
    "Result",
    "UnknownExperiment",
    "experiment",
    "get",
    "load_all",
    "registered",
    "run_experiment",
]

_loaded = False


def load_all() -> None:
    """Import every experiment module so that each registers itself."""
    global _loaded
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        if info.name != "registry" and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True
