"""Statements with parameters as prepared statements (``shared.db.prepared``), against the real
Postgres: one exchange once prepared, the same results and errors as pg8000's unnamed path, for
the legacy cursor (SQLAlchemy's pg8000 dialect, the local stack) and the DB-API one (what the
Cloud SQL connector hands out in production)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from infra.bench.dbcount import count_database
from shared.config import load_settings
from shared.db import prepared
from shared.db.engine import autocommit, create_db_engine
from shared.db.outages import sqlstate


def _engine(**overrides: str) -> Engine:
    return create_db_engine(load_settings({**os.environ, "DB_POOL_SIZE": "1", **overrides}))


def _dbapi_engine() -> Engine:
    """An engine whose connections are ``pg8000.dbapi`` ones, as the Cloud SQL connector's."""
    import pg8000.dbapi

    url = urlsplit(os.environ["DATABASE_URL"].replace("postgresql+pg8000", "postgresql"))

    def connect() -> Any:
        return pg8000.dbapi.connect(
            user=url.username,
            password=url.password,
            host=url.hostname,
            port=url.port,
            database=url.path.lstrip("/"),
        )

    engine = create_engine("postgresql+pg8000://", creator=connect, pool_size=1)
    prepared.install(engine)
    return engine


@pytest.fixture(params=["legacy", "dbapi"])
def engine(request: pytest.FixtureRequest, stack_env: dict[str, str]) -> Iterator[Engine]:
    built = _engine() if request.param == "legacy" else _dbapi_engine()
    yield built
    built.dispose()


@pytest.fixture
def table(engine: Engine) -> Iterator[str]:
    """A table of this module's own (the suite runs one test at a time)."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS prepared_check"))
        conn.execute(
            text(
                "CREATE TABLE prepared_check (id text PRIMARY KEY, amount numeric(12, 2), "
                "at timestamptz, doc jsonb, flag boolean, tags text[], n integer)"
            )
        )
    yield "prepared_check"
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE prepared_check"))


def _exchanges(engine: Engine, work: Any) -> tuple[int, int, int]:
    """(round trips, of which statements prepared, network writes waited on)."""
    with count_database(engine) as counts:
        work()
        return counts.round_trips, counts.prepares, counts.wire_flushes


def test_a_statement_is_prepared_once_then_runs_in_one_exchange(engine: Engine, table: str) -> None:
    select = text("SELECT id FROM prepared_check WHERE id = :id")

    def run() -> None:
        with autocommit(engine) as conn:
            assert conn.execute(select, {"id": "none"}).first() is None

    assert _exchanges(engine, run) == (2, 1, 2)  # prepared, then bound and executed
    assert _exchanges(engine, run) == (1, 0, 1)  # bound and executed: one write, one wait
    unprepared = _engine(DB_PREPARED_STATEMENTS="false")
    try:

        def plain() -> None:
            with autocommit(unprepared) as conn:
                conn.execute(select, {"id": "none"})

        plain()  # the pool's first connection (SQLAlchemy asks the server a few things)
        assert _exchanges(unprepared, plain) == (1, 0, 3)  # parse; describe; bind and execute
    finally:
        unprepared.dispose()


def test_values_round_trip_as_on_the_unnamed_path(engine: Engine, table: str) -> None:
    at = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
    row = {
        "id": "a1",
        "amount": Decimal("1234.50"),
        "at": at,
        "doc": '{"k": ["v", 1]}',
        "flag": True,
        "tags": ["x", "y"],
        "n": None,
    }
    insert = text(
        "INSERT INTO prepared_check VALUES "
        "(:id, :amount, :at, CAST(:doc AS jsonb), :flag, :tags, :n) "
        "RETURNING id, amount, at, doc, flag, tags, n"
    )
    with engine.begin() as conn:
        returned = conn.execute(insert, row).one()
        again = conn.execute(insert, {**row, "id": "a2", "n": 7}).one()
        update = conn.execute(
            text("UPDATE prepared_check SET n = :n WHERE id LIKE :p"), {"n": 3, "p": "a%"}
        )
        assert update.rowcount == 2
    assert tuple(returned) == (
        "a1",
        Decimal("1234.50"),
        at,
        {"k": ["v", 1]},
        True,
        ["x", "y"],
        None,
    )
    assert again.id == "a2" and again.n == 7
    unprepared = _engine(DB_PREPARED_STATEMENTS="false")
    try:
        select = text("SELECT * FROM prepared_check WHERE id = ANY(:ids) ORDER BY id")
        with engine.connect() as conn:
            mine = [tuple(r) for r in conn.execute(select, {"ids": ["a1", "a2"]})]
        with unprepared.connect() as conn:
            theirs = [tuple(r) for r in conn.execute(select, {"ids": ["a1", "a2"]})]
        assert mine == theirs and len(mine) == 2
    finally:
        unprepared.dispose()


def test_a_refused_statement_raises_as_before_and_the_connection_goes_on(
    engine: Engine, table: str
) -> None:
    insert = text("INSERT INTO prepared_check (id) VALUES (:id)")
    with engine.begin() as conn:
        conn.execute(insert, {"id": "dup"})
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(insert, {"id": "dup"})
    assert sqlstate(caught.value) == "23505"
    # the class pg8000's own cursor raises: the legacy one an IntegrityError, the DB-API one a
    # DatabaseError (SQLAlchemy maps each as before)
    with engine.connect() as conn:
        legacy = type(conn.connection.dbapi_connection).__module__ == "pg8000.legacy"
    assert isinstance(caught.value, IntegrityError) is legacy
    with engine.begin() as conn:  # the same connection, its prepared statement still there
        conn.execute(insert, {"id": "next"})
        assert (
            conn.execute(
                text("SELECT count(*) FROM prepared_check WHERE id = :id"), {"id": "next"}
            ).scalar_one()
            == 1
        )


def test_a_rollback_undoes_the_work_and_keeps_the_statement(engine: Engine, table: str) -> None:
    insert = text("INSERT INTO prepared_check (id) VALUES (:id)")
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(insert, {"id": "gone"})
        raise RuntimeError("roll back")
    with engine.begin() as conn:
        conn.execute(insert, {"id": "kept"})
    with engine.connect() as conn:
        ids = conn.execute(
            text("SELECT id FROM prepared_check WHERE id <> :x"), {"x": ""}
        ).scalars()
        assert sorted(ids) == ["kept"]


def test_a_table_changed_under_a_statement_fails_once_then_it_is_prepared_again(
    engine: Engine, table: str
) -> None:
    select = text("SELECT n FROM prepared_check WHERE id = :id")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO prepared_check (id, n) VALUES (:id, 5)"), {"id": "m"})
        assert conn.execute(select, {"id": "m"}).scalar_one() == 5
        conn.execute(text("ALTER TABLE prepared_check ALTER COLUMN n TYPE text"))
    with pytest.raises(DBAPIError) as caught, engine.begin() as conn:
        conn.execute(select, {"id": "m"})
    assert sqlstate(caught.value) == "0A000"  # cached plan must not change result type
    with engine.begin() as conn:
        assert conn.execute(select, {"id": "m"}).scalar_one() == "5"


def test_beyond_the_cap_statements_run_unprepared(
    engine: Engine, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepared, "MAX_PREPARED", 2)
    with engine.begin() as conn:
        for statement in (
            "SELECT id FROM prepared_check WHERE id = :id",
            "SELECT amount FROM prepared_check WHERE id = :id",
            "SELECT n FROM prepared_check WHERE id = :id",
        ):
            assert conn.execute(text(statement), {"id": "none"}).first() is None
        conn.execute(
            text("INSERT INTO prepared_check (id, n) VALUES (:id, :n)"), {"id": "c", "n": 2}
        )
        assert (
            conn.execute(
                text("SELECT n FROM prepared_check WHERE id = :id"), {"id": "c"}
            ).scalar_one()
            == 2
        )

    def again() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT flag FROM prepared_check WHERE id = :id"), {"id": "c"})

    _, prepares, flushes = _exchanges(engine, again)
    assert prepares == 0 and flushes >= 3  # not in the cache: pg8000's unnamed path


@pytest.mark.parametrize("in_transaction", [False, True])
def test_parameter_types_changed_under_a_statement_fail_once_then_it_is_prepared_again(
    engine: Engine, table: str, in_transaction: bool
) -> None:
    """The parameter types fixed when a statement was prepared no longer fit a column whose
    type changed (42883): the entry is dropped, so only the call that met it fails."""
    select = text("SELECT id FROM prepared_check WHERE n = :n")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO prepared_check (id, n) VALUES ('t', 5)"))
        assert conn.execute(select, {"n": 5}).scalar_one() == "t"
        conn.execute(text("ALTER TABLE prepared_check ALTER COLUMN n TYPE text"))

    def run() -> Any:
        if in_transaction:
            with engine.begin() as conn:
                return conn.execute(select, {"n": "5"}).scalar_one()
        with autocommit(engine) as conn:
            return conn.execute(select, {"n": "5"}).scalar_one()

    with pytest.raises(DBAPIError) as caught:
        run()
    assert sqlstate(caught.value) == "42883"
    assert run() == "t"
    assert run() == "t"


def test_every_engine_built_gets_the_hook(stack_env: dict[str, str]) -> None:
    """Engines are built and disposed again and again (tests, the bench, the grant step); each
    new one is hooked, whatever became of the ones before it."""
    import gc

    from sqlalchemy import event

    for _ in range(20):
        built = _engine()
        assert event.contains(built, "do_execute", prepared._execute_prepared)
        built.dispose()
        del built
        gc.collect()
