"""Progress bars for long loops (tqdm), quiet when output is not a terminal."""

from __future__ import annotations

import os

from tqdm.auto import tqdm


def progress(iterable=None, desc: str | None = None, total: int | None = None, leave: bool = False, **kw):
    """``tqdm`` with our defaults: shown on a terminal only, or always when
    ``NEUROCIRCUITS_PROGRESS=1``; never when ``NEUROCIRCUITS_PROGRESS=0``."""
    flag = os.environ.get("NEUROCIRCUITS_PROGRESS")
    disable = None if flag is None else flag == "0"
    return tqdm(iterable, desc=desc, total=total, leave=leave, disable=disable, dynamic_ncols=True, **kw)
