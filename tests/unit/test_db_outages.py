"""Which Postgres errors are outages (the delivery is retried) and which are bugs."""

from __future__ import annotations

import pg8000.dbapi
import pytest
from sqlalchemy.exc import IntegrityError, ProgrammingError

from shared.db.outages import is_outage, outages_as_unavailable, sqlstate
from shared.errors import DependencyUnavailable


def _server_error(code: str) -> ProgrammingError:
    fields = {"S": "FATAL", "C": code, "M": "server message"}
    return ProgrammingError("SELECT 1", {}, pg8000.dbapi.ProgrammingError(fields))


@pytest.mark.parametrize(
    "code",
    # going away, starting up, too many connections, lost; and the budgets' own cancels:
    # statement_timeout (57014), lock_timeout (55P03), idle_in_transaction (25P03)
    ["57P01", "57P02", "57P03", "53300", "08006", "57014", "55P03", "25P03"],
)
def test_a_server_going_away_or_starting_up_is_an_outage(code: str) -> None:
    error = _server_error(code)
    assert sqlstate(error) == code and is_outage(error)
    with pytest.raises(DependencyUnavailable), outages_as_unavailable():
        raise error


@pytest.mark.parametrize("code", ["42601", "22P02", "23505", "55P02", "25P02"])
def test_a_refused_statement_is_not_an_outage(code: str) -> None:
    error = _server_error(code)
    assert not is_outage(error)
    with pytest.raises(ProgrammingError), outages_as_unavailable():
        raise error


def test_an_error_without_fields_is_not_an_outage() -> None:
    error = IntegrityError("INSERT", {}, Exception("duplicate"))
    assert sqlstate(error) is None and not is_outage(error)


@pytest.mark.parametrize(
    "error",
    [ConnectionResetError(104, "reset"), BrokenPipeError(32, "pipe"), TimeoutError("timed out")],
)
def test_a_socket_error_the_driver_let_through_is_an_outage(error: OSError) -> None:
    with pytest.raises(DependencyUnavailable, match=type(error).__name__), outages_as_unavailable():
        raise error
