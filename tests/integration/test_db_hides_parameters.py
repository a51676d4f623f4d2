"""A failed statement never carries its parameters (report fields, amounts, names) into an
exception's message or SQLAlchemy's own log lines (e.g. the pool's "Exception terminating
connection" at ERROR when Postgres goes away mid-statement), against the real Postgres."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.config import get_settings
from shared.db.engine import create_db_engine

SECRET = "Quillfeather-4711.35"


def test_a_failed_statement_hides_its_parameters(
    stack_env: dict, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_db_engine(get_settings())
    try:
        with (
            caplog.at_level(logging.DEBUG, logger="sqlalchemy"),
            pytest.raises(DBAPIError) as caught,
            engine.connect() as conn,
        ):  # division by zero: a server error that does not echo the value itself
            conn.execute(
                text("SELECT CAST(:value AS text) || CAST(1 / 0 AS text)"), {"value": SECRET}
            )
        assert "division by zero" in str(caught.value)  # the statement is still there to debug
        assert SECRET not in str(caught.value)
        assert "hide_parameters" in str(caught.value)
        assert all(SECRET not in record.getMessage() for record in caplog.records)
    finally:
        engine.dispose()
