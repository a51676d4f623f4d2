"""SharedBreaker against the real local Postgres and SMTP server (one process)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from infra.bench.statements import count_round_trips
from infra.fakes.clients import Mailbox
from infra.stack import free_port
from shared.breakers import (
    KNOWN_BREAKERS,
    force_close,
    force_open,
    get_breaker,
    list_breakers,
    reset,
)
from shared.breakers.alerts import BreakerAlerter
from shared.breakers.breaker import SharedBreaker
from shared.breakers.registry import validate_name
from shared.breakers.store import PostgresBreakerStore
from shared.db.engine import get_breaker_engine, get_engine
from shared.errors import BreakerOpenError, DependencyUnavailable
from shared.mail import SmtpMailer


def unique(prefix: str = "claude") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Outage(DependencyUnavailable):
    def __init__(self) -> None:
        super().__init__("claude", "APITimeoutError")


def fail() -> None:
    raise Outage()


def ok() -> str:
    return "ok"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def clocked(name: str, clock: Clock, **options: float) -> SharedBreaker:
    return SharedBreaker(
        name, store=PostgresBreakerStore(), clock=clock, cache_seconds=0, **options
    )


def trip(breaker: SharedBreaker, times: int = 5) -> None:
    for _ in range(times):
        with pytest.raises(Outage):
            breaker.call(fail)


def _row(name: str) -> dict[str, object]:
    with get_engine().connect() as conn:
        return dict(
            conn.execute(text("SELECT * FROM circuit_breakers WHERE name = :n"), {"n": name})
            .mappings()
            .one()
        )


def test_get_breaker_trips_after_fail_max_and_alerts_once(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    breaker = get_breaker(unique())
    assert breaker is get_breaker(breaker.name)
    trip(breaker, 5)
    calls: list[int] = []
    with pytest.raises(BreakerOpenError):
        breaker.call(calls.append, 1)
    assert calls == []
    snap = breaker.refresh()
    assert (snap.state, snap.failure_count, snap.last_error_type) == (
        "open",
        5,
        "Outage",
    )
    [alert] = mailbox.wait_for(1)
    assert alert["To"] == "ops@localhost"
    assert alert["X-Breaker"] == breaker.name
    body = alert.get_content()
    assert "Consecutive failures: 5" in body
    assert "Last error type: Outage" in body
    assert "after 60 s" in body
    assert "fallback extractor" not in body  # a test name, not the known 'claude'


def test_opened_at_is_timezone_aware_utc_end_to_end(stack_env: dict[str, str]) -> None:
    clock = Clock()
    clock.now = datetime(2026, 11, 29, 23, 30, 0, 123456, tzinfo=UTC)
    breaker = clocked(unique(), clock)
    trip(breaker)
    column_type = _column_type("opened_at")
    assert column_type == "timestamp with time zone"
    for opened_at in (_row(breaker.name)["opened_at"], breaker.refresh().opened_at):
        assert isinstance(opened_at, datetime)
        assert opened_at.utcoffset() == timedelta(0)
        assert opened_at == clock.now


def _column_type(column: str) -> str:
    with get_engine().connect() as conn:
        return str(
            conn.execute(
                text(
                    "SELECT data_type FROM information_schema.columns "
                    "WHERE table_name = 'circuit_breakers' AND column_name = :c"
                ),
                {"c": column},
            ).scalar_one()
        )


def test_clock_injection_59_9_vs_60_seconds_against_postgres(stack_env: dict[str, str]) -> None:
    clock = Clock()
    breaker = clocked(unique(), clock)
    trip(breaker)
    clock.now += timedelta(seconds=59.9)
    with pytest.raises(BreakerOpenError):
        breaker.call(ok)
    # the store itself refuses the trial at 59.9 s, whatever the caller's snapshot says
    early = clock.now + timedelta(seconds=300)
    assert PostgresBreakerStore().reserve_trial(breaker.name, clock.now, 60.0, early) is None
    clock.now += timedelta(seconds=0.1)
    assert breaker.call(ok) == "ok"
    assert _row(breaker.name)["state"] == "closed"


def test_pybreaker_open_and_close_against_postgres(stack_env: dict[str, str]) -> None:
    clock = Clock()
    breaker = clocked(unique(), clock)
    other = clocked(breaker.name, clock)  # another instance, same row
    breaker.add_excluded_exception(Outage)
    trip(breaker, 6)  # excluded through pybreaker's API: not counted
    assert _row(breaker.name)["failure_count"] == 0
    assert breaker.open() is False
    row = _row(breaker.name)
    assert (row["state"], row["forced"], row["opened_at"]) == ("open", False, clock.now)
    assert other.current_state == "open" and other.fail_counter == 0
    clock.now += timedelta(seconds=59.9)
    with pytest.raises(BreakerOpenError):
        other.call(ok)
    clock.now += timedelta(seconds=0.1)  # unlike force_open, open() lets one trial through
    assert other.call(ok) == "ok"
    assert breaker.current_state == "closed"
    breaker.open()
    breaker.close()
    assert _row(breaker.name)["state"] == "closed"


def test_concurrent_protected_calls_run_in_parallel(stack_env: dict[str, str]) -> None:
    breaker = get_breaker(unique())
    breaker.refresh()
    started = time.monotonic()
    threads = [threading.Thread(target=breaker.call, args=(time.sleep, 1.0)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert elapsed < 1.6, elapsed


def test_round_trips_per_successful_closed_call(stack_env: dict[str, str]) -> None:
    breaker = SharedBreaker(unique(), store=PostgresBreakerStore(), cache_seconds=1.0)
    breaker.refresh()  # the row exists now
    breaker._storage.forget()
    with count_round_trips(get_breaker_engine()) as counter:
        breaker.call(ok)
    assert counter.count == 1, counter.statements
    with count_round_trips(get_breaker_engine()) as counter:
        for _ in range(20):
            breaker.call(ok)  # within a second of the read: the snapshot answers
    assert counter.count == 0, counter.statements
    uncached = SharedBreaker(breaker.name, store=PostgresBreakerStore(), cache_seconds=0)
    with count_round_trips(get_breaker_engine()) as counter:
        for _ in range(10):
            uncached.call(ok)
    assert counter.count == 10, counter.statements
    trip(uncached, 2)
    with count_round_trips(get_breaker_engine()) as counter:
        uncached.call(ok)  # the counter was non-zero: read + reset
    assert counter.count == 2, counter.statements
    assert _row(breaker.name)["failure_count"] == 0


def test_postgres_unreachable_fails_open_and_logs(
    stack_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    dead = create_engine(f"postgresql+pg8000://postgres@127.0.0.1:{free_port()}/emails")
    breaker = SharedBreaker(unique(), store=PostgresBreakerStore(lambda: dead))
    with caplog.at_level(logging.WARNING):
        assert breaker.call(ok) == "ok"
        with pytest.raises(Outage):
            breaker.call(fail)
        assert not breaker.is_open()
    events = [r.getMessage() for r in caplog.records]
    assert "breaker_store_unavailable" in events
    record = next(r for r in caplog.records if r.getMessage() == "breaker_store_unavailable")
    assert record.json_fields["breaker"] == breaker.name  # type: ignore[attr-defined]
    dead.dispose()


def test_get_breaker_never_crashes_on_construction_without_a_database(
    stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from shared.config import reset_settings_cache
    from shared.db.engine import dispose_engine

    monkeypatch.setenv("DATABASE_URL", f"postgresql+pg8000://postgres@127.0.0.1:{free_port()}/x")
    reset_settings_cache()
    dispose_engine()
    with caplog.at_level(logging.WARNING):
        breaker = get_breaker(unique())
        assert breaker.call(ok) == "ok"
    assert "breaker_store_unavailable" in [r.getMessage() for r in caplog.records]


def test_smtp_refusing_alert_is_logged_and_breaker_stays_open(
    stack_env: dict[str, str], mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    mailbox.refuse(True)
    breaker = SharedBreaker(
        unique(),
        store=PostgresBreakerStore(),
        alerter=BreakerAlerter(SmtpMailer(), "ops@localhost"),
    )
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            with pytest.raises(Outage):  # the original error, not masked by the SMTP failure
                breaker.call(fail)
    assert "breaker_alert_failed" in [r.getMessage() for r in caplog.records]
    row = _row(breaker.name)
    assert row["state"] == "open"
    assert row["alerted_at"] is None
    assert mailbox.messages() == []


def test_operator_actions_and_listing(stack_env: dict[str, str], mailbox: Mailbox) -> None:
    name = unique("gcs")
    snap = force_open(name)
    assert snap.state == "open" and snap.forced
    old = _row(name)
    with get_engine().begin() as conn:  # long past the reset timeout: still no trial
        conn.execute(
            text("UPDATE circuit_breakers SET opened_at = :t WHERE name = :n"),
            {"t": old["opened_at"] - timedelta(hours=1), "n": name},  # type: ignore[operator]
        )
    breaker = get_breaker(name)
    breaker._storage.forget()
    assert breaker.is_open()
    with pytest.raises(BreakerOpenError):
        breaker.call(ok)
    listed = {b.name: b for b in list_breakers()}
    assert listed[name].state == "open"
    assert set(KNOWN_BREAKERS) <= set(listed)  # seeded by migration 0003
    assert force_close(name).state == "closed"
    assert breaker.call(ok) == "ok"
    [all_clear] = mailbox.wait_for(1)
    assert "all clear" in str(all_clear["Subject"])
    trip(breaker, 2)
    cleared = reset(name)
    assert (cleared.failure_count, cleared.last_error_type, cleared.forced) == (0, None, False)


def test_bad_names_and_actions_are_refused(stack_env: dict[str, str]) -> None:
    for bad in ("", "Claude", "x" * 65, "a b", "claude;drop"):
        with pytest.raises(ValueError, match="breaker name"):
            validate_name(bad)
    with pytest.raises(ValueError, match="unknown breaker action"):
        PostgresBreakerStore().force(unique(), "explode", datetime.now(UTC))
