"""Postgres outages as :class:`~shared.errors.DependencyUnavailable`, for callers that retry.

:func:`shared.db.engine.transaction` and :func:`shared.db.engine.autocommit` raise SQLAlchemy's
and the driver's errors as they come (the operator CLI, the rollup and the metrics writer want
them so). The processor wants an outage (a lost connection, a timeout, a server that is down or
starting) to be a :class:`~shared.errors.TransientError`, so that Pub/Sub redelivers the email:
it uses :func:`transaction_or_unavailable` and :func:`autocommit_or_unavailable`, the same
context managers with :func:`outages_as_unavailable` around them. An error about the statement
itself (a constraint, a syntax error) is re-raised unchanged by both.
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

# SQLSTATE classes of a server that is unavailable rather than refusing the statement:
# 08 connection exception, 53 insufficient resources (e.g. too many connections), 57 operator
# intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 "the database system is
# starting up / shutting down"). pg8000 raises these as ProgrammingError.
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57")
# Server-side timeouts (shared.db.engine.Budget): 57014 statement_timeout is class 57 above;
# 55P03 lock_timeout (a lock held elsewhere for too long) and 25P03 the session closed after
# idling in a transaction are transient too: the next delivery tries again.
_TRANSIENT_SQLSTATES = ("55P03", "25P03")


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
    return code is not None and (
        code[:2] in _OUTAGE_SQLSTATE_CLASSES or code in _TRANSIENT_SQLSTATES
    )


@contextmanager
def outages_as_unavailable() -> Iterator[None]:
    """Raise :class:`DependencyUnavailable` for an outage inside the block; other errors as is."""
    try:
        yield
    except PoolTimeout:
        raise DependencyUnavailable("postgres", "PoolTimeout") from None
    except DBAPIError as exc:
        if is_outage(exc):
            raise DependencyUnavailable("postgres", type(exc).__name__) from None
        raise
    except OSError as exc:  # unwrapped by pg8000; the engine has dropped the connection
        raise DependencyUnavailable("postgres", type(exc).__name__) from None


@contextmanager
def transaction_or_unavailable() -> Iterator[Session]:
    """:func:`shared.db.engine.transaction`, with lost connections and timeouts mapped to
    :class:`~shared.errors.DependencyUnavailable` (Pub/Sub redelivers)."""
    with outages_as_unavailable(), db.transaction() as session:
        yield session


@contextmanager
def autocommit_or_unavailable() -> Iterator[Connection]:
    """:func:`shared.db.engine.autocommit` (each statement commits by itself), with outages
    mapped like :func:`transaction_or_unavailable`."""
    with outages_as_unavailable(), db.autocommit() as conn:
        yield conn
