"""Nightly rollup: raw ``operational_metrics`` → ``operational_metrics_daily``, then retention.

What one run does (:func:`run_rollup`):

1. **Find the days to aggregate**: every day (in ``ROLLUP_TIME_ZONE``) before today that has
   raw rows and is not yet in ``metrics_rollup_days`` — so a missed night is caught up on the
   next run, and today (still filling) is never aggregated. Found with one recursive query
   that hops from day to day through the ``recorded_at`` index (no scan of the raw rows).
2. **Aggregate each day in its own transaction**, set-based in SQL: a ``SELECT … GROUP BY name,
   labels`` with count, sum, avg, min, max and ``percentile_cont(ARRAY[0.5, 0.95, 0.99])`` (a
   plain SELECT, so Postgres may use parallel workers), its groups upserted by one
   ``INSERT … ON CONFLICT (day, name, labels) DO UPDATE`` from arrays, and a bookkeeping row in
   ``metrics_rollup_days``. The transaction first takes an advisory lock
   (``pg_advisory_xact_lock``) and re-checks the bookkeeping, so two runs at once (Cloud
   Scheduler delivers at least once) aggregate each day once; a re-run changes nothing.
3. **Retention**: raw rows older than ``METRICS_RETENTION_DAYS`` days are deleted only for days
   that are rolled up, in batches of ``METRICS_RETENTION_BATCH_SIZE`` rows, each batch its own
   short transaction (no long-held locks). Such days are marked ``purged_at`` and are never
   re-aggregated from their now incomplete raw rows.

``python -m shared.metrics.rollup [--date YYYY-MM-DD]`` runs the same code locally.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, text

from shared.config import ConfigError, get_settings
from shared.logs import log_event

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock(classid, objid): "metr" + 1, constant for the whole rollup.
LOCK_CLASS = 0x6D657472
LOCK_OBJECT = 1

Progress = Callable[[str], None]


class RollupError(ValueError):
    """The caller asked for something the rollup must not do (today, a purged day)."""


@dataclass
class RollupSummary:
    """What one run did; ``as_dict()`` is the function's JSON answer and the log line."""

    days_rolled_up: list[str] = field(default_factory=list)
    groups_upserted: int = 0
    rows_aggregated: int = 0
    rows_deleted: int = 0
    delete_batches: int = 0
    duration_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_NEXT_DAYS = text(
    """
    WITH RECURSIVE hop(ts) AS (
        SELECT min(recorded_at) FROM operational_metrics WHERE recorded_at < :until
      UNION ALL
        SELECT (SELECT min(m.recorded_at) FROM operational_metrics m
                 WHERE m.recorded_at >= ((((hop.ts AT TIME ZONE :tz)::date + 1)::timestamp)
                                         AT TIME ZONE :tz)
                   AND m.recorded_at < :until)
          FROM hop WHERE hop.ts IS NOT NULL
    )
    SELECT found.day FROM (
        SELECT DISTINCT (ts AT TIME ZONE :tz)::date AS day FROM hop WHERE ts IS NOT NULL
    ) AS found
     WHERE NOT EXISTS (SELECT 1 FROM metrics_rollup_days d WHERE d.day = found.day)
     ORDER BY found.day
    """
)

# The aggregate is a plain SELECT so Postgres may run it with parallel workers (sort and scan
# split over the cores); a data-modifying statement (INSERT … SELECT, or a CTE holding one)
# never runs in parallel, which made the rollup ~1.3× a hand-written GROUP BY (benchmark B7).
# Its 20-odd groups are then upserted by a second statement of the same transaction.
_AGGREGATE = text(
    """
    SELECT name, labels::text AS labels, count(*) AS n, sum(value) AS total,
           avg(value) AS mean, min(value) AS low, max(value) AS high,
           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY value) AS pct
      FROM operational_metrics
     WHERE recorded_at >= :start AND recorded_at < :end
     GROUP BY name, labels
    """
)

_UPSERT = text(
    """
    INSERT INTO operational_metrics_daily
        (day, name, labels, count, sum, avg, min, max, p50, p95, p99, computed_at)
    SELECT :day, g.name, CAST(g.labels AS jsonb), g.n, g.total, g.mean, g.low, g.high,
           g.p50, g.p95, g.p99, now()
      FROM unnest(CAST(:names AS text[]), CAST(:labels AS text[]), CAST(:counts AS bigint[]),
                  CAST(:sums AS float8[]), CAST(:avgs AS float8[]), CAST(:mins AS float8[]),
                  CAST(:maxs AS float8[]), CAST(:p50s AS float8[]), CAST(:p95s AS float8[]),
                  CAST(:p99s AS float8[]))
           AS g(name, labels, n, total, mean, low, high, p50, p95, p99)
    ON CONFLICT (day, name, labels) DO UPDATE SET
        count = EXCLUDED.count, sum = EXCLUDED.sum, avg = EXCLUDED.avg,
        min = EXCLUDED.min, max = EXCLUDED.max,
        p50 = EXCLUDED.p50, p95 = EXCLUDED.p95, p99 = EXCLUDED.p99,
        computed_at = EXCLUDED.computed_at
    """
)

_BOOKKEEP = text(
    """
    INSERT INTO metrics_rollup_days (day, rolled_up_at, rows, groups)
    VALUES (:day, now(), :rows, :groups)
    ON CONFLICT (day) DO UPDATE SET
        rolled_up_at = EXCLUDED.rolled_up_at, rows = EXCLUDED.rows, groups = EXCLUDED.groups
    """
)

_MARK_PURGED = text(
    """
    UPDATE metrics_rollup_days SET purged_at = now()
     WHERE day < :cutoff_day AND purged_at IS NULL
    """
)

_DELETE_BATCH = text(
    """
    DELETE FROM operational_metrics WHERE id IN (
        SELECT m.id FROM operational_metrics m
         WHERE m.recorded_at < :cutoff
           AND EXISTS (SELECT 1 FROM metrics_rollup_days d
                        WHERE d.day = (m.recorded_at AT TIME ZONE :tz)::date)
         LIMIT :batch)
    """
)


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"ROLLUP_TIME_ZONE is not a known IANA time zone: {name!r}") from exc


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Start (inclusive) and end (exclusive) of ``day`` in ``tz``, as aware datetimes."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start, end


def _lock(conn: Connection) -> None:
    conn.execute(text("SELECT pg_advisory_xact_lock(:c, :o)"), {"c": LOCK_CLASS, "o": LOCK_OBJECT})


def _connect() -> AbstractContextManager[Connection]:
    """A pooled Core connection: the rollup runs SQL text only, so it never loads the ORM
    (0.05 s of the function's cold start, benchmark B6). Dropped, not pooled, after a socket
    error (a frozen database ends as a socket timeout: ``DB_SOCKET_TIMEOUT_SECONDS``)."""
    from shared.db.engine import connection

    return connection()


def pending_days(today: date, tz: ZoneInfo) -> list[date]:
    """Days before ``today`` that have raw rows and are not rolled up yet, oldest first."""
    until, _ = day_bounds(today, tz)
    with _connect() as conn:
        return list(conn.scalars(_NEXT_DAYS, {"until": until, "tz": tz.key}))


def rollup_day(day: date, tz: ZoneInfo, *, force: bool = False) -> tuple[int, int] | None:
    """Aggregate one day (one transaction, under the advisory lock).

    Returns ``(groups, rows)``, or ``None`` when the day was already rolled up (by a
    concurrent run) and ``force`` is off. ``force`` re-aggregates a day unless retention has
    started deleting its raw rows (:class:`RollupError`).
    """
    start, end = day_bounds(day, tz)
    with _connect() as conn, conn.begin():
        _lock(conn)
        done = conn.execute(
            text("SELECT purged_at FROM metrics_rollup_days WHERE day = :day"), {"day": day}
        ).first()
        if done is not None and not force:
            return None
        if done is not None and done.purged_at is not None:
            raise RollupError(
                f"{day.isoformat()}: raw rows of this day are past retention and partly "
                "deleted; its daily aggregates are final"
            )
        groups = conn.execute(_AGGREGATE, {"start": start, "end": end}).all()
        if groups:
            conn.execute(_UPSERT, {"day": day, **_columns(groups)})
        rows = sum(int(group.n) for group in groups)
        conn.execute(_BOOKKEEP, {"day": day, "rows": rows, "groups": len(groups)})
    return len(groups), rows


def _columns(groups: Sequence[Any]) -> dict[str, list[Any]]:
    """The aggregated groups as one array per column, the parameters of :data:`_UPSERT`."""
    return {
        "names": [g.name for g in groups],
        "labels": [g.labels for g in groups],
        "counts": [int(g.n) for g in groups],
        "sums": [float(g.total) for g in groups],
        "avgs": [float(g.mean) for g in groups],
        "mins": [float(g.low) for g in groups],
        "maxs": [float(g.high) for g in groups],
        "p50s": [float(g.pct[0]) for g in groups],
        "p95s": [float(g.pct[1]) for g in groups],
        "p99s": [float(g.pct[2]) for g in groups],
    }


def delete_expired(
    today: date,
    tz: ZoneInfo,
    *,
    retention_days: int,
    batch_size: int,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Delete raw rows older than the retention of rolled-up days; ``(rows, batches)``."""
    cutoff_day = today - timedelta(days=retention_days)
    cutoff, _ = day_bounds(cutoff_day, tz)
    with _connect() as conn, conn.begin():
        _lock(conn)
        conn.execute(_MARK_PURGED, {"cutoff_day": cutoff_day})
    deleted = batches = 0
    while True:
        with _connect() as conn, conn.begin():
            _lock(conn)
            result = conn.execute(
                _DELETE_BATCH, {"cutoff": cutoff, "tz": tz.key, "batch": batch_size}
            )
            count = int(result.rowcount or 0)
        batches += 1
        deleted += count
        if progress is not None and count:
            progress(f"deleted {deleted} raw rows older than {cutoff_day.isoformat()}")
        if count < batch_size:
            return deleted, batches


def run_rollup(
    *,
    day: date | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    batch_size: int | None = None,
) -> RollupSummary:
    """Catch up every complete day not yet rolled up (or re-roll ``day``), then retention.

    Logs ``rollup_completed`` with the summary, or ``rollup_failed`` (and re-raises);
    a :class:`RollupError` (the caller's mistake) is logged as ``rollup_rejected``.
    """
    started = time.monotonic()
    settings = get_settings()
    summary = RollupSummary()
    try:
        tz = time_zone(settings.rollup_time_zone)
        today = (now or datetime.now(UTC)).astimezone(tz).date()
        if day is not None and day >= today:
            raise RollupError(f"{day.isoformat()} is not a complete day yet (today is {today})")
        days = [day] if day is not None else pending_days(today, tz)
        for index, one_day in enumerate(days, start=1):
            done = rollup_day(one_day, tz, force=day is not None)
            if done is None:
                continue
            groups, rows = done
            summary.days_rolled_up.append(one_day.isoformat())
            summary.groups_upserted += groups
            summary.rows_aggregated += rows
            if progress is not None:
                progress(f"[{index}/{len(days)}] {one_day}: {rows} rows → {groups} groups")
        summary.rows_deleted, summary.delete_batches = delete_expired(
            today,
            tz,
            retention_days=settings.metrics_retention_days,
            batch_size=batch_size or settings.metrics_retention_batch_size,
            progress=progress,
        )
    except RollupError as exc:
        log_event(logger, "rollup_rejected", level=logging.WARNING, reason=str(exc))
        raise
    except Exception as exc:
        log_event(
            logger,
            "rollup_failed",
            level=logging.ERROR,
            error_type=type(exc).__name__,
            days_done=len(summary.days_rolled_up),
            duration_seconds=round(time.monotonic() - started, 3),
        )
        raise
    summary.duration_seconds = round(time.monotonic() - started, 3)
    log_event(logger, "rollup_completed", **summary.as_dict())
    return summary


def main(argv: list[str] | None = None) -> int:
    """``python -m shared.metrics.rollup [--date YYYY-MM-DD]``: run now, print the summary."""
    parser = argparse.ArgumentParser(prog="python -m shared.metrics.rollup", description=__doc__)
    parser.add_argument("--date", type=date.fromisoformat, help="re-aggregate this one day")
    args = parser.parse_args(argv)
    from shared.runtime import prepare_instance

    prepare_instance("rollup")
    try:
        summary = run_rollup(day=args.date, progress=lambda line: print(line, file=sys.stderr))
    except RollupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
