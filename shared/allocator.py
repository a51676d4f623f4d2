"""Keep a long-lived function instance's memory flat: glibc's allocator tuned once per instance.

Why (see docs/reliability.md, "Memory"): the functions handle bodies of up to 25 MB in a few
threads. glibc's ``malloc`` serves a block that large with ``mmap`` and returns it to the system
on ``free`` — but it then raises its *dynamic* mmap threshold to the freed size (up to 32 MB),
so every later buffer below that size comes from the heap instead, in whichever of up to
8 × cores per-thread arenas the thread uses. Freed, those buffers stay in the arenas as
fragmented free space the process keeps: resident memory ratchets up (the soak saw the webhook
go from 178 to 684 MB) while Python's own allocations stay flat. Nothing is leaked; the
allocator keeps it.

:func:`tune_allocator` sets the mmap threshold to a fixed value (which also turns the dynamic
adjustment off) and bounds the number of arenas, through ``mallopt`` — in the process itself,
so it holds wherever the function runs (Cloud Functions included) without environment
variables. :func:`release_after_large_payload` marks an invocation that moved a large body;
:func:`released_after_invocation` then hands the heap's free pages back (``malloc_trim``) when
it ends. Both are no-ops where the C library is not glibc (musl, macOS) or when
``MEMORY_TUNING_ENABLED=false``.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from shared.config import Settings

logger = logging.getLogger(__name__)

# <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

_lock = threading.Lock()
_state: dict[str, Any] = {"libc": None, "tuned": False, "trim_from": None}
# The invocation's mark, a one-item list rather than a bool: a task the invocation runs on a
# thread pool (in a copy of its context, :mod:`shared.workers`) sets the same list.
_large_payload: ContextVar[list[bool] | None] = ContextVar("large_payload", default=None)


def _load_glibc() -> Any:
    """The process's C library when it is glibc (it alone has ``gnu_get_libc_version``)."""
    try:
        libc = ctypes.CDLL(None)
        version = libc.gnu_get_libc_version
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    version.restype = ctypes.c_char_p
    return libc


def tune_allocator(settings: Settings) -> bool:
    """Once per process: fixed mmap threshold and bounded arenas (``MEMORY_*`` settings).

    Returns whether glibc took the settings; ``False`` (nothing changed) elsewhere."""
    with _lock:
        if _state["tuned"]:
            return _state["libc"] is not None
        _state["tuned"] = True
        if not settings.memory_tuning_enabled:
            return False
        libc = _load_glibc()
        if libc is None:
            return False
        accepted = all(
            (
                libc.mallopt(M_MMAP_THRESHOLD, settings.memory_mmap_threshold_bytes) == 1,
                libc.mallopt(M_TRIM_THRESHOLD, settings.memory_trim_threshold_bytes) == 1,
                libc.mallopt(M_ARENA_MAX, settings.memory_arena_max) == 1,
            )
        )
        if not accepted:
            return False
        _state["libc"] = libc
        _state["trim_from"] = settings.memory_trim_after_bytes
    logger.debug("allocator tuned")
    return True


def release_after_large_payload(size_bytes: int) -> None:
    """Note that this invocation held a body of ``size_bytes``; a large one gets the heap
    trimmed when the invocation ends."""
    trim_from = _state["trim_from"]
    mark = _large_payload.get()
    if trim_from is not None and size_bytes >= trim_from and mark is not None:
        mark[0] = True


@contextmanager
def released_after_invocation() -> Iterator[None]:
    """Around one invocation: ``malloc_trim(0)`` at its end if it noted a large payload."""
    mark = [False]
    token = _large_payload.set(mark)
    try:
        yield
    finally:
        _large_payload.reset(token)
        libc = _state["libc"]
        if mark[0] and libc is not None:
            libc.malloc_trim(0)


def reset_allocator_state() -> None:
    """Forget that the allocator was tuned (tests)."""
    with _lock:
        _state.update(libc=None, tuned=False, trim_from=None)
