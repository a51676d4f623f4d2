"""The process-wide SQLAlchemy engine, created on first use and reused across invocations.

Production (``INSTANCE_CONNECTION_NAME`` set): cloud-sql-python-connector with pg8000, IAM
database authentication and the lazy certificate refresh that suits Cloud Functions (no
background refresh while the CPU is throttled). Locally and in tests: ``DATABASE_URL``.

Pool sizes are explicit and small: instances × (pool size + overflow) must stay below the
database's connection limit (see the arithmetic in ``terraform/functions.tf``).

Round trips (benchmark B1) are what a busy processor pays for, so two things here avoid
the ones that carry no work:

- **Idle ping instead of pre-ping.** SQLAlchemy's ``pool_pre_ping`` costs one exchange on every
  checkout. Here a connection is pinged on checkout only when it sat unused for longer than
  ``DB_PING_IDLE_SECONDS`` (an instance waking from a quiet spell, when Cloud Functions has
  throttled it and a connection may have been cut by a network path, a maintenance or a
  failover of Cloud SQL). A failed ping raises ``DisconnectionError``: the pool drops the
  connection and checks out a fresh one (the documented "pessimistic" recipe). A connection that
  dies while in use within that window fails its statement with a disconnect error: SQLAlchemy
  invalidates the whole pool, the processor maps it to ``DependencyUnavailable`` and Pub/Sub
  redelivers. ``pool_recycle`` still replaces connections older than
  ``DB_POOL_RECYCLE_SECONDS``. The Cloud SQL connector hands out plain pg8000 connections over
  its TLS socket, so the same applies in production.
- **Autocommit for single statements.** :func:`autocommit` yields a pooled connection on which
  every statement commits by itself: no ``BEGIN``/``COMMIT`` exchanges. For work that is one
  statement (atomic by itself: an upsert, a guarded ``UPDATE … RETURNING``, a statement of
  data-modifying CTEs). Multi-statement work keeps :func:`transaction`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError

from shared.config import ConfigError, Settings, get_settings
from shared.db.statements import install_statement_cache

if TYPE_CHECKING:  # the ORM is loaded by the first session, not by the engine (cold start, B6)
    from sqlalchemy.orm import Session, sessionmaker

_lock = threading.Lock()
_engine: Engine | None = None
_sessions: sessionmaker[Session] | None = None
_connector: Any = None


def _pool_options(settings: Settings) -> dict[str, Any]:
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
        "pool_recycle": settings.db_pool_recycle_seconds,
        # Pinging every checkout is SQLAlchemy's pre-ping; otherwise see _watch_idle.
        "pool_pre_ping": settings.db_ping_idle_seconds == 0,
        # A failed statement's message (and the pool's "Exception terminating connection" log
        # line at ERROR) would otherwise carry its parameters: report fields, amounts, names.
        "hide_parameters": True,
    }


_LAST_USED = "shared.last_used"


def _ping(dbapi_connection: Any) -> None:
    """One exchange, outside any transaction (pg8000 would otherwise open one)."""
    previous = getattr(dbapi_connection, "autocommit", None)
    if previous is not None:
        dbapi_connection.autocommit = True
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    finally:
        if previous is not None:
            dbapi_connection.autocommit = previous


def _watch_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a connection on checkout only if it was idle longer than ``idle_seconds``."""

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED)
        if last_used is not None and time.monotonic() - last_used <= idle_seconds:
            return
        try:
            _ping(dbapi_connection)
        except Exception as exc:  # any failure: let the pool replace the connection
            raise DisconnectionError(
                f"idle connection failed its ping ({type(exc).__name__})"
            ) from exc
        record.info[_LAST_USED] = time.monotonic()

    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)


def _guard_autocommit(engine: Engine) -> None:
    """A connection always goes back to the pool in transactional mode (see :func:`autocommit`)."""

    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None and getattr(dbapi_connection, "autocommit", False):
            dbapi_connection.autocommit = False

    event.listen(engine, "checkin", on_checkin)


def _configure(engine: Engine, settings: Settings) -> Engine:
    _guard_autocommit(engine)
    if settings.db_ping_idle_seconds > 0:
        _watch_idle(engine, settings.db_ping_idle_seconds)
    return engine


def create_db_engine(settings: Settings) -> Engine:
    """Build a new engine for ``settings`` (callers normally want :func:`get_engine`)."""
    global _connector
    install_statement_cache()  # pg8000 is the driver in production and on the local stack
    if settings.instance_connection_name:
        from google.cloud.sql.connector import Connector, IPTypes, RefreshStrategy

        connector = Connector(
            ip_type=IPTypes[settings.db_ip_type],
            enable_iam_auth=True,
            refresh_strategy=RefreshStrategy.LAZY,
        )
        _connector = connector
        instance, user, db_name = (
            settings.instance_connection_name,
            settings.db_user,
            settings.db_name,
        )

        def _connect() -> Any:
            return connector.connect(instance, "pg8000", user=user, db=db_name)

        engine = create_engine("postgresql+pg8000://", creator=_connect, **_pool_options(settings))
        return _configure(engine, settings)
    if not settings.database_url:
        raise ConfigError("DATABASE_URL or INSTANCE_CONNECTION_NAME must be set")
    return _configure(create_engine(settings.database_url, **_pool_options(settings)), settings)


def get_engine() -> Engine:
    """The shared engine, created lazily (thread-safe)."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = create_db_engine(get_settings())
    return _engine


def session_factory() -> sessionmaker[Session]:
    """The ORM sessions of the shared engine; the ORM is imported on first use (Core-only
    callers such as the rollup never load it)."""
    global _sessions
    engine = get_engine()
    sessions = _sessions
    if sessions is None:
        from sqlalchemy.orm import sessionmaker

        with _lock:
            if _sessions is None:  # dispose_engine() forgets both engine and sessions
                _sessions = sessionmaker(engine, expire_on_commit=False)
            sessions = _sessions
    return sessions


@contextmanager
def transaction() -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    with session_factory().begin() as session:
        yield session


@contextmanager
def autocommit(engine: Engine | None = None) -> Iterator[Connection]:
    """A pooled connection on which each statement commits by itself (one round trip each).

    No ``BEGIN``/``COMMIT`` exchanges: use it for work that is a single statement, which
    Postgres runs atomically on its own. pg8000's ``autocommit`` flag is a client-side switch
    (no SQL is sent to set or reset it, unlike SQLAlchemy's ``isolation_level`` option, whose
    reset on checkin costs two exchanges); it is switched back before the connection returns to
    the pool. With another driver this is an ordinary transaction committed at the end.
    """
    engine = engine or get_engine()
    with engine.connect() as conn:
        dbapi_connection = conn.connection.dbapi_connection
        if engine.dialect.driver != "pg8000" or dbapi_connection is None:
            with conn.begin():
                yield conn
            return
        dbapi_connection.autocommit = True
        try:
            yield conn
        finally:  # a plain attribute: safe even on a connection that has just died
            dbapi_connection.autocommit = False


def dispose_engine() -> None:
    """Close pooled connections and the connector (tests, shutdown hooks)."""
    global _engine, _sessions, _connector
    with _lock:
        if _engine is not None:
            _engine.dispose()
        if _connector is not None:
            _connector.close()
        _engine, _sessions, _connector = None, None, None
