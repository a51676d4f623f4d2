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

**Message-ID.** A message gets a fresh one, unless the caller passes its own as the
``Message-ID`` header: the outbox passes :func:`stable_message_id` of the row's dedup key, so
every send of the same notification (a resend after a crash, a lease that ran out mid-send)
carries the same id and the recipient's mail client shows it once.
"""

from __future__ import annotations

import hashlib
import re
from email.message import EmailMessage
from email.utils import make_msgid

from shared.header_values import UNSAFE, settle_encoded_words, stored_header

HEADER_LIMIT = 200
VALUE_LIMIT = 300

MESSAGE_ID_DOMAIN = "inbound-processor.local"
# RFC 5322 msg-id in its dot-atom form: "<" dot-atom-text "@" dot-atom-text ">".
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_MESSAGE_ID = re.compile(rf"<{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*>")


def _printable(value: str) -> str:
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def one_line(value: object, limit: int = VALUE_LIMIT, *, marker: str = "…") -> str:
    """``value`` on one line of at most ``limit`` characters (``marker`` ends a cut one)."""
    text = settle_encoded_words(_printable(str(value)), _printable) or ""
    return text if len(text) <= limit else text[: limit - len(marker)] + marker


def stable_message_id(key: str) -> str:
    """The Message-ID of every send of the message identified by ``key`` (an outbox row's
    dedup key): the same for each send, a valid RFC 5322 id on our domain whatever ``key``
    holds (a digest of it, so no identifier of ours appears in it either)."""
    digest = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:40]
    return f"<notification.{digest}@{MESSAGE_ID_DOMAIN}>"


def build_message(
    *, sender: str, to: str, subject: str, body: str, headers: dict[str, str] | None = None
) -> EmailMessage:
    """A plain-text message; header values are made one line. Its Message-ID is the
    ``Message-ID`` in ``headers`` when that is a valid id (see :func:`stable_message_id`),
    else a fresh one."""
    extra = dict(headers or {})
    given = [extra.pop(name) for name in list(extra) if name.lower() == "message-id"]
    message = EmailMessage()
    message["From"] = sender
    _set_header(message, "To", to)
    _set_header(message, "Subject", subject)
    if given and _MESSAGE_ID.fullmatch(given[0]):
        message["Message-ID"] = given[0]
    else:
        message["Message-ID"] = make_msgid(domain=MESSAGE_ID_DOMAIN)
    for name, value in extra.items():
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
