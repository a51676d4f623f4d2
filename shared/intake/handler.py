"""Routes a webhook request to its provider, then stores and publishes the email.

    POST /mailgun    Mailgun route (form fields; HMAC signature + one-time token)
    POST /sendgrid   SendGrid Inbound Parse (multipart; Basic credentials)
    POST /postmark   Postmark inbound JSON (Basic credentials)
    POST /raw        message/rfc822 (X-Signature: t=…,v1=…)

Answers ``200 {"email_id", "correlation_id"}`` once the MIME is in GCS and Pub/Sub confirmed
the publish; otherwise the status of the :mod:`~shared.intake.errors` rejection, with a JSON
error and a warning log line that names the reason, never the payload. The body of an
authenticated request refused as malformed is kept first (:mod:`~shared.intake.quarantine`);
if it cannot be kept the answer is 503, so the provider retries.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import after_this_request, has_request_context
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import ClientDisconnected, HTTPException

from shared.allocator import release_after_large_payload
from shared.config import Settings, get_settings
from shared.context import current_correlation_id, new_correlation_id
from shared.intake.bootstrap import get_dependencies
from shared.intake.canonical import InboundEmail
from shared.intake.errors import (
    IncompleteBody,
    IntakeRejection,
    IntakeUnavailable,
    MalformedPayload,
    PayloadTooLarge,
    RequestTimeout,
    after_authentication,
)
from shared.intake.providers import mailgun, postmark, raw, sendgrid
from shared.intake.quarantine import RejectedRequest, keep_rejected, should_keep
from shared.intake.service import accept_email
from shared.intake.serving import RequestTimedOut, discard_unread_body, request_finished
from shared.logs import log_event

logger = logging.getLogger(__name__)

_READ_CHUNK = 64 * 1024

Parse = Callable[[bytes, Mapping[str, str], Settings, float], InboundEmail]
Authenticate = Callable[[Mapping[str, str], Settings], None]


@dataclass(frozen=True)
class Route:
    """One provider's route. ``final_status`` is the provider's "do not retry" answer, used for
    authenticated requests that can never succeed (malformed body, wrong content type), whose
    body is kept; ``None`` keeps the rejection's own 400/415."""

    provider: str
    parse: Parse
    final_status: int | None
    authenticate: Authenticate | None = None


ROUTES: dict[str, Route] = {
    "/mailgun": Route("mailgun", mailgun.parse_mailgun, mailgun.FINAL_STATUS),
    "/sendgrid": Route(
        "sendgrid",
        sendgrid.parse_sendgrid,
        sendgrid.FINAL_STATUS,
        sendgrid.authenticate_sendgrid,
    ),
    "/postmark": Route(
        "postmark",
        postmark.parse_postmark,
        postmark.FINAL_STATUS,
        postmark.authenticate_postmark,
    ),
    "/raw": Route("raw", raw.parse_raw, raw.FINAL_STATUS),
}


def handle_webhook(request: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The whole request: route, authenticate, normalise, store, publish, answer."""
    path = route_path(request.path, getattr(request, "environ", {}).get("RAW_URI"))
    route = ROUTES.get(path)
    if route is None:
        _body_done(request, None)
        return _error(404, "unknown_route", "POST to /mailgun, /sendgrid, /postmark or /raw")
    if request.method != "POST":
        _body_done(request, None)
        return _error(405, "method_not_allowed", "use POST", {"Allow": "POST"})
    settings = get_settings()
    correlation_id = current_correlation_id() or new_correlation_id()
    body: bytes | None = None
    oversized = False
    try:
        if route.authenticate is not None:
            route.authenticate(request.headers, settings)
        body = read_body(request, settings.webhook_max_body_bytes)
        dependencies = get_dependencies()
        email = _parse(route, body, request.headers, settings, dependencies.clock())
        accepted = accept_email(
            email,
            store=dependencies.store,
            publisher=dependencies.publisher,
            correlation_id=correlation_id,
            received_at=datetime.fromtimestamp(dependencies.clock(), UTC),
        )
    except IntakeRejection as rejection:
        oversized = isinstance(rejection, PayloadTooLarge)
        return _refuse(
            route, rejection, path=path, request=request, body=body, correlation_id=correlation_id
        )
    finally:
        _body_done(request, body, discard_rest=oversized)
    log_event(
        logger,
        "webhook_received",
        provider=route.provider,
        size_bytes=len(email.mime),
        attachment_count=email.attachment_count,
        content_source=email.source,
        has_message_id=email.message_id is not None,
        duplicate=accepted.duplicate,
        dropped_headers=email.dropped_headers,
    )
    return {"email_id": accepted.email_id, "correlation_id": correlation_id}, 200, {}


def _parse(
    route: Route, body: bytes, headers: Mapping[str, str], settings: Settings, now: float
) -> InboundEmail:
    if route.authenticate is None:  # the body carries its own proof, checked by ``parse``
        return route.parse(body, headers, settings, now)
    with after_authentication():  # the credentials were checked before the body was read
        return route.parse(body, headers, settings, now)


def _refuse(
    route: Route,
    rejection: IntakeRejection,
    *,
    path: str,
    request: Any,
    body: bytes | None,
    correlation_id: str,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Answer a rejection; first keep the body of an authenticated, malformed request (or
    answer 503 when it cannot be kept, so the provider retries)."""
    status = _status(route, rejection)
    if body is not None and should_keep(rejection):
        dependencies = get_dependencies()
        kept = RejectedRequest(
            provider=route.provider,
            route=path,
            content_type=request.headers.get("Content-Type"),
            body=body,
            rejection=rejection,
            status=status,
        )
        try:
            uri = keep_rejected(
                dependencies.store,
                kept,
                correlation_id=correlation_id,
                received_at=datetime.fromtimestamp(dependencies.clock(), UTC),
            )
        except IntakeRejection as failure:  # bucket down (503) or a reused Mailgun token (403)
            return _reject(route, failure)
        log_event(
            logger,
            "webhook_rejected_stored",
            level=logging.WARNING,
            provider=route.provider,
            reason=rejection.code,
            size_bytes=len(body),
            object=uri,
        )
    return _reject(route, rejection)


def route_path(path: str, raw_uri: str | None = None) -> str:
    """The route a request names: exact, one trailing slash allowed, decided on the request
    target as sent (``RAW_URI``) when the server gives it. gunicorn percent-decodes the path
    and reads ``//raw`` as ``/raw``, so ``/%2Fraw``, ``/raw%2F`` and ``//raw`` would all
    reach ``/raw``; on the raw target they name nothing, so a mistyped or crafted provider
    URL is a visible 404."""
    target = (raw_uri or path).split("?", 1)[0]
    if "://" in target:  # absolute form: http://host/raw
        target = "/" + target.split("://", 1)[1].partition("/")[2]
    if "//" in target or "//" in path:
        return "//"
    return target[:-1] if len(target) > 1 and target.endswith("/") else target


def read_body(request: Any, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes.

    A declared ``Content-Length`` over the limit is a 413 before anything is read; a chunked
    body is read 64 KiB at a time and refused as soon as it passes the limit, so no more than
    ``limit`` plus one read is ever held. A body shorter than its ``Content-Length`` (the
    client half-closed) or cut by a reset is an :class:`IncompleteBody`; a stalled or too slow
    one (:mod:`shared.intake.serving`) a :class:`RequestTimeout`; a chunked body gunicorn
    cannot parse (a bad chunk size or extension, a missing terminator, a bad or oversized
    trailer) a :class:`MalformedPayload`, whose message names none of the client's bytes
    (gunicorn's exceptions quote them). gunicorn then closes the connection after the answer.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"declared body of {declared} bytes exceeds {limit} bytes")
    stream = request.stream
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = stream.read(min(_READ_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"body exceeds {limit} bytes")
    except RequestTimedOut:
        raise RequestTimeout("the body was not received in time") from None
    except ClientDisconnected:
        raise IncompleteBody("the body ended before its Content-Length") from None
    except HTTPException:  # werkzeug's own refusal of the stream (never expected here)
        raise MalformedPayload("body could not be read") from None
    except ParseException:
        raise MalformedPayload("the chunked body is malformed") from None
    except OSError:  # reset by the client, or gunicorn's NoMoreData in a chunked body
        raise IncompleteBody("the connection broke while the body was read") from None
    if declared is not None and size < declared:
        raise IncompleteBody("the body ended before its Content-Length")
    body = b"".join(chunks)
    del chunks
    release_after_large_payload(len(body))
    return body


def _body_done(request: Any, body: bytes | None, *, discard_rest: bool = False) -> None:
    """functions-framework reads the whole body after the handler (``request.get_data()``, so
    that an early answer does not break the connection): hand it what was read, or nothing
    for a refused body, so an oversized one is never read into memory.

    An oversized body's 413 is written first; the rest of the body is then read and thrown
    away 64 KiB at a time (``discard_unread_body``, within the request deadline), so a client
    that sends its whole body before reading the answer (most do) gets the 413 rather than a
    reset; gunicorn alone would drain 64 KiB and close."""
    request._cached_data = body if body is not None else b""
    environ = getattr(request, "environ", {})
    if discard_rest and has_request_context():
        after_this_request(functools.partial(_discard_after_answer, environ))
    else:
        request_finished(environ)


def _discard_after_answer(environ: Any, response: Any) -> Any:
    response.call_on_close(functools.partial(discard_unread_body, environ))
    return response


def _status(route: Route, rejection: IntakeRejection) -> int:
    """The provider's "do not retry" only for a request that proved who it is and whose body is
    kept (:func:`~shared.intake.quarantine.should_keep`); any other refusal keeps its own
    status, which every provider retries, so an email our parser refuses before it could be
    authenticated (the credentials are inside a Mailgun body) is never dropped for good."""
    return route.final_status if should_keep(rejection) and route.final_status else rejection.status


def _reject(route: Route, rejection: IntakeRejection) -> tuple[dict[str, Any], int, dict[str, str]]:
    status = _status(route, rejection)
    unavailable = isinstance(rejection, IntakeUnavailable)
    log_event(
        logger,
        "webhook_unavailable" if unavailable else "webhook_rejected",
        level=logging.ERROR if status >= 500 else logging.WARNING,
        provider=route.provider,
        status=status,
        reason=rejection.code,
        detail=rejection.message,
    )
    headers = {"Retry-After": "30"} if status == 503 else {}
    return _error(status, rejection.code, rejection.message, headers)


def _error(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], int, dict[str, str]]:
    return {"error": code, "detail": detail}, status, headers or {}
