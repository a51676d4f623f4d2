"""The email as a reviewer sees it: text only, evidence highlighted, attachments listed.

The raw MIME comes from the same GCS object the processor read. The body is the processor's
own reading (:func:`shared.extraction.email_parser.parse_email`: plain text, or HTML converted
to text with hidden content dropped), so no HTML of the email ever reaches the browser; templates
escape it as text. Remote images are never loaded (there is no ``<img>`` of the email, and the
Content-Security-Policy allows images only from the console). Attachments are served through
the console, by index, with ``Content-Disposition`` and a type from a short safe list.

The message is the sender's: it is parsed as the processor parses it (nesting and parts bounded
by :func:`shared.mime_depth.parse_within_depth`, each header read through the processor's
guarded helpers), so no header of any part, attached messages' included, can fail a page. A
part whose headers cannot be read is listed as ``attachment-N``; a message nested too deep to
parse raises :class:`MimeNestedTooDeep`, as :func:`parse` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from typing import Any

from shared.extraction.email_parser import (
    PARSE_ERRORS,
    MimeNestedTooDeep,
    parse_email,
    parse_policy,
    part_bytes,
    part_content_type,
    part_filename,
)
from shared.extraction.models import ParsedEmail
from shared.mime_depth import MimeTooDeep, parse_within_depth

# Shown inline (PDF in the browser's viewer, images); everything else is downloaded as bytes.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif"})
DOWNLOAD_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class Attachment:
    index: int
    filename: str
    content_type: str
    size: int
    inline: bool


@dataclass(frozen=True)
class Segment:
    text: str
    field: str | None = None  # the extracted field whose evidence this is


def split_gcs_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("gs://") or "/" not in uri[5:]:
        raise ValueError("not a gs:// URI")
    bucket, _, name = uri[5:].partition("/")
    return bucket, name


def parse(raw: bytes) -> ParsedEmail:
    """The processor's reading; raises only :class:`MimeNestedTooDeep`."""
    return parse_email(raw)


def _parts(raw: bytes) -> list[Message]:
    try:
        message = parse_within_depth(raw, parse_policy())
    except MimeTooDeep as too_deep:
        raise MimeNestedTooDeep(str(too_deep)) from None
    except PARSE_ERRORS:
        return []  # the processor reads nothing of it either
    return [part for part in message.walk() if not part.is_multipart() and _is_attachment(part)]


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment" or bool(part.get_filename())
    except PARSE_ERRORS:
        # A disposition or name nobody can read (an attached message's headers are the
        # sender's, checked by no one): listed under a made-up name rather than hidden.
        return True


def _safe_name(name: str | None, index: int) -> str:
    cleaned = "".join(ch for ch in (name or "") if ch.isalnum() or ch in "._- ")[:120].strip()
    return cleaned or f"attachment-{index}"


def _describe(index: int, part: Message) -> tuple[Attachment, bytes]:
    data = part_bytes(part)
    content_type = part_content_type(part)
    inline = content_type in INLINE_TYPES
    listed = Attachment(
        index=index,
        filename=_safe_name(part_filename(part), index),
        content_type=content_type if inline else DOWNLOAD_TYPE,
        size=len(data),
        inline=inline,
    )
    return listed, data


def attachments(raw: bytes) -> list[Attachment]:
    """The attachments, in order; raises only :class:`MimeNestedTooDeep`."""
    return [_describe(index, part)[0] for index, part in enumerate(_parts(raw))]


def attachment_bytes(raw: bytes, index: int) -> tuple[Attachment, bytes] | None:
    """Attachment ``index`` and its bytes, None if there is none; raises only
    :class:`MimeNestedTooDeep`."""
    parts = _parts(raw)
    if not 0 <= index < len(parts):
        return None
    return _describe(index, parts[index])


def highlight(text: str, fields: dict[str, Any]) -> list[Segment]:
    """``text`` cut into segments, the first occurrence of each field's evidence marked."""
    spans: list[tuple[int, int, str]] = []
    for name, found in fields.items():
        evidence = found.get("evidence") if isinstance(found, dict) else None
        if not isinstance(evidence, str) or len(evidence.strip()) < 2:
            continue
        start = text.find(evidence.strip())
        if start < 0:
            continue
        end = start + len(evidence.strip())
        if all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, name))
    segments: list[Segment] = []
    position = 0
    for start, end, name in sorted(spans):
        if start > position:
            segments.append(Segment(text[position:start]))
        segments.append(Segment(text[start:end], name))
        position = end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments
