"""Mailgun inbound routes (``forward()``/``store(notify=…)``): form-urlencoded or multipart.

Fields: ``recipient``, ``sender``, ``from``, ``subject``, ``body-plain``, ``body-html``,
``stripped-text``, ``message-headers`` (JSON list of ``[name, value]``), ``attachment-count``,
``attachment-1..N`` (files), ``content-id-map``, the top-level headers (``Message-Id``, ``Date``,
``To`` …), and ``timestamp``/``token``/``signature``. A route whose URL ends in ``mime`` posts
the original message in ``body-mime`` instead of the parsed bodies.

Authenticity: hex HMAC-SHA256 of ``timestamp + token`` with the signing key; each token is
claimed in the replay cache by the intake service (a token may carry only one email). The
credentials are inside the body, so the form is parsed first; when our parser refuses it, they
are read leniently (:func:`~shared.intake.forms.salvage_fields`) and, if they verify, the
refusal is an authenticated one: the body is kept under ``rejected/`` and Mailgun told not to
retry. A refusal we could not authenticate keeps its own 400/415, which Mailgun retries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from shared.config import Settings
from shared.intake.auth import verify_mailgun
from shared.intake.canonical import InboundEmail
from shared.intake.errors import (
    FINAL,
    AttachmentsNotReceived,
    MalformedPayload,
    Unauthenticated,
    after_authentication,
)
from shared.intake.forms import Form, parse_form, salvage_fields
from shared.intake.providers._common import attachment_count, merge_headers, numbered
from shared.intake.rebuild import Attachment, build_mime, check_original
from shared.logs import log_event

logger = logging.getLogger(__name__)

FINAL_STATUS = 406  # Mailgun does not retry a 406 (every other non-2xx is retried for hours)
_CREDENTIALS = ("timestamp", "token", "signature")
_FIELD_HEADERS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-Id",
    "In-Reply-To",
    "References",
)


def parse_mailgun(
    body: bytes, headers: Mapping[str, str], settings: Settings, now: float
) -> InboundEmail:
    content_type = headers.get("Content-Type")
    try:
        form = parse_form(body, content_type, max_bytes=settings.webhook_max_body_bytes)
    except FINAL:
        token = _authentic_token(salvage_fields(body, content_type, _CREDENTIALS), settings, now)
        if token is None:
            raise
        with after_authentication(replay_token=token):
            raise
    token = form.text("token")
    _verify(form.text("timestamp"), token, form.text("signature"), settings, now)
    assert token is not None
    with after_authentication(replay_token=token):
        return _email_from_form(form, token)


def _verify(
    timestamp: str | None, token: str | None, signature: str | None, settings: Settings, now: float
) -> None:
    verify_mailgun(
        timestamp=timestamp,
        token=token,
        signature=signature,
        signing_key=settings.webhook_mailgun_signing_key,
        now=now,
        tolerance_seconds=settings.webhook_timestamp_tolerance_seconds,
    )


def _authentic_token(found: Mapping[str, str], settings: Settings, now: float) -> str | None:
    """The token of credentials read from a refused body, when they verify; ``None`` when they
    are missing or wrong (the refusal then stays unauthenticated). A missing signing key is
    still :class:`~shared.intake.errors.NotConfigured`: a 503, retried until it is set."""
    token = found.get("token")
    try:
        _verify(found.get("timestamp"), token, found.get("signature"), settings, now)
    except Unauthenticated:
        return None
    return token


def _email_from_form(form: Form, token: str) -> InboundEmail:
    form.strict_text("recipient", required=True)
    raw_mime = form.fields.get("body-mime")
    if raw_mime is not None:
        original = check_original(raw_mime, what="field 'body-mime'")
        return original.inbound("mailgun", replay_token=token)
    _require_attachment_files(form)
    rebuilt = build_mime(
        _headers(form),
        text=form.text("body-plain"),
        html=form.text("body-html"),
        attachments=_attachments(form),
    )
    return rebuilt.inbound("mailgun", replay_token=token)


def _require_attachment_files(form: Form) -> None:
    """Refuse a post whose attachments are only listed as URLs (``attachments``, a JSON list):
    what a route using ``store(notify=…)`` posts, where ``forward()`` posts the files. The
    email must not be processed without them; Mailgun keeps stored messages for a few days,
    so an operator can fix the route and fetch the message again."""
    listed = form.json("attachments")
    if listed is None or listed == []:
        return
    if not isinstance(listed, list):
        raise MalformedPayload("field 'attachments' is not a list")
    log_event(
        logger,
        "webhook_attachments_not_received",
        level=logging.ERROR,
        provider="mailgun",
        attachments_listed=len(listed),
        attachment_files=len(numbered(form.files, "attachment-")),
        action="configure the Mailgun route with forward(), not store()",
    )
    raise AttachmentsNotReceived(
        f"Mailgun listed {len(listed)} attachment(s) as URLs instead of posting the files: "
        "the route uses store(); configure it with forward() so attachments are posted"
    )


def _headers(form: Form) -> list[tuple[str, str]]:
    listed = form.json("message-headers")
    headers: list[tuple[str, str]] = []
    if listed is not None:
        if not isinstance(listed, list):
            raise MalformedPayload("field 'message-headers' is not a list of [name, value]")
        for pair in listed:
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(item, str) for item in pair)
            ):
                raise MalformedPayload("field 'message-headers' is not a list of [name, value]")
            headers.append((pair[0], pair[1]))
    fields = {name.lower(): name for name in form.fields}
    fallback = [
        (name, form.text(fields[name.lower()]) if name.lower() in fields else None)
        for name in _FIELD_HEADERS
    ]
    merged = merge_headers(headers, fallback)
    if not merged:
        raise MalformedPayload("no message headers (neither 'message-headers' nor 'from')")
    return merged


def _attachments(form: Form) -> list[Attachment]:
    declared = attachment_count(form.strict_text("attachment-count"), "attachment-count")
    present = numbered(form.files, "attachment-")
    if declared is not None and [n for n, _ in present] != list(range(1, declared + 1)):
        raise MalformedPayload("'attachment-count' does not match the attachment-N files")
    content_ids = _content_ids(form)
    attachments = []
    for _, name in present:
        part = form.files[name]
        attachments.append(
            Attachment(
                filename=part.filename,
                content_type=part.content_type or "application/octet-stream",
                data=part.data,
                content_id=content_ids.get(name),
            )
        )
    return attachments


def _content_ids(form: Form) -> dict[str, str]:
    mapping = form.json("content-id-map")
    if mapping is None:
        return {}
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise MalformedPayload("field 'content-id-map' is not an object of strings")
    return {attachment: cid for cid, attachment in mapping.items()}
