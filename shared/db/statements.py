"""pg8000 rewrites each statement's placeholders by scanning its text, once per execution.

``pg8000.legacy.Cursor.execute`` turns SQLAlchemy's ``%s`` placeholders into Postgres' ``$n``
with ``convert_paramstyle``, a character-by-character state machine in pure Python (about
0.16 ms per 1,000 characters here). The processor's finish statement (data-modifying CTEs) is
several thousand characters, so that scan cost more CPU per email than building the statement.
For the ``format`` style (the one SQLAlchemy's pg8000 dialect uses) the rewritten text depends
only on the statement's text and the parameters pass through unchanged, so it is computed once
per distinct statement here (a bounded LRU cache); every other style, and any statement the scan
rejects, goes to pg8000's own function as before.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

CACHED_STATEMENTS = 512

_lock = threading.Lock()
_MARK = "_shared_statement_cache"


def cached_convert(original: Callable[[str, str, Any], tuple[str, Any]]) -> Callable[..., Any]:
    """``original`` (pg8000's ``convert_paramstyle``) with the ``format`` rewrite cached."""

    @functools.lru_cache(maxsize=CACHED_STATEMENTS)
    def rewrite(query: str) -> str:
        statement, _ = original("format", query, ())
        return statement

    def convert_paramstyle(style: str, query: Any, args: Any) -> tuple[str, Any]:
        if style == "format" and type(query) is str:
            return rewrite(query), args
        return original(style, query, args)

    setattr(convert_paramstyle, _MARK, rewrite)
    return convert_paramstyle


def install_statement_cache() -> None:
    """Make pg8000's DB-API cursors use :func:`cached_convert` (idempotent, thread-safe)."""
    import pg8000.legacy

    with _lock:
        current = pg8000.legacy.convert_paramstyle
        if not hasattr(current, _MARK):
            pg8000.legacy.convert_paramstyle = cached_convert(current)
