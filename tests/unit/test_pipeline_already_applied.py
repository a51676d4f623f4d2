"""A redelivery after a lost report: the report says what the first attempt applied (fakes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.accounts.mongo import already_applied_result
from shared.errors import DependencyUnavailable
from shared.processing.envelope import Delivery
from tests.processing_fakes import Harness, account_document, extraction, harness, notice

EMAIL_ID = "em-unit-lost-0001"


def _delivery() -> Delivery:
    return Delivery(
        notice=notice(EMAIL_ID),
        correlation_id="corr-unit-lost-01",
        pubsub_message_id="7",
        publish_time=datetime(2026, 1, 1, tzinfo=UTC),
        delivery_attempt=None,
    )


def _lose_the_first_report(h: Harness) -> None:
    """The first attempt updates the account, then Postgres goes away before the finish."""
    finish = h.store.finish
    calls = {"n": 0}

    def flaky_finish(*args: Any, **kwargs: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise DependencyUnavailable("postgres", "OperationalError", stage="finish")
        return finish(*args, **kwargs)

    h.store.finish = flaky_finish  # type: ignore[method-assign]
    h.raw.put(_delivery().notice, b"raw")
    with pytest.raises(DependencyUnavailable):
        h.pipeline.process(_delivery())
    assert h.store.reports == {} and len(h.accounts.applied) == 1


def _account_action(h: Harness) -> dict[str, Any]:
    report = h.store.reports[EMAIL_ID]
    actions = [a for a in report.actions if "account_id" in a]
    assert len(actions) == 1
    return actions[0]


def test_the_redelivered_report_carries_the_first_attempts_balances() -> None:
    h = harness()
    _lose_the_first_report(h)
    assert h.pipeline.process(_delivery()) == "done"
    action = _account_action(h)
    assert action["result"] == "already_applied"
    assert (action["balance_before"], action["balance_after"]) == ("1200.00", "1000.00")
    assert action["type"] == "record_payment" and action["applied_decision"] == "AUTO_UPDATE"
    assert datetime.fromisoformat(action["applied_at"]).tzinfo is not None
    assert "decided_now" not in action and "reason" not in action
    warnings = h.store.reports[EMAIL_ID].pipeline["warnings"]
    assert "account_already_updated" in warnings
    assert not [w for w in warnings if w.startswith("account_history")]
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 1000.0
    assert len(h.accounts.applied) == 1


def test_a_redelivery_deciding_otherwise_still_reports_what_was_applied() -> None:
    h = harness()
    _lose_the_first_report(h)
    # the redelivery's extraction is less sure: it would only report the payment to staff
    h.claude.result = replace(h.claude.result, intent_confidence=0.8)
    assert h.pipeline.process(_delivery()) == "done"
    action = _account_action(h)
    assert action["type"] == "record_payment" and action["decided_now"] == "report_payment"
    assert (action["balance_before"], action["balance_after"]) == ("1200.00", "1000.00")
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 1000.0


def test_a_redelivery_deciding_manual_review_still_reports_the_earlier_change() -> None:
    h = harness()
    _lose_the_first_report(h)
    h.claude.result = replace(h.claude.result, intent="other")  # nothing to apply now
    assert h.pipeline.process(_delivery()) == "done"
    report = h.store.reports[EMAIL_ID]
    assert report.decision == "MANUAL_REVIEW"
    action = _account_action(h)
    assert (action["type"], action["decided_now"], action["result"]) == (
        "record_payment",
        "none",
        "already_applied",
    )
    assert (action["balance_before"], action["balance_after"]) == ("1200.00", "1000.00")
    assert len(h.accounts.applied) == 1


def test_a_redelivery_after_a_payment_in_full_does_not_say_the_payment_was_not_recorded() -> None:
    """The first delivery recorded 1200 of 1200 and lost its report; read again against the
    account at 0, the same payment "exceeds the balance". The report and the staff mail must
    say what was done (recorded) and ask a person to look, never "not recorded"."""
    h = harness(
        claude_result=extraction(case_number="CASE-2024-0001", amount=1200.0, currency="EUR")
    )
    _lose_the_first_report(h)
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 0.0
    assert h.pipeline.process(_delivery()) == "done"
    report = h.store.reports[EMAIL_ID]
    assert report.decision == "MANUAL_REVIEW"
    reasons = report.actions[-1]["reasons"]
    assert "earlier_attempt_applied:AUTO_UPDATE" in reasons
    assert not [r for r in reasons if r.startswith("payment_not_recorded")]
    action = _account_action(h)
    assert (action["type"], action["result"]) == ("record_payment", "already_applied")
    assert (action["balance_before"], action["balance_after"]) == ("1200.00", "0.00")
    [message] = h.store.outbox
    assert message.kind == "review_request"
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 0.0
    assert len(h.accounts.applied) == 1


def test_no_account_action_when_nothing_applies_and_nothing_was_applied() -> None:
    h = harness()
    h.claude.result = replace(h.claude.result, intent="other")
    h.raw.put(_delivery().notice, b"raw")
    assert h.pipeline.process(_delivery()) == "done"
    assert not [a for a in h.store.reports[EMAIL_ID].actions if "account_id" in a]
    assert h.accounts.applied == []


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda e: e.update(balance_before="a lot"),
        lambda e: e.update(balance_before={"$gt": 0}),
        lambda e: e.pop("balance_after"),
        lambda e: e.update(email_id="someone-else"),
        lambda e: e.update(at="yesterday"),
    ],
    ids=["not-a-number", "operator", "half-a-pair", "entry-missing", "bad-time"],
)
def test_a_malformed_history_entry_gives_a_report_without_balances_and_a_warning(
    corrupt: Any,
) -> None:
    h = harness()
    _lose_the_first_report(h)
    corrupt(h.accounts.documents["ACC-1001"]["history"][0])
    assert h.pipeline.process(_delivery()) == "done"
    action = _account_action(h)
    assert action["result"] == "already_applied"
    assert "balance_before" not in action and "balance_after" not in action
    assert action["reason"] == "history_entry_invalid"
    assert "account_history_entry_invalid" in h.store.reports[EMAIL_ID].pipeline["warnings"]


def test_a_payment_entry_written_before_balances_were_recorded_is_flagged() -> None:
    h = harness()
    _lose_the_first_report(h)
    entry = h.accounts.documents["ACC-1001"]["history"][0]
    del entry["balance_before"], entry["balance_after"]
    assert h.pipeline.process(_delivery()) == "done"
    action = _account_action(h)
    assert action["reason"] == "balances_not_recorded" and "balance_before" not in action
    assert "account_balances_not_recorded" in h.store.reports[EMAIL_ID].pipeline["warnings"]


@pytest.mark.parametrize(
    "document",
    [None, "text", {}, {"history": "text"}, {"history": ["text", 3, None]}, {"history": None}],
)
def test_already_applied_result_never_crashes_on_odd_documents(document: Any) -> None:
    result = already_applied_result(document, "ACC-1", "e1")
    assert (result.status, result.reason, result.balance_before) == (
        "already_applied",
        "history_entry_invalid",
        None,
    )


def test_a_duplicated_entry_is_not_trusted() -> None:
    entry = {"email_id": "e1", "balance_before": "10.00", "balance_after": "5.00"}
    assert already_applied_result({"history": [entry, entry]}, "A", "e1").reason == (
        "history_entry_invalid"
    )
    single = already_applied_result({"history": [entry]}, "A", "e1")
    assert (single.balance_before, single.balance_after, single.reason) == (
        Decimal("10.00"),
        Decimal("5.00"),
        None,
    )


def test_a_redelivery_matching_another_account_moves_no_money_twice() -> None:
    """The second reading points at a different account: the first account's change is
    reported, the other account is left alone (the marker is searched across accounts)."""
    other = account_document(
        "ACC-2002", case_number="CASE-2024-0002", account_reference="REF-2002", email=None
    )
    # the writer is no debtor on file (a payer for someone): the second reading's reference
    # alone decides the account, as the first reading's did
    h = harness(documents=[account_document(email=None), other])
    _lose_the_first_report(h)
    h.claude.result = extraction(case_number="CASE-2024-0002", amount=200.0, currency="EUR")
    assert h.pipeline.process(_delivery()) == "done"
    action = _account_action(h)
    assert (action["account_id"], action["result"]) == ("ACC-1001", "already_applied")
    assert action["matched_now"] == "ACC-2002"
    assert (action["balance_before"], action["balance_after"]) == ("1200.00", "1000.00")
    report = h.store.reports[EMAIL_ID]
    assert "redelivery_matched_another_account" in report.pipeline["warnings"]
    # the payment may sit on the wrong debtor: a person looks
    assert report.decision == "MANUAL_REVIEW"
    assert "redelivery_matched_another_account" in report.actions[-1]["reasons"]
    assert [m.kind for m in h.store.outbox] == ["review_request"]
    assert h.accounts.documents["ACC-2002"]["balance"]["amount"] == 1200.0
    assert h.accounts.documents["ACC-2002"]["applied_email_ids"] == []
    assert len(h.accounts.applied) == 1


def test_a_first_attempt_does_not_search_for_earlier_changes() -> None:
    h = harness()
    calls: list[str] = []
    find_applied = h.accounts.find_applied

    def counting(email_id: str) -> Any:
        calls.append(email_id)
        return find_applied(email_id)

    h.accounts.find_applied = counting  # type: ignore[method-assign]
    h.raw.put(_delivery().notice, b"raw")
    assert h.pipeline.process(_delivery()) == "done"
    assert calls == []
