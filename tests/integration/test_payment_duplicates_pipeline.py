"""Two emails confirming the same payment through the whole pipeline (real Postgres, MongoDB).

The first is recorded (``AUTO_UPDATE``); the second ("As I told you, I paid …") is reported for
staff like any blocked payment: ``UPDATE_AND_NOTIFY``, reason
``payment_not_recorded:possible_duplicate``, a ``debt_update`` notification, balance unchanged.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from shared.db.engine import transaction
from shared.processing.store import PostgresProcessingStore
from tests.processing_fakes import (
    account_document,
    extraction,
    notice,
    push_delivery,
    store_backed_pipeline,
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


def test_the_second_email_with_the_same_payment_is_reported_not_recorded(
    mongo_accounts: Any,
) -> None:
    repository, coll = mongo_accounts
    account_id = f"ACC-{uuid.uuid4().hex[:10]}"
    case_number = f"CASE-{uuid.uuid4().hex[:10]}"
    coll.insert_one(account_document(account_id, case_number=case_number, amount=1200.0))
    pipeline, raw = store_backed_pipeline(
        repository,
        PostgresProcessingStore(lease_seconds=60),
        extraction(
            case_number=case_number, amount=500.0, currency="EUR", payment_date="2026-01-01"
        ),
    )
    first, second = (f"em-dup-{n}-{uuid.uuid4().hex}" for n in (1, 2))
    for email_id in (first, second):
        raw.put(notice(email_id), b"raw")
        assert pipeline.process(push_delivery(email_id)) == "done"

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


def test_a_payment_dated_yesterday_twice_in_a_week_is_recorded_once(mongo_accounts: Any) -> None:
    """ "I paid 500 EUR yesterday" resent three days later names another day: a date quoted only
    as a day word (``date_relative``) is guarded as undated, so the resend is held, not paid
    twice; two different calendar dates would both be recorded."""
    repository, coll = mongo_accounts
    account_id = f"ACC-{uuid.uuid4().hex[:10]}"
    case_number = f"CASE-{uuid.uuid4().hex[:10]}"
    coll.insert_one(account_document(account_id, case_number=case_number, amount=1200.0))
    store = PostgresProcessingStore(lease_seconds=60)
    email_ids = []
    for day in ("2025-12-29", "2026-01-01"):
        pipeline, raw = store_backed_pipeline(
            repository,
            store,
            extraction(
                case_number=case_number,
                amount=500.0,
                currency="EUR",
                payment_date=day,
                warnings=("date_relative:payment_date",),
            ),
        )
        email_id = f"em-rel-{uuid.uuid4().hex}"
        email_ids.append(email_id)
        raw.put(notice(email_id), b"raw")
        assert pipeline.process(push_delivery(email_id)) == "done"

    assert _report(email_ids[0])["decision"] == "AUTO_UPDATE"
    second = _report(email_ids[1])
    assert "payment_not_recorded:possible_duplicate" in second["pipeline"]["warnings"]
    assert coll.find_one({"_id": account_id})["balance"]["amount"] == 700.0  # moved once
