"""Claim, finish, fail and invalid-message rows against the real Postgres."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from shared.db.engine import transaction
from shared.errors import LeaseHeldError
from shared.processing.notifications import OutboxMessage
from shared.processing.report import PipelineTrace, Report, failed_report
from shared.processing.store import PostgresProcessingStore
from tests.fakes import RecordingMetrics
from tests.processing_fakes import notice


def _email(email_id: str) -> dict[str, Any]:
    with transaction() as session:
        row = session.execute(
            text("SELECT * FROM emails WHERE email_id = :id"), {"id": email_id}
        ).mappings()
        return dict(row.one())


def _report(email_id: str, status: str = "done") -> Report:
    return Report(
        email_id=email_id,
        correlation_id="corr-store-0001",
        status=status,
        attempt=1,
        decision="UPDATE_AND_NOTIFY",
        intent="payment_promise",
        extractor="claude",
        fields={"amount": {"value": 12.5, "confidence": 0.9, "evidence": "12.50"}},
        match={"method": "case_number", "score": 1.0},
    )


def _message(email_id: str, kind: str = "debt_update") -> OutboxMessage:
    return OutboxMessage(kind, f"{email_id}:{kind}", "staff@localhost", "subject", "body\n")


def _lease_ends_in(email_id: str, seconds: float) -> None:
    with transaction() as session:
        session.execute(
            text(
                "UPDATE emails SET lease_expires_at = now() + make_interval(secs => :s) "
                "WHERE email_id = :id"
            ),
            {"id": email_id, "s": seconds},
        )


def test_claim_inserts_leases_counts_and_refuses_a_second_holder(stack_env: dict) -> None:
    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(f"em-claim-{uuid.uuid4().hex}")
    first = store.claim(n, correlation_id="corr-claim-0001", owner="owner-a")
    assert (first.status, first.attempts) == ("claimed", 1)
    row = _email(n.email_id)
    assert row["status"] == "processing" and row["lease_owner"] == "owner-a"
    assert row["gcs_uri"] == n.gcs_uri and row["provider"] == "raw"
    second = store.claim(n, correlation_id="corr-claim-0001", owner="owner-b")
    assert second.status == "held"
    store.release(n.email_id, owner="owner-b")  # not the holder: no effect
    assert _email(n.email_id)["lease_owner"] == "owner-a"
    store.release(n.email_id, owner="owner-a")
    third = store.claim(n, correlation_id="corr-claim-0001", owner="owner-b")
    assert (third.status, third.attempts) == ("claimed", 2)


def test_an_expired_lease_can_be_taken_over(stack_env: dict) -> None:
    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(f"em-claim-{uuid.uuid4().hex}")
    store.claim(n, correlation_id="corr-claim-0002", owner="crashed")
    _lease_ends_in(n.email_id, -1)
    taken = store.claim(n, correlation_id="corr-claim-0002", owner="survivor")
    assert (taken.status, taken.attempts) == ("claimed", 2)
    # the crashed holder can no longer finish
    with pytest.raises(LeaseHeldError):
        store.finish(
            _report(n.email_id), owner="crashed", notifications=[], metrics=RecordingMetrics()
        )


def test_only_the_holder_renews_its_lease_and_only_while_processing(stack_env: dict) -> None:
    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(f"em-claim-{uuid.uuid4().hex}")
    store.claim(n, correlation_id="corr-claim-0004", owner="slow")
    _lease_ends_in(n.email_id, 5)  # most of the lease gone
    assert store.renew(n.email_id, owner="someone-else") is False
    assert store.renew(n.email_id, owner="slow") is True
    with transaction() as session:
        left = session.execute(
            text("SELECT lease_expires_at - now() FROM emails WHERE email_id = :id"),
            {"id": n.email_id},
        ).scalar_one()
    assert left.total_seconds() > 55  # a whole lease again
    # taken over after expiry: the old holder's renewal fails
    _lease_ends_in(n.email_id, -1)
    assert store.claim(n, correlation_id="corr-claim-0004", owner="redelivery").status == (
        "claimed"
    )
    assert store.renew(n.email_id, owner="slow") is False
    store.finish(
        _report(n.email_id), owner="redelivery", notifications=[], metrics=RecordingMetrics()
    )
    assert store.renew(n.email_id, owner="redelivery") is False  # done: nothing to keep


def test_twenty_concurrent_claims_give_exactly_one_lease(stack_env: dict) -> None:
    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(f"em-claim-{uuid.uuid4().hex}")
    results: list[str] = []
    barrier = threading.Barrier(20)

    def claim(i: int) -> None:
        barrier.wait()
        results.append(store.claim(n, correlation_id="corr-claim-0003", owner=f"o{i}").status)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count("claimed") == 1
    assert results.count("held") == 19


def test_finish_writes_report_outbox_metrics_and_done_in_one_transaction(stack_env: dict) -> None:
    from shared.metrics.collector import MetricsCollector

    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(f"em-finish-{uuid.uuid4().hex}")
    store.claim(n, correlation_id="corr-finish-001", owner="me")
    metrics = MetricsCollector(email_id=n.email_id, correlation_id="corr-finish-001")
    metrics.record("decision", 1, decision="UPDATE_AND_NOTIFY")
    messages = [_message(n.email_id), _message(n.email_id)]  # same dedup key twice
    assert (
        store.finish(_report(n.email_id), owner="me", notifications=messages, metrics=metrics)
        == "done"
    )
    row = _email(n.email_id)
    assert row["status"] == "done" and row["lease_owner"] is None and row["completed_at"]
    with transaction() as session:
        report = session.execute(
            text("SELECT status, decision, fields FROM processing_reports WHERE email_id = :id"),
            {"id": n.email_id},
        ).one()
        outbox = session.execute(
            text("SELECT dedup_key, status FROM notifications WHERE email_id = :id"),
            {"id": n.email_id},
        ).all()
        metric_rows = session.execute(
            text("SELECT name FROM operational_metrics WHERE email_id = :id"), {"id": n.email_id}
        ).all()
    assert report.status == "done" and report.fields["amount"]["value"] == 12.5
    assert outbox == [(f"{n.email_id}:debt_update", "pending")]
    assert [m.name for m in metric_rows] == ["decision"]
    # a late second finisher is told it is a duplicate and writes nothing
    assert (
        store.finish(_report(n.email_id), owner="me", notifications=[], metrics=metrics)
        == "duplicate"
    )
    assert store.claim(n, correlation_id="corr-finish-001", owner="x").status == "done"


def test_failed_email_and_invalid_message_rows(stack_env: dict) -> None:
    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(f"em-fail-{uuid.uuid4().hex}")
    store.claim(n, correlation_id="corr-fail-0001", owner="me")
    report = failed_report(
        email_id=n.email_id,
        correlation_id="corr-fail-0001",
        stage="read",
        error_type="MissingObject",
        message="raw email object not found",
        trace=PipelineTrace(attempt=1),
    )
    assert store.fail(report, owner="me", metrics=RecordingMetrics()) == "done"
    assert _email(n.email_id)["status"] == "failed"
    assert store.claim(n, correlation_id="corr-fail-0001", owner="x").status == "failed"

    key = f"invalid-{uuid.uuid4().hex}"
    bad = failed_report(
        email_id=key,
        correlation_id="corr-fail-0002",
        stage="envelope",
        error_type="InvalidEnvelope",
        message="the message data is not JSON",
        trace=PipelineTrace(attempt=1),
    )
    assert store.record_invalid(bad, provider=None, metrics=RecordingMetrics()) == "done"
    assert store.record_invalid(bad, provider=None, metrics=RecordingMetrics()) == "duplicate"
    row = _email(key)
    assert (row["status"], row["attempts"]) == ("failed", 2)
    with transaction() as session:
        count = session.execute(
            text("SELECT count(*) FROM processing_reports WHERE email_id = :id"), {"id": key}
        ).scalar_one()
    assert count == 1


def test_claim_timing_is_short(stack_env: dict) -> None:
    store = PostgresProcessingStore(lease_seconds=60)
    store.claim(notice(), correlation_id="corr-warm-0001", owner="warm")  # warm the pool
    started = time.perf_counter()
    for _ in range(20):
        store.claim(notice(), correlation_id="corr-time-0001", owner="t")
    assert (time.perf_counter() - started) / 20 < 0.1


def test_unreachable_postgres_is_a_transient_error(stack_env: dict) -> None:
    import os

    from shared.config import reset_settings_cache
    from shared.db.engine import dispose_engine
    from shared.errors import DependencyUnavailable

    os.environ["DATABASE_URL"] = "postgresql+pg8000://postgres@127.0.0.1:1/emails"
    os.environ["DB_POOL_TIMEOUT_SECONDS"] = "2"
    reset_settings_cache()
    dispose_engine()
    with pytest.raises(DependencyUnavailable) as caught:
        PostgresProcessingStore(lease_seconds=60).claim(
            notice(), correlation_id="corr-down-0001", owner="me"
        )
    assert caught.value.dependency == "postgres"
