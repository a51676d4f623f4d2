"""B7 — rollup of one day of raw metrics, and retention at that size.

Rows are generated in SQL (``INSERT … SELECT generate_series``): one day with ``b7_rows`` raw
rows (2,000,000 ≈ 100,000 emails × 20 metric rows), spread over the day, over the metric names
and label sets the collector writes.

- rollup: :func:`shared.metrics.rollup.rollup_day` for that day (its own transaction,
  ``force`` so every run re-aggregates) vs. the baseline, one hand-written ``GROUP BY name,
  labels`` with count, sum, avg, min, max and ``percentile_cont`` over the same rows, fetched
  to the client. Alternating, ``repeats`` runs each after one warm-up of the baseline; median
  times. Target: rollup / baseline ≤ 1.1.
- retention: the same number of rows on a day past ``METRICS_RETENTION_DAYS`` (rolled up
  first, as retention requires), then :func:`shared.metrics.rollup.delete_expired`. Each
  batch's ``DELETE`` statement is timed (SQLAlchemy cursor events); target: every batch ≤ 1 s.
  Every expired row must be gone and the retained day untouched.

Only the one expired day at full daily volume is generated, not 30 (60 million rows would take
longer than the whole benchmark budget): a batch's duration depends on the batch size and the
index it walks, which one day at full volume exercises; the figure does not extrapolate to how
long deleting 30 such days takes in total.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from infra.bench.context import BenchContext, require
from infra.bench.results import Check, Measurement, median

KEY = "B7"
TITLE = "metrics rollup (1 day)"
TARGET = "rollup/GROUP BY ≤ 1.1; batch lock ≤ 1 s"
RATIO_LIMIT = 1.1
BATCH_LIMIT_SECONDS = 1.0
ROWS_PER_EMAIL = 20

_SERIES = [
    ("processing_seconds", '{"stage": "read"}', 0.05),
    ("processing_seconds", '{"stage": "parse"}', 0.02),
    ("processing_seconds", '{"stage": "extract"}', 4.0),
    ("processing_seconds", '{"stage": "match"}', 0.05),
    ("processing_seconds", '{"stage": "apply"}', 0.05),
    ("processing_seconds", '{"stage": "total"}', 5.0),
    ("queue_lag_seconds", "{}", 2.0),
    ("delivery_attempt", "{}", 1.0),
    ("tokens_input", "{}", 400.0),
    ("tokens_output", "{}", 300.0),
    ("tokens_cache_read", "{}", 2300.0),
    ("tokens_cache_write", "{}", 10.0),
    ("extraction_confidence", '{"field": "overall"}', 1.0),
    ("extraction_confidence", '{"field": "amount"}', 1.0),
    ("extraction_confidence", '{"field": "case_number"}', 1.0),
    ("match_score", '{"method": "case_number"}', 1.0),
    ("decision", '{"decision": "AUTO_UPDATE"}', 1.0),
    ("decision", '{"decision": "UPDATE_AND_NOTIFY"}', 1.0),
    ("decision", '{"decision": "MANUAL_REVIEW"}', 1.0),
    ("error", '{"stage": "extract", "error_type": "ClaudeUnavailable"}', 1.0),
]
assert len(_SERIES) == ROWS_PER_EMAIL

_BASELINE = """
SELECT name, labels, count(*), sum(value), avg(value), min(value), max(value),
       percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY value)
  FROM operational_metrics
 WHERE recorded_at >= :start AND recorded_at < :end
 GROUP BY name, labels
"""


def _generate(engine: Any, day: date, rows: int, tag: str) -> None:
    from sqlalchemy import text

    values = ", ".join(
        f"({index}, '{name}', '{labels}'::jsonb, {scale})"
        for index, (name, labels, scale) in enumerate(_SERIES)
    )
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    sql = f"""
        INSERT INTO operational_metrics (recorded_at, name, value, labels, email_id,
                                         correlation_id)
        SELECT CAST(:start AS timestamptz) + (g * CAST(:step AS float8)) * interval '1 second',
               s.name, round((random() * s.scale)::numeric, 4)::float8, s.labels,
               :tag || (g / {ROWS_PER_EMAIL}), :tag || 'c' || (g / {ROWS_PER_EMAIL})
          FROM generate_series(0, CAST(:n AS integer) - 1) AS g
          JOIN (VALUES {values}) AS s(i, name, labels, scale) ON s.i = mod(g, {ROWS_PER_EMAIL})
    """  # noqa: S608 - the VALUES list is built from the constants above
    with engine.begin() as conn:
        conn.execute(text(sql), {"start": start, "step": 86399.0 / rows, "n": rows, "tag": tag})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE operational_metrics"))


def _count(engine: Any, day: date) -> int:
    from sqlalchemy import text

    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM operational_metrics "
                    "WHERE recorded_at >= :s AND recorded_at < :e"
                ),
                {"s": start, "e": start + timedelta(days=1)},
            ).scalar_one()
        )


def _baseline(engine: Any, day: date) -> tuple[float, int]:
    from sqlalchemy import text

    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    started = time.perf_counter()
    with engine.connect() as conn:
        groups = conn.execute(text(_BASELINE), {"start": start, "end": start + timedelta(days=1)})
        found = len(groups.all())
    return time.perf_counter() - started, found


def run(ctx: BenchContext) -> Measurement:
    rollup = require("shared.metrics.rollup", "rollup_day", "delete_expired", "time_zone")
    rollup_day, delete_expired = rollup.rollup_day, rollup.delete_expired
    ctx.use_stack_env()
    from sqlalchemy import event

    from shared.config import get_settings
    from shared.db.engine import get_engine

    settings = get_settings()
    if settings.rollup_time_zone != "UTC":
        raise RuntimeError("the benchmark generates UTC days; run it with ROLLUP_TIME_ZONE=UTC")
    tz = rollup.time_zone(settings.rollup_time_zone)
    engine = get_engine()
    today = datetime.now(UTC).date()
    day = today - timedelta(days=2)
    expired_day = today - timedelta(days=settings.metrics_retention_days + 2)
    rows = ctx.sizes.b7_rows
    ctx.log(f"B7: generating {rows:,} raw rows for {day} and {expired_day}")
    generated = time.perf_counter()
    _generate(engine, day, rows, "b7-")
    _generate(engine, expired_day, rows, "b7x-")
    generate_seconds = time.perf_counter() - generated
    if _count(engine, day) != rows:
        raise RuntimeError("the benchmark day holds rows of something else")

    _baseline(engine, day)  # warm-up: the same pages in cache for both sides
    rollup_times: list[float] = []
    baseline_times: list[float] = []
    groups = baseline_groups = 0
    for _ in range(ctx.sizes.repeats):
        started = time.perf_counter()
        done = rollup_day(day, tz, force=True)
        rollup_times.append(time.perf_counter() - started)
        if done is None:
            raise RuntimeError("rollup_day did nothing for the benchmark day")
        groups = done[0]
        seconds, baseline_groups = _baseline(engine, day)
        baseline_times.append(seconds)

    ctx.log("B7: retention")
    if rollup_day(expired_day, tz, force=True) is None:
        raise RuntimeError("rollup_day did nothing for the expired day")
    durations: list[float] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM OPERATIONAL_METRICS"):
            durations.append(time.perf_counter() - conn.info.pop("bench_started"))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    started = time.perf_counter()
    try:
        deleted, batches = delete_expired(
            today,
            tz,
            retention_days=settings.metrics_retention_days,
            batch_size=settings.metrics_retention_batch_size,
        )
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    retention_seconds = time.perf_counter() - started
    left_expired, kept = _count(engine, expired_day), _count(engine, day)

    figure, base = median(rollup_times), median(baseline_times)
    worst = max(durations) if durations else 0.0
    return Measurement(
        figure=figure,
        unit="s",
        baseline=base,
        ratio=figure / base,
        checks=[
            Check.at_most("rollup / GROUP BY", figure / base, RATIO_LIMIT, "{:.2f}"),
            Check.at_most("longest retention batch (s)", worst, BATCH_LIMIT_SECONDS, "{:.3f}"),
            Check.equal("groups (rollup vs GROUP BY)", groups, baseline_groups),
            Check.equal("expired rows left", left_expired, 0),
            Check.equal("rows of the retained day", kept, rows),
        ],
        details={
            "rows_per_day": rows,
            "generate_seconds_both_days": round(generate_seconds, 1),
            "rollup_seconds": [round(t, 3) for t in rollup_times],
            "group_by_seconds": [round(t, 3) for t in baseline_times],
            "groups": groups,
            "retention": {
                "rows_deleted": deleted,
                "batches": batches,
                "batch_size": settings.metrics_retention_batch_size,
                "batch_seconds_max": round(worst, 3),
                "batch_seconds_median": round(median(durations), 3) if durations else None,
                "total_seconds": round(retention_seconds, 1),
            },
        },
    )
