"""SharedBreaker against the real local Postgres and SMTP server (one process)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from shared.breakers import get_breaker
from shared.errors import BreakerOpenError, DependencyUnavailable


def unique(prefix: str = "claude") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Boom(DependencyUnavailable):
    def __init__(self) -> None:
        super().__init__("claude", "APITimeoutError")


def fail() -> None:
    raise Boom()


def test_get_breaker_trips_after_fail_max_and_refuses(stack_env: dict[str, str]) -> None:
    breaker = get_breaker(unique())
    assert breaker is get_breaker(breaker.name)
    for _ in range(5):
        with pytest.raises(Boom):
            breaker.call(fail)
    calls: list[int] = []
    with pytest.raises(BreakerOpenError):
        breaker.call(calls.append, 1)
    assert calls == []
    snap = breaker.refresh()
    assert snap.state == "open"
    assert snap.failure_count == 5
    assert snap.last_error_type == "Boom"
    assert snap.opened_at is not None and snap.opened_at.tzinfo is not None


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
