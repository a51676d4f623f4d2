"""The ops commands against the running local stack, in-process through ``main(argv)``."""

from __future__ import annotations

import io
import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert

from infra.stack import PROJECT, LocalStack
from shared.db.engine import transaction
from shared.db.models import (
    Email,
    MetricsRollupDay,
    OperationalMetric,
    OperationalMetricDaily,
    ProcessingReport,
)
from shared.ops.cli import main
from shared.reports import MAX_LIMIT, daily_counts, low_confidence_reports

SECRET_VALUE = "Margarethe Oberholzer"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture
def env_file(stack: LocalStack, stack_env: dict[str, str], tmp_path: Path) -> Path:
    path = tmp_path / "stack.env"
    stack.write_env_file(path)
    return path


@pytest.fixture
def seeded(stack_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Three reports of one correlation id family, unique to this test."""
    tag = uuid.uuid4().hex[:10]
    cid = f"cid-ops-{tag}"
    now = datetime.now(UTC)
    specs = [
        (
            "auto",
            "done",
            "AUTO_UPDATE",
            "payment_confirmation",
            0.95,
            {"amount": {"value": SECRET_VALUE, "confidence": 0.97}},
        ),
        (
            "low",
            "done",
            "MANUAL_REVIEW",
            "dispute",
            0.7,
            {"amount": {"value": "x", "confidence": 0.3}, "account_ref": {"confidence": 0.9}},
        ),
        ("fail", "failed", None, None, None, {}),
    ]
    ids = {}
    with transaction() as session:
        for suffix, status, decision, intent, confidence, fields in specs:
            email_id = f"ops-{tag}-{suffix}"
            ids[suffix] = email_id
            session.add(Email(email_id=email_id, correlation_id=cid, status=status))
            session.flush()
            session.add(
                ProcessingReport(
                    email_id=email_id,
                    correlation_id=cid,
                    status=status,
                    decision=decision,
                    intent=intent,
                    overall_confidence=confidence,
                    fields=fields,
                    pipeline={"model": "claude-sonnet-5-5", "stages": {"extract": 0.4}},
                    errors=[{"stage": "load", "error_type": "MissingObject"}]
                    if status == "failed"
                    else [],
                    created_at=now - timedelta(minutes=5),
                )
            )
    yield {"cid": cid, "ids": ids, "tag": tag}
    with transaction() as session:
        session.execute(delete(ProcessingReport).where(ProcessingReport.correlation_id == cid))
        session.execute(delete(Email).where(Email.correlation_id == cid))


def test_report_hides_values_unless_asked(seeded: dict[str, Any], env_file: Path) -> None:
    code, text = run("--env-file", str(env_file), "report", seeded["ids"]["auto"])
    assert code == 0
    assert seeded["ids"]["auto"] in text and "AUTO_UPDATE" in text and "amount" in text
    assert "0.97" in text
    assert SECRET_VALUE not in text
    code, text = run("report", seeded["ids"]["auto"], "--show-values")
    assert SECRET_VALUE in text
    code, text = run("report", "ops-no-such-email")
    assert code == 1


def test_reports_filters(seeded: dict[str, Any]) -> None:
    ids = seeded["ids"]
    _, text = run(
        "reports", "--since", "1h", "--limit", str(MAX_LIMIT), "--decision", "MANUAL_REVIEW"
    )
    assert ids["low"] in text and ids["auto"] not in text
    _, text = run("reports", "--since", "1h", "--limit", str(MAX_LIMIT), "--failed")
    assert ids["fail"] in text and ids["low"] not in text
    _, text = run(
        "reports",
        "--since",
        "1h",
        "--limit",
        str(MAX_LIMIT),
        "--low-confidence",
        "0.5",
        "--field",
        "amount",
    )
    assert ids["low"] in text and ids["auto"] not in text
    _, text = run("reports", "--since", "1h", "--by-day")
    assert "MANUAL_REVIEW" in text and "dispute" in text
    code, _ = run("reports", "--since", "yesterday-ish")
    assert code == 2


def test_report_queries(seeded: dict[str, Any]) -> None:
    since = datetime.now(UTC) - timedelta(hours=1)
    with transaction() as session:
        # Every report of the last hour: other tests of the session write reports too.
        any_field = {
            r.email_id for r in low_confidence_reports(session, 0.5, since=since, limit=MAX_LIMIT)
        }
        account = {
            r.email_id
            for r in low_confidence_reports(
                session, 0.95, field="account_ref", since=since, limit=MAX_LIMIT
            )
        }
        counts = daily_counts(session, since)
    ids = seeded["ids"]
    assert ids["low"] in any_field and ids["auto"] not in any_field
    assert ids["low"] in account and ids["auto"] not in account  # auto has no account_ref
    today = [c for c in counts if c.decision == "MANUAL_REVIEW" and c.intent == "dispute"]
    assert today and today[0].count >= 1


def test_trace_shows_report_and_log_lines(stack: LocalStack, seeded: dict[str, Any]) -> None:
    cid = seeded["cid"]
    request = urllib.request.Request(
        stack.url("rollup") + "/",
        data=json.dumps({"date": "1971-01-02"}).encode(),
        headers={"Content-Type": "application/json", "X-Correlation-ID": cid},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
    code, text = run("trace", cid)
    assert code == 0
    assert seeded["ids"]["auto"] in text and seeded["ids"]["fail"] in text
    assert "rollup_started" in text and "rollup_completed" in text
    code, _ = run("trace", 'x" OR "1"="1')
    assert code == 2
    with transaction() as session:
        session.execute(delete(MetricsRollupDay).where(MetricsRollupDay.day == date(1971, 1, 2)))


def test_rollup_and_metrics_commands(stack_env: dict[str, str]) -> None:
    name = f"t{uuid.uuid4().hex[:10]}_ops"
    day = date.today() - timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=3)
    with transaction() as session:
        session.execute(
            insert(OperationalMetric),
            [
                {"recorded_at": start, "name": name, "value": float(v), "labels": {}}
                for v in (1, 2, 3)
            ],
        )
    try:
        code, text = run("rollup", "--date", day.isoformat())
        assert code == 0
        summary = json.loads(text)
        assert summary["days_rolled_up"] == [day.isoformat()]
        assert summary["rows_aggregated"] >= 3
        code, text = run("metrics", "--days", "3", "--name", name)
        assert code == 0
        (line,) = [ln for ln in text.splitlines() if name in ln]
        assert line.split()[:5] == [day.isoformat(), name, "{}", "3", "2"]
        code, _ = run("rollup", "--date", date.today().isoformat())
        assert code == 2
    finally:
        with transaction() as session:
            session.execute(delete(OperationalMetric).where(OperationalMetric.name == name))
            session.execute(
                delete(OperationalMetricDaily).where(OperationalMetricDaily.name == name)
            )


def _pubsub_clients() -> tuple[Any, Any]:
    from google.cloud import pubsub_v1

    return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()


def test_dead_lettered_message_is_listed_replayed_and_processed(
    stack: LocalStack, stack_env: dict[str, str]
) -> None:
    from shared.config import get_settings

    settings = get_settings()
    publisher, subscriber = _pubsub_clients()
    watch = subscriber.subscription_path(PROJECT, f"ops-watch-{uuid.uuid4().hex[:8]}")
    subscriber.create_subscription(
        request={"name": watch, "topic": publisher.topic_path(PROJECT, settings.pubsub_topic)}
    )
    try:
        tag = uuid.uuid4().hex[:10]
        cid, email_id = f"cid-dlq-{tag}", f"dlq-{tag}"
        data = json.dumps({"email_id": email_id, "gcs_uri": f"gs://raw-emails/{email_id}"})
        dead_id = publisher.publish(
            publisher.topic_path(PROJECT, settings.pubsub_dead_letter_topic),
            data.encode(),
            correlation_id=cid,
            email_id=email_id,
            CloudPubSubDeadLetterSourceDeliveryCount="5",
        ).result(timeout=30)

        code, text = run("dlq", "list")
        assert code == 0
        (row,) = [ln for ln in text.splitlines() if dead_id in ln]
        assert email_id in row and cid in row and row.split()[-1] == "5"

        code, text = run("dlq", "replay", "no-such-message-id")
        assert code == 1 and "no-such-message-id" in text

        code, text = run("dlq", "replay", dead_id)
        assert code == 0 and dead_id in text

        received: list[Any] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not received:
            response = subscriber.pull(
                request={"subscription": watch, "max_messages": 10}, timeout=10
            )
            received += [
                r
                for r in response.received_messages
                if r.message.attributes.get("correlation_id") == cid
            ]
        assert received, "replayed message not seen on the main topic"
        message = received[0].message
        assert message.data.decode() == data
        assert dict(message.attributes) == {"correlation_id": cid, "email_id": email_id}

        _, text = run("dlq", "list")
        assert dead_id not in text  # acknowledged once the publish was confirmed

        # The processor (push subscription on the main topic) got it: its log lines show up.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            _, text = run("trace", cid)
            if "processor" in text:
                break
            time.sleep(0.5)
        assert "processor" in text
    finally:
        subscriber.delete_subscription(request={"subscription": watch})
