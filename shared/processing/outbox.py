"""The notifications outbox: rows written with the report, sent after commit, never twice.

Rows are inserted in the same transaction as the processing report (by the store's finishing
statement, or :func:`add_to_outbox` inside a transaction; ``ON CONFLICT (dedup_key) DO
NOTHING``: the key ``<email_id>:<kind>`` is unique). After the commit,
:meth:`PostgresOutbox.send_pending` sends them, each call in three steps:

1. **claim** — one committed statement: ``UPDATE … SET next_attempt_at = now() + lease WHERE id
   IN (SELECT … due … FOR UPDATE SKIP LOCKED) RETURNING …`` (this email's rows, or the sweep's
   batch). The lease (``NOTIFICATION_SEND_LEASE_SECONDS``, 300) keeps every other sender (a
   redelivery of the same email, another instance's sweep) off those rows while they are
   mailed — even if this process's connection, or Postgres itself, goes away meanwhile. If
   this process dies, the rows are due again when the lease ends.
2. send each through the :class:`~shared.mail.Mailer`, holding no connection, while the lease
   has room for one more message and for recording them (a relay timing out on every message
   would otherwise outlast the lease, and another sender would mail the rest again): the rows
   not tried are released, due again at once;
3. ``UPDATE … SET status = 'sent' … WHERE status = 'pending'``; when Postgres went
   away after the relay accepted the mail, this is retried on fresh connections for up to
   ``NOTIFICATION_RECORD_SENT_WITHIN_SECONDS`` (60), inside the lease.

The ``next_attempt_at`` a claim set is the lease's token: releasing untried rows and recording a
refused attempt change a row only while it still holds that value (no other sender has claimed
it since), so a sender whose lease ran out never shortens another sender's lease. Every send of
a row carries the same Message-ID, derived from its dedup key
(:func:`~shared.mail.compose.stable_message_id`): a resend shows once in the mail client.

An email's own rows cost two round trips, however many there are (plus one per refused row).
The rows a delivery's finishing statement inserts are leased by that statement already
(:class:`~shared.processing.store.PostgresProcessingStore` returns them):
:meth:`PostgresOutbox.send_claimed` skips step 1, so they cost one round trip. Should the
process die between that commit and the mail, they are due again when the lease ends, like
any claimed row (the sweep sends them; a redelivery of the email finds them not yet due).

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

The remaining window: a crash after the SMTP server accepted a message but before it is recorded
(or Postgres unreachable for longer than the record retries) sends it again once the lease ends
(at-least-once towards SMTP, like every outbox).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import text

from shared.config import Settings
from shared.db.outages import autocommit_or_unavailable
from shared.errors import DependencyUnavailable
from shared.logs import log_event
from shared.mail import Mailer
from shared.mail.compose import stable_message_id
from shared.mail.smtp import message_seconds
from shared.processing.decision import NotificationKind
from shared.processing.notifications import OutboxMessage

if TYPE_CHECKING:  # the ORM loads with the first session only (cold start, B6)
    from sqlalchemy.orm import Session

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
NEVER_GIVE_UP: tuple[str, ...] = (NotificationKind.COMPLIANCE_ALERT.value,)

# Claiming rows is one committed statement: their ``next_attempt_at`` moves a lease ahead, so no
# other sender takes them while this one mails (its connection is back in the pool meanwhile, and
# Postgres may even go away before the mail is recorded as sent). A sender that dies holding a
# lease leaves its rows due again when the lease ends.

# This email's due rows.
_CLAIM_EMAIL_ROWS = text(
    """
    UPDATE notifications SET next_attempt_at = now() + make_interval(secs => :lease)
     WHERE id IN (SELECT id FROM notifications
                   WHERE email_id = :email_id AND status = 'pending'
                     AND (next_attempt_at IS NULL OR next_attempt_at <= now())
                   ORDER BY id LIMIT :limit
                     FOR UPDATE SKIP LOCKED)
    RETURNING id, email_id, kind, recipient, subject, body, attempts, correlation_id,
              dedup_key, next_attempt_at
    """
)

# The sweep: due retries (ix_notifications_due) and never-tried rows old enough that their own
# delivery did not send them (ix_notifications_pending), most overdue first.
_CLAIM_DUE_ROWS = text(
    """
    UPDATE notifications SET next_attempt_at = now() + make_interval(secs => :lease)
     WHERE id IN (SELECT id FROM notifications
                   WHERE status = 'pending'
                     AND (next_attempt_at <= now()
                          OR (next_attempt_at IS NULL
                              AND created_at < now() - make_interval(secs => :min_age)))
                   ORDER BY COALESCE(next_attempt_at, created_at), id LIMIT :limit
                     FOR UPDATE SKIP LOCKED)
    RETURNING id, email_id, kind, recipient, subject, body, attempts, correlation_id,
              dedup_key, next_attempt_at
    """
)

# A claim's ``next_attempt_at`` is also its lease token: the value this sender's claim set
# (returned with the row as ``lease_until``) is still there exactly while no other sender has
# claimed the row since (a claim needs the lease to have ended and always moves it later). The
# statements below pass the rows as ``[{id, lease_until}]`` (lease_until null: not fenced).

# Rows claimed but not tried (the mailer raised something unexpected, the lease ran short): due
# again at once — only while they are still leased to this sender; a row another sender has
# claimed meanwhile keeps that sender's lease, or a third one would mail it beside it.
_RELEASE = text(
    """
    UPDATE notifications AS n SET next_attempt_at = now()
      FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS t(id bigint, lease_until timestamptz)
     WHERE n.id = t.id AND n.status = 'pending'
       AND (t.lease_until IS NULL OR n.next_attempt_at = t.lease_until)
    """
)

# Not fenced: the relay accepted the mail, so the row is sent whoever holds it now (fencing it
# could only have the row mailed once more). A row whose lease passed to another sender meanwhile
# is reported (``lease_passed``): that sender may mail it too, with the same Message-ID.
_MARK_SENT = text(
    """
    UPDATE notifications AS n SET status = 'sent', sent_at = now(), attempts = n.attempts + 1,
                                  last_error = NULL
      FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS t(id bigint, lease_until timestamptz)
     WHERE n.id = t.id AND n.status = 'pending'
    RETURNING t.lease_until IS NOT NULL AND n.next_attempt_at <> t.lease_until AS lease_passed
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
       AND (CAST(:lease_until AS timestamptz) IS NULL
            OR next_attempt_at = CAST(:lease_until AS timestamptz))
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
    # Rows another sender holds are not counted: the claim's SKIP LOCKED never returns them.

    def add(self, other: SendSummary) -> None:
        self.sent += other.sent
        self.failed += other.failed


class Outbox(Protocol):
    def send_pending(
        self, mailer: Mailer, *, email_id: str | None = None, limit: int = 10
    ) -> SendSummary:
        """Send this email's pending rows (or, without ``email_id``, the oldest stale ones)."""
        ...

    def send_claimed(self, mailer: Mailer, rows: Sequence[Mapping[Any, Any]]) -> SendSummary:
        """Send rows already leased to the caller (as the finishing statement returns them)."""
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
        send_lease_seconds: float = 300.0,
        one_mail_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_attempts = max_attempts
        self._min_age = sweep_min_age_seconds
        self._retry_base = retry_base_seconds
        self._retry_max = retry_max_seconds
        self._give_up_after = give_up_after_seconds
        self._never_give_up = list(never_give_up)
        self._record_within = min(record_sent_within_seconds, send_lease_seconds)
        self._lease = send_lease_seconds
        # A row is mailed only while its lease has room for the mail (one_mail_seconds: what a
        # message may take against a slow or dead relay) and for recording it afterwards;
        # the rest of a batch is released, or another sender would mail it again.
        self._mail_within = max(send_lease_seconds - self._record_within - one_mail_seconds, 0.0)
        self._sleep = sleep
        self._clock = clock

    def send_pending(
        self, mailer: Mailer, *, email_id: str | None = None, limit: int = 10
    ) -> SendSummary:
        if email_id is None:
            return self._send(mailer, _CLAIM_DUE_ROWS, {"min_age": float(self._min_age)}, limit)
        return self._send(mailer, _CLAIM_EMAIL_ROWS, {"email_id": email_id}, limit)

    def send_claimed(self, mailer: Mailer, rows: Sequence[Mapping[Any, Any]]) -> SendSummary:
        return self._deliver(mailer, sorted(rows, key=lambda row: int(row["id"])))

    def _send(self, mailer: Mailer, claim: Any, params: dict[str, Any], limit: int) -> SendSummary:
        """Claim due rows (one committed statement), then :meth:`_deliver` them."""
        with autocommit_or_unavailable() as conn:
            rows = sorted(
                conn.execute(claim, {**params, "limit": limit, "lease": self._lease})
                .mappings()
                .all(),
                key=lambda row: int(row["id"]),
            )
        return self._deliver(mailer, rows)

    def _deliver(self, mailer: Mailer, rows: Sequence[Mapping[Any, Any]]) -> SendSummary:
        """Mail each leased row, then record what happened.

        An unexpected error from the mailer stops the loop: the rows sent before it are still
        recorded, the untried ones released, then the error is raised. So does the lease
        running short (a relay timing out on each message): the rows not tried are released
        and left to the next sender."""
        sent: list[Mapping[Any, Any]] = []
        refused: list[tuple[Mapping[Any, Any], DependencyUnavailable]] = []
        error: BaseException | None = None
        untried: list[Mapping[Any, Any]] = []
        started = self._clock()
        for index, row in enumerate(rows):
            if index and self._clock() - started > self._mail_within:
                untried = list(rows[index:])
                log_event(
                    logger, "notification_batch_cut", level=logging.WARNING, untried=len(untried)
                )
                break
            try:
                _mail(mailer, row)
            except DependencyUnavailable as exc:
                refused.append((row, exc))
                continue
            except BaseException as exc:  # raised below, once the others are recorded
                error = exc
                untried = list(rows[index + 1 :])
                break
            sent.append(row)
        if sent:
            self._record_sent(_leases(sent))
        for row, refusal in refused:
            self._record_refusal(row, refusal)
        if untried:
            with autocommit_or_unavailable() as conn:
                conn.execute(_RELEASE, {"rows": _leases(untried)})
        if error is not None:
            raise error
        for row in sent:
            log_event(logger, "notification_sent", notification_id=row["id"], kind=row["kind"])
        return SendSummary(sent=len(sent), failed=len(refused))

    def _record_sent(self, rows: str) -> None:
        """Mark rows sent. If Postgres went away after the relay accepted their mail, retry on
        fresh connections for up to ``record_sent_within_seconds``: unrecorded, they would be
        mailed again once their lease ends. Their leases keep every other sender off them
        meanwhile. Past that, ``DependencyUnavailable`` is raised and they will be sent again:
        the one window left (docs/processing.md, outbox)."""
        deadline = time.monotonic() + self._record_within
        delay, late = 0.25, False
        count = len(json.loads(rows))
        while True:
            try:
                with autocommit_or_unavailable() as conn:
                    passed = conn.execute(_MARK_SENT, {"rows": rows}).scalars().all()
            except DependencyUnavailable:
                if not late:
                    late = True
                    log_event(
                        logger,
                        "notification_sent_unrecorded",
                        level=logging.WARNING,
                        count=count,
                    )
                if time.monotonic() + delay > deadline:
                    raise
                self._sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if late:
                log_event(logger, "notification_sent_recorded_late", count=count)
            if any(passed):
                log_event(
                    logger,
                    "notification_sent_after_lease_passed",
                    level=logging.WARNING,
                    count=sum(1 for p in passed if p),
                )
            return

    def _record_refusal(self, row: Mapping[Any, Any], exc: DependencyUnavailable) -> None:
        """The relay refused: count the attempt and schedule the next one (or give up)."""
        with autocommit_or_unavailable() as conn:
            marked = (
                conn.execute(
                    _MARK_FAILED_ATTEMPT,
                    {
                        "id": int(row["id"]),
                        "lease_until": _lease_until(row),
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
        if marked is not None:  # None: no longer pending (another sender finished it)
            _log_failed_attempt(row, marked, error_type=type(exc).__name__)


def _lease_until(row: Mapping[Any, Any]) -> str | None:
    """The row's lease token as its claim returned it (a datetime, or the ISO text of the
    finishing statement's JSON answer); None when the row came without one."""
    value = row.get("next_attempt_at")
    if isinstance(value, datetime):
        return value.isoformat()
    return None if value is None else str(value)


def _leases(rows: Sequence[Mapping[Any, Any]]) -> str:
    return json.dumps([{"id": int(r["id"]), "lease_until": _lease_until(r)} for r in rows])


def _mail(mailer: Mailer, row: Mapping[Any, Any]) -> None:
    headers = {"X-Inbound-Email-Id": str(row["email_id"] or "")}
    if row["correlation_id"]:
        headers["X-Correlation-ID"] = str(row["correlation_id"])
    dedup_key = row.get("dedup_key")
    if dedup_key:  # every send of this row carries the same Message-ID (see compose)
        headers["Message-ID"] = stable_message_id(str(dedup_key))
    mailer.send(to=row["recipient"], subject=row["subject"], body=row["body"], headers=headers)


def outbox_from_settings(settings: Settings) -> PostgresOutbox:
    """The outbox with the ``NOTIFICATION_*`` settings (the processor's and the sweep's)."""
    return PostgresOutbox(
        max_attempts=settings.notification_max_attempts,
        sweep_min_age_seconds=settings.notification_sweep_min_age_seconds,
        retry_base_seconds=settings.notification_retry_base_seconds,
        retry_max_seconds=settings.notification_retry_max_seconds,
        give_up_after_seconds=settings.notification_give_up_after_seconds,
        record_sent_within_seconds=settings.notification_record_sent_within_seconds,
        send_lease_seconds=settings.notification_send_lease_seconds,
        # the deadline SmtpMailer gives each message (connect, STARTTLS, login, the message)
        one_mail_seconds=message_seconds(settings),
    )


def _log_failed_attempt(row: Any, marked: Mapping[Any, Any], *, error_type: str) -> None:
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
