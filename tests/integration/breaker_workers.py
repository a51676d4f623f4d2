"""Code run in separate processes (multiprocessing, spawn) by the cross-instance breaker tests.

Each process is a fresh interpreter with the stack's environment, like another Cloud Functions
instance: its own engine, its own breaker object, nothing shared but Postgres and SMTP.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from shared.breakers import get_breaker
from shared.errors import BreakerOpenError, DependencyUnavailable


class Outage(DependencyUnavailable):
    def __init__(self) -> None:
        super().__init__("claude", "APITimeoutError")


def run(name: str, mode: str, threads: int, barrier: Any, results: Any) -> None:
    """Make ``threads`` concurrent protected calls once every process is ready."""
    breaker = get_breaker(name)
    breaker.refresh()  # connect before the barrier, so the calls really are concurrent
    invoked: list[float] = []  # wall-clock start of every invocation of the protected function
    refused = 0
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def protected() -> None:
        with lock:
            invoked.append(time.time())
        if mode == "fail":
            raise Outage()
        time.sleep(3)  # a slow trial: everyone else arrives while it is in flight
        if mode == "trial_fail":
            raise Outage()

    def one_call() -> None:
        nonlocal refused
        start.wait(30)
        try:
            breaker.call(protected)
        except BreakerOpenError:
            with lock:
                refused += 1
        except Outage:
            pass

    barrier.wait(60)
    workers = [threading.Thread(target=one_call) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    results.put({"invoked": invoked, "refused": refused})
