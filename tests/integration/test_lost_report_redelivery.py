"""A report lost after the account update: the redelivery's report carries what was applied.

Against the real Postgres (claim, report, metrics, outbox) and the real MongoDB wire server
(accounts). The first delivery updates the account and then cannot write its report (as when
Postgres goes away between the MongoDB update and the finish statement); the redelivery finds
the email already applied and its report must still say what moved the money.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pymongo
import pytest
from sqlalchemy import text

from shared.accounts import Account, AccountUpdate, ApplyResult
from shared.accounts.mongo import MongoAccountRepository
from shared.config import get_settings
from shared.db.engine import transaction
from shared.errors import DependencyUnavailable
from shared.processing.store import PostgresProcessingStore
from tests.processing_fakes import (
    account_document,
    extraction,
    notice,
    push_delivery,
    store_backed_pipeline,
)


class ReportLostOnce(PostgresProcessingStore):
    """The real store, whose first ``finish`` fails as an outage of Postgres would."""

    def __init__(self) -> None:
        super().__init__(lease_seconds=60)
        self.finishes = 0

    def finish(self, *args: Any, **kwargs: Any) -> Any:
        self.finishes += 1
        if self.finishes == 1:
            raise DependencyUnavailable("postgres", "OperationalError", stage="finish")
        return super().finish(*args, **kwargs)


class RecordingAccounts(MongoAccountRepository):
    """The real repository, keeping each ``apply``/``already_applied`` result."""

    def __init__(self, collection_name: str) -> None:
        super().__init__(get_settings(), collection_name=collection_name)
        self.results: list[ApplyResult] = []

    def apply(self, account: Account, email_id: str, update: AccountUpdate) -> ApplyResult:
        result = super().apply(account, email_id, update)
        self.results.append(result)
        return result

    def already_applied(self, account: Account, email_id: str) -> ApplyResult:
        result = super().already_applied(account, email_id)
        self.results.append(result)
        return result


@pytest.fixture
def accounts(stack_env: dict) -> Iterator[tuple[RecordingAccounts, Any]]:
    name = f"accounts_{uuid.uuid4().hex}"
    repository = RecordingAccounts(name)
    client: Any = pymongo.MongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    yield repository, client[get_settings().mongodb_database][name]
    client[get_settings().mongodb_database][name].drop()
    client.close()
    repository.close()


def _reports(email_id: str) -> list[dict[str, Any]]:
    with transaction() as session:
        rows = session.execute(
            text(
                "SELECT status, decision, actions, pipeline, errors FROM processing_reports "
                "WHERE email_id = :id"
            ),
            {"id": email_id},
        ).mappings()
        return [dict(row) for row in rows]


def _process_with_lost_report(
    accounts: RecordingAccounts,
    coll: Any,
    between: Callable[[str, str], None] = lambda account_id, email_id: None,
) -> tuple[str, str]:
    """Apply a payment, lose the report, run ``between``, redeliver; (email id, account id)."""
    account_id = f"ACC-{uuid.uuid4().hex[:10]}"
    case_number = f"CASE-{uuid.uuid4().hex[:10]}"
    coll.insert_one(account_document(account_id, case_number=case_number, amount=1200.0))
    pipeline, raw = store_backed_pipeline(
        accounts,
        ReportLostOnce(),
        extraction(case_number=case_number, amount=200.0, currency="EUR"),
    )
    email_id = f"em-lost-{uuid.uuid4().hex}"
    raw.put(notice(email_id), b"raw")
    with pytest.raises(DependencyUnavailable):
        pipeline.process(push_delivery(email_id))
    assert _reports(email_id) == []  # the account moved, the report is lost
    assert coll.find_one({"_id": account_id})["applied_email_ids"] == [email_id]
    between(account_id, email_id)
    assert pipeline.process(push_delivery(email_id)) == "done"  # the redelivery
    return email_id, account_id


def test_the_redelivered_report_has_the_balances_of_the_first_apply(accounts: Any) -> None:
    repository, coll = accounts
    email_id, account_id = _process_with_lost_report(repository, coll)
    first, second = repository.results
    assert (first.status, first.balance_before, first.balance_after) == (
        "applied",
        Decimal("1200.00"),
        Decimal("1000.00"),
    )
    assert second.status == "already_applied"
    (report,) = _reports(email_id)
    assert (report["status"], report["decision"]) == ("done", "AUTO_UPDATE")
    (action,) = [a for a in report["actions"] if a.get("account_id") == account_id]
    assert action["result"] == "already_applied" and action["type"] == "record_payment"
    assert action["balance_before"] == str(first.balance_before) == "1200.00"
    assert action["balance_after"] == str(first.balance_after) == "1000.00"
    assert action["applied_decision"] == "AUTO_UPDATE" and "applied_at" in action
    assert "account_already_updated" in report["pipeline"]["warnings"]
    # the money moved exactly once
    doc = coll.find_one({"_id": account_id})
    assert doc["balance"]["amount"] == 1000.0
    assert doc["applied_email_ids"] == [email_id]
    (entry,) = [h for h in doc["history"] if h["email_id"] == email_id]
    assert (entry["balance_before"], entry["balance_after"]) == ("1200.00", "1000.00")
    assert len(doc["history"]) == 1


def test_a_malformed_history_entry_gives_a_report_without_balances_and_a_warning(
    accounts: Any,
) -> None:
    repository, coll = accounts

    def damage(account_id: str, email_id: str) -> None:  # the entry is damaged in between
        coll.update_one(
            {"_id": account_id},
            {"$set": {"history": [{"email_id": email_id, "balance_before": {"$gt": 0}}]}},
        )

    email_id, account_id = _process_with_lost_report(repository, coll, damage)
    (report,) = _reports(email_id)
    (action,) = [a for a in report["actions"] if a.get("account_id") == account_id]
    assert action["result"] == "already_applied" and action["reason"] == "history_entry_invalid"
    assert "balance_before" not in action and "balance_after" not in action
    assert "account_history_entry_invalid" in report["pipeline"]["warnings"]
    assert coll.find_one({"_id": account_id})["balance"]["amount"] == 1000.0
