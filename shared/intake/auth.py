"""Authenticity checks: Mailgun's HMAC, HTTP Basic credentials, the ``/raw`` route's signature.

Every comparison is :func:`hmac.compare_digest` over bytes (a non-ASCII or wrong-length value is
simply unequal, never an exception). Timestamps are plain ASCII digits within
``WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS`` of now, in either direction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from shared.config import SecretStr
from shared.intake.errors import NotConfigured, Unauthenticated

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_MAX_SIGNATURE_HEADER = 2048


def _secret_bytes(secret: SecretStr | None, setting: str) -> bytes:
    if secret is None or not secret.get_secret_value():
        raise NotConfigured(f"{setting} is not set")
    return secret.get_secret_value().encode("utf-8")


def check_timestamp(value: str | None, *, now: float, tolerance_seconds: int) -> int:
    """The timestamp as an int, if it is digits and within the tolerance of ``now``."""
    if value is None or not _TIMESTAMP.fullmatch(value):
        raise Unauthenticated("missing or malformed timestamp")
    timestamp = int(value)
    if abs(now - timestamp) > tolerance_seconds:
        raise Unauthenticated("timestamp outside the allowed tolerance")
    return timestamp


def verify_mailgun(
    *,
    timestamp: str | None,
    token: str | None,
    signature: str | None,
    signing_key: SecretStr | None,
    now: float,
    tolerance_seconds: int,
) -> None:
    """``signature`` must be the hex HMAC-SHA256 of ``timestamp + token`` with the signing key."""
    key = _secret_bytes(signing_key, "WEBHOOK_MAILGUN_SIGNING_KEY")
    if not token or not signature:
        raise Unauthenticated("missing Mailgun token or signature")
    check_timestamp(timestamp, now=now, tolerance_seconds=tolerance_seconds)
    assert timestamp is not None
    expected = hmac.new(key, (timestamp + token).encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        raise Unauthenticated("bad Mailgun signature")


def verify_basic_auth(
    authorization: str | None,
    *,
    username: SecretStr | None,
    password: SecretStr | None,
    provider: str,
) -> None:
    """HTTP Basic credentials equal to the configured pair (both compared, always)."""
    prefix = f"WEBHOOK_{provider.upper()}"
    want_user = _secret_bytes(username, f"{prefix}_USERNAME")
    want_password = _secret_bytes(password, f"{prefix}_PASSWORD")
    if not authorization:
        raise Unauthenticated("missing Basic credentials")
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise Unauthenticated("missing Basic credentials")
    try:
        decoded = base64.b64decode(encoded.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise Unauthenticated("malformed Basic credentials") from None
    user, colon, secret = decoded.partition(b":")
    user_ok = hmac.compare_digest(user, want_user)
    password_ok = hmac.compare_digest(secret, want_password)
    if not (colon and user_ok and password_ok):
        raise Unauthenticated("bad Basic credentials")


def verify_raw_signature(
    header: str | None,
    body: bytes,
    *,
    secret: SecretStr | None,
    now: float,
    tolerance_seconds: int,
) -> None:
    """``X-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`` (several ``v1`` allowed, for
    secret rotation)."""
    key = _secret_bytes(secret, "WEBHOOK_RAW_SECRET")
    if not header or len(header) > _MAX_SIGNATURE_HEADER:
        raise Unauthenticated("missing or oversized X-Signature header")
    timestamp: str | None = None
    candidates: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and timestamp is None:
            timestamp = value
        elif name == "v1":
            candidates.append(value)
    if not candidates:
        raise Unauthenticated("X-Signature has no v1 signature")
    check_timestamp(timestamp, now=now, tolerance_seconds=tolerance_seconds)
    assert timestamp is not None
    signed = timestamp.encode("ascii") + b"." + body
    expected = hmac.new(key, signed, hashlib.sha256).hexdigest().encode("ascii")
    matches = [hmac.compare_digest(expected, c.encode("utf-8", "replace")) for c in candidates]
    if not any(matches):
        raise Unauthenticated("bad X-Signature")


def sign_mailgun(signing_key: str, timestamp: str, token: str) -> str:
    """What Mailgun sends as ``signature`` (used by tests and ``infra/sign_request.py``)."""
    message = (timestamp + token).encode("utf-8")
    return hmac.new(signing_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign_raw(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Signature`` header value for ``body`` at ``timestamp``."""
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
