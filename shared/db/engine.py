"""The process-wide SQLAlchemy engine, created on first use and reused across invocations.

Production (``INSTANCE_CONNECTION_NAME`` set): cloud-sql-python-connector with pg8000, IAM
database authentication and the lazy certificate refresh that suits Cloud Functions (no
background refresh while the CPU is throttled). Locally and in tests: ``DATABASE_URL``.

Pool sizes are explicit and small: instances × (pool size + overflow) must stay below the
database's connection limit (see the arithmetic in ``terraform/functions.tf``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from shared.config import ConfigError, Settings, get_settings

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
        "pool_pre_ping": True,
    }


def create_db_engine(settings: Settings) -> Engine:
    """Build a new engine for ``settings`` (callers normally want :func:`get_engine`)."""
    global _connector
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

        return create_engine("postgresql+pg8000://", creator=_connect, **_pool_options(settings))
    if not settings.database_url:
        raise ConfigError("DATABASE_URL or INSTANCE_CONNECTION_NAME must be set")
    return create_engine(settings.database_url, **_pool_options(settings))


def get_engine() -> Engine:
    """The shared engine, created lazily (thread-safe)."""
    global _engine, _sessions
    if _engine is None:
        with _lock:
            if _engine is None:
                engine = create_db_engine(get_settings())
                _sessions = sessionmaker(engine, expire_on_commit=False)
                _engine = engine
    return _engine


def session_factory() -> sessionmaker[Session]:
    get_engine()
    assert _sessions is not None
    return _sessions


@contextmanager
def transaction() -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    with session_factory().begin() as session:
        yield session


def dispose_engine() -> None:
    """Close pooled connections and the connector (tests, shutdown hooks)."""
    global _engine, _sessions, _connector
    with _lock:
        if _engine is not None:
            _engine.dispose()
        if _connector is not None:
            _connector.close()
        _engine, _sessions, _connector = None, None, None
