"""Which emails need a person: the reason of the review item the finishing transaction writes.

One item per email (``review_items.email_id`` is unique), created in the same statement as the
processing report, so an email that needs a person can never end without its item. Reasons, in
order of precedence:

- ``failed``             the email failed permanently (nothing was decided);
- ``compliance``         a compliance alert went out (dispute, cease-and-desist, bankruptcy);
- ``possible_duplicate`` a payment was refused as a possible duplicate;
- ``ambiguous``          several accounts matched equally well;
- ``no_match``           no account matched;
- ``low_confidence``     any other manual review, or a payment reported but not recorded.

``AUTO_UPDATE`` and a plain ``UPDATE_AND_NOTIFY`` (the account was changed; the notification
informs) get no item.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from shared.accounts import POSSIBLE_DUPLICATE
from shared.processing.decision import NotificationKind, Route
from shared.processing.outcome import ReviewReason
from shared.processing.report import Report

PAYMENT_NOT_RECORDED = "payment_not_recorded:"


def review_reason(  # noqa: PLR0911 - one return per reason, in order of precedence
    *, failed: bool, decision: str | None, reasons: Iterable[str], notifications: Iterable[str]
) -> ReviewReason | None:
    """The item's reason for an email that ended with ``decision`` (see the module docstring),
    or None when no person needs to look."""
    if failed:
        return ReviewReason.FAILED
    if NotificationKind.COMPLIANCE_ALERT in set(notifications):
        return ReviewReason.COMPLIANCE
    reasons = list(reasons)
    refused = [
        r.removeprefix(PAYMENT_NOT_RECORDED) for r in reasons if r.startswith(PAYMENT_NOT_RECORDED)
    ]
    if POSSIBLE_DUPLICATE in refused:
        return ReviewReason.POSSIBLE_DUPLICATE
    if decision == Route.MANUAL_REVIEW:
        if "ambiguous_match" in reasons:
            return ReviewReason.AMBIGUOUS
        if "no_account_match" in reasons:
            return ReviewReason.NO_MATCH
        return ReviewReason.LOW_CONFIDENCE
    if refused:
        return ReviewReason.LOW_CONFIDENCE
    return None


def report_review_reason(report: Report) -> ReviewReason | None:
    """:func:`review_reason` of a finished report (its actions hold reasons and notifications)."""
    reasons: list[str] = []
    notifications: list[str] = []
    for action in report.actions:
        if not isinstance(action, dict):
            continue
        if action.get("type") == "decision_reasons":
            reasons += [str(r) for r in action.get("reasons") or ()]
        elif action.get("type") == "notification":
            notifications.append(str(action.get("kind")))
    return review_reason(
        failed=report.status == "failed",
        decision=report.decision,
        reasons=reasons,
        notifications=notifications,
    )


def report_creditor(report: Report) -> str | None:
    """The creditor the email names (the extracted value), for the queue's filter."""
    found: Any = report.fields.get("creditor_name")
    value = found.get("value") if isinstance(found, dict) else None
    return value.strip()[:300] or None if isinstance(value, str) else None


def item_url(base_url: str, email_id: str) -> str | None:
    """The console page of the email's review item, or None when no console is configured."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/items/{quote(email_id, safe='')}"
