"""CSRF tokens and the security headers every console response carries.

CSRF: one random token per session (in the signed session cookie); every form carries it in a
hidden field and every POST is refused (403, nothing changed) unless the field matches the
session's token (compared in constant time). The session cookie is ``SameSite=Lax`` and
``HttpOnly`` (``Secure`` in production), a second line of defence.

NUL: Postgres refuses ``\x00`` in text, so a NUL in the path, the query or a form would fail
deep inside a view; every request carrying one is refused up front (400, nothing changed).

Content-Security-Policy: only the console's own stylesheet; no script at all (the pages need
none), images only from the console or ``data:`` (a remote image in an email is never
fetched), no framing (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``), forms post only
to the console. Attachments are served with their own stricter policy (``default-src
'none'``; ``sandbox`` too except for PDFs, which Chrome's viewer will not open sandboxed).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

from werkzeug.datastructures import MultiDict

CSRF_FIELD = "csrf_token"
_SESSION_KEY = "csrf_token"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Attachments: nothing loaded from anywhere, and sandboxed (no script, no same origin)...
ATTACHMENT_POLICY = "default-src 'none'; sandbox; frame-ancestors 'self'"
# ...except a PDF: Chrome's viewer refuses to open in a sandboxed document.
PDF_POLICY = "default-src 'none'; frame-ancestors 'self'"

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class CsrfRefused(Exception):
    """A POST without the session's CSRF token (403)."""


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's token, created on first use."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


def check_csrf(session: MutableMapping[str, Any], submitted: str | None) -> None:
    expected = session.get(_SESSION_KEY)
    if not isinstance(expected, str) or not submitted:
        raise CsrfRefused("missing CSRF token")
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfRefused("CSRF token does not match")


def carries_nul(path: str, *fields: MultiDict[str, str]) -> bool:
    """Whether ``path`` or any key or value of ``fields`` (query, form) holds a NUL."""
    if "\x00" in path:
        return True
    return any(
        "\x00" in key or "\x00" in value
        for field in fields
        for key, value in field.items(multi=True)
    )


def apply_headers(headers: Any, *, attachment: str | None = None) -> None:
    """The console's headers; ``attachment``: the content type of an attachment served."""
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if attachment:
        pdf = attachment == "application/pdf"
        headers["Content-Security-Policy"] = PDF_POLICY if pdf else ATTACHMENT_POLICY
        headers["X-Frame-Options"] = "SAMEORIGIN"
        # send_file asks for no-cache (revalidate); an email's attachment is never kept at all.
        headers["Cache-Control"] = HEADERS["Cache-Control"]
