"""Command line: ``neurocircuits list | run | report`` (also ``python -m neurocircuits``).

Exit status: 0 when everything asked for worked and every claim held, 1 when a claim failed,
2 on usage errors (unknown name, bad scale or seed, unwritable output), 3 when an experiment
crashed during ``run --all`` (the others still run and are reported).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

EXIT_OK, EXIT_CLAIM_FAILED, EXIT_USAGE, EXIT_CRASHED = 0, 1, 2, 3


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors: same exit code, shorter text
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="neurocircuits", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ls = sub.add_parser("list", help="the catalog of systems, with what is implemented")
    ls.add_argument("--markdown", action="store_true", help="print a Markdown table")

    run = sub.add_parser("run", help="run a reproduction (or all of them)")
    run.add_argument("name", nargs="?", help="catalog name, e.g. sdr-dendrites")
    run.add_argument("--all", action="store_true", help="run every implemented reproduction")
    run.add_argument("--scale", default="quick", choices=["quick", "full"],
                     help="quick: seconds (default); full: the paper's scale")
    run.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    run.add_argument("--out", default="results", help="results directory (default ./results)")
    run.add_argument("--no-report", action="store_true", help="do not rebuild OUT/index.html")

    rep = sub.add_parser("report", help="build OUT/index.html from the results found there")
    rep.add_argument("--out", default="results", help="results directory (default ./results)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            return cmd_list(args)
        if args.command == "run":
            return cmd_run(args)
        return cmd_report(args)
    except UsageError as err:
        print(f"neurocircuits: error: {err}", file=sys.stderr)
        return EXIT_USAGE


def cmd_list(args) -> int:
    from neurocircuits.catalog import table

    print(table(markdown=args.markdown))
    return EXIT_OK


def _writable_dir(path: str) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise UsageError(f"cannot write to output directory {path!r}: {err.strerror or err}") from None
    return out


def cmd_run(args) -> int:
    from neurocircuits.experiments import UnknownExperiment, get, registered, run_experiment
    from neurocircuits.progress import progress
    from neurocircuits.report import build_index, claims_table

    if args.all == bool(args.name):
        raise UsageError("give either an experiment NAME or --all (see 'neurocircuits list')")
    if args.all:
        names = [n for n, e in registered().items() if args.scale in e.scales]
    else:
        try:
            exp = get(args.name)
        except UnknownExperiment as err:
            from neurocircuits.catalog import catalog_names

            if args.name in catalog_names():
                raise UsageError(f"{args.name!r} is in the catalog but not implemented yet") from None
            raise UsageError(str(err)) from None
        if args.scale not in exp.scales:
            raise UsageError(f"{args.name!r} has no {args.scale!r} scale (it has {', '.join(exp.scales)})")
        names = [args.name]
    out = _writable_dir(args.out)

    failed: list[str] = []
    crashed: list[str] = []
    bar = progress(names, desc="experiments", total=len(names)) if len(names) > 1 else names
    for name in bar:
        print(f"\n== {name} (scale {args.scale}, seed {args.seed})", flush=True)
        try:
            result = run_experiment(name, scale=args.scale, seed=args.seed, out=out)
        except Exception:  # a crash in one reproduction must not hide the others' results
            if not args.all:
                raise
            traceback.print_exc()
            crashed.append(name)
            continue
        print(claims_table(result.claims, markdown=False))
        held = len(result.claims) - len(result.failed_claims())
        print(f"{held} of {len(result.claims)} claims held in {result.duration_s:.1f} s "
              f"-> {out / name}")
        for c in result.failed_claims():
            failed.append(f"{name}: {c.name}: measured {c.measured!r}, expected {c.expected_text()} "
                          f"(off by {c.shortfall:.3g})")
    if not args.no_report:
        index = build_index(out)
        print(f"\nreport: {index}")
    if failed or crashed:
        print("\nFAILED:", file=sys.stderr)
        for line in failed:
            print(f"  {line}", file=sys.stderr)
        for name in crashed:
            print(f"  {name}: crashed (traceback above)", file=sys.stderr)
        return EXIT_CRASHED if crashed else EXIT_CLAIM_FAILED
    return EXIT_OK


def cmd_report(args) -> int:
    from neurocircuits.report import build_index

    out = Path(args.out)
    if not out.is_dir():
        raise UsageError(f"results directory {args.out!r} does not exist; run an experiment first")
    _writable_dir(args.out)
    print(build_index(out))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
