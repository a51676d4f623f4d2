"""The cached placeholder rewrite gives exactly what pg8000's own scan gives."""

from __future__ import annotations

import pg8000.dbapi
import pg8000.legacy
import pytest

from shared.db.statements import cached_convert, install_statement_cache

STATEMENTS = [
    "SELECT 1 WHERE a = %s",
    "SELECT 'it''s %% here', \"col%\" FROM t WHERE a = %s AND b = %s",
    "SELECT E'\\'%s' , %s -- a comment with %s and 'quote\n, %s",
    "SELECT $$ body %s $$, %s",
    "SELECT x::jsonb ->> 'k', 100 %% 7, %s",
    "WITH done AS (UPDATE emails SET status = %s WHERE email_id = %s RETURNING 1) "
    "INSERT INTO r SELECT * FROM jsonb_to_recordset(%s::jsonb) AS x(a text)",
]


@pytest.mark.parametrize("query", STATEMENTS)
def test_format_rewrite_matches_pg8000(query: str) -> None:
    convert = cached_convert(pg8000.dbapi.convert_paramstyle)
    args = tuple(range(query.count("%s")))
    expected = pg8000.dbapi.convert_paramstyle("format", query, args)
    assert convert("format", query, args) == expected
    assert convert("format", query, ("other",) * len(args)) == (expected[0], ("other",) * len(args))


def test_rewrite_is_computed_once_per_statement() -> None:
    calls: list[str] = []

    def original(style: str, query: str, args: object) -> tuple[str, object]:
        calls.append(query)
        return pg8000.dbapi.convert_paramstyle(style, query, args)

    convert = cached_convert(original)
    for value in range(5):
        assert convert("format", "SELECT %s", (value,)) == ("SELECT $1", (value,))
    assert calls == ["SELECT %s"]


def test_other_styles_and_bad_statements_go_to_pg8000_every_time() -> None:
    convert = cached_convert(pg8000.dbapi.convert_paramstyle)
    assert convert("named", "SELECT :a, :b, :a", {"a": 1, "b": 2}) == (
        "SELECT $1, $2, $1",
        (1, 2),
    )
    for _ in range(2):  # an error is not cached away
        with pytest.raises(pg8000.dbapi.InterfaceError):
            convert("format", "SELECT %d", (1,))


def test_install_is_idempotent() -> None:
    install_statement_cache()
    installed = pg8000.legacy.convert_paramstyle
    install_statement_cache()
    assert pg8000.legacy.convert_paramstyle is installed
    assert installed("format", "SELECT %s", (1,)) == ("SELECT $1", (1,))
