"""Regenerate the reproduction table in README.md from the catalog (``neurocircuits list --markdown``).

Run ``make readme-table`` after adding an experiment; a test checks the table is current.
"""

from __future__ import annotations

import sys
from pathlib import Path

from neurocircuits.catalog import table

BEGIN = "<!-- reproduction-table:begin -->"
END = "<!-- reproduction-table:end -->"


def render(readme: str) -> str:
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table(markdown=True)}\n{END}{tail}"


def main() -> int:
    path = Path(__file__).resolve().parents[1] / "README.md"
    text = path.read_text(encoding="utf-8")
    new = render(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"updated {path}")
    else:
        print(f"{path} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
