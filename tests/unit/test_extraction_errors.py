"""is_outage: what the Claude breaker counts."""

from __future__ import annotations

import anthropic
import httpx2
import pytest

from shared.errors import BreakerOpenError, DependencyUnavailable, PermanentError, TransientError
from shared.extraction.claude import map_sdk_error
from shared.extraction.errors import (
    ClaudeRateLimited,
    ClaudeRequestRejected,
    ClaudeUnavailable,
    MalformedModelAnswer,
    is_outage,
)

REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/messages")


def status_error(status: int, headers: dict[str, str] | None = None) -> anthropic.APIStatusError:
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    client = anthropic.Anthropic(api_key="k", base_url="http://127.0.0.1:9")
    return client._make_status_error("boom", body=None, response=response)


@pytest.mark.parametrize(
    ("exc", "outage"),
    [
        (ClaudeUnavailable("APITimeoutError"), True),
        (ClaudeUnavailable("OverloadedError", status_code=529), True),
        (ClaudeRateLimited(3), False),
        (MalformedModelAnswer("no_tool_use"), False),
        (ClaudeRequestRejected("BadRequestError", 400), False),
        (DependencyUnavailable("claude", "x"), True),
        (DependencyUnavailable("mongodb", "x"), False),
        (BreakerOpenError("claude"), False),
        (ValueError("x"), False),
    ],
)
def test_is_outage(exc: BaseException, outage: bool) -> None:
    assert is_outage(exc) is outage


@pytest.mark.parametrize(
    ("status", "kind", "outage"),
    [
        (500, ClaudeUnavailable, True),
        (502, ClaudeUnavailable, True),
        (503, ClaudeUnavailable, True),
        (504, ClaudeUnavailable, True),
        (529, ClaudeUnavailable, True),
        (408, ClaudeUnavailable, True),
        (429, ClaudeRateLimited, False),
        (400, ClaudeRequestRejected, False),
        (401, ClaudeRequestRejected, False),
        (404, ClaudeRequestRejected, False),
        (413, ClaudeRequestRejected, False),
    ],
)
def test_raw_sdk_status_errors_map(status: int, kind: type, outage: bool) -> None:
    raw = status_error(status)
    assert isinstance(map_sdk_error(raw), kind)
    assert is_outage(raw) is outage


def test_raw_connection_errors_and_retry_after() -> None:
    assert is_outage(anthropic.APITimeoutError(REQUEST))
    assert is_outage(anthropic.APIConnectionError(request=REQUEST))
    limited = map_sdk_error(status_error(429, {"retry-after": "12"}))
    assert isinstance(limited, ClaudeRateLimited) and limited.retry_after == 12.0
    assert map_sdk_error(ValueError()) is None


def test_hierarchy() -> None:
    assert issubclass(ClaudeUnavailable, DependencyUnavailable)
    assert issubclass(ClaudeRateLimited, DependencyUnavailable)
    assert issubclass(MalformedModelAnswer, TransientError)
    assert issubclass(ClaudeRequestRejected, PermanentError)
    assert ClaudeUnavailable("X").stage == "extract"
