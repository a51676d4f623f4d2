"""Requests that pass authentication and are then refused as malformed."""

from __future__ import annotations

import time

from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS

KEY = LOCAL_WEBHOOK_SECRETS["WEBHOOK_MAILGUN_SIGNING_KEY"]


def malformed_mailgun(
    token: str, *, key: str = KEY, note: bytes = b""
) -> sign_request.SignedRequest:
    """A Mailgun post signed with ``key`` whose ``message-headers`` is not JSON (406 when the
    key is the right one). The body holds personal data, so tests can check it is never
    logged or copied into metadata."""
    stamp = str(int(time.time()))
    fields = [
        ("recipient", b"inbound@example.com"),
        ("timestamp", stamp.encode()),
        ("token", token.encode()),
        ("signature", sign_request.sign_mailgun(key, stamp, token).encode()),
        ("message-headers", b"[['From', 'x'" + note),
        ("body-plain", "Zahlung über 120 EUR".encode()),
    ]
    body, content_type = sign_request.encode_multipart(fields, [])
    return sign_request.SignedRequest("/mailgun", {"Content-Type": content_type}, body)
