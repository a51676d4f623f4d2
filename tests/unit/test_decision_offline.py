"""Offline (rules) results of ordinary mail: a clear, fully matched, non-money email reaches
UPDATE_AND_NOTIFY; money never moves on rules output; a reference found in the text makes up
for the identifier the extractor did not return."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.accounts import Action
from shared.accounts.mongo import validate_account
from shared.config import load_settings
from shared.extraction.email_parser import parse_email
from shared.extraction.rules import RulesExtractor
from shared.processing.decision import (
    Route,
    Thresholds,
    decide,
)
from shared.processing.matching import AccountMatcher, Candidate, Match
from tests.processing_fakes import FakeAccounts, account_document, extraction

THRESHOLDS = Thresholds(auto_update=0.9, notify=0.6)
ACCOUNT = validate_account(account_document(case_number="TVW/22/31002"))
IN_TEXT = Match("case_number", 1.0, (Candidate(ACCOUNT, 1.0, "case_number", extracted=False),))
BY_SENDER = Match("sender_email", 0.8, (Candidate(ACCOUNT, 0.8, "sender_email"),))


def rules_result(confidence: float, **fields: object):  # type: ignore[no-untyped-def]
    made = extraction("address_change", intent_confidence=confidence, **fields)
    return replace(made, extractor="rules", degraded=False)


def mail(subject: str, body: str, sender: str = "x@example.net") -> bytes:
    return (
        f"From: {sender}\r\nTo: c@collector.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <o1@example.net>\r\n\r\n{body}\r\n"
    ).encode()


@pytest.mark.parametrize("match", [IN_TEXT, BY_SENDER])
def test_an_offline_address_change_is_applied_and_notified(match: Match) -> None:
    email = parse_email(
        mail("New address", "I have moved. New address: 9 Harbour Way, Leeds LS1 4AB")
    )
    result = RulesExtractor(load_settings({}), degraded=False).extract(email)
    assert result.intent == "address_change"
    decision = decide(result, match, THRESHOLDS, email=email)
    assert (decision.decision, decision.action) == (Route.UPDATE_AND_NOTIFY, Action.UPDATE_CONTACT)


def test_an_offline_payment_is_reported_never_recorded() -> None:
    email = parse_email(mail("Paid TVW/22/31002", "I have paid EUR 200.00 today."))
    result = RulesExtractor(load_settings({}), degraded=False).extract(email)
    decision = decide(result, IN_TEXT, THRESHOLDS, email=email)
    assert decision.action == Action.REPORT_PAYMENT and not decision.moves_money
    assert "payment_not_recorded:fallback_extractor" in decision.reasons
    assert "payment_not_recorded:no_exact_reference_match" in decision.reasons


def test_a_reference_in_the_text_lifts_the_no_identifier_markdown() -> None:
    ext = rules_result(0.75, new_address="9 Harbour Way")
    assert ext.overall_confidence == pytest.approx(0.6)  # 0.75 × 0.8 without an identifier
    assert decide(ext, IN_TEXT, THRESHOLDS).confidence == 0.75
    weak = rules_result(0.5, new_address="9 Harbour Way")
    assert decide(weak, IN_TEXT, THRESHOLDS).decision == Route.MANUAL_REVIEW  # weak wording: review


def test_the_matcher_and_decision_together_offline() -> None:
    accounts = FakeAccounts([account_document(case_number="TVW/22/31002")])
    matcher = AccountMatcher(accounts, ambiguity_margin=0.05, fuzzy_min_score=85)
    email = parse_email(
        mail("Re: Past due notice", "I will make a payment of GBP 60.00 by 29 November 2026. "
             "This is about tvw/22/31002.")
    )  # fmt: skip
    result = RulesExtractor(load_settings({}), degraded=False).extract(email)
    match = matcher.match(result, email)
    assert (result.intent, match.method, match.exact_reference) == (
        "payment_promise",
        "case_number",
        False,
    )
    assert decide(result, match, THRESHOLDS, email=email).decision == Route.UPDATE_AND_NOTIFY
