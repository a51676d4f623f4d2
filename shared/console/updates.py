"""What applying an item changes on the account: the reading to apply (a correction, a re-run or
the report's extraction) turned into the repository's :class:`AccountUpdate`, as the processor
turns its decision into one (payment under the duplicate check, contact change, compliance
hold, otherwise a history note)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.accounts import POSSIBLE_DUPLICATE, AccountUpdate
from shared.console.auth import Identity
from shared.extraction.models import COMPLIANCE_INTENTS
from shared.mail import one_line


class UnusableReading(ValueError):
    """The reading cannot be applied as it is (the message says why)."""


def reading(report: dict[str, Any] | None, item: dict[str, Any]) -> dict[str, Any]:
    """The intent and fields to apply: the reviewer's correction when there is one, otherwise
    the processing report's extraction."""
    override = item.get("override")
    if isinstance(override, dict) and override.get("fields") is not None:
        return {"intent": override.get("intent"), "fields": dict(override["fields"])}
    report = report or {}
    return {"intent": report.get("intent"), "fields": dict(report.get("fields") or {})}


def _value(fields: dict[str, Any], name: str) -> Any:
    found = fields.get(name)
    return found.get("value") if isinstance(found, dict) else None


def _amount(fields: dict[str, Any]) -> Decimal | None:
    raw = _value(fields, "amount")
    if raw is None:
        return None
    try:
        amount = Decimal(str(raw)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def _date(fields: dict[str, Any], name: str) -> date | None:
    raw = _value(fields, name)
    try:
        return date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def account_update(
    *, email_id: str, correlation_id: str | None, who: Identity, read: dict[str, Any], now: datetime
) -> tuple[str, AccountUpdate]:
    """(action, update) for applying ``read`` to an account, as the processor would: a payment
    is subtracted under the duplicate check, a contact change sets the contact, a compliance
    intent holds the account, anything else is a history note."""
    intent = read.get("intent") or "other"
    fields = read["fields"]
    entry: dict[str, Any] = {
        "email_id": email_id,
        "correlation_id": correlation_id,
        "at": now,
        "decision": "REVIEWED",
        "intent": intent,
        "reviewed_by": who.email,
        "fields": {
            name: {"value": f.get("value"), "confidence": f.get("confidence")}
            for name, f in fields.items()
            if isinstance(f, dict)
        },
    }
    if intent in COMPLIANCE_INTENTS:
        entry["action"] = "hold"
        # placed_by: the release rule (never by the person who placed it) reads it; None would
        # mean the processor placed the hold and let this same person lift it.
        hold = {
            "active": True,
            "reason": intent,
            "since": now,
            "email_id": email_id,
            "placed_by": who.email,
        }
        return "hold", AccountUpdate(
            set_fields={"status": "on_hold", "hold": hold}, history_entry=entry
        )
    if intent == "payment_confirmation":
        amount = _amount(fields)
        if amount is None:
            raise UnusableReading("The payment has no valid amount: correct the fields first.")
        paid_on = _date(fields, "payment_date")
        entry.update(action="record_payment", amount=str(amount))
        entry["payment_date"] = paid_on.isoformat() if paid_on else None
        refused = {
            **entry,
            "action": "report_payment",
            "payment_not_recorded": POSSIBLE_DUPLICATE,
        }
        return "record_payment", AccountUpdate(
            history_entry=entry, payment=amount, payment_date=paid_on, at=now, refused_entry=refused
        )
    set_fields: dict[str, Any] = {}
    if intent == "address_change":
        for name, path in (("new_address", "debtor.address"), ("new_phone", "debtor.phone")):
            value = _value(fields, name)
            if isinstance(value, str) and value.strip():
                set_fields[path] = one_line(value, 500)
    action = "update_contact" if set_fields else "note"
    entry["action"] = action
    return action, AccountUpdate(set_fields=set_fields, history_entry=entry)
