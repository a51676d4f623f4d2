"""Alembic upgrade and downgrade against the real local Postgres."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, inspect, text

from infra.provision import downgrade, migrate
from infra.stack import LocalStack, Postgres


def test_upgrade_downgrade_upgrade(stack: LocalStack) -> None:
    postgres = stack.servers["postgres"]
    assert isinstance(postgres, Postgres)
    name = f"migration_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name)
    url = f"postgresql+pg8000://postgres@127.0.0.1:{postgres.port}/{name}"
    engine = create_engine(url)
    try:
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
    finally:
        engine.dispose()
