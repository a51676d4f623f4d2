"""Count the SQL statements an engine sends (one ``before_cursor_execute`` event each): a
benchmark and test instrument, never used by the functions.

    with count_round_trips(get_engine()) as counter:
        breaker.call(work)
    print(counter.count)

It counts statements issued through SQLAlchemy. Driver-level traffic is not included: the pool's
pre-ping on checkout and pg8000's implicit ``BEGIN``/``COMMIT`` around a statement.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


class RoundTripCounter:
    """Thread-safe count of statements, with the statements' first words for diagnosis."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.statements: list[str] = []

    def _on_execute(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with self._lock:
            self.count += 1
            self.statements.append(" ".join(statement.split())[:80])

    def reset(self) -> None:
        with self._lock:
            self.count = 0
            self.statements.clear()


@contextmanager
def count_round_trips(engine: Engine | None = None) -> Iterator[RoundTripCounter]:
    """Count statements on ``engine`` (default: the shared engine) inside the block."""
    if engine is None:
        from shared.db.engine import get_engine

        engine = get_engine()
    counter = RoundTripCounter()
    event.listen(engine, "before_cursor_execute", counter._on_execute)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter._on_execute)
