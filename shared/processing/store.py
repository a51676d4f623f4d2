"""The processing database (Postgres) as the pipeline sees it: claim, release, finish, fail.

:meth:`PostgresProcessingStore.finish` is the one transaction that ends an email: the
``emails`` row goes ``processing → done`` only while this delivery still holds the lease
(``WHERE lease_owner = :owner``), and in the same transaction the report, the metrics and the
outbox rows are written. A delivery that lost its lease (it ran past the lease and another
delivery took over) writes nothing: if the other one finished, it is a duplicate; if not,
:class:`~shared.errors.LeaseHeldError` makes Pub/Sub redeliver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.db.models import ProcessingReport
from shared.errors import LeaseHeldError
from shared.processing.claim import Claim, claim_email, release_lease
from shared.processing.db import transaction
from shared.processing.envelope import EmailNotice
from shared.processing.notifications import OutboxMessage
from shared.processing.outbox import add_to_outbox
from shared.processing.report import Report

FinishResult = Literal["done", "duplicate"]


class MetricsWriter(Protocol):
    def write(self, session: Any) -> bool: ...


class ProcessingStore(Protocol):
    def claim(self, notice: EmailNotice, *, correlation_id: str, owner: str) -> Claim: ...

    def release(self, email_id: str, *, owner: str) -> None: ...

    def finish(
        self,
        report: Report,
        *,
        owner: str,
        notifications: Sequence[OutboxMessage],
        metrics: MetricsWriter,
    ) -> FinishResult: ...

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

_INVALID_EMAIL = text(
    """
    INSERT INTO emails (email_id, correlation_id, provider, status, attempts, completed_at,
                        created_at, updated_at)
    VALUES (:email_id, :correlation_id, :provider, 'failed', 1, now(), now(), now())
    ON CONFLICT (email_id) DO UPDATE SET attempts = emails.attempts + 1, updated_at = now()
    RETURNING (xmax = 0) AS inserted
    """
)


def _insert_report(session: Session, report: Report) -> None:
    statement = insert(ProcessingReport).values(**report.row())
    session.execute(statement.on_conflict_do_nothing(index_elements=["email_id"]))


class PostgresProcessingStore:
    def __init__(self, *, lease_seconds: int) -> None:
        self._lease_seconds = lease_seconds

    def claim(self, notice: EmailNotice, *, correlation_id: str, owner: str) -> Claim:
        with transaction() as session:
            return claim_email(
                session,
                notice,
                correlation_id=correlation_id,
                owner=owner,
                lease_seconds=self._lease_seconds,
            )

    def release(self, email_id: str, *, owner: str) -> None:
        with transaction() as session:
            release_lease(session, email_id=email_id, owner=owner)

    def _end(
        self,
        report: Report,
        *,
        owner: str,
        status: str,
        notifications: Sequence[OutboxMessage],
        metrics: MetricsWriter,
    ) -> FinishResult:
        with transaction() as session:
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
                return "done"
            current = session.execute(
                text("SELECT status FROM emails WHERE email_id = :email_id"),
                {"email_id": report.email_id},
            ).scalar_one_or_none()
        if current in ("done", "failed"):
            return "duplicate"
        raise LeaseHeldError("lease lost before finishing", stage="finish")

    def finish(
        self,
        report: Report,
        *,
        owner: str,
        notifications: Sequence[OutboxMessage],
        metrics: MetricsWriter,
    ) -> FinishResult:
        return self._end(
            report, owner=owner, status="done", notifications=notifications, metrics=metrics
        )

    def fail(self, report: Report, *, owner: str, metrics: MetricsWriter) -> FinishResult:
        return self._end(report, owner=owner, status="failed", notifications=(), metrics=metrics)

    def record_invalid(
        self, report: Report, *, provider: str | None, metrics: MetricsWriter
    ) -> FinishResult:
        """An undecodable message: a ``failed`` email row keyed on its poison key + report."""
        with transaction() as session:
            inserted = session.execute(
                _INVALID_EMAIL,
                {
                    "email_id": report.email_id,
                    "correlation_id": report.correlation_id,
                    "provider": provider,
                },
            ).scalar_one()
            if not inserted:
                return "duplicate"
            _insert_report(session, report)
            metrics.write(session)
        return "done"

    def write_metrics(self, metrics: MetricsWriter) -> None:
        """Metrics of a delivery that ends without a report (a transient failure)."""
        with transaction() as session:
            metrics.write(session)
