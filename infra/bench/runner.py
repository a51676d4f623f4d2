"""``python -m infra.bench [--only B1,B5] [--smoke]``: run the benchmarks, print one table.

Starts its own local stack (``.local/bench-stack``), runs each selected benchmark, prints the
table (figure, baseline measured in the same run, ratio, target, met/MISSED) and writes the
same as JSON (``.local/bench.json``). A benchmark whose code cannot be imported prints
``not measured: <reason>``; one that crashes prints ``error: <reason>`` and makes the exit
status 1. A missed target is a result, not a failure of the harness: exit status 0.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TypeVar

from infra.bench.context import FULL, SMOKE, BenchContext
from infra.bench.leftovers import Leftovers
from infra.bench.results import NotMeasured, Row, render_table, write_json
from infra.stack import REPO_ROOT, LocalStack, StackError

T = TypeVar("T")

MODULES = {
    "B1": "infra.bench.b1_roundtrips",
    "B2": "infra.bench.b2_breakers",
    "B3": "infra.bench.b3_throughput",
    "B4": "infra.bench.b4_concurrency",
    "B5": "infra.bench.b5_intake",
    "B6": "infra.bench.b6_cold_start",
    "B7": "infra.bench.b7_rollup",
    "B8": "infra.bench.b8_tokens",
    "B9": "infra.bench.b9_end_to_end",
}
# The order they run in: quick in-process ones first, the process-heavy ones last.
ORDER = ("B8", "B2", "B1", "B3", "B4", "B7", "B5", "B6", "B9")
B9_THREADS = 8


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.bench", description=__doc__)
    parser.add_argument("--only", help="comma-separated benchmark ids, e.g. B1,B5")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (the test suite's run)")
    parser.add_argument("--json", type=Path, default=REPO_ROOT / ".local" / "bench.json")
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".local" / "bench-stack")
    parser.add_argument(
        "--b8-corpus",
        type=Path,
        default=None,
        help="folder of provider-shaped .eml files for B8 (default: eval/corpus)",
    )
    args = parser.parse_args(argv)
    selected = ORDER
    if args.only:
        wanted = [key.strip().upper() for key in args.only.split(",") if key.strip()]
        unknown = sorted(set(wanted) - set(MODULES))
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(ORDER)}")
        selected = tuple(key for key in ORDER if key in wanted)
    args.selected = selected
    return args


def _load(key: str) -> ModuleType:
    return importlib.import_module(MODULES[key])


def run_one(ctx: BenchContext, key: str) -> Row:
    module = _load(key)
    row = Row(key=key, title=module.TITLE, target=module.TARGET, status="not measured")
    started = time.monotonic()
    ctx.log(f"{key} {module.TITLE}: running")
    try:
        measured = module.run(ctx)
    except NotMeasured as exc:
        row.reason = str(exc)
    except Exception as exc:
        row.status = "error"
        row.reason = f"{type(exc).__name__}: {exc}"
        traceback.print_exc(file=sys.stderr)
    else:
        row.status = "measured"
        row.figure, row.unit = measured.figure, measured.unit
        row.baseline, row.ratio = measured.baseline, measured.ratio
        row.checks, row.details = measured.checks, measured.details
        row.summary = measured.summary
        row.met = all(check.ok for check in measured.checks)
    row.seconds = round(time.monotonic() - started, 1)
    ctx.log(f"{key}: {row.verdict} ({row.seconds}s)")
    return row


def _tidy(ctx: BenchContext, what: str, step: Callable[[], T]) -> T | None:
    """``step()``, or None when it failed: the leftovers are housekeeping, and a benchmark's
    row must not be lost to them (the failure is logged; the next benchmark may then run on
    fuller stores than it would have)."""
    try:
        return step()
    except Exception as exc:
        ctx.log(f"{what} failed: {type(exc).__name__}: {exc}")
        return None


def run_suite(
    stack: LocalStack,
    *,
    smoke: bool,
    selected: tuple[str, ...] = ORDER,
    json_path: Path | None = None,
    b8_corpus: Path | None = None,
) -> list[Row]:
    """Run ``selected`` on a started ``stack``; print the table, write the JSON."""
    sizes = SMOKE if smoke else FULL
    ctx = BenchContext(
        stack=stack,
        sizes=sizes,
        smoke=smoke,
        work_dir=stack.state_dir / "bench",
        b8_corpus=b8_corpus,
    )
    ctx.work_dir.mkdir(parents=True, exist_ok=True)
    saved_environ = dict(os.environ)
    rows: list[Row] = []
    try:
        ctx.use_stack_env()
        leftovers = Leftovers(stack.env())
        for key in selected:
            held = _tidy(ctx, f"{key}: remembering what the stores hold", leftovers.snapshot)
            rows.append(run_one(ctx, key))
            if held is not None:
                removed = _tidy(ctx, f"{key}: removing what it stored", leftovers.remove_new)
                if removed is not None:
                    objects, accounts = removed
                    ctx.log(f"{key}: removed {objects} objects and {accounts} accounts it stored")
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)
        from shared.config import reset_settings_cache
        from shared.db.engine import dispose_engine

        reset_settings_cache()
        dispose_engine()
    total = round(time.monotonic() - ctx.started, 1)
    print(render_table(rows))
    print(f"\nbenchmarks took {total}s" + (f"; JSON: {json_path}" if json_path else ""))
    if json_path is not None:
        write_json(
            json_path,
            rows,
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "mode": "smoke" if smoke else "full",
                "sizes": sizes.__dict__,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "seconds": total,
            },
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    stack = LocalStack(args.state_dir.resolve(), processor_threads=B9_THREADS, claude="standin")
    print(f"[bench] starting the local stack in {stack.state_dir}", file=sys.stderr, flush=True)
    try:
        stack.start()
    except StackError as exc:
        print(f"bench: the local stack did not start: {exc}", file=sys.stderr)
        return 3
    try:
        rows = run_suite(
            stack,
            smoke=args.smoke,
            selected=args.selected,
            json_path=args.json,
            b8_corpus=args.b8_corpus,
        )
    finally:
        stack.stop()
    print(f"total with the stack's start and stop: {time.monotonic() - started:.1f}s")
    return 1 if any(row.status == "error" for row in rows) else 0
