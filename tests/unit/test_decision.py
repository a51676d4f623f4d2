"""The decision rules, as a table: extraction × match → decision, account change, notification."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.accounts.mongo import validate_account
from shared.processing.decision import (
    ACTION_HOLD,
    ACTION_NOTE,
    ACTION_RECORD_PAYMENT,
    ACTION_REPORT_PAYMENT,
    ACTION_UPDATE_CONTACT,
    AUTO_UPDATE,
    MANUAL_REVIEW,
    NOTIFY_COMPLIANCE,
    NOTIFY_REVIEW,
    NOTIFY_UPDATE,
    UPDATE_AND_NOTIFY,
    Thresholds,
    decide,
)
from shared.processing.matching import NO_MATCH, Candidate, Match
from tests.processing_fakes import account_document, extraction

THRESHOLDS = Thresholds(auto_update=0.9, notify=0.6)
ACCOUNT = validate_account(account_document())
OTHER = validate_account(account_document("ACC-2", case_number="C-2", account_reference="R-2"))
assert ACCOUNT is not None and OTHER is not None

BY_CASE = Match("case_number", 1.0, (Candidate(ACCOUNT, 1.0),))
BY_REFERENCE = Match("account_reference", 1.0, (Candidate(ACCOUNT, 1.0),))
BY_SENDER = Match("sender_email", 0.8, (Candidate(ACCOUNT, 0.8),))
BY_NAME_HIGH = Match("fuzzy_name", 0.95, (Candidate(ACCOUNT, 0.95),))  # hypothetical score
AMBIGUOUS = Match(
    "sender_email", 0.8, (Candidate(ACCOUNT, 0.8), Candidate(OTHER, 0.8)), ambiguous=True
)

PAYMENT = extraction(amount=200.0, currency="EUR", case_number="CASE-2024-0001")
RULES_PAYMENT = replace(PAYMENT, extractor="rules", degraded=True)


@pytest.mark.parametrize(
    ("name", "ext", "match", "decision", "action", "notification"),
    [
        ("payment, exact case, claude, high", PAYMENT, BY_CASE, AUTO_UPDATE,
         ACTION_RECORD_PAYMENT, None),
        ("payment, exact reference", PAYMENT, BY_REFERENCE, AUTO_UPDATE,
         ACTION_RECORD_PAYMENT, None),
        ("payment by sender only: reported, not recorded", PAYMENT, BY_SENDER,
         UPDATE_AND_NOTIFY, ACTION_REPORT_PAYMENT, NOTIFY_UPDATE),
        ("payment, fuzzy name even if scored high: not recorded", PAYMENT, BY_NAME_HIGH,
         UPDATE_AND_NOTIFY, ACTION_REPORT_PAYMENT, NOTIFY_UPDATE),
        ("payment from the rules extractor: never money-moving", RULES_PAYMENT, BY_CASE,
         UPDATE_AND_NOTIFY, ACTION_REPORT_PAYMENT, NOTIFY_UPDATE),
        ("payment with injection warning: manual review",
         replace(PAYMENT, warnings=("injection_suspected",)), BY_CASE, MANUAL_REVIEW, None,
         NOTIFY_REVIEW),
        ("payment, medium confidence", replace(PAYMENT, intent_confidence=0.7), BY_CASE,
         UPDATE_AND_NOTIFY, ACTION_REPORT_PAYMENT, NOTIFY_UPDATE),
        ("payment, low confidence", replace(PAYMENT, intent_confidence=0.4), BY_CASE,
         MANUAL_REVIEW, None, NOTIFY_REVIEW),
        ("payment in another currency", extraction(amount=200.0, currency="USD",
         case_number="CASE-2024-0001"), BY_CASE, UPDATE_AND_NOTIFY, ACTION_REPORT_PAYMENT,
         NOTIFY_UPDATE),
        ("payment above the balance", extraction(amount=5000.0, currency="EUR",
         case_number="CASE-2024-0001"), BY_CASE, UPDATE_AND_NOTIFY, ACTION_REPORT_PAYMENT,
         NOTIFY_UPDATE),
        ("payment without amount", extraction(case_number="CASE-2024-0001"), BY_CASE,
         UPDATE_AND_NOTIFY, ACTION_REPORT_PAYMENT, NOTIFY_UPDATE),
        ("no account", PAYMENT, NO_MATCH, MANUAL_REVIEW, None, NOTIFY_REVIEW),
        ("ambiguous", PAYMENT, AMBIGUOUS, MANUAL_REVIEW, None, NOTIFY_REVIEW),
        ("dispute, low confidence: still hold + alert",
         extraction("dispute", intent_confidence=0.3, case_number="CASE-2024-0001"), BY_CASE,
         UPDATE_AND_NOTIFY, ACTION_HOLD, NOTIFY_COMPLIANCE),
        ("cease and desist, high confidence: never AUTO_UPDATE",
         extraction("cease_and_desist", case_number="CASE-2024-0001"), BY_CASE,
         UPDATE_AND_NOTIFY, ACTION_HOLD, NOTIFY_COMPLIANCE),
        ("bankruptcy from the rules extractor: hold + alert",
         replace(extraction("bankruptcy_notice"), extractor="rules", degraded=True), BY_SENDER,
         UPDATE_AND_NOTIFY, ACTION_HOLD, NOTIFY_COMPLIANCE),
        ("cease and desist without an account: alert, review",
         extraction("cease_and_desist"), NO_MATCH, MANUAL_REVIEW, None, NOTIFY_COMPLIANCE),
        ("dispute with an ambiguous match: alert, no hold on a guess",
         extraction("dispute"), AMBIGUOUS, MANUAL_REVIEW, None, NOTIFY_COMPLIANCE),
        ("promise, exact, high: noted silently",
         extraction("payment_promise", case_number="CASE-2024-0001", amount=100.0), BY_CASE,
         AUTO_UPDATE, ACTION_NOTE, None),
        ("plan request needs acceptance",
         extraction("payment_plan_request", case_number="CASE-2024-0001"), BY_CASE,
         UPDATE_AND_NOTIFY, ACTION_NOTE, NOTIFY_UPDATE),
        ("settlement offer needs acceptance",
         extraction("settlement_offer", case_number="CASE-2024-0001"), BY_CASE,
         UPDATE_AND_NOTIFY, ACTION_NOTE, NOTIFY_UPDATE),
        ("address change, exact, high",
         extraction("address_change", case_number="CASE-2024-0001", new_address="2 High St"),
         BY_CASE, AUTO_UPDATE, ACTION_UPDATE_CONTACT, None),
        ("address change by sender: update and notify",
         extraction("address_change", new_address="2 High St"), BY_SENDER, UPDATE_AND_NOTIFY,
         ACTION_UPDATE_CONTACT, NOTIFY_UPDATE),
        ("address change without details", extraction("address_change",
         case_number="CASE-2024-0001"), BY_CASE, MANUAL_REVIEW, None, NOTIFY_REVIEW),
        ("address change from rules: notify",
         replace(extraction("address_change", case_number="CASE-2024-0001",
                            new_phone="+44 20 7946 0000"), extractor="rules", degraded=True),
         BY_CASE, UPDATE_AND_NOTIFY, ACTION_UPDATE_CONTACT, NOTIFY_UPDATE),
        ("other: manual review", extraction("other", case_number="CASE-2024-0001"), BY_CASE,
         MANUAL_REVIEW, None, NOTIFY_REVIEW),
    ],
)  # fmt: skip
def test_decision_table(  # noqa: PLR0917 - one parameter per column of the table
    name: str,
    ext: object,
    match: Match,
    decision: str,
    action: str | None,
    notification: str | None,
) -> None:
    result = decide(ext, match, THRESHOLDS)  # type: ignore[arg-type]
    assert (result.decision, result.action, result.notification) == (
        decision,
        action,
        notification,
    ), (name, result.reasons)


def test_confidence_is_the_weaker_of_extraction_and_match() -> None:
    result = decide(PAYMENT, BY_SENDER, THRESHOLDS)
    assert result.confidence == 0.8
    assert "payment_not_recorded:no_exact_reference_match" in result.reasons


def test_thresholds_come_from_the_caller() -> None:
    strict = Thresholds(auto_update=0.99, notify=0.98)
    assert decide(PAYMENT, BY_CASE, strict).decision == MANUAL_REVIEW
    lenient = Thresholds(auto_update=0.5, notify=0.4)
    assert decide(replace(PAYMENT, intent_confidence=0.6), BY_CASE, lenient).decision == (
        AUTO_UPDATE
    )


def test_money_moving_flags() -> None:
    result = decide(PAYMENT, BY_CASE, THRESHOLDS)
    assert result.moves_money and result.applies and not result.hold
    held = decide(extraction("dispute", case_number="CASE-2024-0001"), BY_CASE, THRESHOLDS)
    assert held.hold and not held.moves_money
