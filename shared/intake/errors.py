"""Why the webhook refuses a request, and which HTTP status says so.

    IntakeRejection                      answered with its ``status`` and a JSON error
    ├── Unauthenticated (401)            bad/missing signature or credentials, stale timestamp
    ├── ReplayedRequest (403)            a Mailgun token seen before
    ├── PayloadTooLarge (413)            body over WEBHOOK_MAX_BODY_BYTES (declared or read)
    ├── RequestTimeout (408)             the body stalled or took longer than the deadline
    ├── IncompleteBody (400)             the body ended before its Content-Length, or the
    │                                    client reset the connection: the provider retries
    ├── UnsupportedMediaType (415)       wrong Content-Type for the route
    ├── MalformedPayload (400; authenticated: the provider's "do not retry" where it has one)
    │   └── AttachmentsNotReceived       attachments listed as URLs, not posted (Mailgun store())
    ├── NotConfigured (503)              the route's secret is not set: the provider retries
    └── IntakeUnavailable (503)          GCS or Pub/Sub failed or timed out: the provider retries

Messages name the problem ("field 'subject' is not valid UTF-8"), never the payload's content,
so they are safe to return and to log.

A rejection raised inside :func:`after_authentication` is marked ``authenticated``: the sender
proved who it is before the body was refused, so the handler keeps the body (see
:mod:`shared.intake.quarantine`) when the rejection is :data:`FINAL` (malformed, wrong type).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class IntakeRejection(Exception):
    """The request is answered with ``status`` and ``{"error": code, "detail": message}``."""

    status: int = 400
    code: str = "rejected"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.authenticated = False
        self.replay_token: str | None = None


class Unauthenticated(IntakeRejection):
    status = 401
    code = "unauthenticated"


class ReplayedRequest(IntakeRejection):
    status = 403
    code = "replayed"


class PayloadTooLarge(IntakeRejection):
    status = 413
    code = "payload_too_large"


class RequestTimeout(IntakeRejection):
    """The client stopped sending its body, or sent it too slowly; the provider retries."""

    status = 408
    code = "request_timeout"


class IncompleteBody(IntakeRejection):
    """Fewer bytes than the declared Content-Length arrived (the client half-closed or reset):
    the request never arrived whole, so nothing is kept and the provider retries."""

    status = 400
    code = "incomplete_body"


class UnsupportedMediaType(IntakeRejection):
    status = 415
    code = "unsupported_media_type"


class MalformedPayload(IntakeRejection):
    """The body can never become an email. The route maps it to the provider's final status
    when the request was authenticated."""

    status = 400
    code = "malformed_payload"


class AttachmentsNotReceived(MalformedPayload):
    """The provider listed the email's attachments (as URLs) instead of posting them: a
    Mailgun route using ``store()`` where ``forward()`` is needed. Processing the email
    without them would lose what they say, so it is refused and kept under ``rejected/``."""

    code = "attachments_not_received"


class NotConfigured(IntakeRejection):
    status = 503
    code = "not_configured"


class IntakeUnavailable(IntakeRejection):
    """A dependency (``gcs`` or ``pubsub``) failed; nothing was acknowledged."""

    status = 503
    code = "unavailable"

    def __init__(self, dependency: str, message: str) -> None:
        super().__init__(f"{dependency}: {message}")
        self.dependency = dependency


FINAL: tuple[type[IntakeRejection], ...] = (MalformedPayload, UnsupportedMediaType)
"""Rejections that can never succeed on retry: for an authenticated request, whose body is then
kept, answered with the provider's "do not retry"."""


@contextmanager
def after_authentication(replay_token: str | None = None) -> Iterator[None]:
    """Mark every rejection raised inside as coming from an authenticated request (with the
    Mailgun token that authenticated it, when there is one)."""
    try:
        yield
    except IntakeRejection as rejection:
        rejection.authenticated = True
        rejection.replay_token = replay_token
        raise
