"""What applying an item changes on the account: the reading to apply (a correction, a re-run or
the report's extraction) turned into the repository's :class:`AccountUpdate`, as the processor
turns its decision into one (payment under the duplicate check, contact change, compliance
hold, otherwise a history note)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from shared.accounts import POSSIBLE_DUPLICATE, AccountUpdate, Debtor
from shared.console.auth import Identity
from shared.extraction.models import COMPLIANCE_INTENTS
from shared.extraction.validation import (
    MAX_AMOUNT,
    MAX_DATE_YEARS_AHEAD,
    MIN_DATE_YEARS_BACK,
    InvalidValue,
    check_address,
    check_currency,
    check_date,
    check_email,
    check_name,
    check_phone,
    check_reference,
    parse_amount,
)


class UnusableReading(ValueError):
    """The reading cannot be applied as it is (the message says why)."""


def _amount_text(value: Any) -> str:
    return str(parse_amount(value))


# The processor's own value checks: a correction holds only what an extraction could hold, so
# applying it writes nothing the account model would refuse. With each, the rule as a person
# reads it (the checks' own messages name the rule for logs, not for the form).
_CHECKS: dict[str, tuple[Callable[[Any], str], str]] = {
    "case_number": (check_reference, "1 to 64 letters, digits, spaces or - _ / . #"),
    "account_reference": (check_reference, "1 to 64 letters, digits, spaces or - _ / . #"),
    "debtor_name": (check_name, "a name of 2 to 200 characters"),
    "creditor_name": (check_name, "a name of 2 to 200 characters"),
    "debtor_email": (check_email, "an email address"),
    "amount": (_amount_text, f"a positive amount with at most two decimals, at most {MAX_AMOUNT}"),
    "plan_installment_amount": (
        _amount_text,
        f"a positive amount with at most two decimals, at most {MAX_AMOUNT}",
    ),
    "currency": (check_currency, "an ISO 4217 currency code such as EUR"),
    "new_address": (check_address, "an address of 5 to 500 characters"),
    "new_phone": (check_phone, "a phone number of 6 to 15 digits"),
}
_DATES = frozenset({"payment_date", "plan_start_date"})
_DATE_RULE = (
    f"a date as YYYY-MM-DD, at most {MIN_DATE_YEARS_BACK} years back "
    f"and {MAX_DATE_YEARS_AHEAD} years ahead"
)


def check_field(name: str, value: Any, today: date) -> str:
    """``value`` of the field ``name`` as the processor's checks accept it (normalised: an amount
    as ``12.30``, spaces collapsed); :class:`UnusableReading` saying the rule when refused."""
    try:
        if name in _DATES:
            return check_date(value, today)
        check, _rule = _CHECKS[name]
        return check(value)
    except InvalidValue:
        rule = _DATE_RULE if name in _DATES else _CHECKS[name][1]
        raise UnusableReading(f"{name} must be {rule}.") from None


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


def _amount(fields: dict[str, Any], today: date) -> Decimal:
    raw = _value(fields, "amount")
    if raw is None or raw == "":
        raise UnusableReading("The payment has no amount: correct the fields first.")
    try:
        # never rounded: 12.345 is a misreading to correct, not 12.34 to record
        return Decimal(check_field("amount", raw, today))
    except UnusableReading as exc:
        raise UnusableReading(f"The payment's {exc} Correct the fields first.") from None


def _date(fields: dict[str, Any], name: str, today: date) -> date | None:
    raw = _value(fields, name)
    if raw is None or raw == "":
        return None
    # a bad date is refused, not dropped: the duplicate check would run without it
    return date.fromisoformat(check_field(name, raw, today))


def _contact(fields: dict[str, Any], name: str, attribute: str, today: date) -> str | None:
    """The checked value of ``name`` for ``debtor.<attribute>`` (None: not given)."""
    value = _value(fields, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    checked = check_field(name, value, today)
    try:  # the account model's own limits: an account it refuses could never be read again
        Debtor.model_validate({"name": "-", attribute: checked})
    except ValidationError:
        raise UnusableReading(f"{name} does not fit the account.") from None
    return checked


def account_update(
    *, email_id: str, correlation_id: str | None, who: Identity, read: dict[str, Any], now: datetime
) -> tuple[str, AccountUpdate]:
    """(action, update) for applying ``read`` to an account, as the processor would: a payment
    is subtracted under the duplicate check, a contact change sets the contact, a compliance
    intent holds the account, anything else is a history note."""
    intent = read.get("intent") or "other"
    fields = read["fields"]
    today = now.date()
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
        amount = _amount(fields, today)
        paid_on = _date(fields, "payment_date", today)
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
        for name, attribute in (("new_address", "address"), ("new_phone", "phone")):
            value = _contact(fields, name, attribute, today)
            if value is not None:
                set_fields[f"debtor.{attribute}"] = value
    action = "update_contact" if set_fields else "note"
    entry["action"] = action
    return action, AccountUpdate(set_fields=set_fields, history_entry=entry)
