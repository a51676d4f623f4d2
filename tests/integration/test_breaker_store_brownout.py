"""An open breaker while its store is too slow to answer: against the local stack's Postgres.

A brownout is simulated the way it happens: another session holds the breaker's row (or the
whole ``circuit_breakers`` table) locked, so the store's statements are cancelled at its
``lock_timeout`` (¾ of ``CIRCUIT_BREAKER_STORE_TIMEOUT_SECONDS``) or wait past the pool's budget.
What the breaker promises then (docs/breakers.md, "How the shared state works"):

- a half-open trial that cannot be reserved is refused (``BreakerOpenError``): the breaker stays
  open for that caller, the dependency is not called;
- a state read that fails keeps the state this instance last knew, even if old; only a breaker
  that never read its row assumes closed (fail open), so a store outage alone never stops the
  calls of a closed breaker.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from infra.bench.statements import count_round_trips
from shared.breakers.breaker import SharedBreaker
from shared.breakers.store import PostgresBreakerStore
from shared.config import reset_settings_cache
from shared.db.engine import dispose_engine, get_breaker_engine, get_engine
from shared.errors import BreakerOpenError, DependencyUnavailable


class Outage(DependencyUnavailable):
    def __init__(self) -> None:
        super().__init__("claude", "APITimeoutError")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Dependency:
    """A dependency that is still down; records every call it gets (thread-safe)."""

    def __init__(self, pause: float = 0.0) -> None:
        self.calls = 0
        self._pause = pause
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self.calls += 1
        time.sleep(self._pause)
        raise Outage()


def ok() -> str:
    return "ok"


def unique() -> str:
    return f"claude-{uuid.uuid4().hex[:8]}"


def opened(clock: Clock, *, cache_seconds: float = 0.0) -> SharedBreaker:
    """A breaker this instance saw open (five counted failures through it)."""
    breaker = SharedBreaker(
        unique(), store=PostgresBreakerStore(), clock=clock, cache_seconds=cache_seconds
    )
    for _ in range(5):
        with pytest.raises(Outage):
            breaker.call(Dependency())
    assert breaker.refresh().state == "open"
    return breaker


def _row(name: str) -> tuple[str, int]:
    with get_engine().connect() as conn:
        state, failures = conn.execute(
            text("SELECT state, failure_count FROM circuit_breakers WHERE name = :n"), {"n": name}
        ).one()
    return str(state), int(failures)


@contextmanager
def locked(statement: str, **params: str) -> Iterator[None]:
    """Another session holds a lock (``statement``) until the block ends."""
    with get_engine().connect() as conn, conn.begin():
        conn.execute(text(statement), params)
        yield


def row_locked(name: str) -> Iterator[None]:
    return locked("SELECT 1 FROM circuit_breakers WHERE name = :n FOR UPDATE", n=name)


def table_locked() -> Iterator[None]:
    return locked("LOCK TABLE circuit_breakers IN ACCESS EXCLUSIVE MODE")


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[dict[str, object]]:
    return [
        dict(r.json_fields)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == "breaker_store_unavailable" and r.json_fields.get("breaker") == name  # type: ignore[attr-defined]
    ]


@pytest.fixture
def production_pool(stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's pool as deployed: one connection per instance (terraform/functions.tf)."""
    monkeypatch.setenv("CIRCUIT_BREAKER_STORE_POOL_SIZE", "1")
    reset_settings_cache()
    dispose_engine()


def test_a_trial_that_cannot_be_reserved_in_time_is_refused_not_let_through(
    production_pool: None, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.advance(61)  # the trial is due
    dependency = Dependency(pause=0.5)
    refused: list[BaseException] = []

    def caller() -> None:
        try:
            breaker.call(dependency)
        except BreakerOpenError as exc:
            refused.append(exc)
        except Outage:
            pass

    with caplog.at_level(logging.WARNING), row_locked(breaker.name):
        threads = [threading.Thread(target=caller) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert dependency.calls == 0  # before: every caller went to the failing dependency
    assert len(refused) == 8
    assert _row(breaker.name) == ("open", 5)
    assert {"reserve_trial"} <= {e["operation"] for e in events(caplog, breaker.name)}
    # the lock gone, the trial is taken as usual: one call decides
    assert breaker.call(ok) == "ok"
    assert _row(breaker.name) == ("closed", 0)


def test_with_the_store_answering_one_of_eight_callers_gets_the_trial(
    production_pool: None,
) -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.advance(61)
    dependency = Dependency(pause=0.5)
    refused: list[BaseException] = []

    def caller() -> None:
        try:
            breaker.call(dependency)
        except BreakerOpenError as exc:
            refused.append(exc)
        except Outage:
            pass

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert (dependency.calls, len(refused)) == (1, 7)
    assert _row(breaker.name) == ("open", 6)  # the failed trial is counted, opened again


def test_a_failed_read_keeps_the_open_state_this_instance_knew(
    stack_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    breaker = opened(clock)  # cache_seconds=0: every call reads the row
    dependency = Dependency()
    with caplog.at_level(logging.WARNING), table_locked():
        with pytest.raises(BreakerOpenError):
            breaker.call(dependency)  # not due: refused on the last known row
        assert breaker.is_open()
        clock.advance(61)  # due: the reservation cannot be written either
        with pytest.raises(BreakerOpenError):
            breaker.call(dependency)
    assert dependency.calls == 0  # before: a failed read answered "closed" and let it through
    assert _row(breaker.name) == ("open", 5)
    operations = [e["operation"] for e in events(caplog, breaker.name)]
    assert "read" in operations and "reserve_trial" in operations
    assert breaker.call(ok) == "ok"  # the store back: the trial closes it
    assert _row(breaker.name) == ("closed", 0)


def test_the_last_known_state_is_cached_like_a_row_during_the_outage(
    stack_env: dict[str, str],
) -> None:
    clock = Clock()
    breaker = opened(clock, cache_seconds=1.0)
    clock.advance(1.5)  # the snapshot has expired: the next call reads
    dependency = Dependency()
    with table_locked():
        with pytest.raises(BreakerOpenError):
            breaker.call(dependency)  # the read fails after the store's budget
        clock.advance(0.5)
        with count_round_trips(get_breaker_engine()) as counter:
            started = time.monotonic()
            for _ in range(20):
                with pytest.raises(BreakerOpenError):
                    breaker.call(dependency)
            elapsed = time.monotonic() - started
    assert counter.count == 0, counter.statements  # no second wait on the store within 1 s
    assert elapsed < 0.5, elapsed
    assert dependency.calls == 0


def test_a_store_outage_leaves_a_closed_breaker_working(
    stack_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """The documented fail-open policy for what is known closed, or never known at all."""
    clock = Clock()
    known = SharedBreaker(unique(), store=PostgresBreakerStore(), clock=clock, cache_seconds=0)
    assert known.call(ok) == "ok"  # this instance saw it closed
    other = opened(clock)
    clock.advance(61)
    never_read = SharedBreaker(other.name, store=PostgresBreakerStore(), clock=clock)
    with caplog.at_level(logging.WARNING), table_locked():
        assert known.call(ok) == "ok"
        with pytest.raises(Outage):  # called; the count cannot be written, and is logged
            known.call(Dependency())
        assert not known.is_open()
        # a new instance that never read the row cannot know it is open: it fails open
        assert never_read.call(ok) == "ok"
    assert {"read", "record_failure"} <= {e["operation"] for e in events(caplog, known.name)}
    assert _row(known.name) == ("closed", 0)
