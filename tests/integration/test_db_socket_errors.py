"""A connection reset that pg8000 raises unwrapped (a bare ``ConnectionResetError`` when the
first bytes of an answer cannot be read) is an outage, and the connection never goes back to
the pool. Found when the outbox's "Postgres went away after the relay accepted" test hit the
reset on its first read instead of a wrapped ``InterfaceError``."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.db.engine import get_engine
from shared.db.outages import autocommit_or_unavailable, transaction_or_unavailable
from shared.errors import DependencyUnavailable


def test_autocommit_maps_a_bare_reset_and_drops_the_connection(stack_env: dict[str, str]) -> None:
    get_engine().dispose()
    with (
        pytest.raises(DependencyUnavailable, match="ConnectionResetError"),
        autocommit_or_unavailable() as conn,
    ):
        conn.execute(text("SELECT 1"))
        dead = conn.connection.dbapi_connection
        raise ConnectionResetError(104, "Connection reset by peer")
    with autocommit_or_unavailable() as conn:
        assert conn.connection.dbapi_connection is not dead
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_a_transaction_maps_a_bare_reset_and_drops_the_connection(
    stack_env: dict[str, str],
) -> None:
    get_engine().dispose()
    with (
        pytest.raises(DependencyUnavailable, match="BrokenPipeError"),
        transaction_or_unavailable() as session,
    ):
        session.execute(text("SELECT 1"))
        dead = session.connection().connection.dbapi_connection
        raise BrokenPipeError(32, "Broken pipe")
    with transaction_or_unavailable() as session:
        assert session.connection().connection.dbapi_connection is not dead
