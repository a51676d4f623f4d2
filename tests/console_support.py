"""Seeding review items the way the processor makes them: a raw email in the stack's GCS, an
account in its MongoDB, and the email finished through the processor's own store (report and
review item in one statement)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any

from shared.config import get_settings
from shared.processing.report import Report
from shared.processing.store import PostgresProcessingStore
from tests.fakes import RecordingMetrics
from tests.processing_fakes import notice


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def plain_mime(body: str, *, subject: str = "My payment") -> bytes:
    message = EmailMessage()
    message["From"] = "A Debtor <debtor@example.org>"
    message["To"] = "inbound@collections.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    message.set_content(body)
    return message.as_bytes(policy=policy.SMTP)


def html_mime(html: str, *, pdf: bytes | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "A Debtor <debtor@example.org>"
    message["To"] = "inbound@collections.example"
    message["Subject"] = "Please see"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    message.set_content(html, subtype="html")
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename="remit.pdf")
    return message.as_bytes(policy=policy.SMTP)


def mime_with_files(body: str, *files: tuple[str, str, bytes]) -> bytes:
    """A plain email with attachments given as (file name, content type, bytes)."""
    message = EmailMessage()
    message["From"] = "A Debtor <debtor@example.org>"
    message["To"] = "inbound@collections.example"
    message["Subject"] = "Receipts"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    message.set_content(body)
    for filename, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=policy.SMTP)


def in_attached_message(part_headers: bytes, body: bytes = b"data") -> bytes:
    """A dispute whose forwarded message carries one part with ``part_headers``."""
    inner = (
        b"From: b@x.example\r\nSubject: inner\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="i"\r\n\r\n--i\r\n'
        + part_headers
        + b"\r\n\r\n"
        + body
        + b"\r\n--i--\r\n"
    )
    return (
        b"From: a@sender.example\r\nSubject: I dispute this debt\r\nMIME-Version: 1.0\r\n"
        b"Message-ID: <probe@x.example>\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nI dispute this debt. Account 123.\r\n--b\r\n"
        b"Content-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--b--\r\n"
    )


def account_document(
    account_id: str, *, amount: float = 500.0, hold: bool = False
) -> dict[str, Any]:
    return {
        "_id": account_id,
        "account_id": account_id,
        "case_number": f"CASE-{account_id}",
        "account_reference": f"REF-{account_id}",
        "debtor": {"name": "Test Debtor", "email": f"{account_id.lower()}@example.org"},
        "creditor": "Northwind Bank",
        "balance": {"amount": amount, "currency": "EUR"},
        "status": "on_hold" if hold else "active",
        "hold": {"active": hold, "reason": "dispute" if hold else None, "since": None},
        "applied_email_ids": [],
        "history": [],
    }


@dataclass
class Seeded:
    email_id: str
    account_id: str
    correlation_id: str


def put_raw(email_id: str, raw: bytes) -> str:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage  # type: ignore[attr-defined]

    settings = get_settings()
    client = storage.Client(
        project=settings.google_cloud_project, credentials=AnonymousCredentials()
    )
    n = notice(email_id, bucket=settings.raw_email_bucket)
    client.bucket(n.bucket).blob(n.object_name).upload_from_string(raw, timeout=10)
    return n.gcs_uri


def seed_item(
    collection: Any,
    *,
    raw: bytes | None = None,
    intent: str = "payment_confirmation",
    amount: float = 120.0,
    reasons: tuple[str, ...] = ("no_account_match",),
    decision: str = "MANUAL_REVIEW",
    kind: str = "review_request",
    hold: bool = False,
    evidence: str = "I paid 120.00 EUR",
) -> Seeded:
    """An account (not matched) and an email whose report says no account matched."""
    settings = get_settings()
    email_id = unique("em-console")
    account_id = unique("ACC").upper()
    correlation_id = unique("corr-console")
    collection.insert_one(account_document(account_id, hold=hold))
    raw = raw or plain_mime(f"Hello,\n{evidence} on 2026-12-01 for my account.\nRegards")
    put_raw(email_id, raw)
    store = PostgresProcessingStore(lease_seconds=60)
    store.claim(
        notice(email_id, bucket=settings.raw_email_bucket),
        correlation_id=correlation_id,
        owner="seed",
    )
    report = Report(
        email_id=email_id,
        correlation_id=correlation_id,
        status="done",
        attempt=1,
        decision=decision,
        intent=intent,
        extractor="claude",
        overall_confidence=0.9,
        fields={
            "amount": {"value": amount, "confidence": 0.95, "evidence": evidence},
            "currency": {"value": "EUR", "confidence": 0.95, "evidence": "EUR"},
            "creditor_name": {"value": "Northwind Bank", "confidence": 0.8, "evidence": None},
        },
        match={"method": None, "score": 0.0, "account_id": None, "candidates": []},
        actions=[
            {"type": "notification", "kind": kind, "dedup_key": f"{email_id}:{kind}"},
            {"type": "decision_reasons", "reasons": list(reasons)},
        ],
    )
    assert (
        store.finish(report, owner="seed", notifications=[], metrics=RecordingMetrics()) == "done"
    )
    return Seeded(email_id, account_id, correlation_id)
