"""MIME in and out: check a provider's original message, rebuild one from parsed fields.

Rebuilt messages are deterministic (boundaries derived from the content, no invented Date or
Message-ID), so the same fields always give the same bytes, hence the same ``email_id`` when the
message has no Message-ID. Header values are unfolded and stripped of control characters before
they are set, so nothing in a payload can inject a header or a MIME part.
"""

from __future__ import annotations

import email
import email.errors
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from typing import Any

from shared.intake.canonical import normalise_message_id
from shared.intake.errors import MalformedPayload

# Headers we regenerate from the parts we build; a provider's copy would contradict them.
_REGENERATED = frozenset(
    {
        "content-type",
        "content-transfer-encoding",
        "mime-version",
        "content-disposition",
        "content-length",
        "content-id",
        "content-description",
    }
)
_FIELD_NAME = re.compile(r"^[\x21-\x39\x3b-\x7e]{1,76}$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")
_FOLD = re.compile(r"\r?\n[ \t]*|\r[ \t]*")
_CONTENT_TYPE = re.compile(
    r"^([a-z0-9][a-z0-9!#$&^_.+-]{0,63})/([a-z0-9][a-z0-9!#$&^_.+-]{0,126})$"
)
_IDENTIFYING = ("from", "message-id", "date", "subject", "to")
_MAX_HEADER_VALUE = 16_000
_MAX_HEADER_CHARS = 128_000
_MAX_EXPENSIVE_VALUE = 1_000
_MAX_EXPENSIVE_CHARS = 8_000
_KEEP_ALWAYS = frozenset(
    {
        "from",
        "to",
        "cc",
        "reply-to",
        "sender",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
    }
)
_MAX_HEADERS = 500

# Errors the stdlib's structured header parser and folder are known to raise on odd input.
_HEADER_ERRORS = (ValueError, TypeError, IndexError, AttributeError, email.errors.MessageError)


class _RebuildPolicy(EmailPolicy):
    """The default policy, falling back to an unstructured header when parsing or folding a
    structured one fails (stdlib corner cases), so odd but harmless headers are kept."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if not _structured_is_cheap(value):
            header = _UNSTRUCTURED(name, value)
            self.fold_binary(name, header)
            return (name, header)
        try:
            stored = super().header_store_parse(name, value)
            self.fold_binary(name, stored[1])  # what the generator will do, tried now
        except _HEADER_ERRORS:
            header = _UNSTRUCTURED(name, value)
            self.fold_binary(name, header)  # raises if even that cannot be written: dropped
            return (name, header)
        return stored


def _structured_is_cheap(value: Any) -> bool:
    """The stdlib's structured (address) folding is slow on non-ASCII text and encoded words
    (seconds for a few hundred words); such values are kept as unstructured text, which folds
    in linear time and still parses back to the same addresses."""
    return isinstance(value, str) and value.isascii() and "=?" not in value and len(value) < 998


_UNSTRUCTURED = HeaderRegistry(use_default_map=False)
_POLICY = _RebuildPolicy(linesep="\r\n", max_line_length=78, cte_type="8bit", refold_source="none")
_PARSE_POLICY = EmailPolicy()


@dataclass(frozen=True)
class Attachment:
    """One attachment as a provider described it."""

    filename: str | None
    content_type: str
    data: bytes
    content_id: str | None = None


@dataclass(frozen=True)
class RebuiltMime:
    mime: bytes
    message_id: str | None
    attachment_count: int
    dropped_headers: int


@dataclass(frozen=True)
class OriginalMime:
    mime: bytes
    message_id: str | None
    attachment_count: int


def check_original(mime: bytes, *, what: str) -> OriginalMime:
    """Accept a provider's raw RFC 5322 message if it has a header block worth the name."""
    if not mime.strip():
        raise MalformedPayload(f"{what} is empty")
    message = email.message_from_bytes(mime, policy=_PARSE_POLICY)
    names = {key.lower() for key in message}
    if not names.intersection(_IDENTIFYING):
        raise MalformedPayload(f"{what} is not an RFC 5322 message (no From/Date/Subject header)")
    if any(isinstance(d, email.errors.MissingHeaderBodySeparatorDefect) for d in message.defects):
        raise MalformedPayload(f"{what} has a malformed header block")
    return OriginalMime(
        mime=mime,
        message_id=normalise_message_id(_raw_header(message, "Message-ID")),
        attachment_count=count_attachments(message),
    )


def count_attachments(message: Message) -> int:
    """Leaf parts with ``attachment`` disposition or a filename; a forwarded message is one."""
    count = 0
    for part in _leaves(message):
        if (
            part.get_content_maintype() == "message"
            or part.get_content_disposition() == "attachment"
            or part.get_filename() is not None
        ):
            count += 1
    return count


def _leaves(message: Message) -> Iterator[Message]:
    payload = message.get_payload()
    if message.get_content_maintype() == "multipart" and isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                yield from _leaves(part)
    else:
        yield message


def _raw_header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except _HEADER_ERRORS:
        return None
    return None if value is None else str(value)


def clean_header_value(value: str) -> str:
    """Unfold, drop control characters, bound the length: one safe header line."""
    unfolded = _FOLD.sub(" ", value).encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub(" ", unfolded).strip()[:_MAX_HEADER_VALUE]


def clean_content_type(value: str | None) -> str:
    """``type/subtype`` lower-cased, or ``application/octet-stream`` when unusable."""
    base = (value or "").split(";", 1)[0].strip().lower()
    match = _CONTENT_TYPE.match(base)
    if match is None or match.group(1) == "multipart":
        return "application/octet-stream"
    return base


def build_mime(
    headers: Sequence[tuple[str, str]],
    *,
    text: str | None,
    html: str | None,
    attachments: Sequence[Attachment] = (),
) -> RebuiltMime:
    """A faithful MIME message from a provider's parsed fields.

    ``headers`` keep their order; content headers are regenerated. Text and HTML become
    ``multipart/alternative``; attachments (with filename, content type and Content-ID) make it
    ``multipart/mixed``.
    """
    text, html = text or None, html or None  # providers send "" for a missing body
    message = EmailMessage(policy=_POLICY)
    dropped = _copy_headers(message, headers)
    if text is not None:
        message.set_content(_clean_body(text), subtype="plain", charset="utf-8")
        if html is not None:
            message.add_alternative(_clean_body(html), subtype="html", charset="utf-8")
    elif html is not None:
        message.set_content(_clean_body(html), subtype="html", charset="utf-8")
    elif not attachments:
        message.set_content("", subtype="plain", charset="utf-8")
    for attachment in attachments:
        _attach(message, attachment)
    _fix_boundaries(message, headers, text, html, attachments)
    mime = message.as_bytes(policy=_POLICY)
    return RebuiltMime(
        mime=mime,
        message_id=normalise_message_id(_raw_header(message, "Message-ID")),
        attachment_count=len(attachments),
        dropped_headers=dropped,
    )


def _copy_headers(message: EmailMessage, headers: Sequence[tuple[str, str]]) -> int:
    """Set the provider's headers on ``message``; returns how many were dropped.

    The stdlib folds headers at roughly 10 µs a character, and far slower for non-ASCII text
    and encoded words, so the work is bounded per message: at most ``_MAX_HEADERS`` headers and
    ``_MAX_HEADER_CHARS`` characters (``_MAX_EXPENSIVE_CHARS`` of them non-ASCII). The first
    From/To/Cc/Subject/Date/Message-ID/… are always kept (each value is capped on its own).
    """
    dropped = max(0, len(headers) - _MAX_HEADERS)
    chars_left, expensive_left = _MAX_HEADER_CHARS, _MAX_EXPENSIVE_CHARS
    seen: set[str] = set()
    for name, value in headers[:_MAX_HEADERS]:
        lowered = name.lower()
        if lowered in _REGENERATED:
            continue
        if not _FIELD_NAME.match(name):
            dropped += 1
            continue
        cleaned = clean_header_value(value)
        expensive = not cleaned.isascii() or "=?" in cleaned
        if expensive:
            cleaned = cleaned[:_MAX_EXPENSIVE_VALUE]
        exempt = lowered in _KEEP_ALWAYS and lowered not in seen
        seen.add(lowered)
        if not exempt:
            chars_left -= len(cleaned)
            expensive_left -= len(cleaned) if expensive else 0
            if chars_left < 0 or expensive_left < 0:
                dropped += 1
                continue
        try:
            message[name] = cleaned
        except _HEADER_ERRORS:
            dropped += 1
    return dropped


def _clean_body(value: str) -> str:
    # Lone surrogates (from a lenient decode) cannot be encoded; NUL is not text.
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    content_type = clean_content_type(attachment.content_type)
    maintype, subtype = content_type.split("/", 1)
    filename = clean_header_value(attachment.filename) if attachment.filename else None
    extra: dict[str, Any] = {"filename": filename or None}
    if attachment.content_id:
        cid = clean_header_value(attachment.content_id).strip("<>")
        if cid:
            extra["cid"] = f"<{cid}>"
    if content_type == "message/rfc822":
        inner = email.message_from_bytes(attachment.data, policy=_PARSE_POLICY)
        message.add_attachment(inner, cte="8bit", **extra)
        return
    message.add_attachment(attachment.data, maintype, subtype, **extra)


def _fix_boundaries(
    message: EmailMessage,
    headers: Sequence[tuple[str, str]],
    text: str | None,
    html: str | None,
    attachments: Sequence[Attachment],
) -> None:
    """Replace the random boundaries with ones derived from the content (deterministic; a
    boundary built from a hash of the content cannot occur in that content)."""
    digest = hashlib.sha256()
    for name, value in headers:
        digest.update(f"{name}\0{value}\0".encode("utf-8", "surrogatepass"))
    for body in (text, html):
        digest.update(b"\1" + (body or "").encode("utf-8", "surrogatepass"))
    for attachment in attachments:
        digest.update(b"\2" + (attachment.filename or "").encode("utf-8", "surrogatepass"))
        digest.update(attachment.content_type.encode("utf-8", "surrogatepass"))
        digest.update(hashlib.sha256(attachment.data).digest())
    seed = digest.hexdigest()[:40]
    for index, part in enumerate(_containers(message)):
        part.set_boundary(f"=_intake_{seed}_{index}")


def _containers(message: Message) -> Iterator[Message]:
    if message.get_content_maintype() != "multipart":
        return
    yield message
    payload = message.get_payload()
    if isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                yield from _containers(part)
