"""Errors of the extraction stage, placed in the hierarchy of :mod:`shared.errors`.

    TransientError
    ├── DependencyUnavailable
    │   ├── ClaudeUnavailable      timeout, lost connection, 5xx, 529 overloaded, 408  (outage)
    │   └── ClaudeRateLimited      429: the API is up but throttling us  (not an outage)
    └── MalformedModelAnswer       no tool_use block, stop_reason max_tokens, wrong top-level
                                   types, unparseable body; the pipeline falls back to the rules
                                   extractor after repeated malformed answers
    PermanentError
    └── ClaudeRequestRejected      any other 4xx (400 invalid request, 401/403 key, 413 too large)

:func:`is_outage` is what circuit breakers count: True for outages, False for rate limits,
rejected requests and malformed answers. Messages name the error type and HTTP status only,
never email content or the API key.
"""

from __future__ import annotations

from shared.errors import (
    DependencyUnavailable,
    PermanentError,
    ProcessingError,
    TransientError,
)
from shared.extraction.models import TokenUsage

DEPENDENCY = "claude"
STAGE = "extract"


class ClaudeUnavailable(DependencyUnavailable):
    """The Messages API timed out, dropped the connection, or answered 5xx/529/408."""

    def __init__(self, error_type: str, *, status_code: int | None = None) -> None:
        detail = error_type if status_code is None else f"{error_type} status={status_code}"
        super().__init__(DEPENDENCY, detail, stage=STAGE)
        self.error_type = error_type
        self.status_code = status_code


class ClaudeRateLimited(DependencyUnavailable):
    """429: retry later (after ``retry_after`` seconds when the API said so)."""

    def __init__(self, retry_after: float | None = None) -> None:
        detail = "RateLimitError status=429"
        if retry_after is not None:
            detail += f" retry_after={retry_after:g}s"
        super().__init__(DEPENDENCY, detail, stage=STAGE)
        self.error_type = "RateLimitError"
        self.status_code = 429
        self.retry_after = retry_after


class MalformedModelAnswer(TransientError):
    """The model answered, but not with a usable tool call; ``reason`` is a short code."""

    def __init__(self, reason: str, usage: TokenUsage | None = None) -> None:
        super().__init__(f"claude: malformed answer ({reason})", stage=STAGE)
        self.reason = reason
        self.usage = usage  # tokens spent on the useless answer, when there was one


class ClaudeRequestRejected(PermanentError):
    """A 4xx other than 408/429: the same request will be rejected again."""

    def __init__(self, error_type: str, status_code: int) -> None:
        super().__init__(f"claude: {error_type} status={status_code}", stage=STAGE)
        self.error_type = error_type
        self.status_code = status_code


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` means Claude is down or unreachable (what a breaker should count).

    Accepts the errors of this module and raw anthropic SDK exceptions alike.
    """
    if not isinstance(exc, ProcessingError):
        from shared.extraction.claude import map_sdk_error

        mapped = map_sdk_error(exc)
        if mapped is None:
            return False
        exc = mapped
    if isinstance(exc, ClaudeRateLimited):
        return False
    if isinstance(exc, ClaudeUnavailable):
        return True
    if isinstance(exc, DependencyUnavailable):
        return exc.dependency == DEPENDENCY
    return False
