"""The classification table: what counts as a dependency failure, what is neutral."""

from __future__ import annotations

import socket

import anthropic
import google.api_core.exceptions as gexc
import httpx2
import pymongo.errors as merr
import pytest
import requests
import urllib3.exceptions

from shared.breakers.classify import counts_as_failure, describe_error
from shared.errors import BreakerOpenError, DependencyUnavailable, InstanceBusy, MissingObject

_REQUEST = httpx2.Request("POST", "http://127.0.0.1:1/v1/messages")


def _status(status: int) -> anthropic.APIStatusError:
    return anthropic.APIStatusError(
        "error", response=httpx2.Response(status, request=_REQUEST), body=None
    )


class ClaudeRateLimited(DependencyUnavailable):
    """Shaped like shared.extraction.errors.ClaudeRateLimited (a 429 wrapper)."""

    def __init__(self) -> None:
        super().__init__("claude", "RateLimitError status=429")
        self.status_code = 429


class ClaudeUnavailable(DependencyUnavailable):
    def __init__(self, status_code: int | None) -> None:
        super().__init__("claude", "outage")
        self.error_type = "APITimeoutError"
        self.status_code = status_code


class NoMatch(LookupError):
    pass


COUNTS = [
    ("claude 500", _status(500)),
    ("claude 502", _status(502)),
    ("claude 503", _status(503)),
    ("claude 529 overloaded", _status(529)),
    ("claude 408", _status(408)),
    ("claude timeout", anthropic.APITimeoutError(request=_REQUEST)),
    ("claude connection", anthropic.APIConnectionError(request=_REQUEST)),
    ("wrapped outage without status", ClaudeUnavailable(None)),
    ("wrapped 503", ClaudeUnavailable(503)),
    ("DependencyUnavailable", DependencyUnavailable("gcs", "ReadTimeout")),
    ("gcs 503", gexc.ServiceUnavailable("down")),
    ("gcs deadline", gexc.DeadlineExceeded("slow")),
    ("gcs 500", gexc.InternalServerError("oops")),
    ("gcs retries exhausted", gexc.RetryError("deadline", cause=None)),
    (
        "gcs retries exhausted on 503",
        gexc.RetryError("deadline", cause=gexc.ServiceUnavailable("down")),
    ),
    ("requests connection", requests.exceptions.ConnectionError("refused")),
    ("requests timeout", requests.exceptions.ReadTimeout("slow")),
    ("urllib3 protocol", urllib3.exceptions.ProtocolError("reset")),
    ("refused", ConnectionRefusedError(111, "refused")),
    ("socket timeout", TimeoutError("timed out")),
    ("dns", socket.gaierror(-2, "Name or service not known")),
    ("mongo selection", merr.ServerSelectionTimeoutError("no servers")),
    ("mongo autoreconnect", merr.AutoReconnect("lost")),
    ("mongo network timeout", merr.NetworkTimeout("slow")),
    ("mongo connection", merr.ConnectionFailure("down")),
    ("mongo maxTimeMS", merr.ExecutionTimeout("slow", code=50)),
    ("mongo shutting down", merr.OperationFailure("shutdown", code=91)),
]

NEUTRAL = [
    ("claude 400", _status(400)),
    ("claude 401", _status(401)),
    ("claude 404", _status(404)),
    ("claude 413", _status(413)),
    ("claude 429", _status(429)),
    ("wrapped 429 (ClaudeRateLimited)", ClaudeRateLimited()),
    ("gcs not found", gexc.NotFound("no such object")),
    ("gcs 429", gexc.TooManyRequests("slow down")),
    # GCS's own retry gives up on a rate limit with a RetryError: still a rate limit
    ("gcs retries exhausted on 429", gexc.RetryError("deadline", cause=gexc.TooManyRequests("x"))),
    ("gcs 403", gexc.Forbidden("no")),
    ("missing object", MissingObject("raw email not in bucket")),
    ("our own queue", InstanceBusy("lookup queries not run in time")),
    ("mongo duplicate key", merr.DuplicateKeyError("dup", 11000)),
    ("mongo bad query", merr.OperationFailure("bad", code=2)),
]

UNKNOWN = [
    ("a bug", ValueError("bad value")),
    ("no match", NoMatch("no account")),
    ("another breaker open", BreakerOpenError("gcs")),
    ("file not found", FileNotFoundError("x")),
]


@pytest.mark.parametrize(("label", "exc"), COUNTS, ids=[c[0] for c in COUNTS])
def test_counts(label: str, exc: BaseException) -> None:
    assert counts_as_failure(exc) is True


@pytest.mark.parametrize(("label", "exc"), NEUTRAL, ids=[c[0] for c in NEUTRAL])
def test_neutral(label: str, exc: BaseException) -> None:
    assert counts_as_failure(exc) is False


@pytest.mark.parametrize(("label", "exc"), UNKNOWN, ids=[c[0] for c in UNKNOWN])
def test_unknown_is_none(label: str, exc: BaseException) -> None:
    assert counts_as_failure(exc) is None


def test_cause_chain_is_followed_when_the_outer_error_says_nothing() -> None:
    try:
        try:
            raise anthropic.APITimeoutError(request=_REQUEST)
        except anthropic.APITimeoutError as inner:
            raise RuntimeError("extract failed") from inner
    except RuntimeError as outer:
        assert counts_as_failure(outer) is True


def test_outer_verdict_wins_over_the_cause() -> None:
    outer = ClaudeRateLimited()
    outer.__cause__ = anthropic.APITimeoutError(request=_REQUEST)
    assert counts_as_failure(outer) is False


def test_describe_error_names_type_and_status_only() -> None:
    secret = _status(503)
    assert describe_error(secret) == "APIStatusError status=503"
    wrapped = ClaudeUnavailable(None)
    assert describe_error(wrapped) == "ClaudeUnavailable(APITimeoutError)"
    assert describe_error(ValueError("debtor John Doe owes 100")) == "ValueError"


def test_agrees_with_the_extraction_errors_is_outage() -> None:
    from shared.extraction import errors as extraction

    samples: list[BaseException] = [
        extraction.ClaudeUnavailable("APITimeoutError"),
        extraction.ClaudeUnavailable("InternalServerError", status_code=500),
        extraction.ClaudeUnavailable("OverloadedError", status_code=529),
        extraction.ClaudeUnavailable("RequestTimeoutError", status_code=408),
        extraction.ClaudeRateLimited(retry_after=2.0),
        extraction.ClaudeRequestRejected("BadRequestError", 400),
        extraction.MalformedModelAnswer("no_tool_use"),
        _status(503),
        _status(429),
        _status(400),
        anthropic.APITimeoutError(request=_REQUEST),
    ]
    for exc in samples:
        assert (counts_as_failure(exc) is True) == extraction.is_outage(exc), repr(exc)


@pytest.mark.parametrize(
    ("error", "counted"),
    [
        (gexc.TooManyRequests("slow down"), False),
        (gexc.Forbidden("no"), False),
        (gexc.BadRequest("bad"), False),
        (gexc.RetryError("deadline", cause=gexc.TooManyRequests("slow down")), False),
        (gexc.ServiceUnavailable("down"), True),
        (gexc.RetryError("deadline", cause=None), True),
    ],
    ids=["429", "403", "400", "retried-429", "503", "deadline"],
)
def test_the_raw_email_reads_wrapper_keeps_what_the_breaker_needs(
    error: Exception, counted: bool
) -> None:
    """The processor's GCS read wraps the client's errors; the status must survive it."""
    from shared.config import load_settings
    from shared.errors import DependencyUnavailable
    from shared.processing.raw_emails import GcsRawEmailStore

    class Blob:
        def download_as_bytes(self, **_: object) -> bytes:
            raise error

    class Client:
        def bucket(self, _: str) -> Client:
            return self

        def blob(self, _: str) -> Blob:
            return Blob()

    store = GcsRawEmailStore(load_settings({}))
    store._client = Client()  # the client the store would have made
    with pytest.raises(DependencyUnavailable) as raised:
        store.read("raw-emails", "2026/01/01/e.eml")
    assert counts_as_failure(raised.value) is counted
