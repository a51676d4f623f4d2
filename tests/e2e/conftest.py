"""End-to-end helpers: post through the webhook (or publish directly), script Claude, seed
accounts, and poll Postgres, MongoDB and the mailbox with bounded waits.

Every test uses its own marker (a unique token in the email text), case number and account id,
because the stack is shared by the whole session.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any

import pymongo
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import pubsub_v1, storage
from sqlalchemy import create_engine, text

from infra.fakes.clients import ClaudeStandin, Mailbox
from infra.sign_request import build_request
from infra.stack import PROJECT, LocalStack
from shared.extraction.models import FIELD_NAMES

ACCOUNTS_COLLECTION = "accounts"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_mime(
    body: str,
    *,
    sender: str = "debtor@example.org",
    subject: str = "About my account",
    message_id: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"A Debtor <{sender}>"
    message["To"] = "inbound@collections.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 03 Mar 2025 10:15:00 +0000"
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@example.org>"
    message.set_content(body)
    return message.as_bytes(policy=policy.SMTP)


def tool_input(
    intent: str, confidence: float, evidence: str, **fields: tuple[Any, float, str]
) -> dict[str, Any]:
    """The Claude tool answer: ``field=(value, confidence, evidence)``, the rest null."""
    answer: dict[str, Any] = {
        "intent": intent,
        "intent_confidence": confidence,
        "intent_evidence": evidence,
        "contains_instructions_to_ai": False,
    }
    for name in FIELD_NAMES:
        spec = fields.get(name)
        answer[name] = (
            None if spec is None else {"value": spec[0], "confidence": spec[1], "evidence": spec[2]}
        )
    return answer


def account(
    account_id: str,
    case_number: str,
    *,
    email: str = "nobody@example.org",
    name: str = "Pat Debtor",
    amount: float = 500.0,
    currency: str = "EUR",
    creditor: str = "Northwind Bank",
) -> dict[str, Any]:
    return {
        "_id": account_id,
        "account_id": account_id,
        "case_number": case_number,
        "account_reference": f"REF-{account_id}",
        "debtor": {"name": name, "email": email, "phone": None, "address": "1 Old Road"},
        "creditor": creditor,
        "balance": {"amount": amount, "currency": currency},
        "status": "active",
        "hold": {"active": False, "reason": None, "since": None},
        "applied_email_ids": [],
        "history": [],
    }


@dataclass
class E2E:
    """What an end-to-end test drives and inspects."""

    stack: LocalStack
    claude: ClaudeStandin
    mailbox: Mailbox

    # -- inputs ---------------------------------------------------------------------------

    def post(self, mime: bytes, route: str = "raw") -> str:
        """POST through the webhook like the provider would; returns the email id."""
        env = self.stack.env()
        signed = build_request(route, mime, env)
        request = urllib.request.Request(
            env["WEBHOOK_URL"].rstrip("/") + signed.path,
            data=signed.body,
            headers=signed.headers,
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
        return str(answer["email_id"])

    def store_mime(self, email_id: str, mime: bytes) -> str:
        client = storage.Client(project=PROJECT, credentials=AnonymousCredentials())
        name = f"2026/01/02/{email_id}.eml"
        client.bucket("raw-emails").blob(name).upload_from_string(mime)
        return f"gs://raw-emails/{name}"

    def publish(self, data: bytes, **attributes: str) -> str:
        publisher = pubsub_v1.PublisherClient()
        try:
            topic = publisher.topic_path(PROJECT, "inbound-emails")
            return str(publisher.publish(topic, data, **attributes).result(timeout=30))
        finally:
            publisher.transport.close()

    def notice(self, email_id: str, gcs_uri: str) -> bytes:
        return json.dumps(
            {
                "email_id": email_id,
                "gcs_uri": gcs_uri,
                "provider": "raw",
                "received_at": "2026-01-02T03:04:05+00:00",
                "size_bytes": 100,
                "attachment_count": 0,
                "message_id": None,
            }
        ).encode()

    def seed(self, *documents: dict[str, Any]) -> None:
        with self._mongo() as client:
            coll = client[self.stack.env().get("MONGODB_DATABASE", "collections")][
                ACCOUNTS_COLLECTION
            ]
            for document in documents:
                coll.replace_one({"_id": document["_id"]}, document, upsert=True)

    # -- outputs --------------------------------------------------------------------------

    def _mongo(self) -> Any:
        return pymongo.MongoClient(self.stack.env()["MONGODB_URI"], tz_aware=True)

    def account(self, account_id: str) -> dict[str, Any]:
        with self._mongo() as client:
            doc = client["collections"][ACCOUNTS_COLLECTION].find_one({"_id": account_id})
        assert doc is not None, account_id
        return dict(doc)

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        engine = create_engine(self.stack.database_url)
        try:
            with engine.connect() as conn:
                return [dict(row) for row in conn.execute(text(sql), params).mappings()]
        finally:
            engine.dispose()

    def report(self, email_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM processing_reports WHERE email_id = :id", id=email_id)
        return rows[0] if rows else None

    def wait_for_report(self, email_id: str, timeout: float = 60.0) -> dict[str, Any]:
        return wait_until(lambda: self.report(email_id), timeout, f"report of {email_id}")

    def email_row(self, email_id: str) -> dict[str, Any]:
        return self.query("SELECT * FROM emails WHERE email_id = :id", id=email_id)[0]

    def notifications(self, email_id: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM notifications WHERE email_id = :id", id=email_id)

    def mails_for(self, email_id: str) -> list[Any]:
        return [m for m in self.mailbox.messages() if m["X-Inbound-Email-Id"] == email_id]

    def wait_for_mail(self, email_id: str, timeout: float = 30.0) -> list[Any]:
        return wait_until(lambda: self.mails_for(email_id), timeout, f"mail for {email_id}")


def wait_until(probe: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout:.0f}s")
        time.sleep(0.2)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def e2e(
    stack: LocalStack, stack_env: dict[str, str], claude_standin: ClaudeStandin, mailbox: Mailbox
) -> Iterator[E2E]:
    yield E2E(stack, claude_standin, mailbox)
