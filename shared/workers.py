"""A small thread pool for the independent I/O of one delivery (run side by side, not in turn).

Created on first use (never at import) and shared by the instance's threads. The calling thread
runs the first call itself and waits for the others; a task runs in a copy of the caller's
context (correlation id, email id, Sentry scope), so its log lines belong to the delivery. A
task never waits on another task of the pool, so the pool cannot deadlock however many
deliveries share it. Every network call keeps its own timeout; the wait for the others is also
bounded (``timeout``), after which :class:`WaitTimedOut` is raised.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")


class WaitTimedOut(TimeoutError):
    """The wait for a call on the pool ended before the call did (not the call's own error)."""


# Threads are started only when needed, up to this many: a delivery uses one for its read and
# one per query of the reference lookup beyond the first (one per identifying field, and the
# key derivation), and an instance runs up to ``THREADS`` deliveries at once (at most 32).
MAX_WORKERS = 256

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="overlap")
    return _pool


def submit(call: Callable[[], T]) -> Future[T]:
    """Start ``call`` on the pool, in a copy of the caller's context."""
    context = contextvars.copy_context()
    return _executor().submit(context.run, call)


def result_of(future: Future[T], timeout: float) -> T:
    """The future's result (or its exception), waiting at most ``timeout`` seconds."""
    done, _ = wait([future], timeout=timeout)
    if not done:
        raise WaitTimedOut("background call did not finish in time")
    return future.result()


def run_together(calls: Sequence[Callable[[], Any]], *, timeout: float) -> list[Any]:
    """The results of ``calls`` in order, the first run on this thread, the rest on the pool.

    All of them have finished (or the wait timed out) before anything is raised; then the
    first failure in the order of ``calls`` is raised, as if they had run one after another.
    """
    if len(calls) <= 1:
        return [call() for call in calls]
    futures = [submit(call) for call in calls[1:]]
    first_error: BaseException | None = None
    results: list[Any] = []
    try:
        results.append(calls[0]())
    except BaseException as exc:
        first_error = exc
    _, pending = wait(futures, timeout=timeout)
    if first_error is not None:
        raise first_error
    if pending:
        raise WaitTimedOut("background call did not finish in time")
    results += [future.result() for future in futures]
    return results


def shutdown() -> None:
    """Stop the pool's threads (tests; an instance's shutdown)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)


__all__ = ["MAX_WORKERS", "WaitTimedOut", "result_of", "run_together", "shutdown", "submit"]
