"""One exception hierarchy; it decides what Pub/Sub does with a delivery.

    ProcessingError
    ├── TransientError          raise → the processor answers 5xx → Pub/Sub redelivers
    │   ├── DependencyUnavailable   timeouts, 5xx/529, lost connections (GCS, Mongo, Claude, SMTP)
    │   ├── BreakerOpenError         a breaker is open: do not call, retry later
    │   └── LeaseHeldError           another instance is processing this email right now
    └── PermanentError          acknowledge with a ``failed`` report saying why
        ├── InvalidMessage          the envelope or body can never be processed
        └── MissingObject           the raw email is not in the bucket

Messages never contain email content, personal data or secrets: they name the stage, the
dependency and the error type, which is what operators search for.
"""

from __future__ import annotations


class ProcessingError(Exception):
    """Base of every error the pipeline raises on purpose."""

    stage: str = "unknown"

    def __init__(self, message: str, *, stage: str | None = None) -> None:
        super().__init__(message)
        if stage is not None:
            self.stage = stage


class TransientError(ProcessingError):
    """Retry later: the same delivery may succeed."""


class DependencyUnavailable(TransientError):
    """A dependency timed out, answered 5xx, or dropped the connection (or, with
    ``status_code``, answered that HTTP status: the breakers count a 429 or a 4xx as no outage)."""

    def __init__(
        self,
        dependency: str,
        message: str,
        *,
        stage: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(f"{dependency}: {message}", stage=stage)
        self.dependency = dependency
        self.status_code: int | None = status_code


class BreakerOpenError(TransientError):
    """The named circuit breaker is open; the call was not made."""

    def __init__(self, breaker: str, *, stage: str | None = None) -> None:
        super().__init__(f"circuit breaker {breaker!r} is open", stage=stage)
        self.breaker = breaker


class InstanceBusy(TransientError):
    """This instance's own queue (its threads) did not get to a call in time: retry later. Says
    nothing about the dependency, so no circuit breaker counts it."""


class LeaseHeldError(TransientError):
    """Another instance holds an unexpired lease on this email."""


class PermanentError(ProcessingError):
    """Retrying cannot help; acknowledge with a ``failed`` report."""


class InvalidMessage(PermanentError):
    """The Pub/Sub envelope or its body is malformed."""


class MissingObject(PermanentError):
    """The raw email object does not exist."""
