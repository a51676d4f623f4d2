"""Which exceptions are dependency failures a breaker counts.

:func:`counts_as_failure` answers for one exception raised by a protected call:

``True``
    the dependency is down or unreachable: timeouts, lost or refused connections, HTTP 5xx
    (529 overloaded included) and 408. The breaker counts it.
``False``
    the dependency answered, and the answer was "no" for this request: HTTP 4xx other than
    408, 429 rate limits (back off, not an outage), GCS "not found", MongoDB errors about the
    request (duplicate key, bad query), "no match", and every :class:`shared.errors.PermanentError`.
    Neither counted nor a success: the streak of real failures is left as it is.
``None``
    nothing says it is about the dependency (a bug in the caller, an unknown library error).
    The breaker treats it like ``False``: a breaker must not open because of our own bugs.

Classification is by attributes (``status_code``, ``code``, ``response.status_code``) and by the
types of the client libraries that are already imported (nothing is imported here, so cold starts
stay cheap); the cause chain (``raise … from exc``) is followed when the outer exception says
nothing. That makes wrappers such as ``shared.extraction.errors.ClaudeRateLimited`` (a
``DependencyUnavailable`` with ``status_code=429``) classify correctly without importing them.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from shared.errors import BreakerOpenError, DependencyUnavailable, InstanceBusy, PermanentError

# MongoDB server error codes that mean the server (not the request) is in trouble.
_MONGO_SERVER_CODES = frozenset(
    {
        6,  # HostUnreachable
        7,  # HostNotFound
        50,  # MaxTimeMSExpired
        89,  # NetworkTimeout
        91,  # ShutdownInProgress
        189,  # PrimarySteppedDown
        262,  # ExceededTimeLimit
        9001,  # SocketException
        10107,  # NotWritablePrimary
        11600,  # InterruptedAtShutdown
        11602,  # InterruptedDueToReplStateChange
        13435,  # NotPrimaryNoSecondaryOk
        13436,  # NotPrimaryOrSecondary
    }
)
_MAX_CAUSE_DEPTH = 5


def counts_as_failure(exc: BaseException) -> bool | None:
    """``True`` counts, ``False`` is neutral (no count, no reset), ``None`` is unknown (neutral)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    for _ in range(_MAX_CAUSE_DEPTH):
        if current is None or id(current) in seen:
            return None
        seen.add(id(current))
        verdict = _classify_one(current)
        if verdict is not None:
            return verdict
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return None


def status_counts(status: int) -> bool:
    """HTTP status rule: 5xx (529 included) and 408 count; every other status does not."""
    return status >= 500 or status == 408


def _http_status(exc: BaseException) -> int | None:
    for candidate in (
        getattr(exc, "status_code", None),
        getattr(exc, "code", None),
        getattr(getattr(exc, "response", None), "status_code", None),
    ):
        if (
            isinstance(candidate, int)
            and not isinstance(candidate, bool)
            and 100 <= candidate <= 599
        ):
            return candidate
    return None


def _classify_one(exc: BaseException) -> bool | None:
    if isinstance(exc, BreakerOpenError):
        return None  # another breaker refused: says nothing about this dependency
    for check in (_classify_mongo, _classify_status, _classify_anthropic, _classify_google):
        verdict = check(exc)
        if verdict is not None:
            return verdict
    for check in (_classify_http_clients, _classify_ours):
        verdict = check(exc)
        if verdict is not None:
            return verdict
    return None


def _classify_status(exc: BaseException) -> bool | None:
    status = _http_status(exc)
    return None if status is None else status_counts(status)


def _classify_ours(exc: BaseException) -> bool | None:
    if isinstance(exc, InstanceBusy):  # our own queue, not the dependency
        return False
    if isinstance(exc, DependencyUnavailable):
        return True
    if isinstance(exc, PermanentError):
        return False
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror | socket.herror):
        return True
    return None


def _module(name: str) -> Any:
    """A client library's module only if the process already imported it."""
    return sys.modules.get(name)


def _classify_anthropic(exc: BaseException) -> bool | None:
    anthropic = _module("anthropic")
    if anthropic is None:
        return None
    if isinstance(exc, anthropic.APIConnectionError):  # APITimeoutError is a subclass
        return True
    return None


def _classify_google(exc: BaseException) -> bool | None:
    exceptions = _module("google.api_core.exceptions")
    if exceptions is not None and isinstance(exc, exceptions.RetryError):
        # retries exhausted on a deadline: as its last error says (a 429 retried to the end
        # is still a rate limit), else an outage
        status = _http_status(exc.cause) if exc.cause is not None else None
        return True if status is None else status_counts(status)
    auth = _module("google.auth.exceptions")
    if auth is not None and isinstance(exc, auth.TransportError):
        return True
    return None


def _classify_http_clients(exc: BaseException) -> bool | None:
    requests_exc = _module("requests.exceptions")
    if requests_exc is not None and isinstance(
        exc, requests_exc.ConnectionError | requests_exc.Timeout
    ):
        return True
    urllib3_exc = _module("urllib3.exceptions")
    if urllib3_exc is not None and isinstance(
        exc,
        urllib3_exc.TimeoutError
        | urllib3_exc.ProtocolError
        | urllib3_exc.NewConnectionError
        | urllib3_exc.MaxRetryError,
    ):
        return True
    for name in ("httpx", "httpx2"):  # anthropic's transport, under either name
        httpx = _module(name)
        if httpx is not None and isinstance(exc, httpx.TransportError):
            return True
    return None


def _classify_mongo(exc: BaseException) -> bool | None:
    errors = _module("pymongo.errors")
    if errors is None or not isinstance(exc, errors.PyMongoError):
        return None
    if isinstance(exc, errors.ConnectionFailure):
        return True  # AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError, NotPrimary…
    if isinstance(exc, errors.ExecutionTimeout | errors.WTimeoutError):
        return True
    if isinstance(exc, errors.OperationFailure):
        return exc.code in _MONGO_SERVER_CODES
    return None


def describe_error(exc: BaseException) -> str:
    """``TypeName`` or ``TypeName status=503``: what ``last_error_type`` records (no message)."""
    status = _http_status(exc)
    if isinstance(exc, DependencyUnavailable) and getattr(exc, "error_type", None):
        name = f"{type(exc).__name__}({exc.error_type})"  # type: ignore[attr-defined]
    else:
        name = type(exc).__name__
    return (name if status is None else f"{name} status={status}")[:128]
