"""Statements with parameters run as prepared statements: one exchange with Postgres, not three.

pg8000 runs a statement with parameters as an *unnamed* statement in three exchanges, each a
network round trip the calling thread waits on: parse; describe (the parameter and row types);
bind and execute. Prepared once per connection under a name, the same statement then runs in one
(bind and execute: ``CoreConnection.execute_named``). On Cloud SQL each exchange crosses the
network; the processor's claim and finishing statements wait a third as often.

:func:`install` hooks SQLAlchemy's ``do_execute`` event: a statement with parameters (in the
``format`` style of SQLAlchemy's pg8000 dialect, no explicit input types) runs through its
connection's cache, kept in the pool record's ``info`` (a replaced connection starts empty) and
prepared on first use, for up to :data:`MAX_PREPARED` statements per connection; any other
statement takes the driver's own path, as before. The cursor then holds the result as pg8000's
own ``execute`` leaves it (its ``_context`` and row iterator, pg8000 1.31: a test pins them),
and an error is the one that cursor class raises (the legacy cursor's IntegrityError and
friends, the DB-API cursor's DatabaseError), so SQLAlchemy maps it as before.

A prepared statement outlives a rollback and belongs to its connection's session. When Postgres
refuses one because a table changed under it (a migration altering a column it returns, "cached
plan must not change result type", or one its parameters are compared with, whose types were
fixed when it was prepared), or no longer knows it, its entry is dropped and the error raised:
the caller's retry prepares it again (the old statement stays on the server until the
connection is replaced).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

MAX_PREPARED = 64
_CACHE = "shared.prepared"
# What Postgres answers when a prepared statement no longer fits its tables: the statement is
# dropped and prepared again on the next call. 0A000 "cached plan must not change result type",
# 26000 no such statement, class 42 (a column or operator the statement names changed: the
# parameter types fixed at prepare time, e.g. 42883, no longer fit).
_STALE_STATES = ("0A000", "26000")
_STALE_CLASSES = ("42",)


def install(engine: Engine) -> None:
    """Run ``engine``'s statements with parameters as prepared statements (pg8000 only)."""
    if engine.dialect.driver != "pg8000" or engine.dialect.paramstyle != "format":
        return
    if not event.contains(engine, "do_execute", _execute_prepared):
        event.listen(engine, "do_execute", _execute_prepared)


def _execute_prepared(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
    """Run ``statement`` as a prepared statement and return True, or None to let the driver
    run it (no parameters, explicit input types, a full cache)."""
    from pg8000.converters import make_params
    from pg8000.exceptions import DatabaseError, InterfaceError

    connection = getattr(cursor, "_c", None)
    explicit_types = getattr(cursor, "_input_oids", None)
    if not parameters or connection is None or explicit_types:
        return None
    cache: dict[str, tuple[Any, ...]] = context.root_connection.connection.info.setdefault(
        _CACHE, {}
    )
    try:
        entry = cache.get(statement)
        if entry is None:
            if len(cache) >= MAX_PREPARED:
                return None
            sql = _positional(statement)
            name, columns, input_funcs = connection.prepare_statement(sql, ())
            entry = cache[statement] = (name, columns, input_funcs, sql)
        name, columns, input_funcs, sql = entry
        if not connection._in_transaction and not connection.autocommit:
            connection.execute_simple("begin transaction")
        params = make_params(connection.py_types, parameters)
        result = connection.execute_named(name, params, columns, input_funcs, sql)
    except DatabaseError as exc:
        if _stale(exc):
            _forget(cache, statement)
        raise _as_raised_by(cursor, exc) from None
    except AttributeError:
        if getattr(connection, "_sock", None) is None:
            raise InterfaceError("connection is closed") from None
        raise
    cursor._context = result
    rows = result.rows
    # as each cursor class's own execute leaves it: the legacy one iterates no rows, the
    # DB-API one has no result set
    cursor._row_iter = iter(rows or []) if _legacy(cursor) else None if rows is None else iter(rows)
    return True


def _stale(exc: Exception) -> bool:
    code = _sqlstate(exc) or ""
    return code in _STALE_STATES or code[:2] in _STALE_CLASSES


def _forget(cache: dict[str, tuple[Any, ...]], statement: str) -> None:
    """Drop ``statement`` from the cache. It stays prepared on the server until its connection
    is replaced: closing it here would be one more exchange on a connection that has just
    failed, and a timeout during it would leave the connection's answers out of step."""
    cache.pop(statement, None)


def _positional(statement: str) -> str:
    """SQLAlchemy's ``%s`` placeholders as Postgres' ``$n`` (pg8000's own rewrite)."""
    from pg8000.dbapi import convert_paramstyle

    converted, _ = convert_paramstyle("format", statement, ())
    return str(converted)


def _sqlstate(exc: Exception) -> str | None:
    fields = exc.args[0] if exc.args else None
    code = fields.get("C") if isinstance(fields, dict) else None
    return code if isinstance(code, str) else None


def _legacy(cursor: Any) -> bool:
    import pg8000.legacy

    return isinstance(cursor, pg8000.legacy.Cursor)


def _as_raised_by(cursor: Any, exc: Exception) -> Exception:
    """``exc`` as ``cursor``'s class raises a server error: pg8000's legacy cursor turns it into
    InterfaceError (28000), IntegrityError (23505) or ProgrammingError; the DB-API cursor
    raises it as it comes."""
    from pg8000.dbapi import IntegrityError, InterfaceError, ProgrammingError

    if not _legacy(cursor):
        return exc
    code = _sqlstate(exc)
    kind = InterfaceError if code == "28000" else IntegrityError if code == "23505" else None
    error: Exception = (kind or ProgrammingError)(exc.args[0] if exc.args else exc)
    return error
