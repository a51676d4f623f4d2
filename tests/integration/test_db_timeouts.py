"""Every Postgres connection carries its budget: a socket timeout and the server's timeouts.

pg8000 waits forever by default; these pin that the engines set what docs/reliability.md
promises, on the local stack's Postgres, and that the production connector is given them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from shared.config import ConfigError, get_settings, load_settings
from shared.db import engine as db


def _server_setting(conn: Any, name: str) -> str:
    return str(conn.execute(text(f"SHOW {name}")).scalar())


def test_processing_connections_have_a_socket_timeout_and_server_timeouts(
    stack_env: dict[str, str],
) -> None:
    with db.get_engine().connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        # pg8000 keeps its socket as _usock (bound_reads relies on it): pinned here.
        assert raw._usock.gettimeout() == get_settings().db_socket_timeout_seconds == 45.0
        assert _server_setting(conn, "statement_timeout") == "30s"
        assert _server_setting(conn, "lock_timeout") == "10s"
        assert _server_setting(conn, "idle_in_transaction_session_timeout") == "1min"


def test_breaker_connections_have_the_short_budget(stack_env: dict[str, str]) -> None:
    engine = db.get_breaker_engine()
    assert engine is not db.get_engine()  # its own pool: never waits behind processing
    assert engine.pool.timeout() == 1.0  # type: ignore[attr-defined]
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        assert raw._usock.gettimeout() == 1.0
        assert _server_setting(conn, "statement_timeout") == "750ms"
        assert _server_setting(conn, "lock_timeout") == "750ms"


def test_production_connector_gets_the_timeout_and_server_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    class Connector:
        _loop = loop

        async def connect_async(self, instance: str, driver: str, **kwargs: Any) -> Any:
            calls.append({"instance": instance, "driver": driver, **kwargs})
            raise ConnectionRefusedError("recorded")

    monkeypatch.setattr(db, "_cloud_sql_connector", lambda settings: Connector())
    settings = load_settings(
        {
            "INSTANCE_CONNECTION_NAME": "p:r:i",
            "DB_USER": "sa@p.iam",
            "DB_CONNECT_TIMEOUT_SECONDS": "7",
        }
    )
    for engine in (db.create_db_engine(settings), db.create_breaker_engine(settings)):
        with pytest.raises(ConnectionRefusedError):
            engine.connect()
        engine.dispose()
    processing, breaker = calls
    assert processing["timeout"] == 7.0
    assert processing["startup_params"] == {
        "statement_timeout": "30000",
        "lock_timeout": "10000",
        "idle_in_transaction_session_timeout": "60000",
    }
    assert breaker["timeout"] == 1.0
    # the connector's socket is TLS already: no second negotiation inside it
    assert processing["ssl_context"] is False and breaker["ssl_context"] is False
    assert breaker["startup_params"]["statement_timeout"] == "750"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_a_cloud_sql_connection_that_never_completes_is_given_up() -> None:
    """The real connector (anonymous credentials, nothing leaves the machine), its connection
    coroutine replaced by one that never ends: the caller is released after the budget."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.sql.connector import Connector

    connector = Connector(credentials=AnonymousCredentials())
    started: list[str] = []

    async def never(instance: str, driver: str, **kwargs: Any) -> Any:
        started.append(driver)
        await asyncio.sleep(3600)

    connector.connect_async = never  # type: ignore[method-assign]
    try:
        began = time.monotonic()
        with pytest.raises(TimeoutError, match=r"no Cloud SQL connection within 0\.5 s"):
            db.connect_within(connector, 0.5, "p:r:i", user="u", db="d")
        assert time.monotonic() - began < 2.0
        assert started == ["pg8000"]
    finally:
        connector.close()


def test_socket_timeout_must_exceed_the_statement_timeout() -> None:
    with pytest.raises(ConfigError, match="DB_SOCKET_TIMEOUT_SECONDS must exceed"):
        load_settings({"DB_SOCKET_TIMEOUT_SECONDS": "30", "DB_STATEMENT_TIMEOUT_SECONDS": "30"})
    assert (
        load_settings(
            {"DB_SOCKET_TIMEOUT_SECONDS": "5", "DB_STATEMENT_TIMEOUT_SECONDS": "0"}
        ).db_statement_timeout_seconds
        == 0
    )


def test_migrations_wait_for_statements_but_not_for_locks(stack_env: dict[str, str]) -> None:
    settings = get_settings()
    engine = db.create_db_engine(settings, db.migration_budget(settings))
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            assert raw._usock.gettimeout() is None
            assert _server_setting(conn, "statement_timeout") == "0"
            assert _server_setting(conn, "lock_timeout") == "10s"
    finally:
        engine.dispose()
