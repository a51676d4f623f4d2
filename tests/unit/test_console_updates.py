"""The account update a reviewer's apply makes, from the reading it applies."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.console.auth import Identity
from shared.console.updates import UnusableReading, account_update, reading

WHO = Identity("rita@example.com", frozenset({"reviewer"}))
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _update(intent: str, **fields: object) -> tuple[str, object]:
    read = {
        "intent": intent,
        "fields": {k: {"value": v, "confidence": 0.9} for k, v in fields.items()},
    }
    return account_update(email_id="em-1", correlation_id="c-1", who=WHO, read=read, now=NOW)


def test_a_payment_goes_through_the_duplicate_check() -> None:
    action, update = _update("payment_confirmation", amount="120.5", payment_date="2026-12-01")
    assert action == "record_payment"
    assert update.payment == Decimal("120.50") and update.payment_date == date(2026, 12, 1)
    assert update.at == NOW and update.refused_entry["payment_not_recorded"] == "possible_duplicate"
    assert update.history_entry["reviewed_by"] == "rita@example.com"
    assert update.set_fields == {}  # the repository sets balance and status, guarded


@pytest.mark.parametrize("amount", [None, "abc", "-5", "0", "NaN", "Infinity"])
def test_a_payment_without_a_usable_amount_is_refused(amount: object) -> None:
    with pytest.raises(UnusableReading):
        _update("payment_confirmation", amount=amount)


def test_compliance_holds_contact_changes_set_and_anything_else_is_a_note() -> None:
    action, update = _update("cease_and_desist")
    assert action == "hold" and update.set_fields["status"] == "on_hold"
    assert update.set_fields["hold"]["active"] is True and update.payment is None
    # the person is the placer, so they cannot release it themselves (None: the processor)
    assert update.set_fields["hold"]["placed_by"] == "rita@example.com"
    action, update = _update("address_change", new_address="1 New\r\nStreet", new_phone=" ")
    assert action == "update_contact" and update.set_fields == {"debtor.address": "1 New Street"}
    action, update = _update("payment_promise", amount="10")
    assert action == "note" and update.set_fields == {} and update.payment is None


def test_a_correction_takes_precedence_over_the_report() -> None:
    report = {"intent": "other", "fields": {"amount": {"value": 1}}}
    assert reading(report, {"override": None}) == {"intent": "other", "fields": report["fields"]}
    override = {"intent": "payment_confirmation", "fields": {"amount": {"value": "2"}}}
    assert reading(report, {"override": override})["fields"] == {"amount": {"value": "2"}}
