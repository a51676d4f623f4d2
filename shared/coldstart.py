"""What the functions' entry modules do for a cheap cold start (benchmark B6).

functions-framework serves with gunicorn: the entry module (``functions/*/main.py``) is imported
in the master process and the worker that answers requests is forked from it. Collections during
start-up walk the whole young heap again and again while it only grows (imports allocate
hundreds of thousands of long-lived objects and almost no garbage): 190–220 ms of the
processor's first request, whose lazy imports run in the worker, and 60–80 ms of the rollup's.
CPython's documented pattern for pre-fork servers (``gc.freeze``) applies:

- :func:`pause_collection`, first thing in an entry module: no collection while the instance
  starts;
- :func:`freeze_import_heap`, last thing in it: what the master built moves to the collector's
  permanent generation, so the forked worker's collections never walk (and copy-on-write) it;
- :func:`resume_collection`, when an invocation ends (:func:`shared.runtime.invocation`): the
  first call freezes what the first invocation's imports and clients built, and turns
  collection back on for the life of the instance.

Reference counting frees all acyclic garbage meanwhile; what stays until collection resumes is
the cyclic garbage of one start and one invocation, frozen with the rest (measured: about 1,400
objects after the processor's first email, against 330,000 frozen live ones).
"""

import gc
import threading

_lock = threading.Lock()
_paused = False


def pause_collection() -> None:
    """Stop garbage collection until :func:`resume_collection`; nothing if it is already off
    (then collection stays as whoever turned it off wants it)."""
    global _paused
    with _lock:
        if gc.isenabled():
            gc.disable()
            _paused = True


def freeze_import_heap() -> None:
    """Exclude every object allocated so far from garbage collection. Call it at the end of an
    entry module: what exists then is imported code and module state, which lives as long as
    the process anyway. Cheap (no collection runs), creates nothing, safe to call again."""
    gc.freeze()


def resume_collection() -> None:
    """Freeze what start-up built and turn collection back on, once, if
    :func:`pause_collection` turned it off; afterwards a dictionary check per call."""
    global _paused
    if not _paused:
        return
    with _lock:
        if _paused:
            _paused = False
            gc.freeze()
            gc.enable()
