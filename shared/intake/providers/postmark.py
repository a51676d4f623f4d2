"""Postmark inbound webhook: one JSON object, HTTP Basic credentials in the webhook URL.

``From``/``FromName``/``FromFull``, ``To``, ``Cc``, ``Bcc``, ``ReplyTo``, ``Subject``, ``Date``,
``MessageID`` (Postmark's own id: kept as ``provider_message_id``), ``TextBody``, ``HtmlBody``,
``Headers`` (``[{Name, Value}]``: the real Message-ID is there), ``Attachments``
(``[{Name, Content (base64), ContentType, ContentLength, ContentID}]``), optional ``RawEmail``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from email.utils import formataddr, quote
from typing import Any

from shared.config import Settings
from shared.intake.auth import verify_basic_auth
from shared.intake.canonical import InboundEmail
from shared.intake.errors import MalformedPayload, UnsupportedMediaType
from shared.intake.forms import media_type, strict_json
from shared.intake.providers._common import MAX_ATTACHMENTS, merge_headers
from shared.intake.rebuild import Attachment, build_mime, check_original, clean_header_value

FINAL_STATUS = 403  # Postmark stops retrying on a 403


def authenticate_postmark(headers: Mapping[str, str], settings: Settings) -> None:
    verify_basic_auth(
        headers.get("Authorization"),
        username=settings.webhook_postmark_username,
        password=settings.webhook_postmark_password,
        provider="postmark",
    )


def parse_postmark(
    body: bytes, headers: Mapping[str, str], settings: Settings, now: float
) -> InboundEmail:
    mimetype, _ = media_type(headers.get("Content-Type"))
    if mimetype != "application/json":
        raise UnsupportedMediaType("expected application/json")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("body is not valid UTF-8 JSON") from None
    payload = strict_json(text, what="body")
    if not isinstance(payload, dict):
        raise MalformedPayload("body is not a JSON object")
    provider_id = _string(payload, "MessageID")
    raw = _string(payload, "RawEmail")
    if raw:
        original = check_original(raw.encode("utf-8", "surrogatepass"), what="'RawEmail'")
        return original.inbound("postmark", provider_message_id=provider_id)
    sender = _string(payload, "From")
    if not sender:
        raise MalformedPayload("missing required field 'From'")
    rebuilt = build_mime(
        _headers(payload, sender),
        text=_string(payload, "TextBody"),
        html=_string(payload, "HtmlBody"),
        attachments=_attachments(payload),
    )
    return rebuilt.inbound("postmark", provider_message_id=provider_id)


def _string(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"field {key!r} is not a string")
    return value


def _headers(payload: Mapping[str, Any], sender: str) -> list[tuple[str, str]]:
    name = _string(payload, "FromName")
    from_full = payload.get("FromFull")
    if isinstance(from_full, dict) and isinstance(from_full.get("Name"), str):
        name = name or from_full["Name"]
    top = [
        ("From", _from_header(name, sender)),
        ("To", _string(payload, "To")),
        ("Cc", _string(payload, "Cc")),
        ("Reply-To", _string(payload, "ReplyTo")),
        ("Subject", _string(payload, "Subject")),
        ("Date", _string(payload, "Date")),
    ]
    listed = payload.get("Headers")
    listed = [] if listed is None else listed
    if not isinstance(listed, list):
        raise MalformedPayload("field 'Headers' is not a list")
    extra: list[tuple[str, str | None]] = []
    for item in listed:
        if not isinstance(item, dict):
            raise MalformedPayload("field 'Headers' holds a non-object")
        extra.append((_header_name(item), _string(item, "Value")))
    primary = [(n, v) for n, v in top if v]
    return merge_headers(primary, extra)


def _from_header(name: str | None, address: str) -> str:
    """``Name <address>`` (the name quoted or RFC 2047-encoded as needed), or the bare address
    when there is no name.

    The name is cleaned first: a lone surrogate cannot be encoded. ``formataddr`` refuses an
    internationalised address (``josé@example.com``), so beside one the name is quoted as it
    is; the rebuild writes a non-ASCII address header in UTF-8, where both read back."""
    cleaned = clean_header_value(name) if name else ""
    if not cleaned:
        return address
    if address.isascii():
        return formataddr((cleaned, address))
    return f'"{quote(cleaned)}" <{address}>'


def _header_name(item: Mapping[str, Any]) -> str:
    value = _string(item, "Name")
    if not value:
        raise MalformedPayload("a header in 'Headers' has no Name")
    return value


def _attachments(payload: Mapping[str, Any]) -> list[Attachment]:
    listed = payload.get("Attachments")
    listed = [] if listed is None else listed
    if not isinstance(listed, list) or len(listed) > MAX_ATTACHMENTS:
        raise MalformedPayload("field 'Attachments' is not a list of attachments")
    attachments = []
    for index, item in enumerate(listed, start=1):
        if not isinstance(item, dict):
            raise MalformedPayload(f"attachment {index} is not an object")
        content = _string(item, "Content") or ""
        try:
            data = base64.b64decode(content.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise MalformedPayload(f"attachment {index} has invalid base64 content") from None
        attachments.append(
            Attachment(
                filename=_string(item, "Name"),
                content_type=_string(item, "ContentType") or "application/octet-stream",
                data=data,
                content_id=_string(item, "ContentID"),
            )
        )
    return attachments
