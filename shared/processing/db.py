"""Postgres transactions for the processor, with outages mapped to the error hierarchy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from shared.db import engine as db
from shared.errors import DependencyUnavailable


@contextmanager
def transaction() -> Iterator[Session]:
    """:func:`shared.db.engine.transaction`, with lost connections and timeouts mapped to
    :class:`~shared.errors.DependencyUnavailable` (Pub/Sub redelivers)."""
    try:
        with db.transaction() as session:
            yield session
    except PoolTimeout:
        raise DependencyUnavailable("postgres", "PoolTimeout") from None
    except DBAPIError as exc:
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            raise DependencyUnavailable("postgres", type(exc).__name__) from None
        raise
