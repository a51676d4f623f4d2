"""The process-wide SQLAlchemy engine, created on first use and reused across invocations.

Production (``INSTANCE_CONNECTION_NAME`` set): cloud-sql-python-connector with pg8000, IAM
database authentication and the lazy certificate refresh that suits Cloud Functions (no
background refresh while the CPU is throttled). Locally and in tests: ``DATABASE_URL``.

Every connection carries a :class:`Budget` (pg8000 has no timeout of its own): the shared
engine the processing one (``DB_*_TIMEOUT_SECONDS``), the breaker store's engine
(:func:`get_breaker_engine`, its own small pool) the short one of
``CIRCUIT_BREAKER_STORE_TIMEOUT_SECONDS``, migrations one without statement limit. The table of
every network timeout is in docs/reliability.md.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError

from shared.config import ConfigError, Settings, get_settings
from shared.db import prepared
from shared.db.statements import install_statement_cache

if TYPE_CHECKING:  # the ORM is loaded by the first session, not by the engine (cold start, B6)
    from sqlalchemy.orm import Session, sessionmaker

_lock = threading.Lock()
_engine: Engine | None = None
_breaker_engine: Engine | None = None
_sessions: sessionmaker[Session] | None = None
_connector: Any = None


@dataclass(frozen=True)
class Budget:
    """How long one engine's connections may wait on Postgres, in seconds (0: no limit on the
    server side).

    pg8000 waits forever by default: on a database that stopped answering but keeps the TCP
    connection open (a stalled network path, a failover in progress) every statement, ping and
    new connection would hang. ``connect`` bounds opening a connection (TCP, TLS, startup);
    ``socket`` every later wait for an answer (a frozen server ends as a socket timeout, the
    connection is dropped); ``statement``, ``lock`` and ``idle_in_transaction`` are the server's
    ``statement_timeout``, ``lock_timeout`` and ``idle_in_transaction_session_timeout``, sent in
    the startup packet (no extra round trip) so a slow statement or a lock wait ends with a
    clean error while the connection stays usable.
    """

    connect: float
    socket: float  # 0: no limit
    statement: float
    lock: float
    idle_in_transaction: float

    def startup_params(self) -> dict[str, str]:
        """The server settings of every new connection (milliseconds, as Postgres reads them)."""
        return {
            "statement_timeout": str(round(self.statement * 1000)),
            "lock_timeout": str(round(self.lock * 1000)),
            "idle_in_transaction_session_timeout": str(round(self.idle_in_transaction * 1000)),
        }


def processing_budget(settings: Settings) -> Budget:
    """The budget of the shared engine (processor, rollup, ops commands)."""
    return Budget(
        connect=settings.db_connect_timeout_seconds,
        socket=settings.db_socket_timeout_seconds,
        statement=settings.db_statement_timeout_seconds,
        lock=settings.db_lock_timeout_seconds,
        idle_in_transaction=settings.db_idle_in_transaction_timeout_seconds,
    )


def breaker_budget(settings: Settings) -> Budget:
    """The breaker store's budget: everything bounded by ``CIRCUIT_BREAKER_STORE_TIMEOUT_SECONDS``;
    the server gives up after three quarters of it, so a lock wait ends with an error while the
    socket still listens."""
    limit = settings.circuit_breaker_store_timeout_seconds
    return Budget(
        connect=limit,
        socket=limit,
        statement=limit * 0.75,
        lock=limit * 0.75,
        idle_in_transaction=settings.db_idle_in_transaction_timeout_seconds,
    )


def migration_budget(settings: Settings) -> Budget:
    """Schema changes: no statement or socket limit (an index build may take its time, and the
    deploy step has its own timeout), but lock waits bounded, so a migration never queues
    behind a long transaction while every statement on the table queues behind it."""
    return Budget(
        connect=settings.db_connect_timeout_seconds,
        socket=0,
        statement=0,
        lock=settings.db_lock_timeout_seconds,
        idle_in_transaction=settings.db_idle_in_transaction_timeout_seconds,
    )


def bound_reads(dbapi_connection: Any, seconds: float) -> None:
    """Give a pg8000 connection's socket a timeout for every wait on an answer.

    pg8000 applies its ``timeout`` only to sockets it opens itself: with the Cloud SQL
    connector's TLS socket (passed as ``sock``) the connector's ``timeout`` is forwarded to
    pg8000 and ignored there. The socket is the connection's ``_usock`` (pg8000 1.31); a unit
    test pins that, so an upgrade that renames it fails there rather than in an outage.
    """
    sock = getattr(dbapi_connection, "_usock", None)
    if sock is not None:
        sock.settimeout(seconds or None)  # 0: wait as long as it takes (migrations)


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


def _bound_sockets(engine: Engine, budget: Budget) -> None:
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        bound_reads(dbapi_connection, budget.socket)

    event.listen(engine, "connect", on_connect)


def _configure(engine: Engine, settings: Settings, budget: Budget) -> Engine:
    _bound_sockets(engine, budget)
    if settings.db_prepared_statements:
        prepared.install(engine)
    _guard_autocommit(engine)
    if settings.db_ping_idle_seconds > 0:
        _watch_idle(engine, settings.db_ping_idle_seconds)
    return engine


def _cloud_sql_connector(settings: Settings) -> Any:
    """One connector per process, shared by both engines (one certificate refresh)."""
    global _connector
    if _connector is None:
        from google.cloud.sql.connector import Connector, IPTypes, RefreshStrategy

        _connector = Connector(
            ip_type=IPTypes[settings.db_ip_type],
            enable_iam_auth=True,
            refresh_strategy=RefreshStrategy.LAZY,
        )
    return _connector


def connect_within(connector: Any, seconds: float, instance: str, **kwargs: Any) -> Any:
    """``connector.connect(instance, "pg8000", **kwargs)``, given up after ``seconds``.

    cloud-sql-python-connector 1.23 bounds none of it: ``Connector.connect`` waits on its
    future without a limit, opens the TCP connection without a timeout, and forwards its
    ``timeout`` to pg8000, which ignores it for a socket it did not open. A database that
    accepts the connection and then says nothing would hang the caller forever. So the same
    coroutine ``connect`` runs (``connect_async`` on the connector's own loop, ``_loop``; a unit
    test pins both) is awaited here with a limit, and cancelled past it. Known limit: the
    connector runs pg8000's startup exchange in an executor thread that cancelling cannot
    stop; that thread ends when the operating system drops the connection.
    """
    import asyncio

    future = asyncio.run_coroutine_threadsafe(
        connector.connect_async(instance, "pg8000", **kwargs), connector._loop
    )
    try:
        return future.result(timeout=seconds)
    except TimeoutError:
        future.cancel()
        raise TimeoutError(f"no Cloud SQL connection within {seconds:g} s") from None


def create_db_engine(settings: Settings, budget: Budget | None = None, **pool: Any) -> Engine:
    """Build a new engine for ``settings`` (callers normally want :func:`get_engine`).

    ``budget`` defaults to :func:`processing_budget`; ``pool`` overrides pool options.
    """
    install_statement_cache()  # pg8000 is the driver in production and on the local stack
    budget = budget or processing_budget(settings)
    options = {**_pool_options(settings), **pool}
    startup_params = budget.startup_params()
    if settings.instance_connection_name:
        connector = _cloud_sql_connector(settings)
        instance, user, db_name = (
            settings.instance_connection_name,
            settings.db_user,
            settings.db_name,
        )

        def _connect() -> Any:
            return connect_within(
                connector,
                budget.connect,
                instance,
                user=user,
                db=db_name,
                timeout=budget.connect,
                startup_params=startup_params,
                # The connector hands pg8000 a socket it has already wrapped in TLS. Left to its
                # default, pg8000 would build a CA-loaded SSL context (~20 ms of CPU) and ask
                # the server for TLS again inside the tunnel (a round trip) at every new
                # connection. False skips both, as the connector does for its other drivers on
                # the same socket (psycopg: ``sslmode="disable"``; asyncpg: ``direct_tls``) and
                # did for pg8000 (``request_ssl = False``) before it wrapped the socket itself.
                ssl_context=False,
            )

        engine = create_engine("postgresql+pg8000://", creator=_connect, **options)
        return _configure(engine, settings, budget)
    if not settings.database_url:
        raise ConfigError("DATABASE_URL or INSTANCE_CONNECTION_NAME must be set")
    connect_args: dict[str, Any] = {}
    if settings.database_url.startswith("postgresql+pg8000"):
        connect_args = {"timeout": budget.connect, "startup_params": startup_params}
    engine = create_engine(settings.database_url, connect_args=connect_args, **options)
    return _configure(engine, settings, budget)


def create_breaker_engine(settings: Settings) -> Engine:
    """An engine for the breaker store alone: its own small pool (a breaker read never waits
    behind processing statements for a connection) and the short :func:`breaker_budget`."""
    budget = breaker_budget(settings)
    size = settings.circuit_breaker_store_pool_size
    return create_db_engine(
        settings, budget, pool_size=size, max_overflow=0, pool_timeout=budget.connect
    )


def get_engine() -> Engine:
    """The shared engine, created lazily (thread-safe)."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = create_db_engine(get_settings())
    return _engine


def get_breaker_engine() -> Engine:
    """The breaker store's engine (:func:`create_breaker_engine`), created lazily."""
    global _breaker_engine
    if _breaker_engine is None:
        with _lock:
            if _breaker_engine is None:
                _breaker_engine = create_breaker_engine(get_settings())
    return _breaker_engine


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
def _drop_on_socket_error(invalidate: Any) -> Iterator[None]:
    """A socket error the driver let through unwrapped (pg8000 1.31 reads the first bytes of an
    answer outside its own ``OSError`` handling, so a timed-out or reset socket raises a bare
    ``TimeoutError`` or ``ConnectionResetError``): SQLAlchemy does not see a disconnect, so the
    connection is invalidated here. Never back to the pool: a late answer would otherwise be
    read as the answer to the next statement, and the rollback on return would wait again."""
    try:
        yield
    except OSError:
        invalidate()
        raise


@contextmanager
def transaction() -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    with session_factory().begin() as session, _drop_on_socket_error(session.invalidate):
        yield session


@contextmanager
def connection(engine: Engine | None = None) -> Iterator[Connection]:
    """A pooled Core connection (``engine.connect()``) that is dropped on a socket error."""
    with (engine or get_engine()).connect() as conn, _drop_on_socket_error(conn.invalidate):
        yield conn


@contextmanager
def core_transaction(engine: Engine | None = None) -> Iterator[Connection]:
    """A pooled Core connection in one transaction (``engine.begin()``), committed on success,
    rolled back on error, and dropped on a socket error."""
    with (engine or get_engine()).begin() as conn, _drop_on_socket_error(conn.invalidate):
        yield conn


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
            with conn.begin(), _drop_on_socket_error(conn.invalidate):
                yield conn
            return
        dbapi_connection.autocommit = True
        try:
            with _drop_on_socket_error(conn.invalidate):
                yield conn
        finally:  # a plain attribute: safe even on a connection that has just died
            dbapi_connection.autocommit = False


def dispose_engine() -> None:
    """Close pooled connections and the connector (tests, shutdown hooks)."""
    global _engine, _breaker_engine, _sessions, _connector
    with _lock:
        for engine in (_engine, _breaker_engine):
            if engine is not None:
                engine.dispose()
        if _connector is not None:
            _connector.close()
        _engine, _breaker_engine, _sessions, _connector = None, None, None, None
