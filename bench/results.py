"""One measured row, its target and ratio; printing tables and writing results.json."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_FILE = Path(__file__).with_name("results.json")


@dataclass(frozen=True)
class Target:
    """``value <op> bound``: ``<=`` for costs, ``>=`` for throughputs."""

    op: str
    bound: float

    def met(self, value: float) -> bool:
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def __str__(self) -> str:
        symbol = "≤" if self.op == "<=" else "≥"
        return f"{symbol} {self.bound:g}"


@dataclass(frozen=True)
class Row:
    """One measurement; ``ratio`` is value ÷ bound (``None`` without a target)."""

    name: str
    value: float
    unit: str
    target: Target | None = None
    conditions: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.target is None or self.target.bound == 0:
            return None
        return self.value / self.target.bound

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = str(self.target) if self.target else None
        data["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        data["met"] = self.met
        return data


@dataclass
class Benchmark:
    """The rows of one benchmark and how long it took."""

    name: str
    rows: list[Row]
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": round(self.seconds, 2),
            "rows": [row.as_json() for row in self.rows],
        }


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e9:
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"


def table(benchmark: Benchmark) -> str:
    """A plain-text table: measured value, target, ratio, conditions."""
    header = ("measurement", "measured", "target", "ratio", "met", "conditions")
    lines = [header]
    for row in benchmark.rows:
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}"
        met = {True: "yes", False: "NO", None: "-"}[row.met]
        lines.append(
            (
                row.name,
                f"{_number(row.value)} {row.unit}",
                str(row.target or "-"),
                ratio,
                met,
                row.conditions,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    rendered = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
    ]
    rule = "-" * len(rendered[0])
    title = f"== {benchmark.name} ({benchmark.seconds:.1f} s)"
    return "\n".join([title, rendered[0], rule, *rendered[1:]])


def write_results(benchmarks: list[Benchmark], *, quick: bool, path: Path = RESULTS_FILE) -> Path:
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "python": sys.version.split()[0],
        "machine": f"{platform.system()} {platform.machine()}",
        "benchmarks": [benchmark.as_json() for benchmark in benchmarks],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
