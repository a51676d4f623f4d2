"""Alembic upgrade and downgrade against the real local Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from infra.provision import downgrade, migrate
from infra.stack import LocalStack, Postgres


@pytest.fixture
def empty_database(stack: LocalStack) -> Iterator[tuple[str, Engine]]:
    """(URL, engine) of a database of its own, with no table yet."""
    postgres = stack.servers["postgres"]
    assert isinstance(postgres, Postgres)
    name = f"migration_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name)
    url = f"postgresql+pg8000://postgres@127.0.0.1:{postgres.port}/{name}"
    engine = create_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database: tuple[str, Engine]) -> None:
    url, engine = empty_database
    migrate(url)
    tables = set(inspect(engine).get_table_names())
    assert "processing_reports" in tables
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("processing_reports")}
    assert "ix_processing_reports_correlation_id" in indexes
    downgrade(url)
    engine.dispose()
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    migrate(url)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM emails")) == 0


_VALID = text(
    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "WHERE c.relname = 'ix_notifications_due'"
)


def test_an_index_a_failed_concurrent_build_left_invalid_is_built_again(
    empty_database: tuple[str, Engine],
) -> None:
    """The outbox's due index is built CONCURRENTLY (the processors keep writing during a
    deploy); a build that failed half-way leaves an invalid index, which the next run of the
    migration replaces instead of keeping."""
    url, engine = empty_database
    migrate(url, "0004_notification_backoff")
    with engine.begin() as conn:
        assert conn.scalar(_VALID) is True
        # what a build that failed half-way leaves behind (the local user is superuser)
        conn.execute(
            text(
                "UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
                "'ix_notifications_due'::regclass"
            )
        )
    # the run failed in the build: the column is committed, the version is still 0003
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0003_breaker_forced'"))
    migrate(url)
    with engine.connect() as conn:
        assert conn.scalar(_VALID) is True
