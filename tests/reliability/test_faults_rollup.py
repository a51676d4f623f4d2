"""Fault 8: two rollups started at the same moment, and a rollup SIGKILLed halfway then run
again — the daily aggregates equal what the raw rows say, one row per day × metric × labels."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from tests.reliability.helpers import Harness, Sizes
from tests.reliability.summary import SUMMARY

# Each test its own past days: a day once rolled up is never aggregated again (by design).
CONCURRENT_DAYS = (26, 25, 24)
KILLED_DAYS = tuple(range(16, 2, -1))


def _post_rollup(harness: Harness) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        harness.stack.url("rollup") + "/",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except OSError:
        return 599, {}


def _seed_raw(harness: Harness, prefix: str, rows: int, days: tuple[int, ...]) -> None:
    per_day = rows // len(days)
    for back in days:
        _execute(
            harness,
            "INSERT INTO operational_metrics (recorded_at, name, value, labels) "
            "SELECT date_trunc('day', now()) - make_interval(days => :back) "
            "       + make_interval(secs => mod(g, 80000)), "
            "       :prefix || mod(g, 3)::text, mod(g, 997)::float / 7, "
            "       jsonb_build_object('stage', 'stage' || mod(g, 4)::text) "
            "FROM generate_series(1, :n) AS g",
            back=back,
            prefix=prefix,
            n=per_day,
        )


def _execute(harness: Harness, sql: str, **params: Any) -> None:
    from sqlalchemy import text

    with harness.engine.begin() as conn:
        conn.execute(text(sql), params)


def _expected(harness: Harness, prefix: str) -> dict[tuple[str, str, str], tuple[int, float]]:
    rows = harness.query(
        "SELECT (recorded_at AT TIME ZONE 'UTC')::date::text AS day, name, labels::text AS labels,"
        " count(*) AS n, sum(value) AS total FROM operational_metrics WHERE name LIKE :p "
        "GROUP BY 1, 2, 3",
        p=prefix + "%",
    )
    return {(r["day"], r["name"], r["labels"]): (r["n"], r["total"]) for r in rows}


def _aggregated(harness: Harness, prefix: str) -> dict[tuple[str, str, str], list[tuple]]:
    rows = harness.query(
        "SELECT day::text AS day, name, labels::text AS labels, count, sum "
        "FROM operational_metrics_daily WHERE name LIKE :p",
        p=prefix + "%",
    )
    out: dict[tuple[str, str, str], list[tuple]] = {}
    for r in rows:
        out.setdefault((r["day"], r["name"], r["labels"]), []).append((r["count"], r["sum"]))
    return out


def _check(harness: Harness, prefix: str, expected: dict) -> None:
    got = _aggregated(harness, prefix)
    problems = [key for key in expected if len(got.get(key, [])) != 1]
    problems += [
        key
        for key, (n, total) in expected.items()
        if key in got
        and len(got[key]) == 1
        and (got[key][0][0] != n or abs(got[key][0][1] - total) > 1e-6 * max(1, abs(total)))
    ]
    for key in problems:
        SUMMARY.loss(f"rollup aggregate {key}: {got.get(key)} expected {expected[key]}")
    assert not problems, problems[:5]


def test_two_rollups_at_the_same_moment(harness: Harness, size: Sizes) -> None:
    prefix = f"rel_{uuid.uuid4().hex[:6]}_"
    _seed_raw(harness, prefix, size.rollup_rows // 4, CONCURRENT_DAYS)
    expected = _expected(harness, prefix)
    barrier = threading.Barrier(2)
    answers: list[tuple[int, dict[str, Any]]] = []

    def run() -> None:
        barrier.wait()
        answers.append(_post_rollup(harness))

    threads = [threading.Thread(target=run) for _ in range(2)]
    SUMMARY.fault("two rollups at once")
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200, 200], answers
    _check(harness, prefix, expected)


def test_rollup_killed_halfway_and_run_again(harness: Harness, size: Sizes) -> None:
    prefix = f"rel_{uuid.uuid4().hex[:6]}_"
    _seed_raw(harness, prefix, size.rollup_rows, KILLED_DAYS)
    expected = _expected(harness, prefix)
    days = {key[0] for key in expected}
    answer: list[tuple[int, dict[str, Any]]] = []
    thread = threading.Thread(target=lambda: answer.append(_post_rollup(harness)))
    thread.start()

    def rolled_up() -> int:
        return len({k[0] for k in _aggregated(harness, prefix)})

    deadline = time.monotonic() + 120
    while rolled_up() == 0 and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.02)
    halfway = rolled_up()
    harness.stack.servers["rollup"].kill()
    SUMMARY.fault("rollup SIGKILL halfway")
    thread.join()
    assert answer and answer[0][0] != 200, "the rollup finished before it could be killed"
    assert 0 < halfway < len(days), f"killed after {halfway} of {len(days)} days"
    harness.stack.start_server("rollup")
    status, summary = _post_rollup(harness)
    assert status == 200, summary
    _check(harness, prefix, expected)
    status, again = _post_rollup(harness)  # a third run changes nothing
    assert status == 200 and again["days_rolled_up"] == []
    _check(harness, prefix, expected)
