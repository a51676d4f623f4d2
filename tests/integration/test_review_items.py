"""Review items are written by the processor's finishing transaction, with the report."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.db.engine import transaction
from shared.metrics.collector import MetricsCollector
from shared.processing.report import PipelineTrace, Report, failed_report
from shared.processing.store import PostgresProcessingStore
from tests.fakes import RecordingMetrics
from tests.processing_fakes import notice


def _report(email_id: str, decision: str, reasons: list[str], kind: str | None) -> Report:
    actions: list[Any] = []
    if kind:
        actions.append({"type": "notification", "kind": kind, "dedup_key": f"{email_id}:{kind}"})
    actions.append({"type": "decision_reasons", "reasons": reasons})
    return Report(
        email_id=email_id,
        correlation_id="corr-review-001",
        status="done",
        attempt=1,
        decision=decision,
        intent="payment_confirmation",
        extractor="claude",
        fields={"creditor_name": {"value": "Acme Bank", "confidence": 0.9, "evidence": "Acme"}},
        actions=actions,
    )


def _items(email_id: str) -> list[dict[str, Any]]:
    with transaction() as session:
        rows = session.execute(
            text("SELECT reason, status, creditor FROM review_items WHERE email_id = :id"),
            {"id": email_id},
        ).mappings()
        return [dict(r) for r in rows]


def _finish(report: Report, metrics: Any = None) -> str:
    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(report.email_id)
    store.claim(n, correlation_id=report.correlation_id, owner="me")
    return store.finish(report, owner="me", notifications=[], metrics=metrics or RecordingMetrics())


def test_a_manual_review_gets_one_open_item_with_the_report(stack_env: dict) -> None:
    email_id = f"em-review-{uuid.uuid4().hex}"
    report = _report(email_id, "MANUAL_REVIEW", ["no_account_match"], "review_request")
    assert _finish(report) == "done"
    assert _items(email_id) == [{"reason": "no_match", "status": "open", "creditor": "Acme Bank"}]


def test_an_automatic_update_gets_no_item(stack_env: dict) -> None:
    email_id = f"em-review-{uuid.uuid4().hex}"
    assert _finish(_report(email_id, "AUTO_UPDATE", [], None)) == "done"
    assert _items(email_id) == []


def test_a_failed_email_gets_a_failed_item(stack_env: dict) -> None:
    store = PostgresProcessingStore(lease_seconds=60)
    email_id = f"em-review-{uuid.uuid4().hex}"
    store.claim(notice(email_id), correlation_id="corr-review-002", owner="me")
    report = failed_report(
        email_id=email_id,
        correlation_id="corr-review-002",
        stage="parse",
        error_type="UnreadableEmail",
        message="bad MIME",
        trace=PipelineTrace(attempt=1),
    )
    assert store.fail(report, owner="me", metrics=RecordingMetrics()) == "done"
    assert [i["reason"] for i in _items(email_id)] == ["failed"]


class _RefusedInTheStatement:
    """Metrics the single statement cannot insert: the email ends by the fallback transaction."""

    def __init__(self, collector: MetricsCollector) -> None:
        self.collector = collector

    def pending(self) -> list[dict[str, Any]]:
        rows = self.collector.pending()
        rows[0]["name"] = "x" * 100
        return rows

    def mark_written(self, rows: int) -> None:
        self.collector.mark_written(rows)

    def write(self, session: Any) -> bool:
        return self.collector.write(session)


def test_the_fallback_transaction_writes_the_item_too(
    stack_env: dict, caplog: pytest.LogCaptureFixture
) -> None:
    email_id = f"em-review-{uuid.uuid4().hex}"
    collector = MetricsCollector(email_id=email_id, correlation_id="corr-review-003")
    collector.record("decision", 1, decision="MANUAL_REVIEW")
    report = _report(email_id, "UPDATE_AND_NOTIFY", ["compliance:dispute"], "compliance_alert")
    with caplog.at_level(logging.WARNING):
        assert _finish(report, _RefusedInTheStatement(collector)) == "done"
    assert "finish_statement_failed" in caplog.text
    assert [i["reason"] for i in _items(email_id)] == ["compliance"]


def test_a_lost_lease_writes_no_item(stack_env: dict) -> None:
    store = PostgresProcessingStore(lease_seconds=60)
    email_id = f"em-review-{uuid.uuid4().hex}"
    store.claim(notice(email_id), correlation_id="corr-review-004", owner="holder")
    report = _report(email_id, "MANUAL_REVIEW", ["no_account_match"], "review_request")
    with pytest.raises(Exception, match="lease"):
        store.finish(report, owner="someone-else", notifications=[], metrics=RecordingMetrics())
    assert _items(email_id) == []


def test_the_audit_trail_is_append_only(stack_env: dict) -> None:
    email_id = f"em-review-{uuid.uuid4().hex}"
    _finish(_report(email_id, "MANUAL_REVIEW", ["ambiguous_match"], "review_request"))
    with transaction() as session:
        item_id = session.execute(
            text("SELECT id FROM review_items WHERE email_id = :id"), {"id": email_id}
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO review_audit (item_id, email_id, actor, role, action) "
                "VALUES (:item, :email, 'a@example.com', 'reviewer', 'claim')"
            ),
            {"item": item_id, "email": email_id},
        )
    for statement in ("UPDATE review_audit SET actor = 'x'", "DELETE FROM review_audit"):
        with pytest.raises(DBAPIError, match="append-only"), transaction() as session:
            session.execute(text(statement + " WHERE item_id = :item"), {"item": item_id})
