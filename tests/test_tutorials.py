"""Executes the code of the tutorial pages (docs/tutorial-*.md) so they never go stale.

Each page is run top to bottom in one namespace: every ```python block is executed with its
standard output captured; when the block is followed directly by a ```text block, that block is
the output the reader should see and must match (trailing spaces ignored). A page that needs
optional packages names them in a line ``<!-- requires: pkg1 pkg2 -->``; it is skipped, with
that reason, when one of them is missing."""

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(DOCS.glob("tutorial-*.md"))
_BLOCK = re.compile(r"```(python|text)\n(.*?)```", re.S)
_REQUIRES = re.compile(r"<!--\s*requires:\s*([\w\s.-]+?)\s*-->")


def tutorial_blocks(text: str) -> list[tuple[str, str | None]]:
    """``(code, expected_output or None)`` for each python block of a page, in order."""
    blocks = [(m.group(1), m.group(2), m.start(), m.end()) for m in _BLOCK.finditer(text)]
    out = []
    for k, (kind, body, _, end) in enumerate(blocks):
        if kind != "python":
            continue
        expected = None
        if k + 1 < len(blocks):
            nxt_kind, nxt_body, nxt_start, _ = blocks[k + 1]
            if nxt_kind == "text" and not text[end:nxt_start].strip():
                expected = nxt_body
        out.append((body, expected))
    return out


def run_page(path: Path) -> list[tuple[str, str | None, str]]:
    """Run a page's blocks; returns ``(code, expected, actual_output)`` for each."""
    ns: dict = {"__name__": f"tutorial_{path.stem}"}
    results = []
    for code, expected in tutorial_blocks(path.read_text()):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(code, str(path), "exec"), ns)
        results.append((code, expected, buf.getvalue()))
    return results


def _norm(s: str) -> str:
    return "\n".join(line.rstrip() for line in s.strip().splitlines())


def test_tutorial_pages_exist():
    names = {p.stem for p in PAGES}
    for topic in ("criticality", "covariance", "compare", "tensors", "connectivity"):
        assert f"tutorial-{topic}" in names


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_tutorial_runs_and_prints_what_it_shows(page, tmp_path, monkeypatch):
    for m in _REQUIRES.finditer(page.read_text()):
        for pkg in m.group(1).split():
            pytest.importorskip(pkg, reason=f"{page.name} needs {pkg} (pip install neurocircuits[io])")
    monkeypatch.chdir(tmp_path)
    os.environ.setdefault("MPLBACKEND", "Agg")
    results = run_page(page)
    assert results, f"{page.name} has no python blocks"
    for code, expected, actual in results:
        if expected is not None:
            assert _norm(actual) == _norm(expected), f"{page.name}: block\n{code}\nprinted\n{actual}"
