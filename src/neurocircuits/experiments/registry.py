"""The experiment contract: what a reproduction is, what it returns, how it is run.

An experiment is a function ``run(scale, seed, out) -> Result`` registered under the name of
its catalog row::

    @experiment("sdr-dendrites", paper="Ahmad & Hawkins 2016, arXiv:1601.00720")
    def run(scale: str, seed: int, out: Path) -> Result:
        ...
        return Result(metrics={...}, claims=[Claim(...)], figures={"p_vs_theta": fig})

``scale`` is ``"quick"`` (seconds, run by the tests and the demo) or ``"full"`` (the paper's
claim at its own scale). ``seed`` fixes every random number; ``out`` is a directory the
experiment may write extra files into. :func:`run_experiment` seeds the global generators,
times the run, saves figures and metrics and returns the finished :class:`Result`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

SCALES = ("quick", "full")

#: Comparisons a claim may use. ``approx`` needs a tolerance: |measured - expected| <= tolerance.
COMPARISONS = ("approx", ">=", "<=", ">", "<", "==", "within")


@dataclass
class Claim:
    """One checkable statement of a paper, with the number we measured for it.

    ``comparison`` is one of :data:`COMPARISONS`:

    - ``"approx"``: ``|measured - expected| <= tolerance``
    - ``">="``, ``"<="``, ``">"``, ``"<"``, ``"=="``: ``measured <op> expected``
    - ``"within"``: ``expected[0] <= measured <= expected[1]``

    ``source`` says where in the paper the claim is made (figure, section, equation).
    """

    name: str
    measured: float
    expected: Any
    comparison: str = "approx"
    tolerance: float | None = None
    source: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.comparison not in COMPARISONS:
            raise ValueError(
                f"claim {self.name!r}: comparison {self.comparison!r} is not one of {COMPARISONS}"
            )
        if self.comparison == "approx" and (self.tolerance is None or self.tolerance < 0):
            raise ValueError(
                f"claim {self.name!r}: comparison 'approx' needs a tolerance >= 0, "
                f"got {self.tolerance!r}"
            )
        if self.comparison == "within":
            lo, hi = self.expected
            if lo > hi:
                raise ValueError(f"claim {self.name!r}: range {self.expected!r} has low > high")
        self.measured = _plain(self.measured)
        self.expected = _plain(self.expected)

    @property
    def holds(self) -> bool:
        m = self.measured
        if isinstance(m, float) and math.isnan(m):
            return False
        e = self.expected
        if self.comparison == "approx":
            return abs(m - e) <= self.tolerance
        if self.comparison == ">=":
            return m >= e
        if self.comparison == "<=":
            return m <= e
        if self.comparison == ">":
            return m > e
        if self.comparison == "<":
            return m < e
        if self.comparison == "==":
            return m == e
        lo, hi = e
        return lo <= m <= hi

    @property
    def shortfall(self) -> float:
        """How far the measured value is from making the claim hold (0 when it holds)."""
        if self.holds:
            return 0.0
        m, e = float(self.measured), self.expected
        if self.comparison == "approx":
            return abs(m - e) - self.tolerance
        if self.comparison == "within":
            return max(e[0] - m, m - e[1])
        return abs(m - float(e))

    def expected_text(self) -> str:
        e = self.expected
        if self.comparison == "approx":
            return f"{_fmt(e)} ± {_fmt(self.tolerance)}"
        if self.comparison == "within":
            return f"in [{_fmt(e[0])}, {_fmt(e[1])}]"
        return f"{self.comparison} {_fmt(e)}"

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["holds"] = self.holds
        d["expected_text"] = self.expected_text()
        return d


@dataclass
class Result:
    """What an experiment returns.

    metrics: JSON-serialisable numbers and small lists (written to ``metrics.json``).
    claims: the paper's statements with measured values.
    figures: name -> matplotlib Figure (saved as ``figures/<name>.png``) or path of a PNG.
    params: the parameters the run used (sizes, rates, ...), shown in the report.
    notes: free text for the report: substitutions of data sets, honest shortfalls, caveats.
    """

    metrics: dict[str, Any] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    # Filled in by run_experiment:
    name: str = ""
    paper: str = ""
    scale: str = ""
    seed: int = 0
    duration_s: float = 0.0
    figure_files: list[str] = field(default_factory=list)

    @property
    def all_hold(self) -> bool:
        return all(c.holds for c in self.claims)

    def failed_claims(self) -> list[Claim]:
        return [c for c in self.claims if not c.holds]


@dataclass(frozen=True)
class Experiment:
    name: str
    paper: str
    func: Callable[[str, int, Path], Result]
    scales: tuple[str, ...] = SCALES
    summary: str = ""


_REGISTRY: dict[str, Experiment] = {}


def experiment(name: str, *, paper: str, scales: tuple[str, ...] = SCALES, summary: str = ""):
    """Register ``run(scale, seed, out) -> Result`` as the reproduction of catalog row ``name``."""
    from neurocircuits.catalog import catalog_names

    if name not in catalog_names():
        raise ValueError(f"experiment {name!r} is not a row of the catalog")
    for s in scales:
        if s not in SCALES:
            raise ValueError(f"experiment {name!r}: unknown scale {s!r}, expected one of {SCALES}")

    def register(func):
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"experiment {name!r} is registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = Experiment(name, paper, func, tuple(scales), summary or (doc[0] if doc else ""))
        return func

    return register


def registered() -> dict[str, Experiment]:
    """All registered experiments, by name (imports every experiment module first)."""
    from neurocircuits import experiments as _pkg

    _pkg.load_all()
    return dict(sorted(_REGISTRY.items()))


class UnknownExperiment(KeyError):
    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no experiment named {name!r}{hint}")

    def __str__(self) -> str:
        return self.args[0]


def get(name: str) -> Experiment:
    exps = registered()
    if name not in exps:
        from neurocircuits.catalog import catalog_names

        pool = list(exps) + [n for n in catalog_names() if n not in exps]
        raise UnknownExperiment(name, difflib.get_close_matches(name, pool, n=3, cutoff=0.5))
    return exps[name]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators."""
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return seed


def check_scale(scale) -> str:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    return scale


def run_experiment(name: str, scale: str = "quick", seed: int = 0, out: Path | str = "results") -> Result:
    """Run one experiment and write ``out/<name>/{metrics.json, figures/*.png, report.md}``."""
    from neurocircuits.report import write_result

    check_scale(scale)
    check_seed(seed)
    exp = get(name)
    if scale not in exp.scales:
        raise ValueError(f"experiment {name!r} has no {scale!r} scale (it has {exp.scales})")
    out_dir = Path(out) / name
    out_dir.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)
    import torch

    threads = torch.get_num_threads()
    t0 = time.perf_counter()
    try:
        result = exp.func(scale, seed, out_dir)
    finally:
        torch.set_num_threads(threads)
    if not isinstance(result, Result):
        raise TypeError(f"experiment {name!r} returned {type(result).__name__}, expected Result")
    result.duration_s = time.perf_counter() - t0
    result.name, result.paper, result.scale, result.seed = name, exp.paper, scale, seed
    write_result(result, out_dir)
    return result


def _plain(x):
    """Convert numpy / torch scalars to plain Python numbers (JSON-friendly)."""
    if hasattr(x, "item") and getattr(x, "ndim", 0) == 0:
        return x.item()
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    return x


def _fmt(x) -> str:
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if x == 0 or 1e-3 <= abs(x) < 1e5:
            return f"{x:.4g}"
        return f"{x:.3e}"
    return str(x)
