"""Two emails confirming the same payment through the whole pipeline (real Postgres, MongoDB).

The first is recorded (``AUTO_UPDATE``); the second ("As I told you, I paid …") is reported for
staff like any blocked payment: ``UPDATE_AND_NOTIFY``, reason
``payment_not_recorded:possible_duplicate``, a ``debt_update`` notification, balance unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pymongo
import pytest
from sqlalchemy import text

from shared.accounts import MongoAccountRepository
from shared.config import get_settings
from shared.db.engine import transaction
from shared.mail import RecordingMailer
from shared.processing.bootstrap import bootstrap
from shared.processing.envelope import Delivery
from shared.processing.ports import ClosedBreaker, NoTelemetry
from shared.processing.store import PostgresProcessingStore
from tests.processing_fakes import (
    FakeExtractor,
    FakeRawEmails,
    account_document,
    extraction,
    notice,
    parsed_email,
)


@pytest.fixture
def accounts(stack_env: dict) -> Iterator[tuple[MongoAccountRepository, Any]]:
    name = f"accounts_{uuid.uuid4().hex}"
    repository = MongoAccountRepository(get_settings(), collection_name=name)
    client: Any = pymongo.MongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    coll = client[get_settings().mongodb_database][name]
    yield repository, coll
    coll.drop()
    client.close()
    repository.close()


def _delivery(email_id: str) -> Delivery:
    return Delivery(
        notice=notice(email_id),
        correlation_id=f"corr-{email_id}"[:64],
        pubsub_message_id="1",
        publish_time=datetime.now(UTC),
        delivery_attempt=None,
    )


def _report(email_id: str) -> dict[str, Any]:
    with transaction() as session:
        row = session.execute(
            text(
                "SELECT status, decision, actions, pipeline FROM processing_reports "
                "WHERE email_id = :id"
            ),
            {"id": email_id},
        ).mappings()
        (report,) = [dict(r) for r in row]
        kinds = session.execute(
            text("SELECT kind FROM notifications WHERE email_id = :id"), {"id": email_id}
        ).scalars()
        report["notifications"] = sorted(kinds)
        return report


def test_the_second_email_with_the_same_payment_is_reported_not_recorded(accounts: Any) -> None:
    repository, coll = accounts
    account_id = f"ACC-{uuid.uuid4().hex[:10]}"
    case_number = f"CASE-{uuid.uuid4().hex[:10]}"
    coll.insert_one(account_document(account_id, case_number=case_number, amount=1200.0))
    raw = FakeRawEmails()
    claude = FakeExtractor(
        extraction(case_number=case_number, amount=500.0, currency="EUR", payment_date="2026-01-01")
    )
    pipeline = bootstrap(
        get_settings(),
        store=PostgresProcessingStore(lease_seconds=60),
        raw_emails=raw,
        parse_email=lambda _raw: parsed_email(),
        claude=claude,
        rules=FakeExtractor(extraction(extractor="rules", degraded=True), name="rules"),
        accounts=repository,
        mailer=RecordingMailer(),
        breakers=lambda name: ClosedBreaker(),
        telemetry=NoTelemetry(),
    )
    first, second = (f"em-dup-{n}-{uuid.uuid4().hex}" for n in (1, 2))
    for email_id in (first, second):
        raw.put(notice(email_id), b"raw")
        assert pipeline.process(_delivery(email_id)) == "done"

    recorded = _report(first)
    assert recorded["decision"] == "AUTO_UPDATE" and recorded["notifications"] == []
    report = _report(second)
    assert (report["status"], report["decision"]) == ("done", "UPDATE_AND_NOTIFY")
    (action,) = [a for a in report["actions"] if a.get("account_id") == account_id]
    assert action == {
        "type": "report_payment",
        "decided_now": "record_payment",
        "account_id": account_id,
        "result": "applied",
        "reason": "payment_not_recorded:possible_duplicate",
    }
    (reasons,) = [a["reasons"] for a in report["actions"] if a["type"] == "decision_reasons"]
    assert "payment_not_recorded:possible_duplicate" in reasons
    assert "payment_not_recorded:possible_duplicate" in report["pipeline"]["warnings"]
    assert report["notifications"] == ["debt_update"]
    doc = coll.find_one({"_id": account_id})
    assert doc["balance"]["amount"] == 700.0  # moved once
    entries = {h["email_id"]: h for h in doc["history"]}
    assert entries[first]["action"] == "record_payment"
    assert (entries[first]["amount"], entries[first]["payment_date"]) == ("500.00", "2026-01-01")
    assert entries[second]["action"] == "report_payment"
    assert entries[second]["decision"] == "UPDATE_AND_NOTIFY"
    assert entries[second]["payment_not_recorded"] == "possible_duplicate"
