"""Recorded payments as scalar keys, so a second email confirming the same payment moves no money.

Each payment this system records pushes its keys onto the account's ``payment_keys`` array
(``<amount>`` is the two-decimal string, days are ISO dates)::

    <amount>|recorded|<UTC day it was recorded>        every recorded payment
    <amount>|on|<payment date>                         a payment with a date
    <amount>|undated|<UTC day it was recorded>         a payment without one

A new payment clashes with a recorded one of the same amount when both have a date and it is
the same, or when either lacks a date and the recorded one was recorded on the new payment's
UTC day or up to ``window_days`` days before. :func:`clashing_keys` lists the keys that would
say so; the repository's conditional update carries ``{"payment_keys": {"$nin": clashing}}``,
so the check and the balance change are one atomic write (two concurrent emails cannot both
pass). Scalar keys, not a filter on ``history``: the local wire server (nx-27017 0.8.1) refuses
``$elemMatch``/``$not`` and does not match dotted paths into arrays of sub-documents.

Accounts written before these keys existed have no ``payment_keys`` field: their keys are
derived once from the history entries that recorded a payment (:func:`legacy_payment_keys`,
reading the ``amount``/``payment_date`` of the entry or, in older entries, of its extracted
``fields``) and pushed along with the first new payment's keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.accounts.model import Action

CENT = Decimal("0.01")


def _amount_key(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of ``moment`` (a naive datetime is taken as UTC)."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.date()


def payment_keys(amount: Decimal, paid_on: date | None, recorded_on: date) -> list[str]:
    """The keys a payment recorded on ``recorded_on`` leaves on the account."""
    money = _amount_key(amount)
    keys = [f"{money}|recorded|{recorded_on.isoformat()}"]
    if paid_on is None:
        keys.append(f"{money}|undated|{recorded_on.isoformat()}")
    else:
        keys.append(f"{money}|on|{paid_on.isoformat()}")
    return keys


def clashing_keys(
    amount: Decimal, paid_on: date | None, recorded_on: date, window_days: int
) -> list[str]:
    """The keys of recorded payments this payment would duplicate (see the module docstring)."""
    money = _amount_key(amount)
    days = [(recorded_on - timedelta(days=n)).isoformat() for n in range(window_days + 1)]
    if paid_on is None:
        return [f"{money}|recorded|{day}" for day in days]
    return [f"{money}|on|{paid_on.isoformat()}"] + [f"{money}|undated|{day}" for day in days]


def _value(entry: Mapping[str, Any], name: str) -> Any:
    """The entry's own ``name``, else the extracted field's value (entries before the keys)."""
    if entry.get(name) is not None:
        return entry[name]
    fields = entry.get("fields")
    found = fields.get(name) if isinstance(fields, Mapping) else None
    return found.get("value") if isinstance(found, Mapping) else None


def _legacy_amount(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount > 0 else None


def _legacy_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value is not None else None
    except ValueError:
        return None  # unreadable: treated as undated, which clashes more, never less


def legacy_payment_keys(history: Any) -> list[str]:
    """Keys for the recorded payments in a ``history`` array written before the keys existed.

    Malformed entries are skipped (an entry without an amount cannot clash); an entry without
    ``at`` keeps only its payment-date key.
    """
    keys: list[str] = []
    for entry in history if isinstance(history, list) else []:
        if not isinstance(entry, Mapping) or entry.get("action") != Action.RECORD_PAYMENT:
            continue
        amount = _legacy_amount(_value(entry, "amount"))
        if amount is None:
            continue
        paid_on = _legacy_date(_value(entry, "payment_date"))
        at = entry.get("at")
        if isinstance(at, datetime):
            keys += payment_keys(amount, paid_on, utc_day(at))
        elif paid_on is not None:
            keys.append(f"{_amount_key(amount)}|on|{paid_on.isoformat()}")
    return keys
