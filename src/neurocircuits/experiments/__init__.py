"""Reproductions: one module per catalog row, each registering ``run(scale, seed, out)``.

Run them with ``neurocircuits run NAME`` or :func:`run_experiment`. Every module in this
package (other than ``registry``) is imported by :func:`load_all`, so adding a reproduction is
adding a file here that uses the :func:`experiment` decorator.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings

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
#: Experiment modules that failed to import (module name -> error text). One broken module
#: must not take the whole command line down; ``neurocircuits list`` reports these.
import_errors: dict[str, str] = {}


def load_all() -> None:
    """Import every experiment module so that each registers itself."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in pkgutil.iter_modules(__path__):
        if info.name != "registry" and not info.name.startswith("_"):
            try:
                importlib.import_module(f"{__name__}.{info.name}")
            except ImportError as err:
                import_errors[info.name] = f"{type(err).__name__}: {err}"
                warnings.warn(f"experiment module {info.name!r} could not be imported: {err}",
                              RuntimeWarning, stacklevel=2)
