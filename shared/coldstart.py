"""What the functions' entry modules do for a cheap cold start (benchmark B6).

functions-framework serves with gunicorn: the entry module (``functions/*/main.py``) is imported
in the master process and the worker that answers requests is forked from it. Collections during
start-up walk the young heap again and again while it only grows (imports allocate hundreds of
thousands of long-lived objects and little garbage): 190–220 ms of the processor's first
request, whose lazy imports run in the worker, and 60–80 ms of the rollup's. So:

- :func:`pause_collection`, first thing in an entry module, stops the collector while the
  instance starts;
- :func:`freeze_import_heap`, last thing in it, moves what the master imported to the
  collector's permanent generation, so the forked worker's collections never walk (and
  copy-on-write) it: CPython's documented pattern for pre-fork servers (``gc.freeze``);
- the master turns collection back on as soon as it has forked the worker (what it allocates
  afterwards is its own);
- :func:`resume_collection`, once the first invocation's answer has been sent
  (:func:`shared.runtime.invocation`), turns it back on in the worker and collects the young
  generations once.

Nothing allocated in the worker is frozen: the first invocations' cyclic garbage (a PDF reader
is a cycle of several megabytes) and the objects of other invocations still running are
collected as usual once collection resumes. What start-up deferred is paid by that one
collection (about 130 ms in the processor), after the first answer. Reference counting frees all
acyclic garbage meanwhile.
"""

import gc
import os
import threading

_lock = threading.Lock()
_paused = False
_paused_in: int | None = None  # the process that paused collection (the gunicorn master)


def pause_collection() -> None:
    """Stop garbage collection until :func:`resume_collection`; nothing if it is already off
    (then collection stays as whoever turned it off wants it)."""
    global _paused, _paused_in
    with _lock:
        if gc.isenabled():
            gc.disable()
            _paused, _paused_in = True, os.getpid()
            os.register_at_fork(after_in_parent=_resume_in_parent)


def freeze_import_heap() -> None:
    """Exclude every object allocated so far from garbage collection. Call it at the end of an
    entry module: what exists then is imported code and module state, which lives as long as
    the process anyway. Cheap (no collection runs), creates nothing, safe to call again."""
    gc.freeze()


def _resume_in_parent() -> None:
    """After a fork, in the process that paused collection: the worker starts paused, the
    master collects again."""
    if _paused and os.getpid() == _paused_in:
        gc.enable()


def collection_paused() -> bool:
    return _paused


def resume_collection() -> None:
    """Turn collection back on, once, if :func:`pause_collection` turned it off, and collect
    the two young generations at once, so that what start-up allocated is walked here once
    (after the first answer, see :func:`shared.runtime.invocation`) and then left to the rare
    full collections; afterwards a flag check per call."""
    global _paused
    if not _paused:
        return
    with _lock:
        if _paused:
            gc.enable()
            _paused = False  # after enabling: collection is on before the flag says so
            gc.collect(1)
