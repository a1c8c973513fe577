"""Import of the optional packages of the ``io`` extra, with a message saying how to get them."""

from __future__ import annotations

import importlib


def require(module: str, purpose: str):
    """Import ``module`` or raise an ``ImportError`` naming it and the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{purpose} needs the optional package {module!r}, which is not installed: "
                          "pip install neurocircuits[io]") from e
