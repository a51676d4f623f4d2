"""Money movement: what must stop ``record_payment`` (review findings on the money path).

Fixture: account CASE-2024-0001, balance 1200 EUR, thresholds auto 0.9 / notify 0.6. A blocked
payment is never silent: it is *reported* (``report_payment``) and staff are notified, with the
blocker's name in the reasons.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from shared.accounts import Action
from shared.accounts.mongo import validate_account
from shared.extraction.automated import AUTO_REPLY, BULK
from shared.extraction.models import AttachmentInfo, Extraction, ParsedEmail
from shared.extraction.validation import evidence_supports, validate_answer
from shared.processing.decision import NotificationKind, Route, Thresholds, decide
from shared.processing.matching import NO_MATCH, SENDER_METHOD, Candidate, Match
from tests.processing_fakes import account_document, extraction

THRESHOLDS = Thresholds(auto_update=0.9, notify=0.6)
TODAY = date(2025, 6, 20)
RECEIVED = datetime(2025, 6, 20, 9, 30, tzinfo=UTC)
ACCOUNT = validate_account(account_document())
assert ACCOUNT is not None
BY_CASE = Match("case_number", 1.0, (Candidate(ACCOUNT, 1.0),))
PAYMENT = extraction(amount=200.0, currency="EUR", case_number="CASE-2024-0001")


def _email(text: str, *, quoted: str = "", when: datetime | None = None) -> ParsedEmail:
    return ParsedEmail(
        message_id="<m@example.org>",
        subject="Payment",
        sender="jane@example.org",
        sender_name=None,
        date=when,
        text=text,
        quoted_text=quoted,
    )


def _field(value: Any, evidence: str, confidence: float = 0.95) -> dict[str, Any]:
    return {"value": value, "confidence": confidence, "evidence": evidence}


def _claude(email: ParsedEmail, **answer: Any) -> Extraction:
    """What the Claude extractor returns for ``answer``, validated against ``email``."""
    full = {
        "intent": "payment_confirmation",
        "intent_confidence": 0.95,
        "intent_evidence": "I have paid",
        "contains_instructions_to_ai": False,
        "case_number": _field("CASE-2024-0001", "CASE-2024-0001"),
        **answer,
    }
    checked = validate_answer(full, email, today=TODAY)
    return Extraction(
        checked.intent,
        checked.intent_confidence,
        checked.fields,
        "claude",
        False,
        "test-v1",
        model="claude-test",
        warnings=checked.warnings,
    )


def _decide(ext: Extraction, match: Match = BY_CASE, **kwargs: Any) -> Any:
    kwargs.setdefault("received_at", RECEIVED)
    kwargs.setdefault("email", _email("I paid."))  # from the account's debtor
    return decide(ext, match, THRESHOLDS, **kwargs)


def _reported(result: Any) -> bool:
    return (result.decision, result.action, result.notification) == (
        Route.UPDATE_AND_NOTIFY,
        Action.REPORT_PAYMENT,
        NotificationKind.DEBT_UPDATE,
    )


def test_a_clean_payment_still_moves_money() -> None:
    email = _email("I have paid 200 EUR for case CASE-2024-0001")
    ext = _claude(email, amount=_field(200.0, "paid 200 EUR"), currency=_field("EUR", "200 EUR"))
    assert ext.warnings == ()
    result = _decide(ext, email=email)
    assert (result.decision, result.action, result.notification) == (
        Route.AUTO_UPDATE,
        Action.RECORD_PAYMENT,
        None,
    ), result.reasons


# --- finding 1: the amount's own confidence and evidence ------------------------------------


def test_amount_whose_evidence_says_another_number_is_reported_not_recorded() -> None:
    email = _email("I have paid 100 EUR for case CASE-2024-0001")
    ext = _claude(email, amount=_field(1000.0, "paid 100 EUR"), currency=_field("EUR", "100 EUR"))
    assert "evidence_mismatch:amount" in ext.warnings
    result = _decide(ext, email=email)
    assert _reported(result), result.reasons
    assert "payment_not_recorded:evidence_mismatch:amount" in result.reasons
    assert "payment_not_recorded:amount_confidence_below_auto_update" in result.reasons


def test_amount_whose_evidence_is_not_in_the_email_is_reported_not_recorded() -> None:
    email = _email("I have paid 100 EUR for case CASE-2024-0001")
    ext = _claude(email, amount=_field(1000.0, "paid 1000 EUR"), currency=_field("EUR", "100 EUR"))
    assert "evidence_not_found:amount" in ext.warnings
    result = _decide(ext, email=email)
    assert _reported(result), result.reasons
    assert "payment_not_recorded:evidence_not_found:amount" in result.reasons


@pytest.mark.parametrize(
    "warning",
    [
        "evidence_mismatch:amount",
        "evidence_missing:currency",
        "evidence_not_found:intent",
        # the contract with the quoted-history check (branch money-evidence): any evidence_
        # warning of intent, amount or currency blocks money movement
        "evidence_quoted_only:intent",
        "evidence_quoted_only:amount",
        "evidence_quoted_only:currency",
        # the payment date keys the duplicate guard: a date the email does not support could
        # let the same payment through twice under two dates
        "evidence_mismatch:payment_date",
        "evidence_quoted_only:payment_date",
    ],
)
def test_any_evidence_warning_of_intent_amount_or_currency_blocks_the_payment(
    warning: str,
) -> None:
    # confidences untouched: the warning alone must block
    result = _decide(replace(PAYMENT, warnings=(warning,)))
    assert _reported(result), result.reasons
    assert f"payment_not_recorded:{warning}" in result.reasons


def test_evidence_warnings_of_other_fields_do_not_block() -> None:
    result = _decide(replace(PAYMENT, warnings=("evidence_not_found:debtor_name",)))
    assert result.action == Action.RECORD_PAYMENT, result.reasons


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("amount", extraction(amount=(200.0, 0.85), currency="EUR", case_number="CASE-2024-0001")),
        ("currency", extraction(amount=200.0, currency=("EUR", 0.5), case_number="CASE-2024-0001")),
    ],
)
def test_amount_or_currency_below_the_auto_threshold_blocks_the_payment(
    name: str, ext: Extraction
) -> None:
    result = _decide(ext)
    assert _reported(result), result.reasons
    assert f"payment_not_recorded:{name}_confidence_below_auto_update" in result.reasons


@pytest.mark.parametrize(
    ("value", "evidence", "supported"),
    [
        (1500.0, "I paid 15.00 EUR", False),
        (1.0, "I paid 1.000,00 EUR", False),
        (1000.0, "paid 100 EUR", False),
        (100.0, "paid 1000 EUR", False),
        (12.0, "paid 1200 EUR", False),
        (1234.56, "€1.234,56", True),
        (1234.56, "$1,234.56", True),
        (1234.56, "1 234,56 EUR", True),
        (1234.56, "1'234.56 CHF", True),
        (1234.56, "1234.56 EUR", True),
        (1000.0, "1.000,00 EUR", True),
        (1200.0, "1.200 EUR", True),
        (100.0, "paid 100 EUR for case CASE-2024-0001", True),
        (100.5, "100,50 €", True),
        (100.5, "100.5 EUR", True),
        (15.0, "I paid 15.00 EUR", True),
        (200.0, "200,- EUR", True),
    ],
)
def test_amount_evidence_is_compared_as_a_number(
    value: float, evidence: str, supported: bool
) -> None:
    assert evidence_supports("amount", value, evidence) is supported


# --- finding 5: missing or unrecognised currency -------------------------------------------


def test_unrecognised_currency_blocks_the_payment() -> None:
    email = _email("I have paid 1000 KZT for case CASE-2024-0001")
    ext = _claude(email, amount=_field(1000.0, "1000 KZT"), currency=_field("KZT", "1000 KZT"))
    assert "invalid:currency" in ext.warnings and "currency" not in ext.fields
    result = _decide(ext, email=email)
    assert _reported(result), result.reasons
    assert "payment_not_recorded:no_currency" in result.reasons
    assert "payment_not_recorded:invalid:currency" in result.reasons


def test_payment_without_currency_is_reported_not_recorded() -> None:
    result = _decide(extraction(amount=200.0, case_number="CASE-2024-0001"))
    assert _reported(result), result.reasons
    assert "payment_not_recorded:no_currency" in result.reasons


# --- finding 7: payment dates in the future --------------------------------------------------


def test_payment_dated_after_the_email_is_reported_not_recorded() -> None:
    email = _email(
        "The transfer of 500 EUR for case CASE-2024-0001 has been sent, value date 2026-03-01"
    )
    ext = _claude(
        email,
        intent_evidence="has been sent",
        amount=_field(500.0, "500 EUR"),
        currency=_field("EUR", "500 EUR"),
        payment_date=_field("2026-03-01", "2026-03-01"),
    )
    assert ext.fields["payment_date"].value == "2026-03-01" and ext.warnings == ()
    result = _decide(ext, email=email)
    assert _reported(result), result.reasons
    assert "payment_not_recorded:payment_date_in_future" in result.reasons


def test_payment_date_is_judged_on_the_senders_calendar_not_a_forged_date_header() -> None:
    paid_today = replace(PAYMENT, fields={**PAYMENT.fields, **extraction(
        payment_date="2025-06-21").fields})  # fmt: skip
    # written 00:30 on 21 June in Auckland = 20 June 12:30 UTC: the sender's today
    auckland = datetime(2025, 6, 21, 0, 30, tzinfo=timezone(timedelta(hours=12)))
    received = datetime(2025, 6, 20, 12, 31, tzinfo=UTC)
    ok = _decide(paid_today, email=_email("paid", when=auckland), received_at=received)
    assert ok.action == Action.RECORD_PAYMENT, ok.reasons
    # no Date header: the day it was received (UTC)
    blocked = _decide(paid_today, email=_email("paid"), received_at=received)
    assert "payment_not_recorded:payment_date_in_future" in blocked.reasons
    # a Date header far in the future does not move the limit past the receipt + 1 day
    forged = _email("paid", when=datetime(2026, 1, 1, tzinfo=UTC))
    later = replace(PAYMENT, fields={**PAYMENT.fields, **extraction(
        payment_date="2025-07-01").fields})  # fmt: skip
    assert (
        "payment_not_recorded:payment_date_in_future"
        in _decide(later, email=forged, received_at=received).reasons
    )


def test_past_payment_date_moves_money_and_unknown_day_blocks() -> None:
    dated = replace(PAYMENT, fields={**PAYMENT.fields, **extraction(
        payment_date="2025-06-19").fields})  # fmt: skip
    assert _decide(dated).action == Action.RECORD_PAYMENT
    unchecked = decide(dated, BY_CASE, THRESHOLDS)  # nobody said when the email came
    assert _reported(unchecked)
    assert "payment_not_recorded:payment_date_unchecked" in unchecked.reasons


# --- finding 4: accounts already on hold ------------------------------------------------------

HELD = validate_account(
    account_document(
        status="on_hold", hold={"active": True, "reason": "bankruptcy_notice", "since": None}
    )
)
assert HELD is not None
HELD_BY_CASE = Match("case_number", 1.0, (Candidate(HELD, 1.0),))


def test_payment_on_a_held_account_is_reported_to_compliance_not_recorded() -> None:
    full = extraction(amount=1200.0, currency="EUR", case_number="CASE-2024-0001")
    result = _decide(full, HELD_BY_CASE)
    assert (result.decision, result.action, result.notification) == (
        Route.UPDATE_AND_NOTIFY,
        Action.REPORT_PAYMENT,
        NotificationKind.COMPLIANCE_ALERT,
    ), result.reasons
    assert "account_on_hold" in result.reasons
    assert "payment_not_recorded:account_on_hold" in result.reasons


@pytest.mark.parametrize(
    ("ext", "action"),
    [
        (extraction("address_change", case_number="CASE-2024-0001", new_address="2 High St"),
         Action.UPDATE_CONTACT),
        (extraction("payment_promise", case_number="CASE-2024-0001", amount=100.0), Action.NOTE),
    ],
)  # fmt: skip
def test_changes_to_a_held_account_are_never_silent(ext: Extraction, action: str) -> None:
    result = _decide(ext, HELD_BY_CASE)
    assert (result.decision, result.action, result.notification) == (
        Route.UPDATE_AND_NOTIFY,
        action,
        NotificationKind.COMPLIANCE_ALERT,
    ), result.reasons


def test_compliance_intent_on_a_held_account_keeps_hold_and_alert() -> None:
    result = _decide(extraction("dispute", case_number="CASE-2024-0001"), HELD_BY_CASE)
    assert (result.decision, result.action, result.notification) == (
        Route.UPDATE_AND_NOTIFY,
        Action.HOLD,
        NotificationKind.COMPLIANCE_ALERT,
    )


def test_review_of_a_held_account_still_goes_to_review() -> None:
    result = _decide(extraction("other", case_number="CASE-2024-0001"), HELD_BY_CASE)
    assert (result.decision, result.action, result.notification) == (
        Route.MANUAL_REVIEW,
        None,
        NotificationKind.REVIEW_REQUEST,
    )
    assert "account_on_hold" in result.reasons


# --- finding 3: compliance wording the model did not classify as such ----------------------

BANKRUPT_PAYMENT = (
    "I paid 200 EUR today for CASE-2024-0001. My attorney has filed a chapter 7 bankruptcy "
    "petition; the automatic stay applies."
)


def test_compliance_wording_under_a_payment_intent_holds_and_alerts() -> None:
    email = _email(BANKRUPT_PAYMENT)
    ext = _claude(
        email,
        intent_evidence="I paid 200 EUR today",
        amount=_field(200.0, "200 EUR"),
        currency=_field("EUR", "200 EUR"),
    )
    assert ext.intent == "payment_confirmation" and ext.warnings == ()
    result = _decide(ext, email=email)
    assert (result.decision, result.action, result.notification) == (
        Route.UPDATE_AND_NOTIFY,
        Action.HOLD,
        NotificationKind.COMPLIANCE_ALERT,
    ), result.reasons
    assert result.hold_reason == "bankruptcy_notice"
    assert "compliance_wording:bankruptcy_notice" in result.reasons
    assert "payment_not_recorded:compliance_wording" in result.reasons
    assert not result.moves_money


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Please cease and desist all contact. I paid 200 EUR.", "cease_and_desist"),
        ("I do not owe this. I paid 200 EUR to stop the calls.", "dispute"),
    ],
)
def test_each_compliance_kind_is_caught(text: str, intent: str) -> None:
    result = _decide(PAYMENT, email=_email(text))
    assert (result.action, result.notification, result.hold_reason) == (
        Action.HOLD,
        NotificationKind.COMPLIANCE_ALERT,
        intent,
    ), result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "I paid 200 EUR today for CASE-2024-0001. The rest I dispute, if you have proof send it.",
        "Ich habe heute 200 EUR gezahlt (CASE-2024-0001). Den Rest bestreite ich, wenn Sie "
        "Belege haben, schicken Sie sie.",
        "J'ai payé 200 EUR aujourd'hui (CASE-2024-0001). Le reste, je le conteste, si vous avez "
        "une preuve, envoyez-la.",
    ],
    ids=["en", "de", "fr"],
)
def test_a_payment_with_a_politely_worded_dispute_holds_instead_of_paying(text: str) -> None:
    # "if you …" is a debtor's polite form too: only in quoted history is it the collector's
    email = _email(text)
    ext = _claude(
        email,
        intent_evidence="200 EUR",
        amount=_field(200.0, "200 EUR"),
        currency=_field("EUR", "200 EUR"),
    )
    assert ext.intent == "payment_confirmation" and ext.warnings == ()
    result = _decide(ext, email=email)
    assert (result.action, result.notification, result.hold_reason) == (
        Action.HOLD,
        NotificationKind.COMPLIANCE_ALERT,
        "dispute",
    ), result.reasons
    assert "payment_not_recorded:compliance_wording" in result.reasons
    assert not result.moves_money


def test_compliance_wording_only_in_quoted_history_does_not_hold() -> None:
    # our own letters quote dispute rights; the debtor's new text is what counts
    email = _email(
        "I have paid 200 EUR for case CASE-2024-0001",
        quoted="> If you dispute this debt, write to us within 30 days.",
    )
    result = _decide(PAYMENT, email=email)
    assert result.action == Action.RECORD_PAYMENT, result.reasons


def test_compliance_wording_without_a_single_account_alerts_for_review() -> None:
    result = _decide(PAYMENT, NO_MATCH, email=_email(BANKRUPT_PAYMENT))
    assert (result.decision, result.action, result.notification) == (
        Route.MANUAL_REVIEW,
        None,
        NotificationKind.COMPLIANCE_ALERT,
    )


# --- who wrote it, and what nobody read -----------------------------------------------------


@pytest.mark.parametrize(
    ("attachment", "blocks"),
    [
        (AttachmentInfo("letter.docx", "application/msword", 9000, document=True), True),
        (AttachmentInfo("letter.msg", "application/vnd.ms-outlook", 9000, document=True), True),
        # a screenshot of the transfer: the usual proof of a payment, not a letter
        (AttachmentInfo("Screenshot_2026.png", "image/png", 90000, document=True), False),
        (AttachmentInfo("receipt.pdf", "application/pdf", 9000, "Paid 200.00 EUR", True), False),
        (AttachmentInfo("logo.png", "image/png", 900), False),  # a picture in the signature
    ],
)
def test_a_payment_with_a_document_nobody_read_is_reported_not_recorded(
    attachment: AttachmentInfo, blocks: bool
) -> None:
    email = replace(_email("I paid 200.00 EUR today, see the attached."), attachments=(attachment,))
    result = _decide(PAYMENT, email=email)
    assert ("payment_not_recorded:unread_document" in result.reasons) is blocks, result.reasons
    assert (result.action == Action.RECORD_PAYMENT) is not blocks


@pytest.mark.parametrize("kind", [BULK, AUTO_REPLY])
def test_compliance_mail_marked_bulk_from_a_debtors_address_is_held(kind: str) -> None:
    account = validate_account(account_document())
    assert account is not None
    by_sender = Match(SENDER_METHOD, 0.8, (Candidate(account, 0.8, SENDER_METHOD),))
    notice = replace(
        _email("I have filed for bankruptcy; the automatic stay applies, stop all collection."),
        automated=kind,
    )
    result = _decide(extraction("other"), by_sender, email=notice)
    assert result.decision == Route.UPDATE_AND_NOTIFY and result.hold, result.reasons
    assert result.notification == NotificationKind.COMPLIANCE_ALERT
    chatter = replace(_email("I am out of the office until Monday."), automated=kind)
    assert _decide(extraction("other"), by_sender, email=chatter).decision == Route.AUTOMATED
