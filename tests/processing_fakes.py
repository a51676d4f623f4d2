"""Fakes of the processor's ports (unit tests) and builders of test data shared by the tiers."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shared.accounts import Account, AccountRepository, AccountUpdate, ApplyResult, Lookup
from shared.accounts.model import identifying_fields, reference_keys
from shared.accounts.mongo import already_applied_result, safe_str, validate_account
from shared.config import Settings, get_settings, load_settings
from shared.errors import BreakerOpenError
from shared.extraction.models import ExtractedField, Extraction, ParsedEmail
from shared.processing.claim import Claim
from shared.processing.envelope import Delivery, EmailNotice
from shared.processing.notifications import OutboxMessage
from shared.processing.outbox import SendSummary
from shared.processing.pipeline import Pipeline
from shared.processing.report import Report
from shared.processing.store import ProcessingStore
from tests.fakes import ClosedBreaker, NoTelemetry, RecordingMailer, RecordingMetrics

BUCKET = "raw-emails"


def account_document(
    account_id: str = "ACC-1001",
    *,
    case_number: str = "CASE-2024-0001",
    account_reference: str = "REF-1001",
    name: str = "Jane Example",
    email: str | None = "jane@example.org",
    creditor: str = "Northwind Bank",
    amount: float = 1200.0,
    currency: str = "EUR",
    status: str = "active",
    **extra: Any,
) -> dict[str, Any]:
    document = {
        "_id": account_id,
        "account_id": account_id,
        "case_number": case_number,
        "account_reference": account_reference,
        "debtor": {"name": name, "email": email, "phone": None, "address": "1 Main St"},
        "creditor": creditor,
        "balance": {"amount": amount, "currency": currency},
        "status": status,
        "hold": {"active": False, "reason": None, "since": None},
        "applied_email_ids": [],
        "history": [],
    }
    document.update(extra)
    return document


def extraction(
    intent: str = "payment_confirmation",
    *,
    intent_confidence: float = 0.97,
    extractor: str = "claude",
    degraded: bool = False,
    warnings: tuple[str, ...] = (),
    **fields: Any,
) -> Extraction:
    """An extraction; each field as ``name=value`` (confidence 0.95) or ``(value, conf)``."""
    built = {}
    for name, spec in fields.items():
        value, confidence = spec if isinstance(spec, tuple) else (spec, 0.95)
        built[name] = ExtractedField(value=value, confidence=confidence, evidence=str(value))
    return Extraction(
        intent=intent,
        intent_confidence=intent_confidence,
        fields=built,
        extractor=extractor,  # type: ignore[arg-type]
        degraded=degraded,
        prompt_version="test-v1",
        model="claude-test" if extractor == "claude" else None,
        warnings=warnings,
    )


def parsed_email(
    *, sender: str = "jane@example.org", subject: str = "Payment", text: str = "I paid."
) -> ParsedEmail:
    return ParsedEmail(
        message_id="<m@example.org>",
        subject=subject,
        sender=sender,
        sender_name=None,
        date=None,
        text=text,
    )


def notice(email_id: str | None = None, *, bucket: str = BUCKET) -> EmailNotice:
    email_id = email_id or f"em-{uuid.uuid4().hex}"
    name = f"2026/01/02/{email_id}.eml"
    return EmailNotice(
        email_id=email_id,
        gcs_uri=f"gs://{bucket}/{name}",
        bucket=bucket,
        object_name=name,
        provider="raw",
        received_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        size_bytes=123,
        attachment_count=0,
        message_id="<m@example.org>",
    )


def notice_body(email_id: str, *, bucket: str = BUCKET, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email_id": email_id,
        "gcs_uri": f"gs://{bucket}/2026/01/02/{email_id}.eml",
        "provider": "raw",
        "received_at": "2026-01-02T03:04:05Z",
        "size_bytes": 123,
        "attachment_count": 0,
        "message_id": "<m@example.org>",
    }
    body.update(overrides)
    return body


def push_data(
    body: Any,
    *,
    correlation_id: str = "corr-0123456789",
    email_id: str | None = None,
    raw: bytes | None = None,
) -> dict[str, Any]:
    """The CloudEvent ``data`` functions-framework builds from a push."""
    payload = raw if raw is not None else json.dumps(body).encode()
    attributes = {"correlation_id": correlation_id}
    if email_id is not None:
        attributes["email_id"] = email_id
    return {
        "message": {
            "data": base64.b64encode(payload).decode(),
            "attributes": attributes,
            "messageId": "1234",
            "publishTime": "2026-01-02T03:04:06Z",
        }
    }


# -- fakes of the ports -----------------------------------------------------------------------


@dataclass
class FakeStore:
    """In-memory ProcessingStore: one dict of email rows, one of reports."""

    emails: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: dict[str, Report] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    metrics_written: int = 0
    leases: bool = False  # hand the outbox rows back leased, as the Postgres store does

    def claim(self, notice: EmailNotice, *, correlation_id: str, owner: str) -> Claim:
        row = self.emails.setdefault(
            notice.email_id, {"status": "received", "attempts": 0, "owner": None}
        )
        if row["status"] in ("done", "failed"):
            return Claim(row["status"], row["attempts"])
        if row["owner"] is not None:
            return Claim("held", row["attempts"])
        row.update(status="processing", owner=owner, attempts=row["attempts"] + 1)
        return Claim("claimed", row["attempts"])

    def release(self, email_id: str, *, owner: str) -> None:
        row = self.emails[email_id]
        if row["owner"] == owner:
            row["owner"] = None
            self.released.append(email_id)

    def renew(self, email_id: str, *, owner: str) -> bool:
        row = self.emails[email_id]
        if row["owner"] != owner or row["status"] != "processing":
            return False
        self.renewed.append(email_id)
        return True

    def _end(self, report: Report, owner: str, status: str, metrics: Any) -> str:
        row = self.emails[report.email_id]
        if row["owner"] != owner:
            return "duplicate"
        row.update(status=status, owner=None)
        self.reports.setdefault(report.email_id, report)
        metrics.write(None)
        return "done"

    def finish(
        self,
        report: Report,
        *,
        owner: str,
        notifications: Sequence[OutboxMessage],
        metrics: Any,
        claimed: list[dict[str, Any]] | None = None,
    ) -> str:
        """Like the real store; leases the new rows to the caller only when ``leases``."""
        result = self._end(report, owner, "done", metrics)
        if result == "done":
            keys = {m.dedup_key for m in self.outbox}
            new = [m for m in notifications if m.dedup_key not in keys]
            self.outbox.extend(new)
            if self.leases and claimed is not None:
                claimed.extend(
                    {
                        "id": index,
                        "dedup_key": m.dedup_key,
                        "recipient": m.recipient,
                        "subject": m.subject,
                        "body": m.body,
                    }
                    for index, m in enumerate(new, len(self.outbox))
                )
        return result

    def fail(self, report: Report, *, owner: str, metrics: Any) -> str:
        return self._end(report, owner, "failed", metrics)

    def record_invalid(self, report: Report, *, provider: str | None, metrics: Any) -> str:
        if report.email_id in self.emails:
            return "duplicate"
        self.emails[report.email_id] = {"status": "failed", "attempts": 1, "owner": None}
        self.reports[report.email_id] = report
        return "done"

    def write_metrics(self, metrics: Any) -> None:
        self.metrics_written += 1


@dataclass
class FakeOutbox:
    """Sends the store's outbox rows once each through the mailer; failures stay pending."""

    store: FakeStore
    sent_keys: list[str] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    calls: list[str | None] = field(default_factory=list)  # email_id, or None for a sweep

    def send_pending(
        self, mailer: Any, *, email_id: str | None = None, limit: int = 10
    ) -> SendSummary:
        self.calls.append(email_id)
        summary = SendSummary()
        for message in self.store.outbox:
            if message.dedup_key in self.sent_keys:
                continue
            if email_id is not None and not message.dedup_key.startswith(email_id + ":"):
                continue
            self.attempts[message.dedup_key] = self.attempts.get(message.dedup_key, 0) + 1
            try:
                mailer.send(to=message.recipient, subject=message.subject, body=message.body)
            except Exception:
                summary.failed += 1
                continue
            self.sent_keys.append(message.dedup_key)
            summary.sent += 1
        return summary

    def send_claimed(self, mailer: Any, rows: Sequence[Mapping[str, Any]]) -> SendSummary:
        self.calls.append("claimed")
        summary = SendSummary()
        for row in rows:
            mailer.send(to=row["recipient"], subject=row["subject"], body=row["body"])
            self.sent_keys.append(row["dedup_key"])
            summary.sent += 1
        return summary


@dataclass
class FakeRawEmails:
    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)
    fail_with: Exception | None = None

    def put(self, notice: EmailNotice, raw: bytes) -> None:
        self.objects[(notice.bucket, notice.object_name)] = raw

    def read(self, bucket: str, name: str) -> bytes:
        from shared.errors import MissingObject

        if self.fail_with is not None:
            raise self.fail_with
        try:
            return self.objects[(bucket, name)]
        except KeyError:
            raise MissingObject("raw email object not found", stage="read") from None


class FakeAccounts:
    """In-memory AccountRepository over raw documents (validated like the real one)."""

    def __init__(self, documents: list[dict[str, Any]] | None = None) -> None:
        self.documents: dict[Any, dict[str, Any]] = {d["_id"]: d for d in documents or []}
        self.applied: list[tuple[str, str, AccountUpdate]] = []
        self.spellings_asked: list[str] = []

    def _lookup(self, predicate: Callable[[dict[str, Any]], bool]) -> Lookup:
        accounts: list[Account] = []
        skipped = 0
        for document in self.documents.values():
            if not predicate(document):
                continue
            account = validate_account(document)
            if account is None:
                skipped += 1
            else:
                accounts.append(account)
        return Lookup(accounts, skipped)

    def find_by_references(self, keys: list[str], *, spellings: Sequence[str] = ()) -> Lookup:
        wanted = set(keys)
        fields = identifying_fields(get_settings())
        found = self._lookup(lambda d: bool(wanted.intersection(reference_keys(d, fields))))
        self.spellings_asked = list(spellings)
        return Lookup(
            [
                a.model_copy(update={"ref_keys": reference_keys(self.documents[a.key], fields)})
                for a in found.accounts
            ],
            found.skipped,
        )

    def find_by_case_number(self, value: str) -> Lookup:
        value = safe_str(value)
        return self._lookup(lambda d: d.get("case_number") == value)

    def find_by_account_reference(self, value: str) -> Lookup:
        value = safe_str(value)
        return self._lookup(lambda d: d.get("account_reference") == value)

    def find_applied(self, email_id: str) -> Lookup:
        return self._lookup(lambda d: email_id in d.get("applied_email_ids", []))

    def find_by_debtor_email(self, value: str) -> Lookup:
        value = safe_str(value).lower()
        return self._lookup(lambda d: (d.get("debtor") or {}).get("email") == value)

    def find_by_balance_amount(self, amount: Decimal) -> Lookup:
        return self._lookup(lambda d: (d.get("balance") or {}).get("amount") == float(amount))

    def find_by_creditors(self, creditors: list[str]) -> Lookup:
        return self._lookup(lambda d: d.get("creditor") in creditors)

    def creditor_names(self) -> list[str]:
        return sorted({d["creditor"] for d in self.documents.values() if "creditor" in d})

    def get(self, key: Any) -> Account | None:
        document = self.documents.get(key)
        return validate_account(document) if document else None

    def apply(self, account: Account, email_id: str, update: AccountUpdate) -> ApplyResult:
        document = self.documents[account.key]
        if email_id in document["applied_email_ids"]:
            return self.already_applied(account, email_id)
        before = after = None
        entry = dict(update.history_entry)
        if update.payment is not None:
            before = Decimal(str(document["balance"]["amount"])).quantize(Decimal("0.01"))
            after = before - update.payment
            document["balance"]["amount"] = float(after)
            entry.update(balance_before=str(before), balance_after=str(after))
        for path, value in update.set_fields.items():
            target = document
            *parents, leaf = path.split(".")
            for part in parents:
                target = target.setdefault(part, {})
            target[leaf] = value
        document["applied_email_ids"].append(email_id)
        document["history"].append(entry)
        self.applied.append((account.account_id, email_id, update))
        return ApplyResult("applied", before, after)

    def already_applied(self, account: Account, email_id: str) -> ApplyResult:
        return already_applied_result(self.documents.get(account.key), account.key, email_id)


@dataclass
class FakeExtractor:
    """Returns a fixed extraction, or raises the next scripted error."""

    result: Extraction
    name: str = "claude"
    errors: list[Exception] = field(default_factory=list)
    calls: int = 0

    def extract(self, email: ParsedEmail) -> Extraction:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


class FakeBreaker(ClosedBreaker):
    def __init__(self, open_: bool = False) -> None:
        self.open_ = open_
        self.calls = 0

    def is_open(self) -> bool:
        return self.open_

    def call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        if self.open_:
            raise BreakerOpenError("claude")
        self.calls += 1
        return func(*args, **kwargs)


@dataclass
class Harness:
    pipeline: Pipeline
    store: FakeStore
    outbox: FakeOutbox
    raw: FakeRawEmails
    accounts: FakeAccounts
    claude: FakeExtractor
    rules: FakeExtractor
    mailer: RecordingMailer
    breaker: FakeBreaker
    metrics: list[RecordingMetrics]


def harness(
    *,
    documents: list[dict[str, Any]] | None = None,
    claude_result: Extraction | None = None,
    rules_result: Extraction | None = None,
    email: ParsedEmail | None = None,
    settings: Settings | None = None,
    claude_configured: bool = True,
) -> Harness:
    from shared.processing.bootstrap import bootstrap

    store = FakeStore()
    outbox = FakeOutbox(store)
    raw = FakeRawEmails()
    accounts = FakeAccounts(documents if documents is not None else [account_document()])
    claude = FakeExtractor(
        claude_result or extraction(case_number="CASE-2024-0001", amount=200.0, currency="EUR")
    )
    rules = FakeExtractor(
        rules_result
        or replace(
            extraction(
                case_number=("CASE-2024-0001", 0.8), amount=(200.0, 0.8), currency=("EUR", 0.8)
            ),
            extractor="rules",
            degraded=False,
        ),
        name="rules",
    )
    mailer = RecordingMailer()
    breaker = FakeBreaker()
    made: list[RecordingMetrics] = []

    def new_metrics(**context: Any) -> RecordingMetrics:
        metrics = RecordingMetrics(**context)
        made.append(metrics)
        return metrics

    the_email = email or parsed_email()
    pipeline = bootstrap(
        settings or load_settings({}),
        store=store,
        outbox=outbox,
        raw_emails=raw,
        parse_email=lambda raw_bytes: the_email,
        claude=claude if claude_configured else None,
        rules=rules,
        accounts=accounts,
        mailer=mailer,
        breakers=lambda name: breaker,
        new_metrics=new_metrics,
        telemetry=NoTelemetry(),
    )
    return Harness(pipeline, store, outbox, raw, accounts, claude, rules, mailer, breaker, made)


def push_delivery(email_id: str) -> Delivery:
    """``email_id`` as Pub/Sub pushes it to the processor now (no attempt header)."""
    return Delivery(
        notice=notice(email_id),
        correlation_id=f"corr-{email_id}"[:64],
        pubsub_message_id="1",
        publish_time=datetime.now(UTC),
        delivery_attempt=None,
    )


def store_backed_pipeline(
    accounts: AccountRepository, store: ProcessingStore, claude_answer: Extraction
) -> tuple[Pipeline, FakeRawEmails]:
    """The real pipeline with ``store`` (Postgres), its outbox and metrics and ``accounts``;
    the raw email, Claude (answering ``claude_answer``) and the rules are faked."""
    from shared.processing.bootstrap import bootstrap

    raw = FakeRawEmails()
    pipeline = bootstrap(
        get_settings(),
        store=store,
        raw_emails=raw,
        parse_email=lambda _raw: parsed_email(),
        claude=FakeExtractor(claude_answer),
        rules=FakeExtractor(extraction(extractor="rules", degraded=True), name="rules"),
        accounts=accounts,
        mailer=RecordingMailer(),
        breakers=lambda name: ClosedBreaker(),
        telemetry=NoTelemetry(),
    )
    return pipeline, raw
