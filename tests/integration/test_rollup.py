"""The nightly rollup against the real local Postgres, checked by an independent computation.

Each test writes raw rows under its own metric-name prefix on its own far-past days (the
database is shared by the session), runs the rollup with a fixed "now" in a non-UTC time zone,
and removes what it created.
"""

from __future__ import annotations

import json
import math
import random
import threading
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, insert, select, text

from shared.db.engine import get_engine, transaction
from shared.db.models import MetricsRollupDay, OperationalMetric, OperationalMetricDaily
from shared.metrics.rollup import RollupError, delete_expired, rollup_day, run_rollup

TZ = ZoneInfo("Europe/Berlin")
LABEL_SETS = {
    "processing_seconds": [{"stage": "total"}, {"stage": "extract"}, {"stage": "match"}],
    "decision": [{"decision": "AUTO_UPDATE"}, {"decision": "MANUAL_REVIEW"}],
    "queue_lag_seconds": [{}],
    "error": [
        {"stage": "load", "error_type": "DependencyUnavailable"},
        # Characters that array and JSON literals must escape survive the upsert from arrays.
        {"stage": 'qu"ote, {brace} \\ back', "error_type": "Ünïcödé NULL"},
    ],
}


def percentile_cont(values: list[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks, as Postgres' percentile_cont."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class DataSet:
    prefix: str
    days: list[date]
    rows: list[dict[str, Any]]

    def expected(self, days: list[date] | None = None) -> dict[tuple[date, str, str], dict]:
        wanted = set(days if days is not None else self.days)
        groups: dict[tuple[date, str, str], list[float]] = defaultdict(list)
        for row in self.rows:
            day = row["recorded_at"].astimezone(TZ).date()
            if day in wanted:
                key = (day, row["name"], json.dumps(row["labels"], sort_keys=True))
                groups[key].append(row["value"])
        return {
            key: {
                "count": len(values),
                "sum": sum(values),
                "avg": sum(values) / len(values),
                "min": min(values),
                "max": max(values),
                "p50": percentile_cont(values, 0.5),
                "p95": percentile_cont(values, 0.95),
                "p99": percentile_cont(values, 0.99),
            }
            for key, values in groups.items()
        }

    def actual(self) -> dict[tuple[date, str, str], dict]:
        with transaction() as session:
            found = session.scalars(
                select(OperationalMetricDaily).where(
                    OperationalMetricDaily.name.startswith(self.prefix)
                )
            )
            return {
                (r.day, r.name, json.dumps(r.labels, sort_keys=True)): {
                    "count": r.count,
                    "sum": r.sum,
                    "avg": r.avg,
                    "min": r.min,
                    "max": r.max,
                    "p50": r.p50,
                    "p95": r.p95,
                    "p99": r.p99,
                }
                for r in found
            }

    def raw_count(self, day: date | None = None) -> int:
        with transaction() as session:
            query = select(OperationalMetric.recorded_at).where(
                OperationalMetric.name.startswith(self.prefix)
            )
            stamps = list(session.scalars(query))
        return sum(1 for s in stamps if day is None or s.astimezone(TZ).date() == day)


def _assert_same(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for key, numbers in expected.items():
        for stat, value in numbers.items():
            assert actual[key][stat] == pytest.approx(value, rel=1e-9, abs=1e-9), (key, stat)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=TZ)


@pytest.fixture
def rollup_env(stack_env: dict[str, str]) -> None:
    import os

    from shared.config import reset_settings_cache

    os.environ["ROLLUP_TIME_ZONE"] = TZ.key
    os.environ["METRICS_RETENTION_DAYS"] = "30"
    reset_settings_cache()


@pytest.fixture
def dataset(rollup_env: None) -> Iterator[DataSet]:
    """Five days of raw rows (with rows on the local midnight boundaries) plus a sixth day."""
    rng = random.Random(uuid.uuid4().int)
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    first = date(1970, 1, 1) + timedelta(days=rng.randrange(2000, 9000))
    days = [first + timedelta(days=i) for i in range(6)]
    rows: list[dict[str, Any]] = []
    for day in days:
        start = datetime.combine(day, time(0), tzinfo=TZ)
        for name, label_sets in LABEL_SETS.items():
            for labels in label_sets:
                for i in range(rng.randrange(1, 40)):
                    offset = timedelta(seconds=rng.randrange(0, 86400)) if i else timedelta(0)
                    rows.append(
                        {
                            "recorded_at": start + offset,
                            "name": prefix + name,
                            "value": round(rng.uniform(0, 50), 3),
                            "labels": labels,
                            "email_id": None,
                            "correlation_id": None,
                        }
                    )
        # One row a microsecond before local midnight belongs to this day, not the next.
        rows.append(
            {
                "recorded_at": start + timedelta(days=1) - timedelta(microseconds=1),
                "name": prefix + "queue_lag_seconds",
                "value": 99.0,
                "labels": {},
                "email_id": None,
                "correlation_id": None,
            }
        )
    with transaction() as session:
        session.execute(insert(OperationalMetric), rows)
    yield DataSet(prefix, days, rows)
    with transaction() as session:
        session.execute(delete(OperationalMetric).where(OperationalMetric.name.startswith(prefix)))
        session.execute(
            delete(OperationalMetricDaily).where(OperationalMetricDaily.name.startswith(prefix))
        )
        session.execute(delete(MetricsRollupDay).where(MetricsRollupDay.day.in_(days)))


def test_rollup_matches_an_independent_computation(dataset: DataSet) -> None:
    complete = dataset.days[:5]
    summary = run_rollup(now=_noon(dataset.days[5]))
    assert summary.days_rolled_up == [d.isoformat() for d in complete]
    expected = dataset.expected(complete)
    assert summary.rows_aggregated == sum(g["count"] for g in expected.values())
    assert summary.groups_upserted == len(expected)
    assert summary.rows_deleted == 0
    _assert_same(dataset.actual(), expected)
    with transaction() as session:
        kept = {d.day: d for d in session.scalars(select(MetricsRollupDay)) if d.day in complete}
    assert sorted(kept) == complete
    assert all(d.purged_at is None for d in kept.values())


def test_a_second_run_changes_nothing(dataset: DataSet) -> None:
    run_rollup(now=_noon(dataset.days[5]))
    with transaction() as session:
        before = {
            r.id: (r.count, r.p95, r.computed_at)
            for r in session.scalars(
                select(OperationalMetricDaily).where(
                    OperationalMetricDaily.name.startswith(dataset.prefix)
                )
            )
        }
    again = run_rollup(now=_noon(dataset.days[5]))
    assert again.days_rolled_up == []
    assert again.rows_aggregated == 0
    with transaction() as session:
        after = {
            r.id: (r.count, r.p95, r.computed_at)
            for r in session.scalars(
                select(OperationalMetricDaily).where(
                    OperationalMetricDaily.name.startswith(dataset.prefix)
                )
            )
        }
    assert after == before


def test_catch_up_after_missed_days_and_never_today(dataset: DataSet) -> None:
    first = run_rollup(now=_noon(dataset.days[2]))
    assert first.days_rolled_up == [d.isoformat() for d in dataset.days[:2]]
    # Nights 3 to 5 were missed: the next run aggregates every complete day since.
    later = run_rollup(now=_noon(dataset.days[5]))
    assert later.days_rolled_up == [d.isoformat() for d in dataset.days[2:5]]
    _assert_same(dataset.actual(), dataset.expected(dataset.days[:5]))
    with pytest.raises(RollupError, match="not a complete day"):
        run_rollup(day=dataset.days[5], now=_noon(dataset.days[5]))
    assert dataset.days[5] not in {key[0] for key in dataset.actual()}


def test_forced_day_is_recomputed_in_place(dataset: DataSet) -> None:
    day = dataset.days[0]
    run_rollup(now=_noon(dataset.days[1]))
    extra = {
        "recorded_at": _noon(day),
        "name": dataset.prefix + "decision",
        "value": 1.0,
        "labels": {"decision": "AUTO_UPDATE"},
        "email_id": None,
        "correlation_id": None,
    }
    with transaction() as session:
        session.execute(insert(OperationalMetric), [extra])
    dataset.rows.append(extra)
    summary = run_rollup(day=day, now=_noon(dataset.days[1]))
    assert summary.days_rolled_up == [day.isoformat()]
    _assert_same(dataset.actual(), dataset.expected([day]))


def test_two_concurrent_runs_do_not_double_anything(dataset: DataSet) -> None:
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(run_rollup(now=_noon(dataset.days[5])))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    rolled = [day for summary in results for day in summary.days_rolled_up]
    assert sorted(rolled) == [d.isoformat() for d in dataset.days[:5]]  # each day once
    expected = dataset.expected(dataset.days[:5])
    assert sum(s.rows_aggregated for s in results) == sum(g["count"] for g in expected.values())
    _assert_same(dataset.actual(), expected)


def test_retention_deletes_only_rolled_up_days_in_batches(dataset: DataSet) -> None:
    d = dataset.days
    run_rollup(now=_noon(d[2]))  # rolls up d0 and d1 only
    counts = {day: dataset.raw_count(day) for day in d}
    commits: list[int] = []
    engine = get_engine()
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        # Everything before d4 is past retention; d2 and d3 are not rolled up.
        deleted, batches = delete_expired(d[5], TZ, retention_days=1, batch_size=7)
    finally:
        event.remove(engine, "commit", listener)
    assert deleted == counts[d[0]] + counts[d[1]]
    assert batches == deleted // 7 + 1
    assert len(commits) == batches + 1  # one transaction per batch, plus the purge marks
    assert dataset.raw_count(d[0]) == dataset.raw_count(d[1]) == 0
    for day in d[2:]:
        assert dataset.raw_count(day) == counts[day]
    # The aggregates are kept, and a purged day is never re-aggregated from partial rows.
    _assert_same(dataset.actual(), dataset.expected(d[:2]))
    with pytest.raises(RollupError, match="past retention"):
        rollup_day(d[0], TZ, force=True)
    _assert_same(dataset.actual(), dataset.expected(d[:2]))


def test_retention_runs_inside_the_rollup(dataset: DataSet, rollup_env: None) -> None:
    import os

    from shared.config import reset_settings_cache

    os.environ["METRICS_RETENTION_DAYS"] = "2"
    reset_settings_cache()
    summary = run_rollup(now=_noon(dataset.days[5]), batch_size=50)
    # Days before days[3] are past retention once rolled up in the same run.
    removed = sum(dataset.raw_count(day) == 0 for day in dataset.days)
    assert removed == 3
    assert summary.rows_deleted == sum(
        1 for row in dataset.rows if row["recorded_at"].astimezone(TZ).date() < dataset.days[3]
    )
    assert summary.delete_batches == summary.rows_deleted // 50 + 1


def test_rollup_function_over_http(stack: Any, dataset: DataSet) -> None:
    """The deployed shape: the stack's rollup function (ROLLUP_TIME_ZONE=UTC there)."""
    day = dataset.days[1]
    request = urllib.request.Request(
        stack.url("rollup") + "/",
        data=json.dumps({"date": day.isoformat()}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
        assert response.status == 200
        assert response.headers["X-Correlation-ID"]
    assert answer["days_rolled_up"] == [day.isoformat()]
    assert set(answer) >= {"rows_aggregated", "rows_deleted", "duration_seconds"}
    utc_rows = [
        r for r in dataset.rows if r["recorded_at"].astimezone(ZoneInfo("UTC")).date() == day
    ]
    with transaction() as session:
        total = session.scalar(
            text(
                "SELECT sum(count) FROM operational_metrics_daily WHERE day = :d AND name LIKE :p"
            ),
            {"d": day, "p": dataset.prefix + "%"},
        )
    assert total == len(utc_rows)
    bad = urllib.request.Request(
        stack.url("rollup") + "/", data=b'{"date": "yesterday"}', method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(bad, timeout=30)
    assert caught.value.code == 400
    log = (stack.logs / "rollup.log").read_text()
    assert "rollup_completed" in log
