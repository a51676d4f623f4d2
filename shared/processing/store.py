"""The processing database (Postgres) as the pipeline sees it: claim, release, finish, fail.

:meth:`PostgresProcessingStore.finish` is the one transaction that ends an email: the
``emails`` row goes ``processing → done`` only while this delivery still holds the lease
(``WHERE lease_owner = :owner``), and in the same transaction the report, the metrics and the
outbox rows are written. A delivery that lost its lease (it ran past the lease and another
delivery took over) writes nothing: if the other one finished, it is a duplicate; if not,
:class:`~shared.errors.LeaseHeldError` makes Pub/Sub redeliver.

That transaction is **one statement** (:data:`_FINISH_ALL`), run in autocommit, so ending an
email costs one round trip: the guarded ``UPDATE`` of ``emails`` is a data-modifying CTE whose
``RETURNING`` feeds the report, outbox and metrics ``INSERT … SELECT … FROM done`` — if the
lease was lost, ``done`` is empty and nothing is written. An email that needs a person gets
its review item (:mod:`shared.processing.review`) in that same statement. Postgres runs the
whole statement atomically. The outbox rows it inserts are leased to this delivery at once
(their ``next_attempt_at`` a send lease ahead, as :mod:`shared.processing.outbox`'s claim would
set it) and come back in the statement's answer, so the delivery mails them without claiming
them in a statement of its own. The metrics ride in it as a JSON array; should that statement
fail for a reason other than an outage (a metric row the table refuses, say), the email is
finished again the old way — a transaction of separate statements with the metrics in a
savepoint — so a metric never fails an email. The claim and the release are single statements
in autocommit too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from shared.db.outages import autocommit_or_unavailable, transaction_or_unavailable
from shared.errors import LeaseHeldError
from shared.logs import log_event
from shared.processing.claim import Claim, claim_email, release_lease, renew_lease
from shared.processing.envelope import EmailNotice
from shared.processing.notifications import OutboxMessage
from shared.processing.outbox import add_to_outbox
from shared.processing.outcome import Outcome
from shared.processing.report import Report
from shared.processing.review import report_creditor, report_review_reason

if TYPE_CHECKING:  # the ORM loads with the first session only (cold start, B6)
    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

FinishResult = Outcome  # DONE, or DUPLICATE when another delivery finished the email first


class MetricsWriter(Protocol):
    def pending(self) -> list[dict[str, Any]]: ...

    def mark_written(self, rows: int) -> None: ...

    def write(self, session: Any) -> bool: ...


class ProcessingStore(Protocol):
    def claim(self, notice: EmailNotice, *, correlation_id: str, owner: str) -> Claim: ...

    def release(self, email_id: str, *, owner: str) -> None: ...

    def renew(self, email_id: str, *, owner: str) -> bool:
        """Extend this delivery's lease; False when it is no longer this delivery's."""
        ...

    def finish(
        self,
        report: Report,
        *,
        owner: str,
        notifications: Sequence[OutboxMessage],
        metrics: MetricsWriter,
        claimed: list[dict[str, Any]] | None = None,
    ) -> FinishResult:
        """End the email; outbox rows it wrote already leased to the caller are appended to
        ``claimed`` (send them with :meth:`~shared.processing.outbox.Outbox.send_claimed`)."""
        ...

    def fail(self, report: Report, *, owner: str, metrics: MetricsWriter) -> FinishResult: ...

    def record_invalid(
        self, report: Report, *, provider: str | None, metrics: MetricsWriter
    ) -> FinishResult: ...

    def write_metrics(self, metrics: MetricsWriter) -> None: ...


_FINISH = text(
    """
    UPDATE emails SET status = :status, completed_at = now(), updated_at = now(),
                      lease_owner = NULL, lease_expires_at = NULL
     WHERE email_id = :email_id AND status = 'processing' AND lease_owner = :owner
    RETURNING email_id
    """
)

_FINISH_ALL = text(
    """
    WITH done AS (
        UPDATE emails SET status = :status, completed_at = now(), updated_at = now(),
                          lease_owner = NULL, lease_expires_at = NULL
         WHERE email_id = :email_id AND status = 'processing' AND lease_owner = :owner
        RETURNING email_id
    ), report AS (
        INSERT INTO processing_reports (
            email_id, correlation_id, status, attempt, decision, intent, extractor, degraded,
            overall_confidence, fields, missing_fields, match, actions, pipeline, errors)
        SELECT email_id, CAST(:correlation_id AS text), CAST(:report_status AS text),
               CAST(:attempt AS integer), CAST(:decision AS text), CAST(:intent AS text),
               CAST(:extractor AS text), CAST(:degraded AS boolean),
               CAST(:overall_confidence AS double precision), CAST(:fields AS jsonb),
               CAST(:missing_fields AS jsonb), CAST(:match AS jsonb), CAST(:actions AS jsonb),
               CAST(:pipeline AS jsonb), CAST(:errors AS jsonb)
          FROM done
        ON CONFLICT (email_id) DO NOTHING
        RETURNING id
    ), outbox AS (
        INSERT INTO notifications (dedup_key, email_id, correlation_id, kind, recipient,
                                   subject, body, status, attempts, created_at, next_attempt_at)
        SELECT n.dedup_key, done.email_id, CAST(:correlation_id AS text), n.kind, n.recipient,
               n.subject, n.body, 'pending', 0, now(),
               now() + make_interval(secs => CAST(:send_lease AS double precision))
          FROM done CROSS JOIN jsonb_to_recordset(CAST(:notifications AS jsonb))
               AS n(dedup_key text, kind text, recipient text, subject text, body text)
        ON CONFLICT (dedup_key) DO NOTHING
        RETURNING id, email_id, kind, recipient, subject, body, attempts, correlation_id,
                  dedup_key, next_attempt_at
    ), review AS (
        INSERT INTO review_items (email_id, correlation_id, reason, creditor, status,
                                  created_at, updated_at)
        SELECT email_id, CAST(:correlation_id AS text), CAST(:review_reason AS text),
               CAST(:review_creditor AS text), 'open', now(), now()
          FROM done
         WHERE CAST(:review_reason AS text) IS NOT NULL
        ON CONFLICT (email_id) DO NOTHING
        RETURNING id
    ), metric_rows AS (
        INSERT INTO operational_metrics (recorded_at, name, value, labels, email_id,
                                         correlation_id)
        SELECT m.recorded_at, m.name, m.value, COALESCE(m.labels, '{}'), m.email_id,
               m.correlation_id
          FROM done CROSS JOIN jsonb_to_recordset(CAST(:metrics AS jsonb))
               AS m(recorded_at timestamptz, name text, value double precision, labels jsonb,
                    email_id text, correlation_id text)
        RETURNING id
    )
    SELECT (SELECT email_id FROM done) AS ended,
           (SELECT status FROM emails WHERE email_id = :email_id) AS status_before,
           (SELECT count(*) FROM metric_rows) AS metric_rows,
           (SELECT CAST(COALESCE(jsonb_agg(to_jsonb(o) ORDER BY o.id), '[]') AS text)
              FROM outbox AS o) AS claimed
    """
)

# The metrics of a delivery that ends without a report (a transient failure), each row written
# only if it is not there yet. A finishing statement whose answer was lost (committed, then the
# connection dropped) raises like an outage, and the delivery's metrics — the very rows that
# statement wrote, plus its error — come here: the rows it wrote are recognised by their
# recording time, name, labels and email (ix_operational_metrics_name_recorded_at) and not
# written twice. One statement, in autocommit; only on the failure path.
_WRITE_METRICS_ONCE = text(
    """
    WITH m AS (
        SELECT m.recorded_at, m.name, m.value, COALESCE(m.labels, '{}') AS labels, m.email_id,
               m.correlation_id
          FROM jsonb_to_recordset(CAST(:metrics AS jsonb))
               AS m(recorded_at timestamptz, name text, value double precision, labels jsonb,
                    email_id text, correlation_id text)
    ), written AS (
        INSERT INTO operational_metrics (recorded_at, name, value, labels, email_id,
                                         correlation_id)
        SELECT m.recorded_at, m.name, m.value, m.labels, m.email_id, m.correlation_id
          FROM m
         WHERE NOT EXISTS (
               SELECT 1 FROM operational_metrics AS o
                WHERE o.name = m.name AND o.recorded_at = m.recorded_at
                  AND o.labels = m.labels AND o.email_id IS NOT DISTINCT FROM m.email_id)
        RETURNING id
    )
    SELECT count(*) FROM written
    """
)

_REPORT_JSON_COLUMNS = ("fields", "missing_fields", "match", "actions", "pipeline", "errors")

_INVALID_EMAIL = text(
    """
    INSERT INTO emails (email_id, correlation_id, provider, status, attempts, completed_at,
                        created_at, updated_at)
    VALUES (:email_id, :correlation_id, :provider, 'failed', 1, now(), now(), now())
    ON CONFLICT (email_id) DO UPDATE SET attempts = emails.attempts + 1, updated_at = now()
    RETURNING (xmax = 0) AS inserted
    """
)


_REVIEW_ITEM = text(
    """
    INSERT INTO review_items (email_id, correlation_id, reason, creditor, status, created_at,
                              updated_at)
    VALUES (:email_id, :correlation_id, :reason, :creditor, 'open', now(), now())
    ON CONFLICT (email_id) DO NOTHING
    """
)


def _insert_report(session: Session, report: Report) -> None:
    """The report and, for an email that needs a person, its review item."""
    from shared.db.models import ProcessingReport  # ORM models only on this fallback path

    statement = insert(ProcessingReport).values(**report.row())
    session.execute(statement.on_conflict_do_nothing(index_elements=["email_id"]))
    reason = report_review_reason(report)
    if reason is not None:
        session.execute(
            _REVIEW_ITEM,
            {
                "email_id": report.email_id,
                "correlation_id": report.correlation_id,
                "reason": reason,
                "creditor": report_creditor(report),
            },
        )


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _metric_json(row: dict[str, Any]) -> dict[str, Any]:
    recorded_at = row.get("recorded_at")
    return {
        **row,
        "recorded_at": recorded_at.isoformat() if recorded_at is not None else None,
    }


def _finish_parameters(
    report: Report,
    *,
    owner: str,
    status: str,
    notifications: Sequence[OutboxMessage],
    metric_rows: list[dict[str, Any]],
) -> dict[str, Any]:
    row = report.row()
    unique: dict[str, OutboxMessage] = {}
    for message in notifications:  # the first of each dedup key, in order
        unique.setdefault(message.dedup_key, message)
    params: dict[str, Any] = {
        "status": status,
        "email_id": report.email_id,
        "owner": owner,
        "correlation_id": row["correlation_id"],
        "report_status": row["status"],
        "attempt": row["attempt"],
        "decision": row["decision"],
        "intent": row["intent"],
        "extractor": row["extractor"],
        "degraded": bool(row["degraded"]),
        "overall_confidence": row["overall_confidence"],
        "notifications": _json(
            [
                {
                    "dedup_key": m.dedup_key,
                    "kind": m.kind,
                    "recipient": m.recipient,
                    "subject": m.subject,
                    "body": m.body,
                }
                for m in unique.values()
            ]
        ),
        "metrics": _json([_metric_json(r) for r in metric_rows]),
        "review_reason": report_review_reason(report),
        "review_creditor": report_creditor(report),
    }
    params.update({column: _json(row[column]) for column in _REPORT_JSON_COLUMNS})
    return params


def _not_finished(status: str | None) -> FinishResult:
    """Nothing was written: a duplicate when another delivery finished the email, otherwise
    this delivery's lease ended before it could finish (another one may be processing)."""
    if status in (Outcome.DONE, Outcome.FAILED):
        return Outcome.DUPLICATE
    raise LeaseHeldError("lease lost before finishing", stage="finish")


class PostgresProcessingStore:
    def __init__(self, *, lease_seconds: int, send_lease_seconds: float = 300.0) -> None:
        self._lease_seconds = lease_seconds
        # The outbox's send lease (``NOTIFICATION_SEND_LEASE_SECONDS``), set on the rows the
        # finishing statement inserts.
        self._send_lease_seconds = send_lease_seconds

    def claim(self, notice: EmailNotice, *, correlation_id: str, owner: str) -> Claim:
        with autocommit_or_unavailable() as conn:
            return claim_email(
                conn,
                notice,
                correlation_id=correlation_id,
                owner=owner,
                lease_seconds=self._lease_seconds,
            )

    def release(self, email_id: str, *, owner: str) -> None:
        with autocommit_or_unavailable() as conn:
            release_lease(conn, email_id=email_id, owner=owner)

    def renew(self, email_id: str, *, owner: str) -> bool:
        with autocommit_or_unavailable() as conn:
            return renew_lease(
                conn, email_id=email_id, owner=owner, lease_seconds=self._lease_seconds
            )

    def _end(
        self,
        report: Report,
        *,
        owner: str,
        status: str,
        notifications: Sequence[OutboxMessage],
        metrics: MetricsWriter,
        claimed: list[dict[str, Any]] | None = None,
    ) -> FinishResult:
        """The finishing statement; the transaction of separate statements if it fails (its
        outbox rows are not leased: the caller finds them with its own claim)."""
        metric_rows = metrics.pending()
        params = _finish_parameters(
            report,
            owner=owner,
            status=status,
            notifications=notifications,
            metric_rows=metric_rows,
        )
        params["send_lease"] = float(self._send_lease_seconds)
        try:
            with autocommit_or_unavailable() as conn:
                ended, status_before, written, leased = conn.execute(_FINISH_ALL, params).one()
        except DBAPIError as exc:  # outages were raised as DependencyUnavailable already
            log_event(
                logger,
                "finish_statement_failed",
                level=logging.WARNING,
                error_type=type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__,
                metric_rows=len(metric_rows),
            )
            return self._end_in_transaction(
                report, owner=owner, status=status, notifications=notifications, metrics=metrics
            )
        if ended is not None:
            metrics.mark_written(int(written))
            if claimed is not None:
                claimed.extend(json.loads(leased))
            return Outcome.DONE
        return _not_finished(status_before)

    def _end_in_transaction(
        self,
        report: Report,
        *,
        owner: str,
        status: str,
        notifications: Sequence[OutboxMessage],
        metrics: MetricsWriter,
    ) -> FinishResult:
        with transaction_or_unavailable() as session:
            ended = session.execute(
                _FINISH, {"status": status, "email_id": report.email_id, "owner": owner}
            ).scalar_one_or_none()
            if ended is not None:
                _insert_report(session, report)
                add_to_outbox(
                    session,
                    notifications,
                    email_id=report.email_id,
                    correlation_id=report.correlation_id,
                )
                metrics.write(session)
                return Outcome.DONE
            current = session.execute(
                text("SELECT status FROM emails WHERE email_id = :email_id"),
                {"email_id": report.email_id},
            ).scalar_one_or_none()
        return _not_finished(current)

    def finish(
        self,
        report: Report,
        *,
        owner: str,
        notifications: Sequence[OutboxMessage],
        metrics: MetricsWriter,
        claimed: list[dict[str, Any]] | None = None,
    ) -> FinishResult:
        return self._end(
            report,
            owner=owner,
            status=Outcome.DONE,
            notifications=notifications,
            metrics=metrics,
            claimed=claimed,
        )

    def fail(self, report: Report, *, owner: str, metrics: MetricsWriter) -> FinishResult:
        return self._end(
            report, owner=owner, status=Outcome.FAILED, notifications=(), metrics=metrics
        )

    def record_invalid(
        self, report: Report, *, provider: str | None, metrics: MetricsWriter
    ) -> FinishResult:
        """An undecodable message: a ``failed`` email row keyed on its poison key + report."""
        with transaction_or_unavailable() as session:
            inserted = session.execute(
                _INVALID_EMAIL,
                {
                    "email_id": report.email_id,
                    "correlation_id": report.correlation_id,
                    "provider": provider,
                },
            ).scalar_one()
            if not inserted:
                return Outcome.DUPLICATE
            _insert_report(session, report)
            metrics.write(session)
        return Outcome.DONE

    def write_metrics(self, metrics: MetricsWriter) -> None:
        """Metrics of a delivery that ends without a report (a transient failure); rows already
        written (by a finishing statement that committed but whose answer was lost) are not
        written again (:data:`_WRITE_METRICS_ONCE`)."""
        rows = metrics.pending()
        if not rows:
            return
        with autocommit_or_unavailable() as conn:
            conn.execute(_WRITE_METRICS_ONCE, {"metrics": _json([_metric_json(r) for r in rows])})
        metrics.mark_written(len(rows))
