"""Staff notifications: what each one says, built so inbound text cannot inject anything.

Three kinds, one per email at most (dedup key ``<email_id>:<kind>``):

- ``debt_update`` (:func:`debt_update_notification`) for ``UPDATE_AND_NOTIFY``;
- ``review_request`` (:func:`review_request`) for ``MANUAL_REVIEW``;
- ``compliance_alert`` (:func:`compliance_alert`) for disputes, cease-and-desist letters and
  bankruptcy notices (with or without a matched account).

``AUTO_UPDATE`` sends nothing: the account's history and the processing report record it.

When the email has a review item and ``CONSOLE_BASE_URL`` is set, the body starts with the link
to the item in the review console.

Subjects carry only our own identifiers (kind, intent, account id), never inbound text, and
stay short enough not to be folded. Bodies are plain text (``text/plain``, no HTML); every
value that came from the email is collapsed to one line and bounded, so it cannot forge extra
lines or headers.
:func:`shared.mail.compose.build_message` also strips CR/LF from every header; both use
:func:`shared.mail.compose.one_line`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.extraction.models import FIELD_NAMES, Extraction, ParsedEmail
from shared.mail.compose import one_line
from shared.processing.decision import UNREAD_DOCUMENT, Decision, NotificationKind
from shared.processing.matching import Match
from shared.processing.report import AccountChange


@dataclass(frozen=True)
class OutboxMessage:
    """One notification to be stored in the outbox and sent after commit."""

    kind: NotificationKind
    dedup_key: str
    recipient: str
    subject: str
    body: str


def dedup_key(email_id: str, kind: NotificationKind) -> str:
    return f"{email_id}:{kind}"


def _subject(kind_label: str, extraction: Extraction, decision: Decision, match: Match) -> str:
    account = match.account
    target = account.account_id if account else "no account matched"
    return f"[{kind_label}] {extraction.intent} - {target}"


def _body(
    *,
    heading: str,
    email_id: str,
    correlation_id: str,
    email: ParsedEmail,
    extraction: Extraction,
    match: Match,
    decision: Decision,
    actions: list[AccountChange],
    console_url: str | None = None,
) -> str:
    account = match.account
    lines = [heading, ""]
    if console_url:
        lines += [f"Review it here:  {console_url}", ""]
    lines += [
        f"Email id:        {email_id}",
        f"Correlation id:  {correlation_id}",
        f"Decision:        {decision.decision} (confidence {decision.confidence:.2f})",
        f"Intent:          {extraction.intent} (confidence {extraction.intent_confidence:.2f})",
        f"Extractor:       {extraction.extractor}"
        + (" (degraded: rules fallback)" if extraction.degraded else ""),
    ]
    if account is not None:
        lines += [
            f"Account:         {account.account_id} (case {one_line(account.case_number, 64)})",
            f"Match:           {match.method} (score {match.score:.2f})",
            f"Balance:         {account.balance.decimal} {account.balance.currency}",
        ]
    elif match.candidates:
        ids = ", ".join(c.account.account_id for c in match.candidates[:5])
        lines.append(f"Match:           ambiguous ({match.method}); candidates: {ids}")
    else:
        lines.append("Match:           no account found")
    if decision.reasons:
        lines.append("Reasons:         " + ", ".join(one_line(r, 80) for r in decision.reasons))
    if actions:
        lines.append("Actions:")
        for action in actions:
            reported = action.to_report()
            lines.append(
                "  - " + ", ".join(f"{k}={one_line(v, 80)}" for k, v in sorted(reported.items()))
            )
    lines += ["", "Extracted fields (value, confidence, evidence):"]
    for name in FIELD_NAMES:
        found = extraction.fields.get(name)
        if found is None:
            continue
        evidence = f' - "{one_line(found.evidence, 160)}"' if found.evidence else ""
        lines.append(f"  {name}: {one_line(found.value)} ({found.confidence:.2f}){evidence}")
    if extraction.warnings:
        lines.append("Warnings:        " + ", ".join(one_line(w, 80) for w in extraction.warnings))
    lines += [
        "",
        "Original email:",
        f"  From:    {one_line(email.sender, 320)}",
        f"  Subject: {one_line(email.subject, 200)}",
        "",
        "The full email is stored with the processing report; search the logs by correlation id.",
    ]
    return "\n".join(lines) + "\n"


def _build(
    kind: NotificationKind,
    kind_label: str,
    heading: str,
    *,
    recipient: str,
    email_id: str,
    correlation_id: str,
    email: ParsedEmail,
    extraction: Extraction,
    match: Match,
    decision: Decision,
    actions: list[AccountChange],
    console_url: str | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        kind=kind,
        dedup_key=dedup_key(email_id, kind),
        recipient=recipient,
        subject=_subject(kind_label, extraction, decision, match),
        body=_body(
            heading=heading,
            email_id=email_id,
            correlation_id=correlation_id,
            email=email,
            extraction=extraction,
            match=match,
            decision=decision,
            actions=actions,
            console_url=console_url,
        ),
    )


def debt_update_notification(**kwargs: Any) -> OutboxMessage:
    """``UPDATE_AND_NOTIFY``: the account was updated; please check."""
    return _build(
        NotificationKind.DEBT_UPDATE,
        "Debt update",
        "An inbound email updated a debtor account. Please check the change.",
        **kwargs,
    )


def review_request(**kwargs: Any) -> OutboxMessage:
    """``MANUAL_REVIEW``: nothing was changed; a person must decide."""
    return _build(
        NotificationKind.REVIEW_REQUEST,
        "Review needed",
        "An inbound email needs a manual review. No account was changed.",
        **kwargs,
    )


def compliance_alert(**kwargs: Any) -> OutboxMessage:
    """Dispute, cease-and-desist, bankruptcy: collection must stop."""
    match: Match = kwargs["match"]
    decision: Decision = kwargs["decision"]
    if UNREAD_DOCUMENT in decision.reasons:
        heading = (
            "COMPLIANCE: this email is a cover note for a document nothing could read (a scan, "
            "a photo or a word-processor file). It may be a dispute or a cease request: "
            + (
                "the account below was put on hold until a person reads it."
                if decision.hold
                else "no single account matched; read it and hold the debtor's account if needed."
            )
        )
    elif match.account is None:
        heading = (
            "COMPLIANCE: collection must stop, but no single account matched. "
            "Find the account and put it on hold now."
        )
    elif decision.hold:
        heading = "COMPLIANCE: collection must stop. The account below was put on hold."
    else:
        heading = (
            "COMPLIANCE: the account below is on hold. Check this email's change below "
            "(a payment is only reported, never recorded) before any collection step."
        )
    return _build(NotificationKind.COMPLIANCE_ALERT, "Compliance alert", heading, **kwargs)


COMPOSERS = {
    NotificationKind.DEBT_UPDATE: debt_update_notification,
    NotificationKind.REVIEW_REQUEST: review_request,
    NotificationKind.COMPLIANCE_ALERT: compliance_alert,
}


def compose(kind: NotificationKind, **kwargs: Any) -> OutboxMessage:
    """The notification of ``kind`` (see :data:`COMPOSERS`)."""
    return COMPOSERS[kind](**kwargs)
