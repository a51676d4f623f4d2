"""The collector writes into the caller's transaction, and its failure never fails it."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import delete, select, text

from shared.db.engine import transaction
from shared.db.models import Email, OperationalMetric
from shared.metrics.collector import MetricsCollector, record_breaker_transition


def _rows_for(email_id: str) -> list[OperationalMetric]:
    with transaction() as session:
        return list(
            session.scalars(select(OperationalMetric).where(OperationalMetric.email_id == email_id))
        )


def test_write_is_one_insert_in_the_callers_transaction(stack_env: dict[str, str]) -> None:
    email_id = f"metrics-{uuid.uuid4().hex}"
    collector = MetricsCollector(email_id=email_id, correlation_id="cid-metrics-1")
    collector.record("processing_seconds", 0.5, stage="total")
    collector.record("decision", 1, decision="MANUAL_REVIEW")
    statements: list[str] = []
    with transaction() as session:
        from sqlalchemy import event

        connection = session.connection()

        @event.listens_for(connection, "before_cursor_execute")
        def _seen(*args: object) -> None:
            statements.append(str(args[2]))

        assert collector.write(session)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
    rows = _rows_for(email_id)
    assert sorted(r.name for r in rows) == ["decision", "processing_seconds"]
    assert {r.correlation_id for r in rows} == {"cid-metrics-1"}
    # A second write has nothing new to insert.
    with transaction() as session:
        assert collector.write(session)
    assert len(_rows_for(email_id)) == 2
    with transaction() as session:
        session.execute(delete(OperationalMetric).where(OperationalMetric.email_id == email_id))


def test_rolled_back_caller_takes_the_metrics_with_it(stack_env: dict[str, str]) -> None:
    email_id = f"metrics-{uuid.uuid4().hex}"
    collector = MetricsCollector(email_id=email_id)
    collector.record("delivery_attempt", 1)
    with pytest.raises(RuntimeError), transaction() as session:
        collector.write(session)
        raise RuntimeError("report failed")
    assert _rows_for(email_id) == []


def test_failing_metric_write_does_not_fail_the_callers_transaction(
    stack_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    email_id = f"metrics-{uuid.uuid4().hex}"
    collector = MetricsCollector(email_id=email_id, correlation_id="cid-metrics-2")
    collector.record("delivery_attempt", 1)
    with caplog.at_level(logging.WARNING), transaction() as session:
        session.add(Email(email_id=email_id, correlation_id="cid-metrics-2", status="done"))
        session.flush()
        # A temp table shadows the real one in this session only: the INSERT fails on its
        # columns, as any database error inside the metric write would.
        session.execute(text("CREATE TEMP TABLE operational_metrics (id int) ON COMMIT DROP"))
        assert collector.write(session) is False
        assert session.scalar(select(Email.status).where(Email.email_id == email_id)) == "done"
    assert "metrics_write_failed" in caplog.text
    with transaction() as session:
        assert session.get(Email, email_id) is not None
        session.execute(delete(Email).where(Email.email_id == email_id))


def test_breaker_transition_is_written_in_its_own_transaction(stack_env: dict[str, str]) -> None:
    breaker = f"test_{uuid.uuid4().hex[:12]}"
    record_breaker_transition(breaker, "closed", "open")
    record_breaker_transition(breaker, "closed", "nonsense")  # rejected, never raises
    with transaction() as session:
        rows = list(
            session.scalars(
                select(OperationalMetric).where(
                    OperationalMetric.labels["breaker"].astext == breaker
                )
            )
        )
        assert [(r.name, r.value, r.labels) for r in rows] == [
            ("breaker_transition", 1.0, {"breaker": breaker, "from": "closed", "to": "open"})
        ]
        session.execute(delete(OperationalMetric).where(OperationalMetric.id == rows[0].id))
