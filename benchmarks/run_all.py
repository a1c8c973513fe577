"""Run every benchmark script in this folder, one process each, and list where results went.

Benchmarks measure speed and memory against peers in the same run (ratios, not absolute times);
they are never part of the test suite. Peers are optional: `make bench-peers` installs them.
Each script prints its own table and writes JSON to benchmarks/results/.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    only = set(argv)
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != "run_all.py" and not p.name.startswith("_"))
    if only:
        scripts = [p for p in scripts if p.stem in only]
        if not scripts:
            print(f"no benchmark named {sorted(only)}; available: "
                  f"{', '.join(p.stem for p in sorted(HERE.glob('*.py')) if p.name != 'run_all.py')}")
            return 2
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"--- {script.stem}: exit {code} after {time.perf_counter() - t0:.0f} s", flush=True)
        if code != 0:
            failed.append(script.stem)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}")
        return 1
    print(f"\nresults in {HERE / 'results'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
