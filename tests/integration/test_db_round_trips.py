"""What the processor's database work costs in round trips, against the real Postgres.

Round trips are counted at the driver (``infra.bench.dbcount``, the B1/B2 benchmarks' counter):
every SQL-level exchange pg8000 makes, including ``BEGIN``, ``COMMIT`` and pings. The figures
are a steady state's: the one exchange that prepares a statement on a pooled connection, the
first time that connection runs it (``shared.db.prepared``), is left out.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import Engine, text

from infra.bench.dbcount import count_database
from infra.fakes.clients import Mailbox
from shared.breakers.breaker import SharedBreaker
from shared.breakers.store import PostgresBreakerStore
from shared.config import load_settings
from shared.db.engine import autocommit, create_db_engine, get_engine, transaction
from shared.mail import SmtpMailer
from shared.metrics.collector import MetricsCollector
from shared.processing.notifications import OutboxMessage
from shared.processing.outbox import PostgresOutbox
from shared.processing.report import Report
from shared.processing.store import PostgresProcessingStore
from tests.processing_fakes import notice


def _round_trips(engine: Engine, work: Any) -> tuple[int, dict[str, int]]:
    with count_database(engine) as counts:
        work()
        return counts.round_trips - counts.prepares, dict(counts.kinds)


def _report(email_id: str) -> Report:
    return Report(
        email_id=email_id,
        correlation_id="corr-rt-000001",
        status="done",
        attempt=1,
        decision="UPDATE_AND_NOTIFY",
        intent="payment_plan_request",
        extractor="claude",
        overall_confidence=0.91,
        fields={"amount": {"value": 50.0, "confidence": 0.9, "evidence": "50 EUR"}},
        missing_fields=["payment_date"],
        match={"method": "case_number", "score": 1.0},
        actions=[{"type": "notification", "kind": "debt_update"}],
        pipeline={"stage_seconds": {"read": 0.01}},
    )


def _message(email_id: str, kind: str) -> OutboxMessage:
    return OutboxMessage(kind, f"{email_id}:{kind}", "staff@localhost", f"[{kind}]", "body\n")


def _counts(email_id: str) -> dict[str, int]:
    with transaction() as session:
        row = session.execute(
            text(
                "SELECT (SELECT count(*) FROM processing_reports WHERE email_id = :id),"
                " (SELECT count(*) FROM notifications WHERE email_id = :id),"
                " (SELECT count(*) FROM operational_metrics WHERE email_id = :id)"
            ),
            {"id": email_id},
        ).one()
    return {"reports": row[0], "notifications": row[1], "metrics": row[2]}


def _scalar(sql: str, **params: Any) -> Any:
    with transaction() as session:
        return session.execute(text(sql), params).scalar_one()


def test_autocommit_is_one_round_trip_commits_and_leaves_the_pool_transactional(
    stack_env: dict[str, str],
) -> None:
    engine = get_engine()
    with autocommit() as conn:  # warm: a pooled connection exists
        conn.execute(text("SELECT 1"))
    email_id = f"em-rt-{uuid.uuid4().hex}"

    def insert() -> None:
        with autocommit() as conn:
            conn.execute(
                text("INSERT INTO emails (email_id, correlation_id) VALUES (:id, 'corr-rt-1')"),
                {"id": email_id},
            )

    trips, kinds = _round_trips(engine, insert)
    assert (trips, kinds) == (1, {"insert": 1})
    assert _scalar("SELECT count(*) FROM emails WHERE email_id = :id", id=email_id) == 1
    # The same pooled connections are transactional again: a failed block rolls back.
    with pytest.raises(RuntimeError), transaction() as session:
        session.execute(text("DELETE FROM emails WHERE email_id = :id"), {"id": email_id})
        raise RuntimeError("roll it back")
    assert _scalar("SELECT count(*) FROM emails WHERE email_id = :id", id=email_id) == 1
    with transaction() as session:
        session.execute(text("DELETE FROM emails WHERE email_id = :id"), {"id": email_id})


def test_a_busy_connection_is_not_pinged_an_idle_dead_one_is_replaced(
    stack_env: dict[str, str],
) -> None:
    settings = load_settings({**os.environ, "DB_PING_IDLE_SECONDS": "0.3", "DB_POOL_SIZE": "1"})
    engine = create_db_engine(settings)
    try:
        with engine.connect() as conn:
            first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        trips, kinds = _round_trips(engine, lambda: _select_one(engine))
        assert (trips, kinds) == (1, {"select": 1})  # used a moment ago: no ping
        time.sleep(0.4)
        trips, kinds = _round_trips(engine, lambda: _select_one(engine))
        assert kinds == {"select": 2}  # idle for longer: one ping, then the statement
        with transaction() as session:  # the connection dies while idle in the pool
            session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
        time.sleep(0.4)
        with engine.connect() as conn:  # the ping fails, the pool connects afresh
            second_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second_pid != first_pid
    finally:
        engine.dispose()


def _select_one(engine: Engine) -> None:
    with autocommit(engine) as conn:
        conn.execute(text("SELECT 1"))


class _RefusedInTheStatement:
    """Metrics whose rows the finishing statement cannot insert (a name too long for the
    column); the fallback transaction writes the collector's real rows."""

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


def test_claim_and_finish_are_one_round_trip_each(stack_env: dict[str, str]) -> None:
    engine = get_engine()
    store = PostgresProcessingStore(lease_seconds=60, send_lease_seconds=60)
    n = notice(f"em-rt-{uuid.uuid4().hex}")
    store.claim(notice(), correlation_id="corr-rt-000001", owner="warm")  # pool warm
    claims: list[Any] = []
    trips, _ = _round_trips(
        engine,
        lambda: claims.append(store.claim(n, correlation_id="corr-rt-000001", owner="me")),
    )
    assert trips == 1 and claims[0].status == "claimed"
    metrics = MetricsCollector(email_id=n.email_id, correlation_id="corr-rt-000001")
    for stage in ("read", "parse", "extract", "match", "apply", "total"):
        metrics.record("processing_seconds", 0.01, stage=stage)
    messages = [_message(n.email_id, "debt_update"), _message(n.email_id, "review_request")]
    results: list[str] = []
    claimed: list[dict[str, Any]] = []
    trips, kinds = _round_trips(
        engine,
        lambda: results.append(
            store.finish(
                _report(n.email_id),
                owner="me",
                notifications=messages,
                metrics=metrics,
                claimed=claimed,
            )
        ),
    )
    assert (trips, kinds, results) == (1, {"with": 1}, ["done"])
    # the rows come back leased to this delivery, with what mailing them needs
    assert [(r["kind"], r["email_id"], r["attempts"]) for r in claimed] == [
        ("debt_update", n.email_id, 0),
        ("review_request", n.email_id, 0),
    ]
    assert claimed[0]["subject"] == "[debt_update]" and claimed[0]["body"] == "body\n"
    assert metrics.pending() == []  # the rows went with the statement
    assert (
        _scalar("SELECT count(*) FROM operational_metrics WHERE email_id = :id", id=n.email_id) == 6
    )
    with transaction() as session:
        report = session.execute(
            text(
                "SELECT status, decision, overall_confidence, fields, missing_fields, pipeline, "
                "degraded FROM processing_reports WHERE email_id = :id"
            ),
            {"id": n.email_id},
        ).one()
        outbox = session.execute(
            text(
                "SELECT kind, status, correlation_id, "
                "next_attempt_at > now() + interval '50 seconds' "
                "FROM notifications WHERE email_id = :id ORDER BY id"
            ),
            {"id": n.email_id},
        ).all()
    assert report.status == "done" and report.decision == "UPDATE_AND_NOTIFY"
    assert report.overall_confidence == pytest.approx(0.91) and report.degraded is False
    assert report.fields["amount"] == {"value": 50.0, "confidence": 0.9, "evidence": "50 EUR"}
    assert report.missing_fields == ["payment_date"]
    assert report.pipeline == {"stage_seconds": {"read": 0.01}}
    assert [tuple(row) for row in outbox] == [
        ("debt_update", "pending", "corr-rt-000001", True),  # leased (send lease 60 s)
        ("review_request", "pending", "corr-rt-000001", True),
    ]
    # a duplicate delivery learns it in one round trip as well
    trips, _ = _round_trips(
        engine,
        lambda: claims.append(store.claim(n, correlation_id="corr-rt-000001", owner="late")),
    )
    assert trips == 1 and claims[-1].status == "done"


def test_a_refused_finishing_statement_falls_back_to_the_transaction(
    stack_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(f"em-rt-{uuid.uuid4().hex}")
    store.claim(n, correlation_id="corr-rt-000002", owner="me")
    collector = MetricsCollector(email_id=n.email_id, correlation_id="corr-rt-000002")
    collector.record("decision", 1, decision="UPDATE_AND_NOTIFY")
    messages = [_message(n.email_id, "debt_update")]
    with caplog.at_level(logging.WARNING):
        result = store.finish(
            _report(n.email_id),
            owner="me",
            notifications=messages,
            metrics=_RefusedInTheStatement(collector),
        )
    assert result == "done"
    assert "finish_statement_failed" in caplog.text
    assert _scalar("SELECT status FROM emails WHERE email_id = :id", id=n.email_id) == "done"
    counts = _counts(n.email_id)
    assert counts == {"reports": 1, "notifications": 1, "metrics": 1}, counts
    assert collector.pending() == []


def test_rows_the_finish_leased_are_mailed_and_recorded_in_one_statement(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    engine = get_engine()
    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(f"em-rt-{uuid.uuid4().hex}")
    store.claim(n, correlation_id="corr-rt-000004", owner="me")
    messages = [_message(n.email_id, "debt_update"), _message(n.email_id, "review_request")]
    claimed: list[dict[str, Any]] = []
    store.finish(
        _report(n.email_id),
        owner="me",
        notifications=messages,
        metrics=MetricsCollector(),
        claimed=claimed,
    )
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=0)
    # a redelivery of the email (or a sweep) meanwhile finds them leased, not due
    assert outbox.send_pending(SmtpMailer(), email_id=n.email_id).sent == 0
    summaries: list[Any] = []
    trips, kinds = _round_trips(
        engine, lambda: summaries.append(outbox.send_claimed(SmtpMailer(), claimed))
    )
    assert summaries[0].sent == 2
    assert (trips, kinds) == (1, {"update": 1})  # "sent" only: the finish was the claim
    mine = [m for m in mailbox.wait_for(2) if m["X-Inbound-Email-Id"] == n.email_id]
    assert sorted(m["Subject"] for m in mine) == ["[debt_update]", "[review_request]"]
    statuses = _scalar(
        "SELECT array_agg(status ORDER BY id) FROM notifications WHERE email_id = :id",
        id=n.email_id,
    )
    assert statuses == ["sent", "sent"]


def test_rows_of_a_delivery_that_died_after_its_finish_are_sent_once_its_lease_ends(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    store = PostgresProcessingStore(lease_seconds=60, send_lease_seconds=1)
    n = notice(f"em-rt-{uuid.uuid4().hex}")
    store.claim(n, correlation_id="corr-rt-000005", owner="me")
    claimed: list[dict[str, Any]] = []
    store.finish(
        _report(n.email_id),
        owner="me",
        notifications=[_message(n.email_id, "debt_update")],
        metrics=MetricsCollector(),
        claimed=claimed,
    )
    assert len(claimed) == 1  # ... and the process dies here, before mailing them
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=3600)
    assert outbox.send_pending(SmtpMailer(), email_id=n.email_id).sent == 0  # still leased
    time.sleep(1.5)
    assert outbox.send_pending(SmtpMailer()).sent >= 1  # the sweep: due again
    mine = [m for m in mailbox.wait_for(1) if m["X-Inbound-Email-Id"] == n.email_id]
    assert [m["Subject"] for m in mine] == ["[debt_update]"]
    assert outbox.send_pending(SmtpMailer(), email_id=n.email_id).sent == 0  # never twice


def test_an_emails_notifications_are_claimed_and_recorded_in_two_statements(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    engine = get_engine()
    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(f"em-rt-{uuid.uuid4().hex}")
    store.claim(n, correlation_id="corr-rt-000003", owner="me")
    messages = [_message(n.email_id, "debt_update"), _message(n.email_id, "review_request")]
    store.finish(
        _report(n.email_id), owner="me", notifications=messages, metrics=MetricsCollector()
    )
    # as after a sender died holding them: their lease is over, they are due
    with autocommit() as conn:
        conn.execute(
            text(
                "UPDATE notifications SET next_attempt_at = now() - interval '1 second' "
                "WHERE email_id = :id"
            ),
            {"id": n.email_id},
        )
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    summaries: list[Any] = []
    trips, kinds = _round_trips(
        engine,
        lambda: summaries.append(outbox.send_pending(SmtpMailer(), email_id=n.email_id)),
    )
    assert summaries[0].sent == 2
    assert (trips, kinds) == (2, {"update": 2})  # the claim (a lease), then "sent"
    mine = [m for m in mailbox.wait_for(2) if m["X-Inbound-Email-Id"] == n.email_id]
    assert sorted(m["Subject"] for m in mine) == ["[debt_update]", "[review_request]"]
    assert outbox.send_pending(SmtpMailer(), email_id=n.email_id).sent == 0  # never twice


def test_a_breaker_state_read_is_one_round_trip(stack_env: dict[str, str]) -> None:
    engine = get_engine()
    breaker = SharedBreaker(
        f"claude-{uuid.uuid4().hex[:8]}", store=PostgresBreakerStore(), cache_seconds=0
    )
    breaker.call(lambda: None)  # creates the row
    trips, kinds = _round_trips(engine, lambda: breaker.call(lambda: None))
    assert (trips, kinds) == (1, {"select": 1})
