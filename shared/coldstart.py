"""What the functions' entry modules do for a cheap cold start (benchmark B6).

functions-framework serves with gunicorn: the entry module (``functions/*/main.py``) is imported
in the master process and the worker that answers requests is forked from it. The worker's first
full garbage collection — due during the first request, when the lazy imports allocate — walks
every object inherited from the master and writes to its page (copy-on-write): 60–80 ms measured
in the rollup's first request, more than its database work. :func:`freeze_import_heap` moves
the objects allocated so far into the collector's permanent generation, so collections in the
worker only walk what the worker allocated (CPython's documented pattern for pre-fork servers,
``gc.freeze``).
"""

import gc


def freeze_import_heap() -> None:
    """Exclude every object allocated so far from garbage collection. Call it at the end of an
    entry module: what exists then is imported code and module state, which lives as long as
    the process anyway. Cheap (no collection runs), creates nothing, safe to call again."""
    gc.freeze()
