"""The overlap pool: results in order, the first failure in order raised after all finished,
the caller's context carried to the pool's threads, a bounded wait."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from shared import workers

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


def test_results_in_order_and_the_first_on_the_calling_thread() -> None:
    threads: dict[int, int] = {}

    def call(value: int) -> int:
        threads[value] = threading.get_ident()
        time.sleep(0.01 * (3 - value))
        return value

    assert workers.run_together([lambda: call(0), lambda: call(1), lambda: call(2)], timeout=5) == [
        0,
        1,
        2,
    ]
    assert threads[0] == threading.get_ident()


def test_the_first_failure_in_order_is_raised_once_all_have_finished() -> None:
    finished: list[str] = []

    def slow_ok() -> str:
        time.sleep(0.05)
        finished.append("slow")
        return "slow"

    def fails(message: str) -> str:
        raise ValueError(message)

    with pytest.raises(ValueError, match="first"):
        workers.run_together([lambda: fails("first"), slow_ok], timeout=5)
    assert finished == ["slow"]  # not abandoned while running
    with pytest.raises(ValueError, match="second"):
        workers.run_together([slow_ok, lambda: fails("second")], timeout=5)


def test_the_callers_context_reaches_the_pool() -> None:
    token = VAR.set("delivery-1")
    try:
        assert workers.run_together([VAR.get, VAR.get], timeout=5) == ["delivery-1"] * 2
        assert workers.result_of(workers.submit(VAR.get), timeout=5) == "delivery-1"
    finally:
        VAR.reset(token)


def test_a_wait_is_bounded() -> None:
    release = threading.Event()
    try:
        with pytest.raises(workers.WaitTimedOut):
            workers.run_together([lambda: None, release.wait], timeout=0.05)
        with pytest.raises(workers.WaitTimedOut):
            workers.result_of(workers.submit(release.wait), timeout=0.05)
    finally:
        release.set()


def test_one_call_runs_inline() -> None:
    assert workers.run_together([threading.get_ident], timeout=1) == [threading.get_ident()]
