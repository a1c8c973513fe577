"""The command line as a user runs it: list, run, report, and their errors."""

import json
import os
import subprocess
import sys

import matplotlib.pyplot as plt
import pytest

from neurocircuits import cli
from neurocircuits.experiments import Claim, Result, registry


def _toy(scale, seed, out):
    """A tiny stand-in experiment used to test the command line itself."""
    import numpy as np

    x = float(np.random.default_rng(seed).random())
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, x])
    (out / "extra.txt").write_text("written by the experiment")
    return Result(
        metrics={"x": x, "scale": scale},
        claims=[Claim("x in unit interval", x, (0.0, 1.0), "within", source="toy"),
                Claim("x equals itself", x, x, "approx", tolerance=0.0, source="toy")],
        figures={"line": fig},
        params={"seed_used": seed},
        notes="toy",
    )


def _failing(scale, seed, out):
    return Result(claims=[Claim("impossible", 1.0, 2.0, ">=", source="toy")])


@pytest.fixture
def toy_registry(monkeypatch):
    exps = registry.registered()  # loads the real experiments first
    fake = dict(exps)
    fake["attractors"] = registry.Experiment("attractors", "toy paper", _toy, ("quick",), "toy")
    fake["reservoir-motifs"] = registry.Experiment("reservoir-motifs", "toy", _failing, ("quick", "full"), "fails")
    monkeypatch.setattr(registry, "_REGISTRY", fake)
    return fake


def test_list_shows_every_catalog_row(capsys):
    from neurocircuits.catalog import catalog

    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for row in catalog():
        assert row.name in out


def test_list_markdown_has_status(capsys, toy_registry):
    assert cli.main(["list", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| `attractors` |" in out and "implemented (quick)" in out
    assert "planned" in out and "no system" in out


def test_run_writes_results_and_exit_zero(tmp_path, capsys, toy_registry):
    assert cli.main(["run", "attractors", "--seed", "3", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "x in unit interval" in out and "2 of 2 claims held" in out
    rec = json.loads((tmp_path / "attractors" / "metrics.json").read_text())
    assert rec["seed"] == 3 and rec["scale"] == "quick" and rec["all_claims_hold"]
    assert rec["params"] == {"seed_used": 3}
    assert "torch" in rec["versions"]
    assert (tmp_path / "attractors" / "figures" / "line.png").stat().st_size > 1000
    assert (tmp_path / "attractors" / "extra.txt").exists()
    assert "| x in unit interval |" in (tmp_path / "attractors" / "report.md").read_text()
    assert (tmp_path / "index.html").exists()


def test_same_seed_same_numbers(tmp_path, toy_registry):
    for d in ("a", "b"):
        cli.main(["run", "attractors", "--seed", "7", "--out", str(tmp_path / d)])
    read = lambda d: json.loads((tmp_path / d / "attractors" / "metrics.json").read_text())["metrics"]
    assert read("a") == read("b")


def test_failed_claim_exit_one_says_which(tmp_path, capsys, toy_registry):
    assert cli.main(["run", "reservoir-motifs", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "impossible" in err and "off by 1" in err


def test_run_all(tmp_path, capsys, toy_registry, monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", {k: v for k, v in toy_registry.items()
                                                 if k in ("attractors", "reservoir-motifs")})
    assert cli.main(["run", "--all", "--out", str(tmp_path)]) == 1
    assert (tmp_path / "attractors" / "metrics.json").exists()
    assert (tmp_path / "reservoir-motifs" / "metrics.json").exists()
    html = (tmp_path / "index.html").read_text()
    assert "attractors" in html and "reservoir-motifs" in html and "FAILED" in html


def test_unknown_name_suggests(capsys, toy_registry):
    assert cli.main(["run", "atractors"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" in err and "attractors" in err and "Traceback" not in err


def test_planned_row_is_not_implemented(capsys, toy_registry):
    assert cli.main(["run", "lfads"]) == 2
    assert "not implemented yet" in capsys.readouterr().err


@pytest.mark.parametrize("argv, text", [
    (["run", "attractors", "--scale", "huge"], "invalid choice"),
    (["run", "attractors", "--seed", "-4"], "non-negative"),
    (["run", "attractors", "--seed", "abc"], "non-negative"),
    (["run"], "either an experiment NAME or --all"),
    (["run", "attractors", "--all"], "either an experiment NAME or --all"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_exit_two(argv, text, capsys, toy_registry):
    try:
        code = cli.main(argv)
    except SystemExit as e:
        code = e.code
    assert code == 2
    assert text in capsys.readouterr().err


def test_missing_scale_of_experiment(capsys, toy_registry):
    assert cli.main(["run", "attractors", "--scale", "full"]) == 2
    assert "has no 'full' scale" in capsys.readouterr().err


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_dir(tmp_path, capsys, toy_registry):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    assert cli.main(["run", "attractors", "--out", str(ro / "x")]) == 2
    assert "cannot write to output directory" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc, which nobody can write")
def test_output_dir_in_read_only_filesystem(capsys, toy_registry):
    assert cli.main(["run", "attractors", "--out", "/proc/neurocircuits-results"]) == 2
    assert "cannot write to output directory '/proc/neurocircuits-results'" in capsys.readouterr().err


def test_output_path_is_a_file(tmp_path, capsys, toy_registry):
    f = tmp_path / "file"
    f.write_text("")
    assert cli.main(["run", "attractors", "--out", str(f)]) == 2
    assert "cannot write to output directory" in capsys.readouterr().err


def test_report_command(tmp_path, capsys, toy_registry):
    assert cli.main(["report", "--out", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    cli.main(["run", "attractors", "--out", str(tmp_path), "--no-report"])
    assert not (tmp_path / "index.html").exists()
    assert cli.main(["report", "--out", str(tmp_path)]) == 0
    html = (tmp_path / "index.html").read_text()
    assert "data:image/png;base64," in html  # figures embedded: the page stands alone
    assert "http://" not in html and "https://" not in html


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "neurocircuits", "run", "no-such-thing"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no experiment named 'no-such-thing'" in proc.stderr
    assert "Traceback" not in proc.stderr
