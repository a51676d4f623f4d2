"""What to do with an email: a pure function of the extraction, the match, the thresholds and
the email (its new text and when it was written/received).

Confidence is ``min(extraction.overall_confidence, match.score)`` — with a single account
found by a reference written in the email, the intent confidence is not marked down for an
identifier the extractor did not return (the match found one):

- ≥ ``DECISION_AUTO_UPDATE_THRESHOLD`` → ``AUTO_UPDATE`` (applied, no notification);
- ≥ ``DECISION_NOTIFY_THRESHOLD`` → ``UPDATE_AND_NOTIFY`` (applied, staff notified);
- lower, no account, or an ambiguous match → ``MANUAL_REVIEW`` (nothing applied; a review
  request goes to staff).

Overrides, applied in this order:

0. **Automated mail** (``email.automated``: an auto-reply, a bounce, bulk mail; see
   :mod:`shared.extraction.automated`) → ``AUTOMATED``: nothing applied, nobody notified,
   reason ``automated:<kind>``; a bounce with failed recipients gets ``ACTION_NOTE_BOUNCE`` (the
   pipeline notes on each of their accounts that the address bounced).
1. **Compliance** (``dispute``, ``cease_and_desist``, ``bankruptcy_notice``): whatever the
   confidence, the matched account is put on hold and staff get a compliance alert. Never
   ``AUTO_UPDATE``: ``UPDATE_AND_NOTIFY`` with a single account, ``MANUAL_REVIEW`` (plus the
   alert) when no single account matched — except when references in the email point at several
   accounts: then every one of them is held (``hold_all_referenced``, reason
   ``hold_every_referenced_account``). The same happens when the model chose another intent
   but the email has compliance wording (:mod:`shared.processing.compliance_wording`;
   reason ``compliance_wording:<intent>``, the hold's reason is that intent; a payment in it is
   not recorded: ``payment_not_recorded:compliance_wording``); the wording's kind is a reason too
   (``compliance_kind:<kind>``).
2. **Degraded** results (the rules extractor standing in for Claude) and results with an
   ``injection_suspected`` warning are never applied silently: at most ``UPDATE_AND_NOTIFY``,
   and ``MANUAL_REVIEW`` for a suspected injection.
3. An account **already on hold** (``hold.active`` or status ``on_hold``) is never changed
   silently: at most ``UPDATE_AND_NOTIFY``, the notification is a compliance alert, reason
   ``account_on_hold``, and a payment is reported, not recorded.
4. ``other`` → ``MANUAL_REVIEW`` (nothing to apply); ``payment_plan_request`` and
   ``settlement_offer`` need a person's acceptance → at most ``UPDATE_AND_NOTIFY`` (recorded in
   the account's history only).
5. **Money-moving** (``payment_confirmation`` with an amount, i.e. recording a payment and
   lowering the balance) happens only when nothing in :func:`payment_blockers` objects:
   ``AUTO_UPDATE`` confidence, an exact reference match (case number or account reference), the
   Claude extractor (not degraded), no injection warning, the account not on hold, the amount
   and the currency each with ``AUTO_UPDATE`` confidence, the account's currency (a missing or
   unrecognised one blocks), no ``evidence_*`` or ``invalid*`` warning on the intent, amount or
   currency (e.g. ``evidence_mismatch:amount``, ``evidence_quoted_only:intent``), an amount not
   above the balance and a payment date (if any) not after the day the email was written
   (the sender's calendar day from the Date header, at most one day after receipt; without a
   Date header, the UTC day of receipt). Otherwise the payment is *reported* in the history
   (no balance change) with ``UPDATE_AND_NOTIFY`` so a person verifies it — or
   ``MANUAL_REVIEW`` when the confidence is below the notify threshold; each blocker is a
   reason ``payment_not_recorded:<blocker>`` (names only, never values). The apply itself
   refuses a payment duplicating one the account already recorded (atomically, see
   :mod:`shared.payment_keys`); the pipeline reports it the same way
   (``payment_not_recorded:possible_duplicate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from shared.accounts import Account
from shared.extraction.automated import BOUNCE
from shared.extraction.models import COMPLIANCE_INTENTS, Extraction, ParsedEmail
from shared.payment_keys import utc_day
from shared.processing.compliance_wording import compliance_hit
from shared.processing.matching import Match

AUTO_UPDATE = "AUTO_UPDATE"
UPDATE_AND_NOTIFY = "UPDATE_AND_NOTIFY"
MANUAL_REVIEW = "MANUAL_REVIEW"
AUTOMATED = "AUTOMATED"  # mail no person wrote: stored, reported, counted; nobody notified
DECISIONS = (AUTO_UPDATE, UPDATE_AND_NOTIFY, MANUAL_REVIEW, AUTOMATED)
_RANK = {AUTOMATED: 0, MANUAL_REVIEW: 0, UPDATE_AND_NOTIFY: 1, AUTO_UPDATE: 2}

INJECTION_WARNING = "injection_suspected"
# Warnings on these fields block money movement: evidence_* (missing, not found, mismatch,
# quoted only …) and invalid* (value or confidence dropped).
MONEY_FIELDS = frozenset({"intent", "amount", "currency"})
BLOCKING_WARNING_PREFIXES = ("evidence_", "invalid")
NEEDS_ACCEPTANCE = frozenset({"payment_plan_request", "settlement_offer"})

# Account changes (what the apply stage does).
ACTION_HOLD = "hold"
ACTION_RECORD_PAYMENT = "record_payment"
ACTION_REPORT_PAYMENT = "report_payment"
ACTION_UPDATE_CONTACT = "update_contact"
ACTION_NOTE = "note"
ACTION_NOTE_BOUNCE = "note_bounce"  # the debtor's email address bounced (automated mail)

# Notification kinds (outbox).
NOTIFY_UPDATE = "debt_update"
NOTIFY_REVIEW = "review_request"
NOTIFY_COMPLIANCE = "compliance_alert"


@dataclass(frozen=True)
class Thresholds:
    auto_update: float
    notify: float


@dataclass(frozen=True)
class Decision:
    decision: str  # one of DECISIONS
    confidence: float
    action: str | None  # the account change to apply, None: nothing
    notification: str | None  # the kind of staff notification, None: none
    reasons: tuple[str, ...]
    hold_reason: str | None = None  # the compliance intent behind ACTION_HOLD
    # hold every account a reference in the email points at (several: an ambiguous match)
    hold_all_referenced: bool = False

    @property
    def applies(self) -> bool:
        return self.action is not None

    @property
    def hold(self) -> bool:
        return self.action == ACTION_HOLD

    @property
    def moves_money(self) -> bool:
        return self.action == ACTION_RECORD_PAYMENT


def _cap(decision: str, ceiling: str) -> str:
    return decision if _RANK[decision] <= _RANK[ceiling] else ceiling


def _by_confidence(confidence: float, thresholds: Thresholds) -> str:
    if confidence >= thresholds.auto_update:
        return AUTO_UPDATE
    if confidence >= thresholds.notify:
        return UPDATE_AND_NOTIFY
    return MANUAL_REVIEW


def payment_amount(extraction: Extraction) -> Decimal | None:
    """The extracted amount as a positive two-decimal Decimal, or None."""
    found = extraction.fields.get("amount")
    if found is None or isinstance(found.value, bool):
        return None
    try:
        amount = Decimal(str(found.value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount > 0 else None


def _currency(extraction: Extraction) -> str | None:
    found = extraction.fields.get("currency")
    return found.value.upper() if found is not None and isinstance(found.value, str) else None


def is_held(account: Account) -> bool:
    """Whether the account is on hold (collection stopped for a compliance reason)."""
    return account.hold.active or account.status == "on_hold"


def latest_payment_day(email: ParsedEmail | None, received_at: datetime | None) -> date | None:
    """The last day a payment the email confirms may carry: the day it was written on the
    sender's calendar (Date header, in its own offset), at most one day after the UTC day it was
    received (a forged Date header moves nothing); the UTC day of receipt without a Date header.
    None when the receipt time is unknown (then a payment date cannot be checked)."""
    if received_at is None:
        return None
    received = utc_day(received_at)
    if email is None or email.date is None:
        return received
    return min(email.date.date(), received + timedelta(days=1))


def _blocking_warnings(extraction: Extraction) -> list[str]:
    blocking = []
    for warning in extraction.warnings:
        kind, _, field_name = warning.partition(":")
        if field_name in MONEY_FIELDS and kind.startswith(BLOCKING_WARNING_PREFIXES):
            blocking.append(warning)
    return blocking


def _below(extraction: Extraction, name: str, thresholds: Thresholds) -> bool:
    found = extraction.fields.get(name)
    return found is not None and found.confidence < thresholds.auto_update


def _payment_date_blocker(extraction: Extraction, latest: date | None) -> str | None:
    found = extraction.fields.get("payment_date")
    if found is None:
        return None
    if latest is None:
        return "payment_date_unchecked"
    try:
        paid_on = date.fromisoformat(str(found.value))
    except ValueError:
        return "payment_date_invalid"
    return "payment_date_in_future" if paid_on > latest else None


@dataclass(frozen=True)
class _PaymentContext:
    decision: str
    amount: Decimal | None
    thresholds: Thresholds
    latest_day: date | None


def payment_blockers(extraction: Extraction, match: Match, context: _PaymentContext) -> list[str]:
    """Why a payment may not be recorded automatically (empty: it may)."""
    account = match.account
    blockers = []
    if context.decision != AUTO_UPDATE:
        blockers.append("confidence_below_auto_update")
    if not match.exact_reference:
        blockers.append("no_exact_reference_match")
    if extraction.extractor != "claude" or extraction.degraded:
        blockers.append("fallback_extractor")
    if INJECTION_WARNING in extraction.warnings:
        blockers.append("injection_suspected")
    if context.amount is None:
        blockers.append("no_amount")
    currency = _currency(extraction)
    if currency is None:
        blockers.append("no_currency")
    blockers += [
        f"{name}_confidence_below_auto_update"
        for name in ("amount", "currency")
        if _below(extraction, name, context.thresholds)
    ]
    blockers += _blocking_warnings(extraction)
    date_blocker = _payment_date_blocker(extraction, context.latest_day)
    if date_blocker is not None:
        blockers.append(date_blocker)
    if account is not None:
        if is_held(account):
            blockers.append("account_on_hold")
        if currency is not None and currency != account.balance.currency:
            blockers.append("currency_differs")
        if context.amount is not None and context.amount > account.balance.decimal:
            blockers.append("amount_exceeds_balance")
    return blockers


def _contact_change(extraction: Extraction) -> bool:
    return any(name in extraction.fields for name in ("new_address", "new_phone"))


def _account_action(
    extraction: Extraction, match: Match, context: _PaymentContext, reasons: list[str]
) -> tuple[str, str | None]:
    """(decision, action) for a non-compliance intent with a single matched account."""
    intent = extraction.intent
    decision = context.decision
    if intent == "payment_confirmation":
        blockers = payment_blockers(extraction, match, context)
        if not blockers:
            return decision, ACTION_RECORD_PAYMENT
        reasons.extend(f"payment_not_recorded:{b}" for b in blockers)
        return _cap(decision, UPDATE_AND_NOTIFY), ACTION_REPORT_PAYMENT
    if intent == "address_change" and _contact_change(extraction):
        return decision, ACTION_UPDATE_CONTACT
    if intent in ("address_change", "other"):
        reasons.append("no_contact_details" if intent == "address_change" else "intent_other")
        return MANUAL_REVIEW, None
    if intent in NEEDS_ACCEPTANCE:
        reasons.append("needs_acceptance")
        return _cap(decision, UPDATE_AND_NOTIFY), ACTION_NOTE
    return decision, ACTION_NOTE


def _compliance(
    extraction: Extraction, email: ParsedEmail | None, reasons: list[str]
) -> str | None:
    """The compliance intent of the email (the model's, or the wording's backstop), or None."""
    hit = compliance_hit(email) if email is not None else None
    if hit is not None:
        reasons.append(f"compliance_kind:{hit.kind}")
    if extraction.intent in COMPLIANCE_INTENTS:
        reasons.append(f"compliance:{extraction.intent}")
        return extraction.intent
    if hit is not None:
        reasons.append(f"compliance_wording:{hit.intent}")
        if extraction.intent == "payment_confirmation":
            reasons.append("payment_not_recorded:compliance_wording")
        return hit.intent
    return None


def _hold(compliance: str, match: Match, confidence: float, reasons: list[str]) -> Decision:
    """A compliance email: hold every account it refers to and alert; no account: review."""
    several = match.account is None and match.ambiguous and match.by_reference
    if several:  # references to several accounts: hold them all (releasing is a person's call)
        reasons.append("hold_every_referenced_account")
    if match.account is None and not several:
        return Decision(MANUAL_REVIEW, confidence, None, NOTIFY_COMPLIANCE, tuple(reasons))
    return Decision(
        UPDATE_AND_NOTIFY,
        confidence,
        ACTION_HOLD,
        NOTIFY_COMPLIANCE,
        tuple(reasons),
        hold_reason=compliance,
        hold_all_referenced=several,
    )


def _overall(extraction: Extraction, match: Match) -> float:
    """The extraction's overall confidence; when a reference in the email identified a single
    account, the intent is not marked down for the identifier the extractor did not return
    (``Extraction.overall_confidence`` does so, the match makes up for it)."""
    if match.by_reference and match.account is not None:
        ids = [
            extraction.fields[name].confidence
            for name in ("case_number", "account_reference")
            if name in extraction.fields
        ]
        return min([extraction.intent_confidence, *ids])
    return extraction.overall_confidence


def _automated(email: ParsedEmail, confidence: float) -> Decision:
    """Mail no person wrote: nothing applied and nobody notified; a bounce notes on the
    accounts of its failed recipients that their address bounced."""
    reasons = [f"automated:{email.automated}"]
    if email.automated == BOUNCE and email.bounced_recipients:
        return Decision(AUTOMATED, confidence, ACTION_NOTE_BOUNCE, None, tuple(reasons))
    return Decision(AUTOMATED, confidence, None, None, tuple(reasons))


def decide(
    extraction: Extraction,
    match: Match,
    thresholds: Thresholds,
    *,
    email: ParsedEmail | None = None,
    received_at: datetime | None = None,
) -> Decision:
    """The decision for one email (see the module docstring for the rules).

    ``email`` (its new text) feeds the compliance-wording backstop; ``email.date`` and
    ``received_at`` bound a payment's date. Without them those checks cannot pass: no
    backstop, and a payment with a date is reported, not recorded.
    """
    confidence = round(min(_overall(extraction, match), match.score), 4)
    if email is not None and email.automated is not None:
        return _automated(email, confidence)
    reasons: list[str] = []
    account = match.account
    if match.ambiguous:
        reasons.append("ambiguous_match")
    elif account is None:
        reasons.append("no_account_match")
    held = account is not None and is_held(account)
    if held:
        reasons.append("account_on_hold")

    compliance = _compliance(extraction, email, reasons)
    if compliance is not None:
        return _hold(compliance, match, confidence, reasons)
    if account is None:
        return Decision(MANUAL_REVIEW, confidence, None, NOTIFY_REVIEW, tuple(reasons))

    decision = _by_confidence(confidence, thresholds)
    if decision != AUTO_UPDATE:
        reasons.append(f"confidence_{decision.lower()}")
    if extraction.degraded or extraction.extractor != "claude":
        decision = _cap(decision, UPDATE_AND_NOTIFY)
        reasons.append("fallback_extractor")
    if INJECTION_WARNING in extraction.warnings:
        decision = MANUAL_REVIEW
        reasons.append("injection_suspected")
    context = _PaymentContext(
        decision, payment_amount(extraction), thresholds, latest_payment_day(email, received_at)
    )
    decision, action = _account_action(extraction, match, context, reasons)
    if held:
        decision = _cap(decision, UPDATE_AND_NOTIFY)
    if decision == MANUAL_REVIEW:
        return Decision(MANUAL_REVIEW, confidence, None, NOTIFY_REVIEW, tuple(reasons))
    if held:
        return Decision(decision, confidence, action, NOTIFY_COMPLIANCE, tuple(reasons))
    notification = NOTIFY_UPDATE if decision == UPDATE_AND_NOTIFY else None
    return Decision(decision, confidence, action, notification, tuple(reasons))
