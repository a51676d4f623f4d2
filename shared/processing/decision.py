"""What to do with an email: a pure function of the extraction, the match and the thresholds.

Confidence is ``min(extraction.overall_confidence, match.score)``:

- ≥ ``DECISION_AUTO_UPDATE_THRESHOLD`` → ``AUTO_UPDATE`` (applied, no notification);
- ≥ ``DECISION_NOTIFY_THRESHOLD`` → ``UPDATE_AND_NOTIFY`` (applied, staff notified);
- lower, no account, or an ambiguous match → ``MANUAL_REVIEW`` (nothing applied; a review
  request goes to staff).

Overrides, applied in this order:

1. **Compliance** (``dispute``, ``cease_and_desist``, ``bankruptcy_notice``): whatever the
   confidence, the matched account is put on hold and staff get a compliance alert. Never
   ``AUTO_UPDATE``: ``UPDATE_AND_NOTIFY`` with a single account, ``MANUAL_REVIEW`` (plus the
   alert) when no single account matched.
2. **Degraded** results (the rules extractor standing in for Claude) and results with an
   ``injection_suspected`` warning are never applied silently: at most ``UPDATE_AND_NOTIFY``,
   and ``MANUAL_REVIEW`` for a suspected injection.
3. ``other`` → ``MANUAL_REVIEW`` (nothing to apply); ``payment_plan_request`` and
   ``settlement_offer`` need a person's acceptance → at most ``UPDATE_AND_NOTIFY`` (recorded in
   the account's history only).
4. **Money-moving** (``payment_confirmation`` with an amount, i.e. recording a payment and
   lowering the balance) happens only with ``AUTO_UPDATE`` confidence AND an exact reference
   match (case number or account reference) AND the Claude extractor (not degraded) AND no
   injection warning AND the account's currency AND an amount not above the balance. Otherwise
   the payment is *reported* in the history (no balance change) with ``UPDATE_AND_NOTIFY`` so a
   person verifies it — or ``MANUAL_REVIEW`` when the confidence is below the notify threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from shared.extraction.models import COMPLIANCE_INTENTS, Extraction
from shared.processing.matching import Match

AUTO_UPDATE = "AUTO_UPDATE"
UPDATE_AND_NOTIFY = "UPDATE_AND_NOTIFY"
MANUAL_REVIEW = "MANUAL_REVIEW"
DECISIONS = (AUTO_UPDATE, UPDATE_AND_NOTIFY, MANUAL_REVIEW)
_RANK = {MANUAL_REVIEW: 0, UPDATE_AND_NOTIFY: 1, AUTO_UPDATE: 2}

INJECTION_WARNING = "injection_suspected"
NEEDS_ACCEPTANCE = frozenset({"payment_plan_request", "settlement_offer"})

# Account changes (what the apply stage does).
ACTION_HOLD = "hold"
ACTION_RECORD_PAYMENT = "record_payment"
ACTION_REPORT_PAYMENT = "report_payment"
ACTION_UPDATE_CONTACT = "update_contact"
ACTION_NOTE = "note"

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


def _payment_blockers(
    extraction: Extraction, match: Match, decision: str, amount: Decimal | None
) -> list[str]:
    """Why a payment may not be recorded automatically (empty: it may)."""
    account = match.account
    blockers = []
    if decision != AUTO_UPDATE:
        blockers.append("confidence_below_auto_update")
    if not match.exact_reference:
        blockers.append("no_exact_reference_match")
    if extraction.extractor != "claude" or extraction.degraded:
        blockers.append("fallback_extractor")
    if INJECTION_WARNING in extraction.warnings:
        blockers.append("injection_suspected")
    if amount is None:
        blockers.append("no_amount")
    if account is not None:
        currency = _currency(extraction)
        if currency is not None and currency != account.balance.currency:
            blockers.append("currency_differs")
        if amount is not None and amount > account.balance.decimal:
            blockers.append("amount_exceeds_balance")
    return blockers


def _contact_change(extraction: Extraction) -> bool:
    return any(name in extraction.fields for name in ("new_address", "new_phone"))


def _account_action(
    extraction: Extraction, match: Match, decision: str, reasons: list[str]
) -> tuple[str, str | None]:
    """(decision, action) for a non-compliance intent with a single matched account."""
    intent = extraction.intent
    if intent == "payment_confirmation":
        blockers = _payment_blockers(extraction, match, decision, payment_amount(extraction))
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


def decide(extraction: Extraction, match: Match, thresholds: Thresholds) -> Decision:
    """The decision for one email (see the module docstring for the rules)."""
    confidence = round(min(extraction.overall_confidence, match.score), 4)
    reasons: list[str] = []
    account = match.account
    if match.ambiguous:
        reasons.append("ambiguous_match")
    elif account is None:
        reasons.append("no_account_match")

    if extraction.intent in COMPLIANCE_INTENTS:
        reasons.append(f"compliance:{extraction.intent}")
        if account is None:
            return Decision(MANUAL_REVIEW, confidence, None, NOTIFY_COMPLIANCE, tuple(reasons))
        return Decision(
            UPDATE_AND_NOTIFY, confidence, ACTION_HOLD, NOTIFY_COMPLIANCE, tuple(reasons)
        )
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
    decision, action = _account_action(extraction, match, decision, reasons)
    if decision == MANUAL_REVIEW:
        return Decision(MANUAL_REVIEW, confidence, None, NOTIFY_REVIEW, tuple(reasons))
    notification = NOTIFY_UPDATE if decision == UPDATE_AND_NOTIFY else None
    return Decision(decision, confidence, action, notification, tuple(reasons))
