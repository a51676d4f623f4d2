"""Postgres for the processor, with outages mapped to the error hierarchy.

:func:`transaction` for multi-statement work; :func:`autocommit` for a single statement (no
``BEGIN``/``COMMIT`` round trips, see :func:`shared.db.engine.autocommit`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.db import engine as db
from shared.errors import DependencyUnavailable

if TYPE_CHECKING:  # the ORM loads with the first session only (cold start, B6)
    from sqlalchemy.orm import Session


@contextmanager
def _outages_are_transient() -> Iterator[None]:
    try:
        yield
    except PoolTimeout:
        raise DependencyUnavailable("postgres", "PoolTimeout") from None
    except DBAPIError as exc:
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            raise DependencyUnavailable("postgres", type(exc).__name__) from None
        raise


@contextmanager
def transaction() -> Iterator[Session]:
    """:func:`shared.db.engine.transaction`, with lost connections and timeouts mapped to
    :class:`~shared.errors.DependencyUnavailable` (Pub/Sub redelivers)."""
    with _outages_are_transient(), db.transaction() as session:
        yield session


@contextmanager
def core_transaction() -> Iterator[Connection]:
    """:func:`shared.db.engine.core_transaction` (SQL text, no ORM), with outages mapped like
    :func:`transaction`."""
    with _outages_are_transient(), db.core_transaction() as conn:
        yield conn


@contextmanager
def autocommit() -> Iterator[Connection]:
    """:func:`shared.db.engine.autocommit` (each statement commits by itself), with outages
    mapped like :func:`transaction`."""
    with _outages_are_transient(), db.autocommit() as conn:
        yield conn
