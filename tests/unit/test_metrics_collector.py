"""The collector's validation: known names only, allow-listed labels, no personal data."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from shared.context import invocation_context, set_email_id
from shared.metrics.collector import InvalidMetric, MetricsCollector, validate_metric

FIXED = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def test_records_known_metrics_with_allowed_labels() -> None:
    collector = MetricsCollector(email_id="e-1", correlation_id="cid-12345678", clock=lambda: FIXED)
    assert collector.record("processing_seconds", 1.25, stage="extract")
    assert collector.record("decision", 1, decision="AUTO_UPDATE")
    assert collector.record("error", 1, stage="load", error_type="DependencyUnavailable")
    assert collector.record(
        "breaker_transition", 1, breaker="claude", **{"from": "closed", "to": "open"}
    )
    assert collector.record("tokens_input", 1200)
    rows = collector.rows()
    assert [r["name"] for r in rows] == [
        "processing_seconds",
        "decision",
        "error",
        "breaker_transition",
        "tokens_input",
    ]
    assert rows[0] == {
        "recorded_at": FIXED,
        "name": "processing_seconds",
        "value": 1.25,
        "labels": {"stage": "extract"},
        "email_id": "e-1",
        "correlation_id": "cid-12345678",
    }
    assert isinstance(rows[4]["value"], float)


@pytest.mark.parametrize(
    ("name", "value", "labels", "fragment"),
    [
        ("emails_total", 1, {}, "unknown metric"),
        ("decision", 1, {"debtor": "Jane Doe"}, "not allowed"),
        ("decision", 1, {"decision": "Jane Doe"}, "identifier"),
        ("error", 1, {"stage": "load", "error_type": "jane.doe@example.com"}, "identifier"),
        ("match_score", 0.9, {"method": "1234.56"}, "identifier"),
        ("extraction_confidence", 0.5, {"field": "x" * 41}, "identifier"),
        (
            "breaker_transition",
            1,
            {"breaker": "claude", "from": "closed", "to": "broken"},
            "identifier",
        ),
        ("queue_lag_seconds", float("nan"), {}, "finite"),
        ("queue_lag_seconds", "3", {}, "number"),
        ("queue_lag_seconds", True, {}, "number"),
        ("tokens_input", 5, {"stage": "extract"}, "not allowed"),
    ],
)
def test_rejects_unknown_names_pii_labels_and_bad_values(
    name: str, value: object, labels: dict[str, str], fragment: str
) -> None:
    with pytest.raises(InvalidMetric, match=fragment):
        validate_metric(name, value, labels)  # type: ignore[arg-type]


def test_rejected_metric_is_dropped_and_logged_without_its_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    collector = MetricsCollector()
    with caplog.at_level(logging.WARNING):
        assert not collector.record("decision", 1, decision="jane.doe@example.com")
    assert collector.rows() == []
    assert "metric_rejected" in caplog.text
    assert "jane.doe" not in caplog.text


def test_ids_default_to_the_invocation_context() -> None:
    with invocation_context("cid-abcdef12"):
        set_email_id("email-42")
        collector = MetricsCollector()
        collector.record("delivery_attempt", 2)
    assert collector.rows()[0]["email_id"] == "email-42"
    assert collector.rows()[0]["correlation_id"] == "cid-abcdef12"


def test_timer_records_the_stage_even_when_the_block_raises() -> None:
    collector = MetricsCollector()
    with pytest.raises(RuntimeError), collector.timer("extract"):
        raise RuntimeError("boom")
    (row,) = collector.rows()
    assert row["name"] == "processing_seconds"
    assert row["labels"] == {"stage": "extract"}
    assert 0 <= row["value"] < 1


def test_pending_rows_are_handed_out_until_marked_written() -> None:
    collector = MetricsCollector(email_id="em-pending-1", correlation_id="cid-pending-1")
    collector.record("decision", 1, decision="AUTO_UPDATE")
    collector.record("processing_seconds", 0.25, stage="total")
    pending = collector.pending()
    assert [(r["name"], r["labels"], r["email_id"]) for r in pending] == [
        ("decision", {"decision": "AUTO_UPDATE"}, "em-pending-1"),
        ("processing_seconds", {"stage": "total"}, "em-pending-1"),
    ]
    pending[0]["labels"]["decision"] = "changed"  # copies: the collector keeps its rows
    assert collector.pending()[0]["labels"] == {"decision": "AUTO_UPDATE"}
    collector.mark_written(len(pending))
    assert collector.pending() == []
    collector.record("delivery_attempt", 2)
    assert [r["name"] for r in collector.pending()] == ["delivery_attempt"]
    collector.mark_written(99)  # never past what was recorded
    assert collector.pending() == []
