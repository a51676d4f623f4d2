"""MIME in and out: check a provider's original message, rebuild one from parsed fields.

Rebuilt messages are deterministic (boundaries derived from the content, no invented Date or
Message-ID), so the same fields always give the same bytes, hence the same ``email_id`` when the
message has no Message-ID. Header values are unfolded and stripped of control characters before
they are set, and encoded words that decode to one are decoded and cleaned first, so nothing in
a payload can inject a header or a MIME part. Address headers holding non-ASCII text or encoded
words are written as sent, in UTF-8 (RFC 6532), so a reader finds the same names and addresses.
"""

from __future__ import annotations

import binascii
import email
import email.errors
import hashlib
import itertools
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from typing import Any, ClassVar

from shared.header_values import (
    HEADER_ERRORS,
    breaks_line,
    reads_as_one_line,
    settle_encoded_words,
    stored_header,
)
from shared.intake.canonical import ContentSource, InboundEmail, Provider, normalise_message_id
from shared.intake.errors import MalformedPayload
from shared.mime_depth import MIME_PARSE_ERRORS, MimeTooDeep, parse_within_depth

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
# A tab is whitespace in a header value (RFC 5322 WSP) but one the written-line check refuses:
# it becomes a space like the other controls, or the whole header would be dropped.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
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
# The headers whose value is a list of addresses (the stdlib's address header types).
_ADDRESS_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "sender",
        "resent-from",
        "resent-to",
        "resent-cc",
        "resent-bcc",
        "resent-sender",
    }
)
_FOLD_AT = 78  # octets; an address header's lines are cut before a space past it
_CRLF = b"\r\n"
_NEWLINE = re.compile(rb"\r\n|\r|\n")
_MAX_LINE_OCTETS = 998  # RFC 5322 line limit, without the CRLF
_BASE64_LINE = 76
# 256 base64 lines (19,456 characters) cut at once: see _base64_lines
_LINES_BLOCK = struct.Struct(f"{_BASE64_LINE}s" * 256)
_FAST_LINE = 76  # name + value of a header written as it is: "Name: value" within 78
_FAST_FILENAME = 34  # 'Content-Disposition: attachment; filename="…"' within 78
_QUOTABLE = re.compile(r"^[\x20\x21\x23-\x5b\x5d-\x7e]+$")  # printable ASCII but " and \
# How much of an attachment's filename and Content-ID is kept, cut before the costly decoding
# and folding (which runs for each of up to 500 attachments). A filename keeps 255 bytes of
# UTF-8 (so at most 255 characters), the longest name most file systems take; it also keeps
# the RFC 2231 form of a non-ASCII name (three characters a byte) under the 998 characters past
# which the policy writes the header as unstructured text and readers no longer find the name.
# A Content-ID keeps 998 characters, one header line, far more than a generated one needs.
_MAX_FILENAME_BYTES = 255
_MAX_CONTENT_ID = 998

_HEADER_ERRORS = HEADER_ERRORS
# What parsing and reading an original message may raise besides our own refusals.
_UNREADABLE = (*MIME_PARSE_ERRORS, *HEADER_ERRORS)


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
class MimeContent:
    """The MIME to store and what it says about itself; ``source`` tells how it was obtained."""

    mime: bytes
    message_id: str | None
    attachment_count: int
    dropped_headers: int = 0
    source: ClassVar[ContentSource]

    def inbound(
        self,
        provider: Provider,
        *,
        provider_message_id: str | None = None,
        replay_token: str | None = None,
    ) -> InboundEmail:
        return InboundEmail(
            provider=provider,
            mime=self.mime,
            source=self.source,
            message_id=self.message_id,
            attachment_count=self.attachment_count,
            provider_message_id=provider_message_id,
            replay_token=replay_token,
            dropped_headers=self.dropped_headers,
        )


@dataclass(frozen=True)
class OriginalMime(MimeContent):
    """The provider's own raw message, checked and kept byte for byte."""

    source: ClassVar[ContentSource] = "original"


@dataclass(frozen=True)
class RebuiltMime(MimeContent):
    """MIME rebuilt from a provider's parsed fields (deterministic bytes)."""

    source: ClassVar[ContentSource] = "rebuilt"


def check_original(mime: bytes, *, what: str) -> OriginalMime:
    """Accept a provider's raw RFC 5322 message if it has a header block worth the name;
    refuse one nested too deep or with too many parts, and one the stdlib cannot read."""
    if not mime.strip():
        raise MalformedPayload(f"{what} is empty")
    try:
        return _read_original(mime, what=what)
    except MimeTooDeep as too_complex:  # MimeTooManyParts too
        raise MalformedPayload(f"{what}: {too_complex}") from None
    except _UNREADABLE:
        raise MalformedPayload(f"{what} could not be parsed as MIME") from None


def _read_original(mime: bytes, *, what: str) -> OriginalMime:
    message = parse_within_depth(mime, _PARSE_POLICY)
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

    Written directly as bytes (the stdlib's generator writes a message line by line, several
    milliseconds for a 250 KB email): bodies are encoded with C-speed codecs, only header values
    that need it (non-ASCII, encoded words, longer than a line) go through the stdlib's folding.
    """
    text, html = text or None, html or None  # providers send "" for a missing body
    lines, dropped, message_id = _header_lines(headers)
    body: list[_Part] = []
    if text is not None:
        body.append(_text_part(text, "plain"))
    if html is not None:
        body.append(_text_part(html, "html"))
    if not body and not attachments:
        body.append(_text_part("", "plain"))
    top = body[0] if len(body) == 1 else _Part(subtype=b"alternative", children=tuple(body))
    if attachments:
        parts = ([top] if body else []) + [_attachment_part(a) for a in attachments]
        top = _Part(subtype=b"mixed", children=tuple(parts))
    out = [*lines, b"MIME-Version: 1.0\r\n"]
    _write_part(top, _boundary_seed(headers, text, html, attachments), itertools.count(), out)
    return RebuiltMime(
        mime=b"".join(out),
        message_id=normalise_message_id(message_id),
        attachment_count=len(attachments),
        dropped_headers=dropped,
    )


@dataclass(frozen=True)
class _Part:
    """A body part to write: a leaf (its content headers and its encoded body as pieces to
    join, CRLF line endings) or a multipart container of ``children``."""

    headers: bytes = b""
    body: tuple[bytes, ...] = ()
    subtype: bytes | None = None
    children: tuple[_Part, ...] = ()


def _write_part(part: _Part, seed: str, counter: Iterator[int], out: list[bytes]) -> None:
    """Append ``part`` (its content headers, blank line, body) to ``out``; boundaries are numbered
    in document order."""
    if part.subtype is None:
        out += (part.headers, _CRLF, *part.body)
        return
    boundary = f"=_intake_{seed}_{next(counter)}".encode("ascii")
    out.append(b'Content-Type: multipart/%s;\r\n boundary="%s"\r\n\r\n' % (part.subtype, boundary))
    for index, child in enumerate(part.children):
        out.append((b"--" if index == 0 else b"\r\n--") + boundary + _CRLF)
        _write_part(child, seed, counter, out)
    out.append(b"\r\n--" + boundary + b"--\r\n")


def _header_lines(headers: Sequence[tuple[str, str]]) -> tuple[list[bytes], int, str | None]:
    """The provider's headers as folded lines, how many were dropped, and the first kept
    Message-ID's value.

    The stdlib folds headers at roughly 10 µs a character, and far slower for non-ASCII text
    and encoded words, so the work is bounded per message: at most ``_MAX_HEADERS`` headers and
    ``_MAX_HEADER_CHARS`` characters (``_MAX_EXPENSIVE_CHARS`` of them non-ASCII). The first
    From/To/Cc/Subject/Date/Message-ID/… are always kept (each value is capped on its own).
    """
    dropped = max(0, len(headers) - _MAX_HEADERS)
    chars_left, expensive_left = _MAX_HEADER_CHARS, _MAX_EXPENSIVE_CHARS
    seen: set[str] = set()
    lines: list[bytes] = []
    message_id: str | None = None
    for name, value in headers[:_MAX_HEADERS]:
        lowered = name.lower()
        if lowered in _REGENERATED:
            continue
        if not _FIELD_NAME.fullmatch(name):
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
        folded = fold_header(name, cleaned)
        if folded is None:
            dropped += 1
            continue
        line, stored = folded
        lines.append(line)
        if lowered == "message-id" and message_id is None:
            message_id = stored
    return lines, dropped, message_id


def fold_header(name: str, value: str) -> tuple[bytes, str] | None:
    """``(the header's folded line(s), its value as stored)`` for a cleaned ``value``, or
    ``None`` when not even unstructured text can be written.

    A short printable-ASCII value is written as it is (exactly what folding would give it); so
    is an address header with non-ASCII text or encoded words (:func:`_address_lines`);
    anything else is parsed as its structured type and folded by the stdlib, falling back to
    unstructured text when that fails (stdlib corner cases), so odd but harmless headers are
    kept. An encoded word that decodes to a line break or a control character is replaced by
    its cleaned decoded text first (:mod:`shared.header_values`): folding would otherwise
    write the decoded CR LF as it is, a header line of its own. Last, the header as the policy
    stores it is checked as it will be written (:func:`~shared.header_values.stored_header`):
    decoded text or folded lines that would still break the line are flattened, or the
    header is dropped."""
    settled = settle_encoded_words(value, clean_header_value)
    if settled is None:
        return None
    value = settled
    if (
        value
        and len(name) + len(value) <= _FAST_LINE
        and value.isascii()
        and value.isprintable()
        and "=?" not in value
    ):
        return f"{name}: {value}\r\n".encode("ascii"), value
    if name.lower() in _ADDRESS_HEADERS and (not value.isascii() or "=?" in value):
        written = _address_lines(name, value)
        if written is not None:
            return written, value
    stored = stored_header(_POLICY, name, value, clean_header_value)
    if stored is None:
        return None
    header, folded = stored
    return folded, str(header)


def _address_lines(name: str, value: str) -> bytes | None:
    """``Name: value`` as sent, in UTF-8 (RFC 6532), folded before a space where a line would
    pass :data:`_FOLD_AT` octets; ``None`` when a word is longer than a line may be or the
    lines would not read back as one safe header (the caller then encodes the value).

    Written through the stdlib, a non-ASCII address list becomes one RFC 2047 encoded text, in
    which a reader finds no address (``Jo <josé@example.com>`` reads as the address
    ``jo <josé@example.com>``, ``"Müller, Hans" <h@example.com>`` as none); the encoded words
    the sender wrote are kept too, since readers decode them inside a display name. ``value`` is
    cleaned (no CR, LF or NUL; encoded words hiding a control are decoded and cleaned); a tab is
    written as a space, and the lines are still checked as the policy reads them back."""
    lines: list[bytes] = []
    line = name.encode("ascii") + b":"
    started = False
    for word in value.replace("\t", " ").split(" "):
        piece = word.encode("utf-8", "replace")
        if word and started and len(line) + 1 + len(piece) > _FOLD_AT:
            lines.append(line)
            line = b""
        line += b" " + piece
        started = started or bool(word)
    lines.append(line)
    if max(map(len, lines)) > _MAX_LINE_OCTETS:
        return None
    folded = _CRLF.join(lines) + _CRLF
    try:
        return folded if reads_as_one_line(_POLICY, name, folded) else None
    except _HEADER_ERRORS:  # the stdlib cannot read it back: leave it to its own writer
        return None


def _clean_body(value: str) -> str:
    # Lone surrogates (from a lenient decode) cannot be encoded; NUL is not text.
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _text_part(value: str, subtype: str) -> _Part:
    """UTF-8 text: 7bit/8bit as it is when every line fits the 998-octet limit, else
    quoted-printable."""
    data = _clean_body(value).encode("utf-8")
    lines = data.splitlines()
    if max(map(len, lines), default=0) <= _MAX_LINE_OCTETS:
        cte = b"7bit" if data.isascii() else b"8bit"
        body = _CRLF.join(lines) + _CRLF
    else:
        cte = b"quoted-printable"
        encoded = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True)
        body = encoded.replace(b"\n", _CRLF)
    headers = b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: %s\r\n' % (
        subtype.encode("ascii"),
        cte,
    )
    return _Part(headers=headers, body=(body,))


def _attachment_part(attachment: Attachment) -> _Part:
    content_type = clean_content_type(attachment.content_type)
    filename = _clean_filename(attachment.filename)
    headers = [b"Content-Type: " + content_type.encode("ascii") + _CRLF]
    if content_type == "message/rfc822":
        headers.append(b"Content-Transfer-Encoding: 8bit\r\n")
        message = _NEWLINE.sub(_CRLF, attachment.data)
        if message and not message.endswith(_CRLF):
            message += _CRLF
        body: tuple[bytes, ...] = (message,)
    else:
        headers.append(b"Content-Transfer-Encoding: base64\r\n")
        body = _base64_lines(attachment.data)
    headers.append(_disposition(filename or None))
    content_id = _content_id(attachment.content_id)
    if content_id is not None:
        headers.append(content_id)
    return _Part(headers=b"".join(headers), body=body)


def _content_id(value: str | None) -> bytes | None:
    """The part's Content-ID line, or ``None``. A Content-ID is ASCII (RFC 2392 makes it a
    msg-id): one that is not is invalid and would only cost the slow non-ASCII folding, so it
    is left out; the part stays an attachment."""
    if not value:
        return None
    cid = clean_header_value(value).strip("<>")[:_MAX_CONTENT_ID]
    if not cid or not cid.isascii():
        return None
    folded = fold_header("Content-ID", f"<{cid}>")
    return None if folded is None else folded[0]


def _base64_lines(data: bytes) -> tuple[bytes, ...]:
    """Base64 in lines of 76 characters, each ending CRLF (``base64.encodebytes`` with CRLF),
    as pieces to be joined into the message.

    Encoded :data:`_LINES_BLOCK` at a time (256 lines, 14,592 input bytes): one C-level
    encode, the text cut into lines by ``struct``'s ``76s`` fields (one C loop) and joined
    with CRLF (one ``join``). About a fifth of the cost of copying the text column by column,
    and every buffer stays small: the message's own join is the one copy of the whole
    attachment's text, never an encoded copy, a lines copy and a list of one small object per
    line (six times the attachment held at once)."""
    block = _LINES_BLOCK.size // _BASE64_LINE * 57  # input bytes of one block of lines
    pieces: list[bytes] = []
    with memoryview(data) as view:
        for start in range(0, len(data), block):
            encoded = binascii.b2a_base64(view[start : start + block], newline=False)
            if len(encoded) == _LINES_BLOCK.size:
                pieces += (_CRLF.join(_LINES_BLOCK.unpack(encoded)), _CRLF)
            else:  # the last, shorter block
                width = _BASE64_LINE
                lines = [encoded[at : at + width] for at in range(0, len(encoded), width)]
                pieces += (_CRLF.join(lines), _CRLF)
    return tuple(pieces)


def _clean_filename(filename: str | None) -> str | None:
    """A filename as one clean line of at most :data:`_MAX_FILENAME_BYTES`; an encoded word in
    it that decodes to a control (the stdlib decodes encoded words inside the quoted parameter
    too) is decoded and cleaned first; ``None`` when nothing usable is left."""
    if not filename:
        return None
    cleaned = clean_header_value(filename).encode("utf-8")[:_MAX_FILENAME_BYTES]
    settled = settle_encoded_words(cleaned.decode("utf-8", "ignore"), clean_header_value)
    return settled or None


_BARE_DISPOSITION = b"Content-Disposition: attachment\r\n"


def _disposition(filename: str | None) -> bytes:
    """The part's Content-Disposition; the filename is left out when the header, as the
    policy stores and folds it, would still break the line (the part stays an attachment)."""
    if filename is None:
        return _BARE_DISPOSITION
    if len(filename) <= _FAST_FILENAME and _QUOTABLE.fullmatch(filename) and "=?" not in filename:
        return b'Content-Disposition: attachment; filename="%s"\r\n' % filename.encode("ascii")
    holder = EmailMessage(policy=_POLICY)  # RFC 2231 encoding and folding of the parameter
    holder["Content-Disposition"] = "attachment"
    try:
        holder.set_param("filename", filename, header="Content-Disposition", replace=True)
        header = holder["Content-Disposition"]
        if breaks_line(_POLICY, "Content-Disposition", header):
            return _BARE_DISPOSITION
        return _POLICY.fold_binary("Content-Disposition", header)
    except _HEADER_ERRORS:
        return _BARE_DISPOSITION


def _boundary_seed(
    headers: Sequence[tuple[str, str]],
    text: str | None,
    html: str | None,
    attachments: Sequence[Attachment],
) -> str:
    """Boundaries derived from the content (deterministic; a boundary built from a hash of the
    content cannot occur in that content)."""
    digest = hashlib.sha256()
    for name, value in headers:
        digest.update(f"{name}\0{value}\0".encode("utf-8", "surrogatepass"))
    for body in (text, html):
        digest.update(b"\1" + (body or "").encode("utf-8", "surrogatepass"))
    for attachment in attachments:
        digest.update(b"\2" + (attachment.filename or "").encode("utf-8", "surrogatepass"))
        digest.update(attachment.content_type.encode("utf-8", "surrogatepass"))
        digest.update(hashlib.sha256(attachment.data).digest())
    return digest.hexdigest()[:40]
