"""Building messages so that nothing from an inbound email can inject a header or a line.

:func:`one_line` is the one formatting helper for any value that came from outside: control
characters (CR/LF included) become spaces, RFC 2047 encoded words that decode to one are decoded
and cleaned (the standard library would fold their decoded CR LF as is: a header line of its
own), whitespace collapses, the length is bounded. Headers
use it without a marker (and :mod:`email.message`'s default policy refuses CR/LF in header
values on top); notification bodies with ``…`` so a reader sees the cut.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from shared.header_values import settle_encoded_words

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
    message["To"] = one_line(to, HEADER_LIMIT, marker="")
    message["Subject"] = one_line(subject, HEADER_LIMIT, marker="")
    message["Message-ID"] = make_msgid(domain="inbound-processor.local")
    for name, value in (headers or {}).items():
        message[name] = one_line(value, HEADER_LIMIT, marker="")
    message.set_content(body)
    return message
