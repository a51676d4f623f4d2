"""Building messages so that nothing from an inbound email can inject a header or a line.

:func:`one_line` is the one formatting helper for any value that came from outside: control
characters (CR/LF included) become spaces, RFC 2047 encoded words that decode to one are decoded
and cleaned (the standard library would fold their decoded CR LF as is: a header line of its
own), whitespace collapses, the length is bounded. Headers
use it without a marker (and :mod:`email.message`'s default policy refuses CR/LF in header
values on top); notification bodies with ``…`` so a reader sees the cut. :func:`build_message`
then checks each header as the policy stores and folds it
(:func:`~shared.header_values.stored_header`) and flattens or drops one that would still break
the line, so no decoding the helper above does not foresee can write a header of its own.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from shared.header_values import UNSAFE, settle_encoded_words, stored_header

HEADER_LIMIT = 200
VALUE_LIMIT = 300


def _printable(value: str) -> str:
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def one_line(value: object, limit: int = VALUE_LIMIT, *, marker: str = "…") -> str:
    """``value`` on one line of at most ``limit`` characters (``marker`` ends a cut one)."""
    text = settle_encoded_words(_printable(str(value)), _printable) or ""
    return text if len(text) <= limit else text[: limit - len(marker)] + marker


def build_message(
    *, sender: str, to: str, subject: str, body: str, headers: dict[str, str] | None = None
) -> EmailMessage:
    """A plain-text message with a fresh Message-ID; header values are made one line."""
    message = EmailMessage()
    message["From"] = sender
    _set_header(message, "To", to)
    _set_header(message, "Subject", subject)
    message["Message-ID"] = make_msgid(domain="inbound-processor.local")
    for name, value in (headers or {}).items():
        _set_header(message, name, value)
    message.set_content(body)
    return message


def _set_header(message: EmailMessage, name: str, value: object) -> None:
    """``value`` made one line, set only when the header the policy stores for it is one line
    too as written (else flattened once, else left out)."""
    stored = stored_header(message.policy, name, one_line(value, HEADER_LIMIT, marker=""), _flat)
    if stored is not None:
        message[name] = stored[0]


def _flat(value: str) -> str:
    return " ".join(UNSAFE.sub(" ", value).split())
