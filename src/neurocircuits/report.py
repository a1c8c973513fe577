"""Writing results: ``<out>/<name>/{metrics.json, figures/*.png, report.md}`` and an HTML index.

Everything is plain JSON, Markdown and PNG: results can be read back without executing code.
``build_index(results_dir)`` turns every ``metrics.json`` under a directory into one
self-contained ``index.html`` (figures embedded as base64, no network access).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
import platform
from pathlib import Path
from typing import Any

from neurocircuits.experiments.registry import Claim, Result, _fmt


def library_versions() -> dict[str, str]:
    import matplotlib
    import numpy
    import scipy
    import torch

    import neurocircuits
    from neurocircuits import kernels

    return {
        "neurocircuits": neurocircuits.__version__,
        "compiled kernels": ", ".join(kernels.loaded()) or "not used",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
        "platform": platform.platform(),
    }


def _json_safe(x: Any) -> Any:
    """Plain JSON types only; non-finite floats become strings so the file stays valid JSON."""
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if hasattr(x, "tolist"):  # numpy / torch arrays and scalars
        return _json_safe(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)


def save_figures(result: Result, out_dir: Path) -> list[str]:
    import matplotlib.pyplot as plt

    fig_dir = out_dir / "figures"
    files = []
    for name, fig in result.figures.items():
        fig_dir.mkdir(parents=True, exist_ok=True)
        path = fig_dir / f"{name}.png"
        if isinstance(fig, (str, Path)):
            src = Path(fig)
            if src.resolve() != path.resolve():
                path.write_bytes(src.read_bytes())
        else:
            fig.savefig(path, dpi=110, bbox_inches="tight")
            plt.close(fig)
        files.append(f"figures/{name}.png")
    return files


def write_result(result: Result, out_dir: Path) -> None:
    out_dir = Path(out_dir)
    result.figure_files = save_figures(result, out_dir)
    record = {
        "name": result.name,
        "paper": result.paper,
        "scale": result.scale,
        "seed": result.seed,
        "duration_s": round(result.duration_s, 3),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "all_claims_hold": result.all_hold,
        "claims": [c.to_dict() for c in result.claims],
        "metrics": result.metrics,
        "params": result.params,
        "notes": result.notes,
        "figures": result.figure_files,
        "versions": library_versions(),
    }
    (out_dir / "metrics.json").write_text(json.dumps(_json_safe(record), indent=1) + "\n")
    (out_dir / "report.md").write_text(markdown_report(record))


def claims_table(claims: list[Claim] | list[dict], markdown: bool = True) -> str:
    rows = [c.to_dict() if isinstance(c, Claim) else c for c in claims]
    head = ["claim", "measured", "expected", "held", "source"]
    body = [
        [r["name"], _fmt(r["measured"]), r["expected_text"], "yes" if r["holds"] else "NO", r["source"]]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    widths[-1] = min(widths[-1], 50)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*head), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*[str(v)[:50] for v in row]) for row in body]
    return "\n".join(lines)


def markdown_report(rec: dict) -> str:
    held = sum(c["holds"] for c in rec["claims"])
    lines = [
        f"# {rec['name']}",
        "",
        f"Reproduces: {rec['paper']}",
        "",
        f"Scale `{rec['scale']}`, seed {rec['seed']}, {rec['duration_s']:.1f} s. "
        f"Claims held: {held} of {len(rec['claims'])}.",
        "",
        "## Claims",
        "",
        claims_table(rec["claims"]),
        "",
    ]
    if rec["notes"]:
        lines += ["## Notes", "", rec["notes"].strip(), ""]
    if rec["params"]:
        lines += ["## Parameters", ""]
        lines += [f"- `{k}`: {v}" for k, v in rec["params"].items()]
        lines.append("")
    if rec["figures"]:
        lines += ["## Figures", ""]
        lines += [f"![{Path(f).stem}]({f})" for f in rec["figures"]]
        lines.append("")
    lines += ["## Versions", ""] + [f"- {k}: {v}" for k, v in rec["versions"].items()]
    return "\n".join(lines) + "\n"


def load_records(results_dir: Path | str) -> list[dict]:
    """Every ``<results_dir>/<name>/metrics.json`` that parses, sorted by name."""
    records = []
    for path in sorted(Path(results_dir).glob("*/metrics.json")):
        try:
            rec = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(rec, dict) and "claims" in rec and "name" in rec:
            rec["_dir"] = path.parent
            records.append(rec)
    return records


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} .sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3} .ok{color:#176b1f;font-weight:600} .bad{color:#b00020;font-weight:600}
section{border-top:2px solid #ddd;margin-top:2em;padding-top:.5em}
img{max-width:100%;border:1px solid #eee;margin:.4em 0} .fig{display:inline-block;max-width:49%}
details{margin:.4em 0} pre{white-space:pre-wrap;background:#f8f8f8;padding:.5em}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def build_index(results_dir: Path | str = "results") -> Path:
    """Write ``results_dir/index.html`` summarising every experiment found there."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results directory {str(results_dir)!r} does not exist")
    records = load_records(results_dir)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<title>neurocircuits reproductions</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>neurocircuits reproductions</h1>",
        f"<p class='sub'>{len(records)} experiments in <code>{_e(results_dir)}</code>, page built {now}.</p>",
    ]
    if records:
        n_claims = sum(len(r["claims"]) for r in records)
        n_held = sum(c["holds"] for r in records for c in r["claims"])
        cls = "ok" if n_held == n_claims else "bad"
        parts.append(f"<p>Claims held: <span class='{cls}'>{n_held} of {n_claims}</span>. Each section "
                     "below gives the measured value, what the paper leads us to expect, and where "
                     "the paper makes the claim.</p>")
    if not records:
        parts.append("<p>No results yet: run <code>neurocircuits run NAME</code> or "
                     "<code>neurocircuits run --all</code> first.</p>")
    else:
        parts.append("<table><tr><th>experiment</th><th>scale</th><th>seed</th>"
                     "<th>claims held</th><th>duration</th><th>paper</th></tr>")
        for rec in records:
            held = sum(c["holds"] for c in rec["claims"])
            cls = "ok" if held == len(rec["claims"]) else "bad"
            parts.append(
                f"<tr><td><a href='#{_e(rec['name'])}'>{_e(rec['name'])}</a></td>"
                f"<td>{_e(rec['scale'])}</td><td>{_e(rec['seed'])}</td>"
                f"<td class='{cls}'>{held} / {len(rec['claims'])}</td>"
                f"<td>{float(rec['duration_s']):.1f} s</td><td>{_e(rec['paper'])}</td></tr>"
            )
        parts.append("</table>")
    for rec in records:
        parts.append(_section(rec))
    parts.append("</body></html>")
    path = results_dir / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _section(rec: dict) -> str:
    out = [f"<section id='{_e(rec['name'])}'><h2>{_e(rec['name'])}</h2>",
           f"<p>Reproduces: {_e(rec['paper'])}<br>scale <b>{_e(rec['scale'])}</b>, seed "
           f"{_e(rec['seed'])}, {float(rec['duration_s']):.1f} s, finished {_e(rec.get('finished', ''))}</p>",
           "<table><tr><th>claim</th><th>measured</th><th>expected</th><th>held</th><th>source</th></tr>"]
    for c in rec["claims"]:
        cls, word = ("ok", "held") if c["holds"] else ("bad", "FAILED")
        note = f"<br><small>{_e(c['note'])}</small>" if c.get("note") else ""
        out.append(f"<tr><td>{_e(c['name'])}{note}</td><td>{_e(_fmt(c['measured']))}</td>"
                   f"<td>{_e(c['expected_text'])}</td><td class='{cls}'>{word}</td>"
                   f"<td>{_e(c['source'])}</td></tr>")
    out.append("</table>")
    if rec.get("notes"):
        out.append(f"<p>{_e(rec['notes'])}</p>")
    for f in rec.get("figures", []):
        path = Path(rec["_dir"]) / f
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            out.append(f"<div class='fig'><img alt='{_e(Path(f).stem)}' src='data:image/png;base64,{data}'></div>")
    if rec.get("params"):
        rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rec["params"].items())
        out.append(f"<details><summary>parameters</summary><table>{rows}</table></details>")
    metrics = json.dumps(rec.get("metrics", {}), indent=1)
    out.append(f"<details><summary>metrics</summary><pre>{_e(metrics)}</pre></details>")
    vers = ", ".join(f"{k} {v}" for k, v in rec.get("versions", {}).items())
    out.append(f"<p class='sub'><small>{_e(vers)}</small></p></section>")
    return "\n".join(out)
