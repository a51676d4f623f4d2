"""Issue 6's metrics of one end-to-end email: webhook → Pub/Sub emulator push → processor.

The rows of ``operational_metrics`` for the email are checked against its report (same stage
timings, tokens, confidences, match, decision), their labels against the personal data in the
email, and their transaction against the report's: while the test holds a lock that blocks the
metrics INSERT, the report is not visible either, and the blocked INSERT runs in the very
transaction (Postgres xid) that then commits the report.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from infra.stack import PROJECT
from shared.metrics.collector import LABEL_RULES, METRICS
from tests.e2e.conftest import E2E, account, make_mime, tool_input, unique, wait_until

STAGES = {"read", "parse", "extract", "match", "apply", "total"}
TOKENS = ("input", "output", "cache_read", "cache_write")


def metric_rows(e2e: E2E, email_id: str) -> list[dict[str, Any]]:
    return e2e.query(
        "SELECT name, value, labels, email_id, correlation_id, recorded_at "
        "FROM operational_metrics WHERE email_id = :id ORDER BY id",
        id=email_id,
    )


def by_name(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["name"] == name]


def one(rows: list[dict[str, Any]], name: str, **labels: str) -> float:
    (row,) = [r for r in by_name(rows, name) if r["labels"] == labels]
    return float(row["value"])


def payment_email(e2e: E2E) -> tuple[str, str, str, str, bytes]:
    """(marker, case, account id, debtor name, MIME) of a payment Claude reads confidently."""
    marker, case, account_id = unique("MK"), unique("CASE"), unique("ACC")
    debtor = f"Ottilie {uuid.uuid4().hex[:6].capitalize()}"
    e2e.seed(account(account_id, case, name=debtor, amount=500.0))
    body = f"Hello, this is {debtor}. I paid 120.50 EUR today for case {case}. Ref {marker}."
    e2e.claude.add_rule(
        marker,
        {
            "kind": "tool_use",
            "input": tool_input(
                "payment_confirmation",
                0.97,
                "I paid 120.50 EUR today",
                case_number=(case, 0.99, f"case {case}"),
                amount=(120.5, 0.97, "120.50 EUR"),
                currency=("EUR", 0.97, "120.50 EUR"),
                debtor_name=(debtor, 0.8, debtor),
            ),
        },
    )
    mime = make_mime(body, sender=f"{marker.lower()}@example.org", subject=f"Payment {case}")
    return marker, case, account_id, debtor, mime


def test_metrics_of_an_email_match_its_report_and_commit_with_it(e2e: E2E) -> None:
    marker, case, account_id, debtor, mime = payment_email(e2e)
    watcher = create_engine(e2e.stack.database_url)
    locker = watcher.connect()
    try:
        # Block every INSERT into operational_metrics (SELECTs still run) while the email flows.
        locker.execute(text("LOCK TABLE operational_metrics IN SHARE MODE"))
        email_id = e2e.post(mime, route="raw")

        def blocked_insert() -> dict[str, Any] | None:
            # The statement (or transaction) that ends the email, waiting on the metrics INSERT.
            with watcher.connect() as conn:
                row = (
                    conn.execute(
                        text(
                            "SELECT a.pid, a.query FROM pg_locks l JOIN pg_stat_activity a "
                            "USING (pid) WHERE NOT l.granted "
                            "AND l.relation = 'operational_metrics'::regclass"
                        )
                    )
                    .mappings()
                    .first()
                )
            return dict(row) if row else None

        # Until it can insert its metrics, neither the report nor any metric is visible and the
        # email is still being processed: the metrics commit with the report, or not at all.
        waiting = wait_until(
            blocked_insert, 60, "metrics INSERT waiting inside the work that ends the email"
        )
        # The one-statement finish (the emails UPDATE feeding the report, outbox and metrics
        # INSERTs), or its transaction fallback's metrics INSERT.
        assert re.match(r"\s*(WITH done AS|INSERT INTO operational_metrics)", waiting["query"])
        assert e2e.report(email_id) is None
        assert metric_rows(e2e, email_id) == []
        assert e2e.email_row(email_id)["status"] == "processing"
    finally:
        locker.rollback()
        locker.close()
        watcher.dispose()

    report = e2e.wait_for_report(email_id)
    assert (report["status"], report["decision"], report["extractor"]) == (
        "done",
        "AUTO_UPDATE",
        "claude",
    )
    # One transaction wrote the report, the email's final status and every metric row.
    (committed,) = e2e.query(
        "SELECT r.xmin::text AS report_xid, e.xmin::text AS email_xid "
        "FROM processing_reports r JOIN emails e USING (email_id) WHERE r.email_id = :id",
        id=email_id,
    )
    metric_xids = {
        row["xid"]
        for row in e2e.query(
            "SELECT xmin::text AS xid FROM operational_metrics WHERE email_id = :id", id=email_id
        )
    }
    assert committed["report_xid"] == committed["email_xid"]
    assert metric_xids == {committed["report_xid"]}

    rows = metric_rows(e2e, email_id)
    assert {r["correlation_id"] for r in rows} == {report["correlation_id"]}
    names = {r["name"] for r in rows}
    assert {
        "processing_seconds",
        "queue_lag_seconds",
        "tokens_input",
        "tokens_output",
        "tokens_cache_read",
        "tokens_cache_write",
        "extraction_confidence",
        "match_score",
        "decision",
    } <= names
    assert "error" not in names and "breaker_transition" not in names
    pipeline = report["pipeline"]

    # processing_seconds: one per stage and the total, as in the report
    stages = {r["labels"]["stage"]: float(r["value"]) for r in by_name(rows, "processing_seconds")}
    assert set(stages) == STAGES and len(by_name(rows, "processing_seconds")) == len(STAGES)
    for stage, seconds in pipeline["stage_seconds"].items():
        assert stages[stage] == pytest.approx(seconds, abs=1e-4)
    assert stages["total"] >= sum(v for k, v in stages.items() if k != "total")
    assert 0 < stages["total"] < 60

    # queue lag: Pub/Sub publish time → processing start; the emulator pushed at once
    assert 0 <= one(rows, "queue_lag_seconds") < 60
    # delivery_attempt is what Pub/Sub said (the emulator says nothing: see the test below)
    attempts = [float(r["value"]) for r in by_name(rows, "delivery_attempt")]
    expected = pipeline["delivery_attempt"]
    assert attempts == ([] if expected is None else [float(expected)])

    # tokens: what Claude reported, as in the report
    for kind in TOKENS:
        assert one(rows, f"tokens_{kind}") == pipeline["tokens"][kind]
    assert pipeline["tokens"]["input"] > 0 and pipeline["tokens"]["output"] > 0

    # confidences: overall, intent and each extracted field
    assert one(rows, "extraction_confidence", field="overall") == pytest.approx(
        report["overall_confidence"], abs=1e-4
    )
    assert one(rows, "extraction_confidence", field="intent") == pytest.approx(0.97)
    fields = {
        r["labels"]["field"]: float(r["value"])
        for r in by_name(rows, "extraction_confidence")
        if r["labels"]["field"] not in ("overall", "intent")
    }
    assert set(fields) == set(report["fields"]) >= {"case_number", "amount", "currency"}
    for name, found in report["fields"].items():
        assert fields[name] == pytest.approx(found["confidence"], abs=1e-4)

    # match and decision
    assert report["match"]["method"] == "case_number"
    assert one(rows, "match_score", method="case_number") == pytest.approx(
        report["match"]["score"], abs=1e-4
    )
    assert one(rows, "decision", decision="AUTO_UPDATE") == 1.0

    # labels: allow-listed keys, identifier values, none of the email's personal data
    needles = [marker, case, account_id, debtor, *debtor.split(), "120.5", "example.org", "@"]
    for row in rows:
        assert set(row["labels"]) <= METRICS[row["name"]], row
        for key, value in row["labels"].items():
            rule = LABEL_RULES[key]
            assert value in rule if isinstance(rule, frozenset) else rule.fullmatch(value)
            for needle in needles:
                assert needle.lower() not in value.lower(), (row["name"], key)


def test_pubsub_delivery_attempt_becomes_a_metric(e2e: E2E) -> None:
    """Pub/Sub (with a dead-letter policy) puts ``deliveryAttempt`` in the push body; the
    emulator does not, so this push is made the way Pub/Sub makes it."""
    marker, _, _, _, mime = payment_email(e2e)
    email_id = unique("em-attempt")
    gcs_uri = e2e.store_mime(email_id, mime)
    envelope = {
        "message": {
            "data": base64.b64encode(e2e.notice(email_id, gcs_uri)).decode(),
            "attributes": {"correlation_id": f"corr-{email_id}", "email_id": email_id},
            "messageId": uuid.uuid4().hex,
            "publishTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        },
        "subscription": f"projects/{PROJECT}/subscriptions/inbound-emails-processor",
        "deliveryAttempt": 3,
    }
    request = urllib.request.Request(
        e2e.stack.url("processor") + "/",
        data=json.dumps(envelope).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=90) as response:
        assert response.status == 200
    report = e2e.wait_for_report(email_id)
    assert report["pipeline"]["delivery_attempt"] == 3
    rows = metric_rows(e2e, email_id)
    assert [(r["value"], r["labels"]) for r in by_name(rows, "delivery_attempt")] == [(3.0, {})]
    assert marker not in json.dumps([r["labels"] for r in rows])
