"""The one shape every provider's request becomes, and the stable ``email_id``.

``email_id`` is provider-independent on purpose, so the same email relayed twice (a provider's
retry, or the same message reaching two routes during a provider migration) is one email
downstream:

- ``m-`` + the first 32 hex digits of SHA-256 over the normalised Message-ID
  (``<left@right>``, right side lower-cased, angle brackets and comments dropped), when the
  message has one that looks like an RFC 5322 msg-id (printable ASCII, exactly one ``@``);
- otherwise ``h-`` + the first 32 hex digits of SHA-256 over the MIME bytes we store. Rebuilt
  MIME is deterministic (fixed boundaries, no invented headers), so a provider's retry of the
  same fields gives the same bytes and the same id.

The cost of the choice: two different emails carrying the same Message-ID (a broken mailer that
reuses ids) become one; the first one stored is kept and a ``email_id_conflict`` warning is
logged. RFC 5322 makes Message-IDs globally unique, and processing an email twice (two account
updates) is the worse failure for this business.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Literal

Provider = Literal["mailgun", "sendgrid", "postmark", "raw"]
ContentSource = Literal["original", "rebuilt"]

_MSG_ID = re.compile(r"<([\x21-\x7e]+?)>")
_ID_PART = re.compile(r"^[\x21-\x3b\x3d\x3f\x41-\x7e]+$")  # printable ASCII without < > @
_MAX_MESSAGE_ID = 995


@dataclass(frozen=True)
class InboundEmail:
    """One inbound email, normalised: the MIME to store and what the message says about it."""

    provider: Provider
    mime: bytes
    source: ContentSource
    message_id: str | None
    attachment_count: int
    provider_message_id: str | None = None
    replay_token: str | None = None
    dropped_headers: int = 0

    @functools.cached_property
    def sha256(self) -> str:
        """SHA-256 of the MIME (hex), computed once: the id of an email without a Message-ID
        and the stored object's ``sha256`` are the same digest."""
        return hashlib.sha256(self.mime).hexdigest()

    @property
    def email_id(self) -> str:
        if self.message_id is None:
            return "h-" + self.sha256[:32]
        return derive_email_id(self.message_id, self.mime)


def normalise_message_id(raw: str | None) -> str | None:
    """``<left@right>`` with the domain lower-cased, or ``None`` when it is not a usable id."""
    if raw is None:
        return None
    value = raw.strip()
    match = _MSG_ID.search(value)
    candidate = match.group(1) if match else value.strip("<>")
    left, at, right = candidate.partition("@")
    if not at or not _ID_PART.fullmatch(left) or not _ID_PART.fullmatch(right):
        return None
    normalised = f"<{left}@{right.lower()}>"
    return normalised if len(normalised) <= _MAX_MESSAGE_ID else None


def derive_email_id(message_id: str | None, mime: bytes) -> str:
    """The stable id: from the normalised Message-ID, else from the MIME bytes."""
    if message_id is not None:
        return "m-" + hashlib.sha256(message_id.encode("ascii")).hexdigest()[:32]
    return "h-" + hashlib.sha256(mime).hexdigest()[:32]
