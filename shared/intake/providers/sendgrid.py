"""SendGrid Inbound Parse: multipart/form-data, HTTP Basic credentials in the Parse URL.

Parsed mode: ``headers`` (the original header block), ``text``, ``html``, ``from``, ``to``,
``cc``, ``subject``, ``envelope`` (JSON), ``charsets`` (JSON: the charset of each field, which
is sent undecoded), ``attachments`` (count), ``attachment-info`` (JSON), files
``attachment1..N``. Raw mode ("POST the raw, full MIME message"): the message in ``email``.
"""

from __future__ import annotations

from collections.abc import Mapping
from email import policy
from email.parser import HeaderParser
from typing import Any

from shared.config import Settings
from shared.intake.auth import verify_basic_auth
from shared.intake.canonical import InboundEmail
from shared.intake.errors import MalformedPayload
from shared.intake.forms import Form, parse_form
from shared.intake.providers._common import attachment_count, merge_headers, numbered
from shared.intake.rebuild import Attachment, build_mime, check_original

FINAL_STATUS = None  # SendGrid retries every non-2xx for up to three days: keep 400/415


def authenticate_sendgrid(headers: Mapping[str, str], settings: Settings) -> None:
    verify_basic_auth(
        headers.get("Authorization"),
        username=settings.webhook_sendgrid_username,
        password=settings.webhook_sendgrid_password,
        provider="sendgrid",
    )


def parse_sendgrid(
    body: bytes, headers: Mapping[str, str], settings: Settings, now: float
) -> InboundEmail:
    form = parse_form(body, headers.get("Content-Type"), max_bytes=settings.webhook_max_body_bytes)
    if form.fields.get("email") is not None:
        original = check_original(form.fields["email"], what="field 'email'")
        return original.inbound("sendgrid")
    charsets = _charsets(form)
    header_block = form.text("headers", charset=charsets.get("headers"), required=True)
    assert header_block is not None
    parsed = HeaderParser(policy=policy.compat32).parsestr(header_block, headersonly=True)
    header_list = [(name, str(value)) for name, value in parsed.items()]
    fallback = [
        (name, form.text(name.lower(), charset=charsets.get(name.lower())))
        for name in ("From", "To", "Cc", "Subject")
    ]
    merged = merge_headers(header_list, fallback)
    if not merged:
        raise MalformedPayload("field 'headers' holds no header and 'from' is missing")
    rebuilt = build_mime(
        merged,
        text=form.text("text", charset=charsets.get("text")),
        html=form.text("html", charset=charsets.get("html")),
        attachments=_attachments(form),
    )
    return rebuilt.inbound("sendgrid")


def _charsets(form: Form) -> dict[str, str]:
    value = form.json("charsets")
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise MalformedPayload("field 'charsets' is not an object of strings")
    return {key.lower(): charset for key, charset in value.items()}


def _attachments(form: Form) -> list[Attachment]:
    declared = attachment_count(form.strict_text("attachments"), "attachments")
    present = numbered(form.files, "attachment")
    if declared is not None and [n for n, _ in present] != list(range(1, declared + 1)):
        raise MalformedPayload("'attachments' does not match the attachmentN files")
    info = form.json("attachment-info")
    info = {} if info is None else info
    if not isinstance(info, dict):
        raise MalformedPayload("field 'attachment-info' is not an object")
    attachments = []
    for _, name in present:
        part = form.files[name]
        found = info.get(name)
        details: dict[str, Any] = found if isinstance(found, dict) else {}
        filename = details.get("filename") or details.get("name") or part.filename
        content_type = details.get("type") or part.content_type
        content_id = details.get("content-id")
        attachments.append(
            Attachment(
                filename=filename if isinstance(filename, str) else part.filename,
                content_type=content_type if isinstance(content_type, str) else "",
                data=part.data,
                content_id=content_id if isinstance(content_id, str) else None,
            )
        )
    return attachments
