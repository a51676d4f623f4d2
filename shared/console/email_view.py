"""The email as a reviewer sees it: text only, evidence highlighted, attachments listed.

The raw MIME comes from the same GCS object the processor read. The body is the processor's
own reading (:func:`shared.extraction.email_parser.parse_email`: plain text, or HTML converted
to text with hidden content dropped), so no HTML of the email ever reaches the browser; templates
escape it as text. Remote images are never loaded (there is no ``<img>`` of the email, and the
Content-Security-Policy allows images only from the console). Attachments are served through
the console, by index, with ``Content-Disposition`` and a type from a short safe list.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any

from shared.extraction.email_parser import parse_email
from shared.extraction.models import ParsedEmail

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
    return parse_email(raw)


def _parts(raw: bytes) -> list[EmailMessage]:
    message = email.message_from_bytes(raw, policy=policy.default)
    found: list[EmailMessage] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        if disposition == "attachment" or part.get_filename():
            found.append(part)
    return found


def _safe_name(name: str | None, index: int) -> str:
    cleaned = "".join(ch for ch in (name or "") if ch.isalnum() or ch in "._- ")[:120].strip()
    return cleaned or f"attachment-{index}"


def attachments(raw: bytes) -> list[Attachment]:
    listed = []
    for index, part in enumerate(_parts(raw)):
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        content_type = part.get_content_type().lower()
        listed.append(
            Attachment(
                index=index,
                filename=_safe_name(part.get_filename(), index),
                content_type=content_type if content_type in INLINE_TYPES else DOWNLOAD_TYPE,
                size=size,
                inline=content_type in INLINE_TYPES,
            )
        )
    return listed


def attachment_bytes(raw: bytes, index: int) -> tuple[Attachment, bytes] | None:
    parts = _parts(raw)
    if not 0 <= index < len(parts):
        return None
    payload = parts[index].get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return attachments(raw)[index], data


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
