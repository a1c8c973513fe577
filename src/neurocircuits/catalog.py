"""The catalog: every system the seed listings describe, with the claim its reproduction checks.

The package carries its own copy (``catalog.json``); ``neurocircuits list`` shows it with each
row's status (implemented at which scales, or planned).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class CatalogRow:
    name: str
    tier: int | None  # 1 = core, 2 = follows, None = no computational system
    section: str
    seed: str  # "papers" or "talks": which seed listing names it
    source: str
    system: str  # what to build and the claim that proves it works

    @property
    def has_system(self) -> bool:
        return self.tier is not None


@lru_cache(maxsize=1)
def catalog() -> tuple[CatalogRow, ...]:
    text = resources.files("neurocircuits").joinpath("catalog.json").read_text(encoding="utf-8")
    return tuple(CatalogRow(**row) for row in json.loads(text)["rows"])


def catalog_names() -> list[str]:
    return [row.name for row in catalog()]


def row(name: str) -> CatalogRow:
    for r in catalog():
        if r.name == name:
            return r
    raise KeyError(f"no catalog row named {name!r}")


def status(r: CatalogRow) -> str:
    """'implemented (quick, full)', 'planned' or 'no system'."""
    from neurocircuits.experiments import registered

    exps = registered()
    if r.name in exps:
        return f"implemented ({', '.join(exps[r.name].scales)})"
    return "planned" if r.has_system else "no system"


def table(markdown: bool = False) -> str:
    rows = catalog()
    stats = [status(r) for r in rows]
    if markdown:
        lines = [
            "| name | tier | section | source | status |",
            "|---|---|---|---|---|",
        ]
        for r, s in zip(rows, stats):
            name = f"`{r.name}`" if r.has_system else r.name
            tier = str(r.tier) if r.tier is not None else "–"
            src = r.source.replace("|", "\\|")
            lines.append(f"| {name} | {tier} | {r.section[3:] if r.has_system else '–'} | {src} | {s} |")
        done = sum(s.startswith("implemented") for s in stats)
        systems = sum(r.has_system for r in rows)
        lines.append("")
        lines.append(f"{done} of {systems} computational systems implemented; "
                     f"{len(rows) - systems} rows describe no computational system.")
        return "\n".join(lines)
    w = max(len(r.name) for r in rows)
    lines = []
    section = None
    for r, s in zip(rows, stats):
        if r.section != section:
            section = r.section
            lines.append(f"\n{section}")
        tier = f"tier {r.tier}" if r.tier is not None else "      "
        lines.append(f"  {r.name:<{w}}  {tier}  {s:<28}  {r.source[:70]}")
    return "\n".join(lines).lstrip("\n")
