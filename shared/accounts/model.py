"""A debtor account as the rules see it: validated, immutable, no database in sight.

One document per debtor account::

    {account_id, case_number, account_reference,
     debtor: {name, email, phone, address}, creditor,
     balance: {amount, currency}, status, hold: {active, reason, since},
     applied_email_ids: [email_id, …],     # scalar array: the idempotency guard
     ref_keys: ["case202400123", …],       # scalar array: normalised identifying fields
     ref_keys_of: "case_number,account_reference",  # the fields they were derived from
     payment_keys: ["500.00|on|2026-11-14", …],  # scalar array: the duplicate-payment guard
     history: [{email_id, decision, intent, action, fields, at, …}, …]}

:class:`Account` validates one such document; :class:`AccountUpdate` is what applying an email
changes and :class:`ApplyResult` what the repository did with it. The repository's port is in
:mod:`shared.accounts.port`, the MongoDB adapter in :mod:`shared.accounts.mongo`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.config import Settings
from shared.extraction.references import normalise_reference

MONEY_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$"  # str() of a finite Decimal, no exponent
ON_HOLD = "on_hold"  # the status of an account held for a compliance reason
PAID = "paid"  # the status of an account whose balance a payment brought to zero
POSSIBLE_DUPLICATE = "possible_duplicate"  # why a payment was refused (ApplyResult)
REFERENCE_FIELDS = ("case_number", "account_reference")  # always identifying


class Action(StrEnum):
    """An account change applying an email makes (the history entry's and the report's
    ``action``); the decision picks one (:mod:`shared.processing.decision`)."""

    HOLD = "hold"  # put on hold for a compliance reason
    RECORD_PAYMENT = "record_payment"  # lower the balance by the payment
    REPORT_PAYMENT = "report_payment"  # note the payment in the history, balance unchanged
    UPDATE_CONTACT = "update_contact"  # new address or phone
    NOTE = "note"  # history entry only
    NOTE_BOUNCE = "note_bounce"  # the debtor's email address bounced (automated mail)


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class Debtor(_Strict):
    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=1000)


# a balance beyond this is no money (a loader's placeholder or a corrupt value), like NaN
MAX_BALANCE = 1e15


class Balance(_Strict):
    # not NaN/Infinity (a loader's empty cell): the document is skipped as invalid, never a
    # decision that cannot compute with it
    amount: float | int = Field(allow_inf_nan=False, ge=-MAX_BALANCE, le=MAX_BALANCE)
    currency: str = Field(pattern=r"^[A-Z]{3}$")

    @property
    def decimal(self) -> Decimal:
        return Decimal(str(self.amount)).quantize(Decimal("0.01"))


class Hold(_Strict):
    active: bool = False
    reason: str | None = None
    since: datetime | None = None
    placed_by: str | None = None  # the console user who placed it (None: the processor)


class Account(_Strict):
    """A validated account document (``key`` is the document's ``_id``)."""

    key: Any = Field(alias="_id")
    account_id: str = Field(min_length=1, max_length=128)
    case_number: str = Field(min_length=1, max_length=128)
    account_reference: str = Field(min_length=1, max_length=128)
    debtor: Debtor
    creditor: str = Field(min_length=1, max_length=300)
    balance: Balance
    status: str = Field(min_length=1, max_length=32)
    hold: Hold = Hold()
    applied_email_ids: list[str] = []
    payment_keys: list[str] | None = None  # None: no payment keyed yet (see payment_keys.py)
    history: list[dict[str, Any]] = []
    # the normalised keys of every identifying field (derived, see reference_keys)
    ref_keys: list[str] = []

    @property
    def held(self) -> bool:
        """On hold (collection stopped for a compliance reason): ``hold.active`` or the status."""
        return self.hold.active or self.status == ON_HOLD


def identifying_fields(settings: Settings) -> tuple[str, ...]:
    """``case_number``, ``account_reference`` and the operator's ``MATCH_REFERENCE_FIELDS``."""
    extra = (p.strip() for p in settings.match_reference_fields.split(","))
    return tuple(dict.fromkeys((*REFERENCE_FIELDS, *filter(None, extra))))


def field_value(document: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a document (None when any part is missing)."""
    value: Any = document
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def reference_keys(document: Mapping[str, Any], fields: tuple[str, ...]) -> list[str]:
    """The lookup keys of an account document: each identifying field's value normalised like
    an email's tokens (:func:`shared.extraction.references.normalise_reference`). A loader that
    writes accounts stores them as ``ref_keys`` (with ``ref_keys_of``: ``",".join(fields)``);
    the repository derives them for documents written without."""
    keys: dict[str, None] = {}
    for path in fields:
        value = field_value(document, path)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str | int) and not isinstance(item, bool):
                key = normalise_reference(item)
                if key:
                    keys.setdefault(key)
    return list(keys)


class AppliedEntry(_Strict):
    """The history entry an earlier delivery of an email wrote (read back on redelivery)."""

    email_id: str = Field(min_length=1, max_length=128)
    action: str | None = Field(default=None, min_length=1, max_length=64)
    decision: str | None = Field(default=None, min_length=1, max_length=64)
    at: datetime | None = None
    balance_before: str | None = Field(default=None, pattern=MONEY_PATTERN)
    balance_after: str | None = Field(default=None, pattern=MONEY_PATTERN)
    payment_not_recorded: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _balances_come_in_pairs(self) -> AppliedEntry:
        if (self.balance_before is None) != (self.balance_after is None):
            raise ValueError("balance_before and balance_after come together")
        return self


@dataclass(frozen=True)
class Lookup:
    """Valid accounts found, and how many malformed documents were skipped."""

    accounts: list[Account]
    skipped: int = 0


@dataclass(frozen=True)
class AccountUpdate:
    """What applying an email changes: fields to set, the history entry, a payment.

    For a payment, ``payment_date`` (if the email gave one) and ``at`` (when it is recorded;
    default now) feed the duplicate check; ``refused_entry`` is the history entry written
    instead when the payment is refused as a possible duplicate (None: nothing is written).
    """

    set_fields: dict[str, Any] = field(default_factory=dict)
    history_entry: dict[str, Any] = field(default_factory=dict)
    payment: Decimal | None = None  # subtracted from the balance, guarded
    payment_date: date | None = None
    at: datetime | None = None
    refused_entry: dict[str, Any] | None = None


class ApplyStatus(StrEnum):
    """What :meth:`~shared.accounts.port.AccountRepository.apply` did (stored in reports)."""

    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    NOT_APPLIED = "not_applied"


@dataclass(frozen=True)
class AppliedRecord:
    """What the first delivery applied, as its history entry says (``already_applied`` only)."""

    action: str | None = None
    decision: str | None = None
    at: datetime | None = None
    payment_not_recorded: str | None = None  # why that delivery's payment was refused


@dataclass(frozen=True)
class ApplyResult:
    """``applied`` / ``not_applied`` by this call, or ``already_applied`` by an earlier one.

    For ``already_applied`` the balances and ``record`` come from that earlier delivery's
    history entry; ``reason`` is ``history_entry_invalid`` when it could not be read back.
    ``payment_refused`` (``possible_duplicate``): the payment was not recorded, the update's
    ``refused_entry`` was written instead (status ``applied``, no balances).
    """

    status: ApplyStatus
    balance_before: Decimal | None = None
    balance_after: Decimal | None = None
    reason: str | None = None
    record: AppliedRecord | None = None
    payment_refused: str | None = None
