"""The emails the processor benchmarks feed it, and the state they need on the stack.

Each :class:`BenchEmail` has its own account (seeded in MongoDB), its own raw MIME (stored in
the bucket where the webhook would put it, ``yyyy/mm/dd/<email_id>.eml``) and its own scripted
Claude answer (a stand-in rule keyed on a marker in the text). Three in four are payment
confirmations with an exact case number (decided ``AUTO_UPDATE``), one in four payment-plan
requests (``UPDATE_AND_NOTIFY``: account update, outbox row, staff email) — the common paths.
The announcement is the one the webhook publishes (see ``shared/intake/service.py``).
"""

from __future__ import annotations

import base64
import json
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

from infra.stack import PROJECT

ACCOUNTS_COLLECTION = "accounts"
TOPIC = "inbound-emails"
_FILLER = (
    "Thank you for your letter of last week. I have gone through my statements again and I "
    "would like to settle this as soon as possible, as discussed on the phone with your "
    "colleague. Please confirm once you have received it and let me know if anything else is "
    "needed from my side.\n"
)


@dataclass(frozen=True)
class BenchEmail:
    email_id: str
    marker: str
    case: str
    account_id: str
    kind: str  # "payment" (AUTO_UPDATE) or "plan" (UPDATE_AND_NOTIFY)
    mime: bytes
    received_at: datetime

    @property
    def object_name(self) -> str:
        return f"{self.received_at:%Y/%m/%d}/{self.email_id}.eml"

    @property
    def gcs_uri(self) -> str:
        return f"gs://raw-emails/{self.object_name}"

    @property
    def expected_decision(self) -> str:
        return "AUTO_UPDATE" if self.kind == "payment" else "UPDATE_AND_NOTIFY"


def _mime(body: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = "A Debtor <debtor@example.org>"
    message["To"] = "inbound@collections.example"
    message["Subject"] = "About my account"
    message["Date"] = "Mon, 03 Mar 2025 10:15:00 +0000"
    message["Message-ID"] = message_id
    message.set_content(body)
    return message.as_bytes(policy=policy.SMTP)


def make_emails(count: int, prefix: str) -> list[BenchEmail]:
    now = datetime.now(UTC)
    run = uuid.uuid4().hex[:8]
    emails = []
    for index in range(count):
        marker = f"MK{run}{index:05d}"
        case = f"CASE-{run}-{index:05d}"
        kind = "plan" if index % 4 == 3 else "payment"
        if kind == "payment":
            text = f"Hello, I paid 120.50 EUR today for case {case}. Ref {marker}.\n\n"
        else:
            text = (
                f"Case {case}: I would like to pay in monthly instalments of 50 EUR. "
                f"Ref {marker}.\n\n"
            )
        emails.append(
            BenchEmail(
                email_id=f"{prefix}-{run}-{index:05d}",
                marker=marker,
                case=case,
                account_id=f"ACC-{run}-{index:05d}",
                kind=kind,
                mime=_mime(text + _FILLER * 3 + "Kind regards\nA Debtor\n", f"<{marker}@bench>"),
                received_at=now,
            )
        )
    return emails


def account_document(email: BenchEmail) -> dict[str, Any]:
    return {
        "_id": email.account_id,
        "account_id": email.account_id,
        "case_number": email.case,
        "account_reference": f"REF-{email.account_id}",
        "debtor": {
            "name": "Pat Debtor",
            "email": "debtor@example.org",  # the sender of every bench email
            "phone": None,
            "address": "1 Old Road",
        },
        "creditor": "Northwind Bank",
        "balance": {"amount": 500.0, "currency": "EUR"},
        "status": "active",
        "hold": {"active": False, "reason": None, "since": None},
        "applied_email_ids": [],
        "history": [],
    }


def tool_input(email: BenchEmail) -> dict[str, Any]:
    """The Claude stand-in's answer for ``email`` (validated evidence: quotes from the text)."""
    from shared.extraction.models import FIELD_NAMES

    def field(value: Any, confidence: float, evidence: str) -> dict[str, Any]:
        return {"value": value, "confidence": confidence, "evidence": evidence}

    if email.kind == "payment":
        answer: dict[str, Any] = {
            "intent": "payment_confirmation",
            "intent_confidence": 0.97,
            "intent_evidence": "I paid 120.50 EUR today",
            "case_number": field(email.case, 0.99, f"case {email.case}"),
            "amount": field(120.5, 0.97, "120.50 EUR"),
            "currency": field("EUR", 0.97, "120.50 EUR"),
        }
    else:
        answer = {
            "intent": "payment_plan_request",
            "intent_confidence": 0.95,
            "intent_evidence": "pay in monthly instalments",
            "case_number": field(email.case, 0.99, f"Case {email.case}"),
            "plan_installment_amount": field(50.0, 0.9, "50 EUR"),
        }
    answer["contains_instructions_to_ai"] = False
    for name in FIELD_NAMES:
        answer.setdefault(name, None)
    return answer


def script_claude(claude_url: str, emails: list[BenchEmail], delay_seconds: float = 0.0) -> None:
    """One stand-in rule per email (one request for all of them)."""
    rules = []
    for email in emails:
        behaviour: dict[str, Any] = {"kind": "tool_use", "input": tool_input(email)}
        if delay_seconds:
            behaviour["delay_seconds"] = delay_seconds
        rules.append({"when_contains": email.marker, "behaviour": behaviour})
    request = urllib.request.Request(
        claude_url.rstrip("/") + "/_control/rules",
        data=json.dumps({"rules": rules}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def seed_accounts(env: dict[str, str], emails: list[BenchEmail]) -> None:
    import pymongo

    client: Any = pymongo.MongoClient(env["MONGODB_URI"])
    try:
        collection = client[env.get("MONGODB_DATABASE", "collections")][ACCOUNTS_COLLECTION]
        collection.insert_many([account_document(email) for email in emails], ordered=False)
    finally:
        client.close()


def storage_client() -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project=PROJECT, credentials=AnonymousCredentials())


def store_emails(emails: list[BenchEmail], threads: int = 8) -> None:
    """Upload every MIME to the raw-email bucket (needs STORAGE_EMULATOR_HOST set)."""
    client = storage_client()
    bucket = client.bucket("raw-emails")

    def upload(email: BenchEmail) -> None:
        bucket.blob(email.object_name).upload_from_string(email.mime, "message/rfc822")

    try:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(upload, emails))
    finally:
        client.close()


def prepare(env: dict[str, str], emails: list[BenchEmail], delay_seconds: float = 0.0) -> None:
    """Accounts, raw MIME and Claude answers for ``emails``."""
    seed_accounts(env, emails)
    store_emails(emails)
    script_claude(env["CLAUDE_STANDIN_URL"], emails, delay_seconds)


def announcement(email: BenchEmail) -> dict[str, Any]:
    return {
        "email_id": email.email_id,
        "gcs_uri": email.gcs_uri,
        "provider": "raw",
        "received_at": email.received_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "size_bytes": len(email.mime),
        "attachment_count": 0,
        "message_id": f"<{email.marker}@bench>",
    }


def push_body(email: BenchEmail) -> dict[str, Any]:
    """What a Pub/Sub push subscription POSTs for ``email``."""
    return {
        "message": {
            "data": base64.b64encode(json.dumps(announcement(email)).encode()).decode(),
            "attributes": {"correlation_id": f"bench-{email.marker}", "email_id": email.email_id},
            "messageId": uuid.uuid4().hex[:16],
            "publishTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        },
        "subscription": f"projects/{PROJECT}/subscriptions/inbound-emails-processor",
    }


def cloud_event(email: BenchEmail) -> Any:
    """The CloudEvent functions-framework makes of :func:`push_body`."""
    from cloudevents.http import CloudEvent

    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/{TOPIC}",
        },
        push_body(email),
    )
