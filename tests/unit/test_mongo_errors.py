"""How the account repository reports MongoDB's errors: a server that is unavailable (a
failover, a shutdown, a write-concern timeout) is an outage the ``mongodb`` breaker counts; a
request the server refuses is not."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import OperationFailure, WTimeoutError

from shared.accounts.mongo import AccountQueryFailed, MongoAccountRepository
from shared.breakers.classify import counts_as_failure
from shared.config import load_settings
from shared.errors import DependencyUnavailable


def _raising(exc: Exception) -> Any:
    def run() -> Any:
        raise exc

    return run


@pytest.mark.parametrize(
    "error",
    [
        OperationFailure("primary stepped down", code=189),
        OperationFailure("shutting down", code=91),
        OperationFailure("host unreachable", code=6),
        OperationFailure("exceeded time limit", code=262),
        WTimeoutError("waiting for replication timed out", code=64),
    ],
    ids=["stepped-down", "shutdown", "unreachable", "time-limit", "write-concern-timeout"],
)
def test_an_unavailable_server_is_an_outage_the_breaker_counts(error: Exception) -> None:
    repository = MongoAccountRepository(load_settings({}))
    with pytest.raises(DependencyUnavailable) as raised:
        repository._call(_raising(error))
    assert counts_as_failure(raised.value) is True
    assert "code=" in str(raised.value) and "timed out" not in str(raised.value)


def test_a_refused_request_is_not_an_outage() -> None:
    repository = MongoAccountRepository(load_settings({}))
    with pytest.raises(AccountQueryFailed) as raised:
        repository._call(_raising(OperationFailure("bad value", code=2)))
    assert not counts_as_failure(raised.value)
