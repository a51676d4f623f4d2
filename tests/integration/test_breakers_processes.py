"""Cross-instance behaviour: real separate processes sharing the local Postgres and SMTP server."""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from infra.fakes.clients import Mailbox
from shared.breakers import get_breaker
from shared.db.engine import get_engine
from shared.errors import BreakerOpenError
from tests.integration import breaker_workers

PROCESSES = 10


def _run_processes(name: str, mode: str, threads: int) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=breaker_workers.run, args=(name, mode, threads, barrier, results))
        for _ in range(PROCESSES)
    ]
    for proc in procs:
        proc.start()
    collected = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    return collected


def _row(name: str) -> Any:
    with get_engine().connect() as conn:
        return (
            conn.execute(text("SELECT * FROM circuit_breakers WHERE name = :n"), {"n": name})
            .mappings()
            .one()
        )


def _messages_about(mailbox: Mailbox, name: str) -> list[str]:
    return [str(m["Subject"]) for m in mailbox.messages() if m["X-Breaker"] == name]


def test_counter_is_exact_across_processes(stack_env: dict[str, str]) -> None:
    os.environ["CIRCUIT_BREAKER_FAIL_MAX"] = "100000"
    # 500 writers on one row at once, on a shared CI machine: queueing for the row lock and the
    # breaker's small pool can take longer than the store's 1 s budget, past which a count is
    # given up (fail open). Exactness is what this test is about, so it allows more time.
    os.environ["CIRCUIT_BREAKER_STORE_TIMEOUT_SECONDS"] = "10"
    name = f"claude-{uuid.uuid4().hex[:8]}"
    results = _run_processes(name, "fail", threads=50)
    assert sum(len(r["invoked"]) for r in results) == PROCESSES * 50
    row = _row(name)
    assert row["failure_count"] == PROCESSES * 50
    assert row["state"] == "closed"


def test_processes_tripping_together_send_exactly_one_alert(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    name = f"claude-{uuid.uuid4().hex[:8]}"
    results = _run_processes(name, "fail", threads=3)
    assert sum(len(r["invoked"]) for r in results) >= 5
    row = _row(name)
    assert row["state"] == "open"
    assert row["alerted_at"] is not None
    mailbox.wait_for(1)
    time.sleep(0.5)
    assert _messages_about(mailbox, name) == [f"Circuit breaker '{name}' opened"]


def _raise_outage() -> None:
    raise breaker_workers.Outage()


def _trip_and_age(name: str, mailbox: Mailbox) -> Any:
    """Open ``name`` here (one alert), then move its opening 61 s into the past."""
    breaker = get_breaker(name)
    for _ in range(5):
        with pytest.raises(breaker_workers.Outage):
            breaker.call(_raise_outage)
    with pytest.raises(BreakerOpenError):
        breaker.call(_raise_outage)
    mailbox.wait_for(1)
    with get_engine().begin() as conn:
        conn.execute(
            text(
                "UPDATE circuit_breakers SET opened_at = opened_at - interval '61 seconds' "
                "WHERE name = :n"
            ),
            {"n": name},
        )
    return _row(name)


def test_half_open_admits_exactly_one_trial_across_processes_and_success_closes(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    name = f"claude-{uuid.uuid4().hex[:8]}"
    _trip_and_age(name, mailbox)
    results = _run_processes(name, "trial_ok", threads=5)
    row = _row(name)
    assert (row["state"], row["failure_count"], row["opened_at"]) == ("closed", 0, None)
    closed_at = row["updated_at"].timestamp()
    # Calls that arrive after the trial closed the breaker go through: that is right. Before
    # the close, exactly one call (the trial) was made; everyone else failed fast.
    before_close = [t for r in results for t in r["invoked"] if t < closed_at]
    assert len(before_close) == 1
    assert sum(r["refused"] for r in results) >= PROCESSES
    mailbox.wait_for(2)
    time.sleep(0.5)
    assert _messages_about(mailbox, name) == [
        f"Circuit breaker '{name}' opened",
        f"Circuit breaker '{name}' closed: all clear",
    ]


def test_failed_trial_reopens_with_fresh_opened_at_and_no_second_alert(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    name = f"claude-{uuid.uuid4().hex[:8]}"
    aged = _trip_and_age(name, mailbox)
    results = _run_processes(name, "trial_fail", threads=5)
    assert sum(len(r["invoked"]) for r in results) == 1
    row = _row(name)
    assert row["state"] == "open"
    assert row["opened_at"] > aged["opened_at"] + timedelta(seconds=60)
    assert row["trial_reserved_until"] is None
    assert row["failure_count"] == 6
    time.sleep(0.5)
    assert _messages_about(mailbox, name) == [f"Circuit breaker '{name}' opened"]
