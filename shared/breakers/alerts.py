"""The admin emails: one alert per opening, one all-clear per recovery.

Only the instance that won the transition in Postgres sends, so an outage seen by fifty
instances still sends one email. Nothing here raises: an SMTP failure is logged as
``breaker_alert_failed`` and the breaker's state is already committed by then.
The emails name the breaker, times, counts and error types — never email content or secrets.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from shared.breakers.model import BreakerSnapshot
from shared.logs import log_event
from shared.mail import Mailer

_logger = logging.getLogger(__name__)

CONSEQUENCES = {
    "claude": "Emails are extracted by the rules-based fallback extractor meanwhile "
    "(marked degraded, never auto-applied).",
    "mongodb": "Emails wait: the processor raises a transient error and Pub/Sub redelivers "
    "them later with backoff.",
    "gcs": "Emails wait: the processor raises a transient error and Pub/Sub redelivers "
    "them later with backoff.",
}


def _utc(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "unknown"


def opened_message(row: BreakerSnapshot, reset_timeout: float) -> tuple[str, str]:
    """Subject and body of the alert for ``row`` (just opened)."""
    trial_at = row.opened_at + timedelta(seconds=reset_timeout) if row.opened_at else None
    subject = f"Circuit breaker '{row.name}' opened"
    lines = [
        f"Circuit breaker: {row.name}",
        "State: open (calls to the dependency are not made)",
        f"Opened at: {_utc(row.opened_at)}",
        f"Consecutive failures: {row.failure_count}",
        f"Last error type: {row.last_error_type or 'unknown'}",
        "",
        f"What happens next: after {reset_timeout:g} s (at {_utc(trial_at)}) one trial call is "
        "let through. If it succeeds the breaker closes and you get an all-clear; if it fails "
        "the breaker stays open for another period, without another email.",
    ]
    if row.name in CONSEQUENCES:
        lines.append(CONSEQUENCES[row.name])
    return subject, "\n".join(lines) + "\n"


def closed_message(row: BreakerSnapshot, now: datetime, reason: str) -> tuple[str, str]:
    subject = f"Circuit breaker '{row.name}' closed: all clear"
    body = (
        f"Circuit breaker: {row.name}\n"
        f"State: closed ({reason}) at {_utc(now)}\n"
        "Calls to the dependency are made again.\n"
    )
    return subject, body


class BreakerAlerter:
    """Sends the alert and the all-clear through a :class:`shared.mail.Mailer`."""

    def __init__(self, mailer: Mailer, recipient: str) -> None:
        self._mailer = mailer
        self._recipient = recipient

    def opened(self, row: BreakerSnapshot, reset_timeout: float) -> bool:
        """Send the alert; ``True`` when it went out."""
        subject, body = opened_message(row, reset_timeout)
        return self._send(row.name, "opened", subject, body)

    def closed(self, row: BreakerSnapshot, now: datetime, reason: str) -> bool:
        subject, body = closed_message(row, now, reason)
        return self._send(row.name, "closed", subject, body)

    def _send(self, name: str, kind: str, subject: str, body: str) -> bool:
        try:
            self._mailer.send(
                to=self._recipient,
                subject=subject,
                body=body,
                headers={"X-Breaker": name, "X-Breaker-Event": kind},
            )
        except Exception as exc:  # alerting must never break the call or the state
            log_event(
                _logger,
                "breaker_alert_failed",
                level=logging.ERROR,
                breaker=name,
                alert=kind,
                error_type=type(exc).__name__,
            )
            return False
        log_event(_logger, "breaker_alert_sent", breaker=name, alert=kind)
        return True
