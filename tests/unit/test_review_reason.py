"""Which finished emails get a review item, and the link staff notifications carry."""

from __future__ import annotations

import pytest

from shared.processing.report import Report
from shared.processing.review import item_url, report_creditor, report_review_reason, review_reason


@pytest.mark.parametrize(
    ("decision", "reasons", "notifications", "expected"),
    [
        ("MANUAL_REVIEW", ["no_account_match"], ["review_request"], "no_match"),
        ("MANUAL_REVIEW", ["ambiguous_match"], ["review_request"], "ambiguous"),
        ("MANUAL_REVIEW", ["confidence_manual_review"], ["review_request"], "low_confidence"),
        (
            "MANUAL_REVIEW",
            ["no_account_match", "compliance:dispute"],
            ["compliance_alert"],
            "compliance",
        ),
        ("UPDATE_AND_NOTIFY", ["compliance:dispute"], ["compliance_alert"], "compliance"),
        (
            "UPDATE_AND_NOTIFY",
            ["payment_not_recorded:possible_duplicate"],
            ["debt_update"],
            "possible_duplicate",
        ),
        (
            "UPDATE_AND_NOTIFY",
            ["payment_not_recorded:payment_date_too_old"],
            ["debt_update"],
            "low_confidence",
        ),
        ("UPDATE_AND_NOTIFY", ["confidence_update_and_notify"], ["debt_update"], None),
        ("AUTO_UPDATE", [], [], None),
    ],
)
def test_review_reason(
    decision: str, reasons: list[str], notifications: list[str], expected: str | None
) -> None:
    got = review_reason(
        failed=False, decision=decision, reasons=reasons, notifications=notifications
    )
    assert got == expected


def test_a_failed_email_always_needs_a_person() -> None:
    assert review_reason(failed=True, decision=None, reasons=[], notifications=[]) == "failed"


def test_the_reason_of_a_report_comes_from_its_actions() -> None:
    report = Report(
        email_id="em-1",
        correlation_id="c",
        status="done",
        attempt=1,
        decision="MANUAL_REVIEW",
        fields={"creditor_name": {"value": " Acme Bank ", "confidence": 0.9, "evidence": "x"}},
        actions=[
            {"type": "notification", "kind": "review_request", "dedup_key": "em-1:review_request"},
            {"type": "decision_reasons", "reasons": ["ambiguous_match"]},
        ],
    )
    assert report_review_reason(report) == "ambiguous"
    assert report_creditor(report) == "Acme Bank"
    assert (
        report_creditor(Report(email_id="e", correlation_id="c", status="done", attempt=1)) is None
    )


def test_item_url_quotes_the_email_id_and_is_absent_without_a_console() -> None:
    assert item_url("", "em-1") is None
    assert item_url("https://console.example/", "raw:a/b c") == (
        "https://console.example/items/raw%3Aa%2Fb%20c"
    )
