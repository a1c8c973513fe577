"""The README's reproduction table is generated from the catalog: it must be current."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_table_is_current():
    spec = importlib.util.spec_from_file_location("update_readme_table", ROOT / "tools" / "update_readme_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert mod.render(text) == text, "README table is stale: run `make readme-table`"
