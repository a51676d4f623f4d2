"""The notifications outbox: rows written with the report, sent after commit, never twice.

Rows are inserted in the same transaction as the processing report (by the store's finishing
statement, or :func:`add_to_outbox` inside a transaction; ``ON CONFLICT (dedup_key) DO
NOTHING``: the key ``<email_id>:<kind>`` is unique). After the commit,
:meth:`PostgresOutbox.send_pending` sends them in short transactions — one per email (its own
rows), or one per row (the sweep):

1. ``SELECT … WHERE … status = 'pending' FOR UPDATE SKIP LOCKED`` — the row lock is the claim.
   A concurrent sender (a redelivery of the same email, another instance's sweep) skips a
   locked row instead of sending it again; if this process dies, the lock dies with its
   connection and the row is pending again (no stale claims to time out).
2. send each through the :class:`~shared.mail.Mailer` while holding the lock;
3. ``UPDATE … SET status = 'sent' WHERE id = … AND status = 'pending'`` and commit.

An email's own rows cost four round trips (``BEGIN``, the locking ``SELECT``, the ``UPDATE``,
``COMMIT``), however many there are.

An SMTP failure (``DependencyUnavailable``) leaves the row ``pending`` with ``attempts + 1``,
the error type in ``last_error`` and ``next_attempt_at = now() + backoff``: exponential,
``NOTIFICATION_RETRY_BASE_SECONDS`` × 2^(attempts − 1) capped at
``NOTIFICATION_RETRY_MAX_SECONDS`` (30 s, 1 min, 2 min … 1 h). Only *due* rows
(``next_attempt_at`` NULL — new rows — or past) are picked, by either sender, so an SMTP outage
under traffic costs each row a handful of attempts, not its whole budget within seconds.

Giving up: a failed send turns the row ``failed`` only when it has had at least
``NOTIFICATION_MAX_ATTEMPTS`` attempts **and** is older than
``NOTIFICATION_GIVE_UP_AFTER_SECONDS`` (3 days) — an outage, however long, is ridden out for
three days. Compliance alerts (:data:`NEVER_GIVE_UP`, legally required) are never given up:
they stay pending and keep being retried at the capped interval. Giving up logs
``notification_failed`` at ERROR; a failed attempt of a row past the give-up age that is kept
(a compliance alert) logs ``notification_send_failed`` at ERROR with ``overdue=true``, others
at WARNING. The email itself stays ``done``.

Pending rows are retried (a) by a redelivery of the same email — a ``done`` email with due
pending rows sends them before it is acknowledged — and (b) by the sweep a delivery runs after
its own work (at most once per ``NOTIFICATION_SWEEP_INTERVAL_SECONDS`` per instance, see the
pipeline): up to ``NOTIFICATION_SWEEP_BATCH`` due rows, most overdue first; a row never tried
is swept only once older than ``NOTIFICATION_SWEEP_MIN_AGE_SECONDS`` (its own delivery sends
it).

The remaining window: a crash after the SMTP server accepted a message but before the commit
sends it again on repair (at-least-once towards SMTP, like every outbox).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import RowMapping, text
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.errors import DependencyUnavailable
from shared.logs import log_event
from shared.mail import Mailer
from shared.processing.db import autocommit, transaction
from shared.processing.notifications import OutboxMessage

logger = logging.getLogger(__name__)

_INSERT = text(
    """
    INSERT INTO notifications (dedup_key, email_id, correlation_id, kind, recipient, subject,
                               body, status, attempts, created_at)
    VALUES (:dedup_key, :email_id, :correlation_id, :kind, :recipient, :subject, :body,
            'pending', 0, now())
    ON CONFLICT (dedup_key) DO NOTHING
    """
)

# Kinds never marked ``failed``: retried until sent (legally required).
NEVER_GIVE_UP: tuple[str, ...] = ("compliance_alert",)

_LOCK_EMAIL_ROWS = text(
    """
    SELECT id, email_id, kind, recipient, subject, body, attempts, correlation_id
      FROM notifications WHERE email_id = :email_id AND status = 'pending'
       AND (next_attempt_at IS NULL OR next_attempt_at <= now())
     ORDER BY id LIMIT :limit
       FOR UPDATE SKIP LOCKED
    """
)

# Due retries (ix_notifications_due) and never-tried rows old enough that their own delivery
# did not send them (ix_notifications_pending), most overdue first.
_PENDING_DUE = text(
    """
    SELECT id FROM notifications
     WHERE status = 'pending'
       AND (next_attempt_at <= now()
            OR (next_attempt_at IS NULL
                AND created_at < now() - make_interval(secs => :min_age)))
     ORDER BY COALESCE(next_attempt_at, created_at), id LIMIT :limit
    """
)

# Re-checks "due": another sender may have tried (and rescheduled) the row since it was listed.
_LOCK_ROW = text(
    """
    SELECT id, email_id, kind, recipient, subject, body, attempts, correlation_id
      FROM notifications WHERE id = :id AND status = 'pending'
       AND (next_attempt_at IS NULL OR next_attempt_at <= now())
       FOR UPDATE SKIP LOCKED
    """
)

_MARK_SENT = text(
    """
    UPDATE notifications SET status = 'sent', sent_at = now(), attempts = attempts + 1,
                             last_error = NULL
     WHERE id = ANY(:ids) AND status = 'pending'
    """
)

# Right-hand sides see the old row: the new attempts count is ``attempts + 1``, so the delay is
# base * 2^(new attempts - 1), capped (the exponent too, so a long-lived row cannot overflow).
_MARK_FAILED_ATTEMPT = text(
    """
    UPDATE notifications
       SET attempts = attempts + 1, last_error = :error,
           next_attempt_at = now() + make_interval(secs => LEAST(
               CAST(:base AS double precision) * power(2, LEAST(attempts, 40)),
               CAST(:max_delay AS double precision))),
           status = CASE WHEN kind <> ALL(CAST(:never_give_up AS text[]))
                              AND attempts + 1 >= :max_attempts
                              AND created_at <= now() - make_interval(secs => :give_up_after)
                         THEN 'failed' ELSE 'pending' END
     WHERE id = :id AND status = 'pending'
    RETURNING status, attempts,
              created_at <= now() - make_interval(secs => :give_up_after) AS overdue,
              EXTRACT(EPOCH FROM next_attempt_at - now()) AS retry_in
    """
)


def add_to_outbox(
    session: Session, messages: Iterable[OutboxMessage], *, email_id: str, correlation_id: str
) -> None:
    """Insert the rows inside the caller's transaction (duplicates by dedup key ignored)."""
    for message in messages:
        session.execute(
            _INSERT,
            {
                "dedup_key": message.dedup_key,
                "email_id": email_id,
                "correlation_id": correlation_id,
                "kind": message.kind,
                "recipient": message.recipient,
                "subject": message.subject,
                "body": message.body,
            },
        )


@dataclass
class SendSummary:
    sent: int = 0
    failed: int = 0  # attempts that failed this time (row still pending or now failed)
    skipped: int = 0  # locked by another sender, or no longer pending

    def add(self, other: SendSummary) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.skipped += other.skipped


class Outbox(Protocol):
    def send_pending(
        self, mailer: Mailer, *, email_id: str | None = None, limit: int = 10
    ) -> SendSummary:
        """Send this email's pending rows (or, without ``email_id``, the oldest stale ones)."""
        ...


class PostgresOutbox:
    def __init__(
        self,
        *,
        max_attempts: int,
        sweep_min_age_seconds: int,
        retry_base_seconds: float = 30.0,
        retry_max_seconds: float = 3600.0,
        give_up_after_seconds: float = 3 * 24 * 3600.0,
        never_give_up: tuple[str, ...] = NEVER_GIVE_UP,
        record_sent_within_seconds: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._max_attempts = max_attempts
        self._min_age = sweep_min_age_seconds
        self._retry_base = retry_base_seconds
        self._retry_max = retry_max_seconds
        self._give_up_after = give_up_after_seconds
        self._never_give_up = list(never_give_up)
        self._record_within = record_sent_within_seconds
        self._sleep = sleep

    def send_pending(
        self, mailer: Mailer, *, email_id: str | None = None, limit: int = 10
    ) -> SendSummary:
        if email_id is None:
            with autocommit() as conn:
                ids = list(
                    conn.scalars(_PENDING_DUE, {"min_age": float(self._min_age), "limit": limit})
                )
            summary = SendSummary()
            for row_id in ids:
                summary.add(self._send_rows(mailer, _LOCK_ROW, {"id": int(row_id)}, missing=1))
            return summary
        params = {"email_id": email_id, "limit": limit}
        return self._send_rows(mailer, _LOCK_EMAIL_ROWS, params, missing=0)

    def _send_rows(
        self, mailer: Mailer, lock: Any, params: dict[str, Any], *, missing: int
    ) -> SendSummary:
        """One transaction: lock the rows, send each, mark the sent ones, commit.

        An unexpected error from the mailer stops the loop; the rows sent before it are still
        marked and committed, then the error is raised.
        """
        summary = SendSummary()
        sent: list[RowMapping] = []
        error: BaseException | None = None
        try:
            with transaction() as session:
                rows = list(session.execute(lock, params).mappings().all())
                if not rows:  # locked by another sender, or no longer pending
                    return SendSummary(skipped=missing)
                for row in rows:
                    try:
                        delivered = self._send_row(session, mailer, row)
                    except BaseException as exc:  # re-raised below, once the sent rows are marked
                        error = exc
                        break
                    if delivered:
                        sent.append(row)
                    else:
                        summary.failed += 1
                if sent:
                    session.execute(_MARK_SENT, {"ids": [int(row["id"]) for row in sent]})
        except DependencyUnavailable:
            if not sent:
                raise
            self._record_sent_late([int(row["id"]) for row in sent])
        if error is not None:
            raise error
        for row in sent:
            log_event(logger, "notification_sent", notification_id=row["id"], kind=row["kind"])
        summary.sent = len(sent)
        return summary

    def _record_sent_late(self, ids: list[int]) -> None:
        """The relay accepted these rows' mail, then Postgres went away before the commit.

        Unrecorded, the rows would stay ``pending`` and be mailed again, so marking them sent is
        retried on fresh connections for up to ``record_sent_within_seconds`` (their locks died
        with the connection, but nobody else can pick them up while Postgres is down, and once it
        is back this retry runs within a second). Past that, ``DependencyUnavailable`` is raised
        and they will be sent again: the one window left (docs/processor.md, outbox)."""
        log_event(logger, "notification_sent_unrecorded", level=logging.WARNING, count=len(ids))
        deadline = time.monotonic() + self._record_within
        delay = 0.25
        while True:
            try:
                with autocommit() as conn:
                    conn.execute(_MARK_SENT, {"ids": ids})
            except DependencyUnavailable:
                if time.monotonic() + delay > deadline:
                    raise
                self._sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            log_event(logger, "notification_sent_recorded_late", count=len(ids))
            return

    def _send_row(self, session: Session, mailer: Mailer, row: Any) -> bool:
        row_id = int(row["id"])
        headers = {"X-Inbound-Email-Id": str(row["email_id"] or "")}
        if row["correlation_id"]:
            headers["X-Correlation-ID"] = str(row["correlation_id"])
        try:
            mailer.send(
                to=row["recipient"], subject=row["subject"], body=row["body"], headers=headers
            )
        except DependencyUnavailable as exc:
            marked = (
                session.execute(
                    _MARK_FAILED_ATTEMPT,
                    {
                        "id": row_id,
                        "error": type(exc).__name__ + ": " + str(exc)[:200],
                        "max_attempts": self._max_attempts,
                        "base": self._retry_base,
                        "max_delay": self._retry_max,
                        "give_up_after": float(self._give_up_after),
                        "never_give_up": self._never_give_up,
                    },
                )
                .mappings()
                .one_or_none()
            )
            if marked is not None:  # None: no longer pending (cannot happen under the lock)
                _log_failed_attempt(row, marked, error_type=type(exc).__name__)
            return False
        return True


def outbox_from_settings(settings: Settings) -> PostgresOutbox:
    """The outbox with the ``NOTIFICATION_*`` settings (the processor's and the sweep's)."""
    return PostgresOutbox(
        max_attempts=settings.notification_max_attempts,
        sweep_min_age_seconds=settings.notification_sweep_min_age_seconds,
        retry_base_seconds=settings.notification_retry_base_seconds,
        retry_max_seconds=settings.notification_retry_max_seconds,
        give_up_after_seconds=settings.notification_give_up_after_seconds,
        record_sent_within_seconds=settings.notification_record_sent_within_seconds,
    )


def _log_failed_attempt(row: Any, marked: RowMapping, *, error_type: str) -> None:
    """``notification_failed`` (ERROR) when given up; otherwise ``notification_send_failed``,
    at ERROR once the row is past the give-up age (a compliance alert still failing)."""
    fields: dict[str, Any] = {
        "notification_id": int(row["id"]),
        "kind": row["kind"],
        "attempts": int(marked["attempts"]),
        "error_type": error_type,
    }
    if marked["status"] == "failed":
        log_event(logger, "notification_failed", level=logging.ERROR, **fields)
        return
    overdue = bool(marked["overdue"])
    log_event(
        logger,
        "notification_send_failed",
        level=logging.ERROR if overdue else logging.WARNING,
        retry_in_seconds=round(float(marked["retry_in"] or 0.0), 1),
        overdue=overdue,
        **fields,
    )
