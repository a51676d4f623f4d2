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

0. **Automated mail** (``email.automated``: a bounce; an auto-reply or bulk mail, unless a
   reference in it or its sender's address names an account and it carries a compliance
   signal; a machine notice in
   which nothing is recognised and with no unread document; see
   :mod:`shared.extraction.automated` and ``_automated_only``) →
   ``AUTOMATED``: nothing applied, nobody notified,
   reason ``automated:<kind>``; a bounce with failed recipients gets ``Action.NOTE_BOUNCE``
   (the pipeline notes on each of their accounts that the address bounced).
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
1a. **A letter nobody could read**: the email's intent is ``other``, its new text is a short
   cover note (at most ``COVER_NOTE_MAX_WORDS`` words) and it carries a document whose content
   no reader saw (:meth:`ParsedEmail.unread_documents`: an image or word-processor file, a
   scanned PDF when the model did not read it) → held and alerted like a compliance email,
   hold reason and reason ``unread_document``: the letter may be a dispute or a cease request,
   and releasing the hold once it is read stays a person's decision.
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
   and the currency each with ``AUTO_UPDATE`` confidence, no attached document nobody read
   (``unread_document``: a letter that may be a dispute or a cease request; a picture is the
   payment's proof and does not count), the account's currency
   (a missing or unrecognised one blocks), no ``evidence_*`` or ``invalid*`` warning on the
   intent, amount, currency or payment date (e.g. ``evidence_mismatch:amount``,
   ``evidence_quoted_only:intent``; the date keys the duplicate guard), an amount not above the
   balance and a payment date (if any) not after the day the email was written
   (the sender's calendar day from the Date header, at most one day after receipt; without a
   Date header, the UTC day of receipt). Otherwise the payment is *reported* in the history
   (no balance change) with ``UPDATE_AND_NOTIFY`` so a person verifies it — or
   ``MANUAL_REVIEW`` when the confidence is below the notify threshold; each blocker is a
   reason ``payment_not_recorded:<blocker>`` (names only, never values). The apply itself
   refuses a payment duplicating one the account already recorded (atomically, see
   :mod:`shared.accounts.payment_keys`): :func:`settle` reports it the same way
   (``payment_not_recorded:possible_duplicate``).

After the apply, :func:`settle` (the second pure step) turns what the repository answered into
the final decision: a payment it refused is reported as above, and an apply it refused
(``not_applied``: the account vanished, kept changing, the payment exceeds the balance, or the
account was put on hold after it was read, ``account_on_hold``) becomes ``MANUAL_REVIEW``
(reason ``not_applied:<why>``; a compliance alert stays one). A redelivery after a lost report
whose decision differs from the one its earlier delivery applied goes to a person too
(``earlier_attempt_applied:<decision>``, see ``_as_applied_earlier``).

The values are closed sets (:class:`Route`, :class:`~shared.accounts.model.Action`,
:class:`NotificationKind`) whose strings are stored in reports, metrics and account history.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from shared.accounts import Account, Action, AppliedRecord, ApplyResult, ApplyStatus
from shared.accounts.payment_keys import utc_day
from shared.extraction.automated import AUTO_GENERATED, BOUNCE, READ_RECEIPT
from shared.extraction.models import COMPLIANCE_INTENTS, Extraction, ParsedEmail
from shared.extraction.validation import INJECTION_WARNING
from shared.processing.compliance_wording import body_compliance_hit, compliance_hit
from shared.processing.matching import Match

PAYMENT_NOT_RECORDED = "payment_not_recorded"
# A redelivery's reading differs from what its earlier delivery applied (see settle).
EARLIER_ATTEMPT_APPLIED = "earlier_attempt_applied"


class Route(StrEnum):
    """Which way an email goes (stored as the report's and the metrics' ``decision``)."""

    AUTO_UPDATE = "AUTO_UPDATE"
    UPDATE_AND_NOTIFY = "UPDATE_AND_NOTIFY"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    AUTOMATED = "AUTOMATED"  # mail no person wrote: stored, reported, counted; nobody notified


class NotificationKind(StrEnum):
    """The staff notification an email gets, at most one (the outbox's ``kind``)."""

    DEBT_UPDATE = "debt_update"
    REVIEW_REQUEST = "review_request"
    COMPLIANCE_ALERT = "compliance_alert"


_RANK = {
    Route.AUTOMATED: 0,
    Route.MANUAL_REVIEW: 0,
    Route.UPDATE_AND_NOTIFY: 1,
    Route.AUTO_UPDATE: 2,
}
# Warnings on these fields block money movement: evidence_* (missing, not found, mismatch,
# quoted only …) and invalid* (value or confidence dropped).
# Fields whose evidence warnings stop a payment being recorded; payment_date among them because
# the duplicate guard keys on it (a date the email does not support could let the same payment
# through twice under two dates).
MONEY_FIELDS = frozenset({"intent", "amount", "currency", "payment_date"})
BLOCKING_WARNING_PREFIXES = ("evidence_", "invalid")
NEEDS_ACCEPTANCE = frozenset({"payment_plan_request", "settlement_offer"})
# The hold reason of an email whose substance is a document nobody could read.
UNREAD_DOCUMENT = "unread_document"
# At most this many words of new text around unread documents make the email a cover note.
COVER_NOTE_MAX_WORDS = 40


@dataclass(frozen=True)
class Thresholds:
    auto_update: float
    notify: float


@dataclass(frozen=True)
class Decision:
    decision: Route
    confidence: float
    action: Action | None  # the account change to apply, None: nothing
    notification: NotificationKind | None  # the kind of staff notification, None: none
    reasons: tuple[str, ...]
    hold_reason: str | None = None  # the compliance intent behind Action.HOLD
    # hold every account a reference in the email points at (several: an ambiguous match)
    hold_all_referenced: bool = False

    @property
    def applies(self) -> bool:
        return self.action is not None

    @property
    def hold(self) -> bool:
        return self.action == Action.HOLD

    @property
    def moves_money(self) -> bool:
        return self.action == Action.RECORD_PAYMENT


def _cap(decision: Route, ceiling: Route) -> Route:
    return decision if _RANK[decision] <= _RANK[ceiling] else ceiling


def _by_confidence(confidence: float, thresholds: Thresholds) -> Route:
    if confidence >= thresholds.auto_update:
        return Route.AUTO_UPDATE
    if confidence >= thresholds.notify:
        return Route.UPDATE_AND_NOTIFY
    return Route.MANUAL_REVIEW


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


def _from_fallback(extraction: Extraction) -> bool:
    """Read by the rules extractor (or marked degraded), not by Claude."""
    return extraction.degraded or extraction.extractor != "claude"


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


def payment_date(extraction: Extraction) -> date | None:
    """The extracted payment date, or None when there is none or it is not an ISO date."""
    found = extraction.fields.get("payment_date")
    if found is None:
        return None
    try:
        return date.fromisoformat(str(found.value))
    except ValueError:
        return None


def _payment_date_blocker(extraction: Extraction, latest: date | None) -> str | None:
    if "payment_date" not in extraction.fields:
        return None
    if latest is None:
        return "payment_date_unchecked"
    paid_on = payment_date(extraction)
    if paid_on is None:
        return "payment_date_invalid"
    return "payment_date_in_future" if paid_on > latest else None


@dataclass(frozen=True)
class _PaymentContext:
    decision: Route
    amount: Decimal | None
    thresholds: Thresholds
    latest_day: date | None
    unread_documents: int = 0  # attached documents no reader saw


def payment_blockers(extraction: Extraction, match: Match, context: _PaymentContext) -> list[str]:
    """Why a payment may not be recorded automatically (empty: it may)."""
    account = match.account
    blockers = []
    if context.decision != Route.AUTO_UPDATE:
        blockers.append("confidence_below_auto_update")
    if not match.exact_reference:
        blockers.append("no_exact_reference_match")
    if _from_fallback(extraction):
        blockers.append("fallback_extractor")
    if INJECTION_WARNING in extraction.warnings:
        blockers.append(INJECTION_WARNING)
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
    if context.unread_documents:  # the attachment nobody read may be a dispute or a cease
        blockers.append(UNREAD_DOCUMENT)
    if account is not None:
        blockers += _account_blockers(account, currency, context)
    return blockers


def _account_blockers(
    account: Account, currency: str | None, context: _PaymentContext
) -> list[str]:
    blockers = []
    if account.held:
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
) -> tuple[Route, Action | None]:
    """(decision, action) for a non-compliance intent with a single matched account."""
    intent = extraction.intent
    decision = context.decision
    if intent == "payment_confirmation":
        blockers = payment_blockers(extraction, match, context)
        if not blockers:
            return decision, Action.RECORD_PAYMENT
        reasons.extend(f"{PAYMENT_NOT_RECORDED}:{b}" for b in blockers)
        return _cap(decision, Route.UPDATE_AND_NOTIFY), Action.REPORT_PAYMENT
    if intent == "address_change" and _contact_change(extraction):
        return decision, Action.UPDATE_CONTACT
    if intent in ("address_change", "other"):
        reasons.append("no_contact_details" if intent == "address_change" else "intent_other")
        return Route.MANUAL_REVIEW, None
    if intent in NEEDS_ACCEPTANCE:
        reasons.append("needs_acceptance")
        return _cap(decision, Route.UPDATE_AND_NOTIFY), Action.NOTE
    return decision, Action.NOTE


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
            reasons.append(f"{PAYMENT_NOT_RECORDED}:compliance_wording")
        return hit.intent
    return None


def _hold(compliance: str, match: Match, confidence: float, reasons: list[str]) -> Decision:
    """A compliance email: hold every account it refers to and alert; no account: review."""
    several = match.account is None and match.ambiguous and bool(match.referenced_accounts)
    if several:  # references to several accounts: hold them all (releasing is a person's call)
        reasons.append("hold_every_referenced_account")
    if match.account is None and not several:
        return Decision(
            Route.MANUAL_REVIEW,
            confidence,
            None,
            NotificationKind.COMPLIANCE_ALERT,
            tuple(reasons),
        )
    return Decision(
        Route.UPDATE_AND_NOTIFY,
        confidence,
        Action.HOLD,
        NotificationKind.COMPLIANCE_ALERT,
        tuple(reasons),
        hold_reason=compliance,
        hold_all_referenced=several,
    )


def _unread_letter(
    extraction: Extraction, email: ParsedEmail | None, reasons: list[str]
) -> str | None:
    """``UNREAD_DOCUMENT`` when the email is a cover note for documents nobody could read (a
    scanned or photographed letter, a word-processor file): nothing in its own text was
    recognised and the text is short. The letter may be a dispute or a cease request, which
    stops collection from the day it arrives, so it is held until a person has read it."""
    if email is None or extraction.intent != "other":
        return None
    if not _unread_documents(extraction, email):
        return None
    if len(email.text.split()) > COVER_NOTE_MAX_WORDS:
        return None
    reasons.append(UNREAD_DOCUMENT)
    return UNREAD_DOCUMENT


def _unread_documents(
    extraction: Extraction, email: ParsedEmail | None, *, images: bool = True
) -> int:
    if email is None:
        return 0
    scans_read = 0 if _from_fallback(extraction) else extraction.documents_read
    return email.unread_documents(scans_read=scans_read, images=images)


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


def _automated_only(email: ParsedEmail, extraction: Extraction, match: Match) -> bool:
    """Mail no person wrote and nobody needs to act on.

    A machine notice that answers nothing (``auto_generated``: a bank's payment advice, a
    court's bankruptcy notice, a fax gateway's scan) is read like a person's unless nothing in
    it is recognised and it brings no document nobody could read. Bulk mail and auto-replies
    stay automated unless they name an account (by a reference, or by coming from a debtor's
    address) and their body or attachments carry compliance wording: law firms and courts
    send through mailing platforms that add ``List-Unsubscribe``, a debtor's mail program may
    mark a letter as bulk or auto-submitted, and a cease request about a named account stops
    collection however it was sent (a newsletter about disputes names no account). Their
    subject and quoted history are not read for it (an out-of-office reply quotes our subject
    back): the rules extractor reads such mail without them, and its intent counts with the
    wording's. A bounce quotes our own letter, rights notice included, and a read receipt
    repeats our subject: neither is ever read for compliance."""
    if email.automated is None:
        return False
    if email.automated == AUTO_GENERATED:
        return (
            extraction.intent == "other"
            and compliance_hit(email) is None
            and _unread_letter(extraction, email, []) is None
        )
    if email.automated in (BOUNCE, READ_RECEIPT) or not (match.by_reference or match.by_sender):
        return True
    # the rules read such mail without its subject and quoted history (the pipeline)
    return extraction.intent not in COMPLIANCE_INTENTS and body_compliance_hit(email) is None


def _automated(email: ParsedEmail, confidence: float) -> Decision:
    """Mail no person wrote: nothing applied and nobody notified; a bounce notes on the
    accounts of its failed recipients that their address bounced."""
    reasons = (f"automated:{email.automated}",)
    if email.automated == BOUNCE and email.bounced_recipients:
        return Decision(Route.AUTOMATED, confidence, Action.NOTE_BOUNCE, None, reasons)
    return Decision(Route.AUTOMATED, confidence, None, None, reasons)


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
    if email is not None and _automated_only(email, extraction, match):
        return _automated(email, confidence)
    reasons: list[str] = []
    account = match.account
    if match.ambiguous:
        reasons.append("ambiguous_match")
    elif account is None:
        reasons.append("no_account_match")
    held = account is not None and account.held
    if held:
        reasons.append("account_on_hold")

    hold_reason = _compliance(extraction, email, reasons) or _unread_letter(
        extraction, email, reasons
    )
    if hold_reason is not None:
        return _hold(hold_reason, match, confidence, reasons)
    if account is None:
        return _review(confidence, reasons)

    decision = _by_confidence(confidence, thresholds)
    if decision != Route.AUTO_UPDATE:
        reasons.append(f"confidence_{decision.lower()}")
    if _from_fallback(extraction):
        decision = _cap(decision, Route.UPDATE_AND_NOTIFY)
        reasons.append("fallback_extractor")
    if INJECTION_WARNING in extraction.warnings:
        decision = Route.MANUAL_REVIEW
        reasons.append(INJECTION_WARNING)
    context = _PaymentContext(
        decision,
        payment_amount(extraction),
        thresholds,
        latest_payment_day(email, received_at),
        # a picture attached to a payment is its proof (a screenshot of the transfer), not a
        # letter: only the files a letter comes as block the recording
        unread_documents=_unread_documents(extraction, email, images=False),
    )
    decision, action = _account_action(extraction, match, context, reasons)
    if held:
        decision = _cap(decision, Route.UPDATE_AND_NOTIFY)
    if decision == Route.MANUAL_REVIEW:
        return _review(confidence, reasons)
    if held:
        return Decision(
            decision, confidence, action, NotificationKind.COMPLIANCE_ALERT, tuple(reasons)
        )
    notification = NotificationKind.DEBT_UPDATE if decision == Route.UPDATE_AND_NOTIFY else None
    return Decision(decision, confidence, action, notification, tuple(reasons))


def _review(confidence: float, reasons: list[str]) -> Decision:
    return Decision(
        Route.MANUAL_REVIEW, confidence, None, NotificationKind.REVIEW_REQUEST, tuple(reasons)
    )


# -- after the apply ------------------------------------------------------------------------


def refused_payment(result: ApplyResult) -> str | None:
    """Why the repository refused this email's payment (``possible_duplicate``), or None: this
    call's refusal, or on a redelivery the one the first delivery's history entry records."""
    if result.status == ApplyStatus.ALREADY_APPLIED and result.record is not None:
        return result.record.payment_not_recorded
    return result.payment_refused


def payment_refused(decision: Decision, blocker: str) -> Decision:
    """The decision for a payment the account refused (``blocker``): reported, not recorded, as
    :func:`payment_blockers` would have it (recording a payment needs ``AUTO_UPDATE``, so this
    is ``UPDATE_AND_NOTIFY``; a compliance alert stays one)."""
    notification = decision.notification
    if notification != NotificationKind.COMPLIANCE_ALERT:
        notification = NotificationKind.DEBT_UPDATE
    return replace(
        decision,
        decision=Route.UPDATE_AND_NOTIFY,
        action=Action.REPORT_PAYMENT,
        notification=notification,
        reasons=(*decision.reasons, f"{PAYMENT_NOT_RECORDED}:{blocker}"),
    )


def _as_applied_earlier(decision: Decision, record: AppliedRecord | None) -> Decision:
    """A redelivery after a lost report whose own reading differs from what the earlier
    delivery applied (its history entry): the earlier change stands and is what the report
    shows; this reading is decided against an account that change already altered (a payment
    in full leaves a balance of 0 that "exceeds" the same payment), so a person checks it. Its
    ``payment_not_recorded`` reasons go: they describe a plan that was not carried out, and
    next to a recorded payment they would invite recording it twice by hand."""
    if record is None or record.decision is None:
        return decision
    decided_now = str(decision.action) if decision.action is not None else None
    if record.decision == decision.decision and (record.action or None) == decided_now:
        return decision
    return earlier_change_to_check(
        decision,
        f"{EARLIER_ATTEMPT_APPLIED}:{record.decision}",
        held=record.action == Action.HOLD,
    )


def earlier_change_to_check(decision: Decision, reason: str, *, held: bool = False) -> Decision:
    """A redelivery's decision, once what its earlier delivery applied stands and this reading
    disagrees with it (another decision, or another account): ``MANUAL_REVIEW`` with a review
    request (a compliance alert when either side held), ``reason`` added, and none of this
    reading's ``payment_not_recorded`` reasons, which would tell staff a recorded payment was
    not."""
    alert = held or decision.notification == NotificationKind.COMPLIANCE_ALERT
    reasons = [r for r in decision.reasons if not r.startswith(f"{PAYMENT_NOT_RECORDED}:")]
    return replace(
        decision,
        decision=Route.MANUAL_REVIEW,
        notification=(
            NotificationKind.COMPLIANCE_ALERT if alert else NotificationKind.REVIEW_REQUEST
        ),
        reasons=(*reasons, reason),
    )


def settle(decision: Decision, result: ApplyResult) -> Decision:
    """The final decision once the repository answered the apply (see the module docstring).

    A refused payment is reported (:func:`payment_refused`); an apply the repository refused
    (``not_applied``) goes to a person: ``MANUAL_REVIEW`` with a review request, or the
    compliance alert the decision already had."""
    refused = refused_payment(result)
    if refused is not None and decision.moves_money:
        decision = payment_refused(decision, refused)
    if result.status == ApplyStatus.ALREADY_APPLIED:
        return _as_applied_earlier(decision, result.record)
    if result.status != ApplyStatus.NOT_APPLIED:
        return decision
    notification = decision.notification
    if notification != NotificationKind.COMPLIANCE_ALERT:
        notification = NotificationKind.REVIEW_REQUEST
    return replace(
        decision,
        decision=Route.MANUAL_REVIEW,
        notification=notification,
        reasons=(*decision.reasons, f"not_applied:{result.reason}"),
    )
