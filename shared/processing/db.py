"""Postgres for the processor, with outages mapped to the error hierarchy.

:func:`transaction` for multi-statement work; :func:`autocommit` for a single statement (no
``BEGIN``/``COMMIT`` round trips, see :func:`shared.db.engine.autocommit`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.db import engine as db
from shared.errors import DependencyUnavailable

if TYPE_CHECKING:  # the ORM loads with the first session only (cold start, B6)
    from sqlalchemy.orm import Session

# SQLSTATE classes of a server that is unavailable rather than refusing the statement:
# 08 connection exception, 53 insufficient resources (e.g. too many connections), 57 operator
# intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 "the database system is
# starting up / shutting down"). pg8000 raises these as ProgrammingError.
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57")


def sqlstate(exc: DBAPIError) -> str | None:
    """The server's SQLSTATE of a pg8000 error (its first argument is the error's fields)."""
    args = getattr(exc.orig, "args", ())
    fields = args[0] if args else None
    code = fields.get("C") if isinstance(fields, dict) else None
    return code if isinstance(code, str) else None


def is_outage(exc: DBAPIError) -> bool:
    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
        return True
    code = sqlstate(exc)
    return code is not None and code[:2] in _OUTAGE_SQLSTATE_CLASSES


@contextmanager
def _outages_are_transient() -> Iterator[None]:
    try:
        yield
    except PoolTimeout:
        raise DependencyUnavailable("postgres", "PoolTimeout") from None
    except DBAPIError as exc:
        if is_outage(exc):
            raise DependencyUnavailable("postgres", type(exc).__name__) from None
        raise
    except OSError as exc:  # see _drop_on_socket_error
        raise DependencyUnavailable("postgres", type(exc).__name__) from None


@contextmanager
def _drop_on_socket_error(invalidate: Callable[[], None]) -> Iterator[None]:
    """A socket error the driver let through unwrapped (pg8000 1.31 reads the first bytes of an
    answer outside its own ``OSError`` handling, so a reset connection raises a bare
    ``ConnectionResetError``): SQLAlchemy does not see it as a disconnect, so the connection is
    invalidated here, never returned to the pool, and the error is an outage."""
    try:
        yield
    except OSError:
        invalidate()
        raise


@contextmanager
def transaction() -> Iterator[Session]:
    """:func:`shared.db.engine.transaction`, with lost connections and timeouts mapped to
    :class:`~shared.errors.DependencyUnavailable` (Pub/Sub redelivers)."""
    with (
        _outages_are_transient(),
        db.transaction() as session,
        _drop_on_socket_error(session.invalidate),
    ):
        yield session


@contextmanager
def autocommit() -> Iterator[Connection]:
    """:func:`shared.db.engine.autocommit` (each statement commits by itself), with outages
    mapped like :func:`transaction`."""
    with _outages_are_transient(), db.autocommit() as conn, _drop_on_socket_error(conn.invalidate):
        yield conn
