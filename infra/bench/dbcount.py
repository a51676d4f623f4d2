"""Count what the application asks of Postgres: statements and round trips.

- ``statements``: SQL statements issued through SQLAlchemy (``before_cursor_execute``), the
  same definition as :mod:`infra.bench.statements`.
- ``round_trips``: every exchange the driver makes on the application's behalf, i.e. the
  statements plus what SQLAlchemy events do not show: pg8000's implicit ``begin transaction``
  before the first statement of a transaction, ``commit``/``rollback``, and the pool's
  pre-ping (``SELECT 1``) on checkout. Counted by wrapping pg8000's ``execute_simple``,
  ``execute_unnamed``, ``prepare_statement`` and ``execute_named`` (each is one request/answer
  exchange at the SQL level; a statement prepared on a connection adds one exchange there, once:
  :mod:`shared.db.prepared`).
- ``wire_flushes``: the network writes pg8000 waits on (it sends parse/describe/bind/execute
  of an unnamed statement in up to three exchanges, a prepared one in one) — a detail, not
  judged.

Meant for a benchmark process that counts one thing at a time (the counters are global).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class DbCounts:
    statements: int = 0
    round_trips: int = 0
    prepares: int = 0  # of the round trips: statements prepared on a connection (once each)
    wire_flushes: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> tuple[int, int, int]:
        with self._lock:
            return self.statements, self.round_trips, self.wire_flushes


def _first_word(sql: Any) -> str:
    words = str(sql).split(None, 1)
    return words[0].lower() if words else "?"


@contextmanager
def count_database(engine: Engine) -> Iterator[DbCounts]:
    from pg8000 import core

    counts = DbCounts()

    def on_execute(*_args: Any) -> None:
        with counts._lock:
            counts.statements += 1

    def wrap(original: Callable[..., Any], sql_at: int, prepares: bool) -> Callable[..., Any]:
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            sql = args[sql_at] if len(args) > sql_at else kwargs.get("statement", "?")
            with counts._lock:
                counts.round_trips += 1
                if prepares:
                    counts.prepares += 1
                else:
                    counts.kinds[_first_word(sql)] += 1
            return original(self, *args, **kwargs)

        return counted

    original_flush = core._flush

    def counted_flush(sock: Any) -> Any:
        with counts._lock:
            counts.wire_flushes += 1
        return original_flush(sock)

    # each method and where its SQL text is among its arguments
    methods = {
        "execute_simple": 0,
        "execute_unnamed": 0,
        "prepare_statement": 0,
        "execute_named": 4,
    }
    saved = {name: getattr(core.CoreConnection, name) for name in methods}
    event.listen(engine, "before_cursor_execute", on_execute)
    for name, method in saved.items():
        setattr(core.CoreConnection, name, wrap(method, methods[name], name == "prepare_statement"))
    core._flush = counted_flush
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        for name, method in saved.items():
            setattr(core.CoreConnection, name, method)
        core._flush = original_flush
