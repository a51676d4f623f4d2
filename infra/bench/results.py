"""What a benchmark returns, how it is judged, and the one table (text and JSON) of a run.

A benchmark returns a :class:`Measurement` (its figure, the baseline measured in the same run,
the checks its target consists of, details) or raises :class:`NotMeasured` with the reason
(code that cannot be imported, a tool missing). The harness turns either into a :class:`Row`;
a crash becomes a row with status ``error``. Nothing here invents a figure: a row without a
measurement shows ``not measured: <reason>``.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["measured", "not measured", "error"]


class NotMeasured(Exception):
    """The benchmark cannot run here; the message says why (shown in the table)."""


@dataclass(frozen=True)
class Check:
    """One condition of a target, e.g. ``ratio ≥ 0.5`` or ``no error responses``."""

    name: str
    ok: bool
    observed: str

    @staticmethod
    def at_most(name: str, value: float, limit: float, fmt: str = "{:.3g}") -> Check:
        return Check(f"{name} ≤ {fmt.format(limit)}", value <= limit, fmt.format(value))

    @staticmethod
    def at_least(name: str, value: float, limit: float, fmt: str = "{:.3g}") -> Check:
        return Check(f"{name} ≥ {fmt.format(limit)}", value >= limit, fmt.format(value))

    @staticmethod
    def equal(name: str, value: Any, expected: Any) -> Check:
        return Check(f"{name} = {expected}", value == expected, str(value))


@dataclass
class Measurement:
    figure: float
    unit: str
    checks: list[Check]
    baseline: float | None = None
    ratio: float | None = None
    summary: str = ""  # one line for the table's notes (e.g. latency percentiles)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    key: str
    title: str
    target: str
    status: Status
    figure: float | None = None
    unit: str = ""
    baseline: float | None = None
    ratio: float | None = None
    met: bool | None = None
    checks: list[Check] = field(default_factory=list)
    reason: str | None = None
    summary: str = ""
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if self.status != "measured":
            return f"{self.status}: {self.reason}"
        return "met" if self.met else "MISSED"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict
        return data


def median(values: Iterable[float]) -> float:
    items = list(values)
    if not items:
        raise ValueError("median of no values")
    return float(statistics.median(items))


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (like ``percentile_cont``)."""
    items = sorted(values)
    if not items:
        raise ValueError("percentile of no values")
    position = (len(items) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return items[low] + (items[high] - items[low]) * (position - low)


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def render_table(rows: Sequence[Row]) -> str:
    """The run as one plain-text table, then one line per missed check or reason."""
    header = ("#", "benchmark", "figure", "baseline", "ratio", "target", "result")
    lines = [header]
    for row in rows:
        unit = f" {row.unit}" if row.unit and row.figure is not None else ""
        lines.append(
            (
                row.key,
                row.title,
                _number(row.figure) + unit,
                _number(row.baseline) + (unit if row.baseline is not None else ""),
                _number(row.ratio),
                row.target,
                row.verdict if row.status == "measured" else row.status,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    notes = []
    for row in rows:
        if row.status != "measured":
            notes.append(f"{row.key}: {row.status}: {row.reason}")
            continue
        if row.summary:
            notes.append(f"{row.key}: {row.summary}")
        for check in row.checks:
            mark = "ok    " if check.ok else "MISSED"
            notes.append(f"{row.key}: {mark} {check.name} (observed {check.observed})")
    return "\n".join(out) + "\n\n" + "\n".join(notes)


def write_json(path: Path, rows: Sequence[Row], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**meta, "rows": [row.as_dict() for row in rows]}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
