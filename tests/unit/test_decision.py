"""The decision rules, as a table: extraction × match → decision, account change, notification."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.accounts import POSSIBLE_DUPLICATE, Action, AppliedRecord, ApplyResult, ApplyStatus
from shared.accounts.mongo import validate_account
from shared.processing.decision import NotificationKind as Notify
from shared.processing.decision import Route, Thresholds, decide, settle
from shared.processing.matching import NO_MATCH, Candidate, Match
from shared.processing.outcome import Outcome
from tests.processing_fakes import account_document, extraction, parsed_email

THRESHOLDS = Thresholds(auto_update=0.9, notify=0.6)
FROM_DEBTOR = parsed_email()  # from the account's debtor (jane@example.org)
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
        ("payment, exact case, claude, high", PAYMENT, BY_CASE, Route.AUTO_UPDATE,
         Action.RECORD_PAYMENT, None),
        ("payment, exact reference", PAYMENT, BY_REFERENCE, Route.AUTO_UPDATE,
         Action.RECORD_PAYMENT, None),
        ("payment by sender only: reported, not recorded", PAYMENT, BY_SENDER,
         Route.UPDATE_AND_NOTIFY, Action.REPORT_PAYMENT, Notify.DEBT_UPDATE),
        ("payment, fuzzy name even if scored high: not recorded", PAYMENT, BY_NAME_HIGH,
         Route.UPDATE_AND_NOTIFY, Action.REPORT_PAYMENT, Notify.DEBT_UPDATE),
        ("payment from the rules extractor: never money-moving", RULES_PAYMENT, BY_CASE,
         Route.UPDATE_AND_NOTIFY, Action.REPORT_PAYMENT, Notify.DEBT_UPDATE),
        ("payment with injection warning: manual review",
         replace(PAYMENT, warnings=("injection_suspected",)), BY_CASE, Route.MANUAL_REVIEW, None,
         Notify.REVIEW_REQUEST),
        ("payment, medium confidence", replace(PAYMENT, intent_confidence=0.7), BY_CASE,
         Route.UPDATE_AND_NOTIFY, Action.REPORT_PAYMENT, Notify.DEBT_UPDATE),
        ("payment, low confidence", replace(PAYMENT, intent_confidence=0.4), BY_CASE,
         Route.MANUAL_REVIEW, None, Notify.REVIEW_REQUEST),
        ("payment in another currency", extraction(amount=200.0, currency="USD",
         case_number="CASE-2024-0001"), BY_CASE, Route.UPDATE_AND_NOTIFY, Action.REPORT_PAYMENT,
         Notify.DEBT_UPDATE),
        ("payment above the balance", extraction(amount=5000.0, currency="EUR",
         case_number="CASE-2024-0001"), BY_CASE, Route.UPDATE_AND_NOTIFY, Action.REPORT_PAYMENT,
         Notify.DEBT_UPDATE),
        ("payment without amount", extraction(case_number="CASE-2024-0001"), BY_CASE,
         Route.UPDATE_AND_NOTIFY, Action.REPORT_PAYMENT, Notify.DEBT_UPDATE),
        ("no account", PAYMENT, NO_MATCH, Route.MANUAL_REVIEW, None, Notify.REVIEW_REQUEST),
        ("ambiguous", PAYMENT, AMBIGUOUS, Route.MANUAL_REVIEW, None, Notify.REVIEW_REQUEST),
        ("dispute, low confidence: still hold + alert",
         extraction("dispute", intent_confidence=0.3, case_number="CASE-2024-0001"), BY_CASE,
         Route.UPDATE_AND_NOTIFY, Action.HOLD, Notify.COMPLIANCE_ALERT),
        ("cease and desist, high confidence: never AUTO_UPDATE",
         extraction("cease_and_desist", case_number="CASE-2024-0001"), BY_CASE,
         Route.UPDATE_AND_NOTIFY, Action.HOLD, Notify.COMPLIANCE_ALERT),
        ("bankruptcy from the rules extractor: hold + alert",
         replace(extraction("bankruptcy_notice"), extractor="rules", degraded=True), BY_SENDER,
         Route.UPDATE_AND_NOTIFY, Action.HOLD, Notify.COMPLIANCE_ALERT),
        ("cease and desist without an account: alert, review",
         extraction("cease_and_desist"), NO_MATCH,
         Route.MANUAL_REVIEW, None, Notify.COMPLIANCE_ALERT),
        ("dispute with an ambiguous match: alert, no hold on a guess",
         extraction("dispute"), AMBIGUOUS, Route.MANUAL_REVIEW, None, Notify.COMPLIANCE_ALERT),
        ("promise, exact, high: noted silently",
         extraction("payment_promise", case_number="CASE-2024-0001", amount=100.0), BY_CASE,
         Route.AUTO_UPDATE, Action.NOTE, None),
        ("plan request needs acceptance",
         extraction("payment_plan_request", case_number="CASE-2024-0001"), BY_CASE,
         Route.UPDATE_AND_NOTIFY, Action.NOTE, Notify.DEBT_UPDATE),
        ("settlement offer needs acceptance",
         extraction("settlement_offer", case_number="CASE-2024-0001"), BY_CASE,
         Route.UPDATE_AND_NOTIFY, Action.NOTE, Notify.DEBT_UPDATE),
        ("address change, exact, high",
         extraction("address_change", case_number="CASE-2024-0001", new_address="2 High St"),
         BY_CASE, Route.AUTO_UPDATE, Action.UPDATE_CONTACT, None),
        ("address change by sender: update and notify",
         extraction("address_change", new_address="2 High St"), BY_SENDER, Route.UPDATE_AND_NOTIFY,
         Action.UPDATE_CONTACT, Notify.DEBT_UPDATE),
        ("address change without details", extraction("address_change",
         case_number="CASE-2024-0001"), BY_CASE, Route.MANUAL_REVIEW, None, Notify.REVIEW_REQUEST),
        ("address change from rules: notify",
         replace(extraction("address_change", case_number="CASE-2024-0001",
                            new_phone="+44 20 7946 0000"), extractor="rules", degraded=True),
         BY_CASE, Route.UPDATE_AND_NOTIFY, Action.UPDATE_CONTACT, Notify.DEBT_UPDATE),
        ("other: manual review", extraction("other", case_number="CASE-2024-0001"), BY_CASE,
         Route.MANUAL_REVIEW, None, Notify.REVIEW_REQUEST),
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
    result = decide(ext, match, THRESHOLDS, email=FROM_DEBTOR)  # type: ignore[arg-type]
    assert (result.decision, result.action, result.notification) == (
        decision,
        action,
        notification,
    ), (name, result.reasons)


def test_confidence_is_the_weaker_of_extraction_and_match() -> None:
    result = decide(PAYMENT, BY_SENDER, THRESHOLDS, email=FROM_DEBTOR)
    assert result.confidence == 0.8
    assert "payment_not_recorded:no_exact_reference_match" in result.reasons


def test_thresholds_come_from_the_caller() -> None:
    strict = Thresholds(auto_update=0.99, notify=0.98)
    assert decide(PAYMENT, BY_CASE, strict, email=FROM_DEBTOR).decision == Route.MANUAL_REVIEW
    lenient = Thresholds(auto_update=0.5, notify=0.4)
    assert decide(
        replace(PAYMENT, intent_confidence=0.6), BY_CASE, lenient, email=FROM_DEBTOR
    ).decision == (Route.AUTO_UPDATE)


def test_money_moving_flags() -> None:
    result = decide(PAYMENT, BY_CASE, THRESHOLDS, email=FROM_DEBTOR)
    assert result.moves_money and result.applies and not result.hold
    held = decide(
        extraction("dispute", case_number="CASE-2024-0001"), BY_CASE, THRESHOLDS, email=FROM_DEBTOR
    )
    assert held.hold and not held.moves_money


# -- after the apply: settle() ------------------------------------------------------------

RECORDING = decide(PAYMENT, BY_CASE, THRESHOLDS, email=FROM_DEBTOR)
assert RECORDING.action == Action.RECORD_PAYMENT


def test_settle_keeps_a_decision_the_apply_carried_out() -> None:
    assert settle(RECORDING, ApplyResult(ApplyStatus.APPLIED)) == RECORDING


def test_a_payment_refused_as_a_duplicate_is_reported_for_a_person_to_check() -> None:
    refused = ApplyResult(ApplyStatus.APPLIED, payment_refused=POSSIBLE_DUPLICATE)
    settled = settle(RECORDING, refused)
    assert (settled.decision, settled.action, settled.notification) == (
        Route.UPDATE_AND_NOTIFY,
        Action.REPORT_PAYMENT,
        Notify.DEBT_UPDATE,
    )
    assert settled.reasons[-1] == "payment_not_recorded:possible_duplicate"


def test_a_redelivery_reports_the_refusal_the_first_delivery_recorded() -> None:
    earlier = ApplyResult(
        ApplyStatus.ALREADY_APPLIED,
        record=AppliedRecord(action="report_payment", payment_not_recorded=POSSIBLE_DUPLICATE),
    )
    assert settle(RECORDING, earlier).decision == Route.UPDATE_AND_NOTIFY
    # a decision that moves no money is not rewritten by a refusal
    note = decide(
        extraction("payment_plan_request", case_number="CASE-2024-0001"), BY_CASE, THRESHOLDS
    )
    assert settle(note, earlier) == note


def test_an_apply_the_repository_refused_goes_to_a_person() -> None:
    settled = settle(RECORDING, ApplyResult(ApplyStatus.NOT_APPLIED, reason="account_vanished"))
    assert (settled.decision, settled.notification) == (Route.MANUAL_REVIEW, Notify.REVIEW_REQUEST)
    assert settled.action == Action.RECORD_PAYMENT  # what was decided, for the report
    assert settled.reasons[-1] == "not_applied:account_vanished"


def test_a_refused_hold_keeps_its_compliance_alert() -> None:
    hold = decide(
        extraction("dispute", case_number="CASE-2024-0001"), BY_CASE, THRESHOLDS, email=FROM_DEBTOR
    )
    settled = settle(hold, ApplyResult(ApplyStatus.NOT_APPLIED, reason="account_vanished"))
    assert (settled.decision, settled.notification) == (
        Route.MANUAL_REVIEW,
        Notify.COMPLIANCE_ALERT,
    )


def test_stored_values_keep_their_strings() -> None:
    # reports, metrics, the outbox and account history store these strings
    assert [str(r) for r in Route] == [
        "AUTO_UPDATE",
        "UPDATE_AND_NOTIFY",
        "MANUAL_REVIEW",
        "AUTOMATED",
    ]
    assert [str(k) for k in Notify] == ["debt_update", "review_request", "compliance_alert"]
    assert [str(a) for a in Action] == [
        "hold",
        "record_payment",
        "report_payment",
        "update_contact",
        "note",
        "note_bounce",
    ]
    assert [str(s) for s in ApplyStatus] == ["applied", "already_applied", "not_applied"]
    assert [str(o) for o in Outcome] == ["done", "failed", "duplicate"]
