"""``POST /raw``: one RFC 5322 message (``Content-Type: message/rfc822``), for any other relay
and for operators' replays. ``X-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``."""

from __future__ import annotations

from collections.abc import Mapping

from shared.config import Settings
from shared.intake.auth import verify_raw_signature
from shared.intake.canonical import InboundEmail
from shared.intake.errors import UnsupportedMediaType, after_authentication
from shared.intake.forms import media_type
from shared.intake.rebuild import check_original

FINAL_STATUS = None  # our own relays: plain 400/415


def parse_raw(
    body: bytes, headers: Mapping[str, str], settings: Settings, now: float
) -> InboundEmail:
    verify_raw_signature(
        headers.get("X-Signature"),
        body,
        secret=settings.webhook_raw_secret,
        now=now,
        tolerance_seconds=settings.webhook_timestamp_tolerance_seconds,
    )
    with after_authentication():
        mimetype, _ = media_type(headers.get("Content-Type"))
        if mimetype != "message/rfc822":
            raise UnsupportedMediaType("expected Content-Type: message/rfc822")
        original = check_original(body, what="body")
    return original.inbound("raw")
