"""Decoding and validating a delivery; poison messages; the entry point through the framework."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from cloudevents.http import CloudEvent, to_structured
from functions_framework import create_app

from infra.stack import REPO_ROOT
from shared.errors import TransientError
from shared.processing.bootstrap import install_pipeline
from shared.processing.envelope import (
    ForeignBucket,
    InvalidEnvelope,
    decode_delivery,
    delivery_attempt_of,
    poison_key,
)
from tests.processing_fakes import harness, notice_body, push_data

EMAIL_ID = "em-0123456789abcdef"


def decode(data: Any, attempt: int | None = None) -> Any:
    return decode_delivery(
        data,
        correlation_id="corr-0123456789",
        expected_bucket="raw-emails",
        delivery_attempt=attempt,
    )


def test_a_valid_delivery_decodes() -> None:
    delivery = decode(push_data(notice_body(EMAIL_ID), email_id=EMAIL_ID), attempt=2)
    assert delivery.email_id == EMAIL_ID
    assert delivery.notice.bucket == "raw-emails"
    assert delivery.notice.object_name == f"2026/01/02/{EMAIL_ID}.eml"
    assert delivery.notice.received_at.tzinfo is not None
    assert delivery.pubsub_message_id == "1234"
    assert delivery.publish_time is not None and delivery.publish_time.year == 2026
    assert delivery.delivery_attempt == 2


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({}, "no Pub/Sub message"),
        ({"message": {"attributes": {}}}, "no data"),
        ({"message": {"data": "***not base64***"}}, "not valid base64"),
        (push_data(None, raw=b"\xff\xfe not json"), "not JSON"),
        (push_data(None, raw=b"[1, 2]"), "not a JSON object"),
        (push_data({k: v for k, v in notice_body(EMAIL_ID).items() if k != "gcs_uri"}),
         "gcs_uri: missing"),
        (push_data(notice_body(EMAIL_ID, size_bytes="12")), "size_bytes: int_type"),
        (push_data(notice_body(EMAIL_ID, size_bytes=-1)), "size_bytes: greater_than_equal"),
        (push_data(notice_body("bad id with spaces")), "email_id: string_pattern_mismatch"),
        (push_data(notice_body(EMAIL_ID, gcs_uri=f"gs://raw-emails/x/{EMAIL_ID}.eml")),
         "yyyy/mm/dd"),
        (push_data(notice_body(EMAIL_ID, gcs_uri="gs://raw-emails/2026/01/02/other.eml")),
         "yyyy/mm/dd"),
        (push_data(notice_body(EMAIL_ID, gcs_uri="https://example.org/x.eml")), "gs://"),
        (push_data(notice_body(EMAIL_ID), email_id="em-different"), "disagrees"),
        (push_data(notice_body(EMAIL_ID, received_at="yesterday")), "received_at"),
        # nested past any notice, and days the payment keys' arithmetic would overflow on
        (push_data(None, raw=b"[" * 100_000), "not JSON"),
        (push_data(notice_body(EMAIL_ID, received_at="9999-12-31T23:59:59-05:00")),
         "received_at: value_error"),
        (push_data(notice_body(EMAIL_ID, received_at="0001-01-01T00:00:00+05:00")),
         "received_at: value_error"),
        (push_data(notice_body(EMAIL_ID, received_at="1970-01-01T00:00:00Z")),
         "received_at: value_error"),
    ],
)  # fmt: skip
def test_invalid_deliveries_are_permanent_with_a_reason(data: Any, why: str) -> None:
    with pytest.raises(InvalidEnvelope) as caught:
        decode(data)
    assert why in str(caught.value)
    assert caught.value.stage == "envelope"


def test_error_messages_never_echo_values() -> None:
    secret = "jane.doe@example.org owes 1234.56"
    with pytest.raises(InvalidEnvelope) as caught:
        decode(push_data(notice_body(EMAIL_ID, provider=secret)))
    assert "jane" not in str(caught.value) and "1234" not in str(caught.value)


def test_claimed_email_id_is_kept_when_it_looked_valid() -> None:
    with pytest.raises(InvalidEnvelope) as caught:
        decode(push_data(notice_body(EMAIL_ID, attachment_count="x")))
    assert caught.value.claimed_email_id == EMAIL_ID


def test_unknown_fields_and_attributes_are_ignored() -> None:
    """A newer webhook publishing a field this processor does not know (a rolling deploy)."""
    data = push_data(notice_body(EMAIL_ID, surprise=1, spam_score={"x": [1]}), email_id=EMAIL_ID)
    data["message"]["attributes"]["schema_version"] = "2"
    data["message"]["orderingKey"] = "k"
    delivery = decode(data)
    assert delivery.email_id == EMAIL_ID
    assert delivery.notice.size_bytes == 123


def test_a_notice_of_another_bucket_is_transient_and_logged_without_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The configuration is wrong, not the email: redelivered, then dead-lettered (replayable),
    never acknowledged as failed."""
    caplog.set_level(logging.ERROR, logger="shared.processing.envelope")
    with pytest.raises(ForeignBucket) as caught:
        decode(push_data(notice_body(EMAIL_ID, bucket="someone-elses")))
    assert isinstance(caught.value, TransientError)
    assert not isinstance(caught.value, InvalidEnvelope)
    assert caught.value.stage == "envelope"
    (record,) = [r for r in caplog.records if r.getMessage() == "delivery_foreign_bucket"]
    assert record.levelno == logging.ERROR
    fields = dict(record.json_fields)  # type: ignore[attr-defined]
    for added in ("correlation_id", "function", "logger"):  # the log filter's, when configured
        fields.pop(added, None)
    assert fields == {
        "email_id": EMAIL_ID,
        "bucket": "someone-elses",
        "expected_bucket": "raw-emails",
    }


def test_a_malformed_notice_of_another_bucket_is_still_refused() -> None:
    body = notice_body(EMAIL_ID, bucket="someone-elses", size_bytes="12")
    with pytest.raises(InvalidEnvelope):
        decode(push_data(body))


def test_poison_key_is_stable_per_message_and_distinct_between_messages() -> None:
    first = push_data(None, raw=b"garbage-1")
    assert poison_key(first) == poison_key(push_data(None, raw=b"garbage-1"))
    assert poison_key(first) != poison_key(push_data(None, raw=b"garbage-2"))
    assert poison_key(first).startswith("invalid-") and len(poison_key(first)) <= 128
    assert poison_key({}).startswith("invalid-")


def test_delivery_attempt_from_data_or_push_envelope() -> None:
    assert delivery_attempt_of({"deliveryAttempt": 3}) == 3
    assert delivery_attempt_of({}, {"deliveryAttempt": 4, "message": {}}) == 4
    assert delivery_attempt_of({}, {"deliveryAttempt": "4"}) is None
    assert delivery_attempt_of({}, None) is None


# -- through functions-framework ----------------------------------------------------------------


@pytest.fixture
def app_harness() -> Iterator[Any]:
    h = harness()
    install_pipeline(h.pipeline)
    try:
        yield h
    finally:
        install_pipeline(None)


def _client() -> Any:
    app = create_app(
        target="process_email",
        source=str(REPO_ROOT / "functions" / "processor" / "main.py"),
        signature_type="cloudevent",
    )
    return app.test_client()


def _raw_push(body: bytes, *, attempt: int | None, correlation_id: str) -> dict[str, Any]:
    push: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(body).decode(),
            "attributes": {"correlation_id": correlation_id},
            "messageId": "99",
            "publishTime": "2026-01-02T03:04:06Z",
        },
        "subscription": "projects/local-project/subscriptions/inbound-emails-processor",
    }
    if attempt is not None:
        push["deliveryAttempt"] = attempt
    return push


def test_raw_push_reaches_the_pipeline_with_delivery_attempt_and_correlation_id(
    app_harness: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    email_id = "em-framework-0001"
    from tests.processing_fakes import notice

    app_harness.raw.put(notice(email_id), b"raw mime")
    body = json.dumps(notice_body(email_id)).encode()
    response = _client().post(
        "/", json=_raw_push(body, attempt=2, correlation_id="corr-framework-0001")
    )
    assert response.status_code == 200
    report = app_harness.store.reports[email_id]
    assert report.status == "done"
    assert report.pipeline["delivery_attempt"] == 2
    assert report.correlation_id == "corr-framework-0001"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    # this delivery's lines: a thread an earlier test left running may log into the capture
    mine = [
        line
        for line in lines
        if line.get("email_id") == email_id or line.get("logger") == "shared.processing.entrypoint"
    ]
    assert len(mine) >= 2
    assert all(line.get("correlation_id") == "corr-framework-0001" for line in mine), mine


def test_structured_cloud_event_reaches_the_pipeline(app_harness: Any) -> None:
    email_id = "em-framework-0002"
    from tests.processing_fakes import notice

    app_harness.raw.put(notice(email_id), b"raw mime")
    event = CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/p/topics/t",
        },
        push_data(notice_body(email_id), correlation_id="corr-framework-0002")
        | {"deliveryAttempt": 5},
    )
    headers, data = to_structured(event)
    response = _client().post("/", headers=headers, data=data)
    assert response.status_code == 200
    assert app_harness.store.reports[email_id].pipeline["delivery_attempt"] == 5


def test_poison_push_is_acknowledged_with_a_failed_report(app_harness: Any) -> None:
    push = _raw_push(b"{not json", attempt=1, correlation_id="corr-framework-0003")
    client = _client()
    assert client.post("/", json=push).status_code == 200
    assert client.post("/", json=push).status_code == 200  # the redelivery: same row
    failed = [r for r in app_harness.store.reports.values() if r.status == "failed"]
    assert len(failed) == 1
    assert failed[0].email_id.startswith("invalid-")
    assert failed[0].errors[0]["stage"] == "envelope"
    assert "not JSON" in failed[0].errors[0]["message"]


def test_transient_failure_answers_500(app_harness: Any) -> None:
    from shared.errors import DependencyUnavailable

    app_harness.raw.fail_with = DependencyUnavailable("gcs", "Timeout", stage="read")
    body = json.dumps(notice_body("em-framework-0004")).encode()
    response = _client().post("/", json=_raw_push(body, attempt=1, correlation_id="corr-fw-04"))
    assert response.status_code == 500
    assert "em-framework-0004" in app_harness.store.released


def test_a_push_of_another_bucket_answers_500_and_writes_no_report(app_harness: Any) -> None:
    email_id = "em-framework-0005"
    body = json.dumps(notice_body(email_id, bucket="someone-elses")).encode()
    client = _client()
    push = _raw_push(body, attempt=1, correlation_id="corr-fw-05")
    assert client.post("/", json=push).status_code == 500
    assert client.post("/", json=push).status_code == 500  # still not acknowledged
    assert app_harness.store.reports == {}
    assert app_harness.store.emails == {}


def test_a_push_with_fields_of_a_newer_webhook_is_processed(app_harness: Any) -> None:
    email_id = "em-framework-0006"
    from tests.processing_fakes import notice

    app_harness.raw.put(notice(email_id), b"raw mime")
    body = json.dumps(notice_body(email_id, spam_score=0.1)).encode()
    push = _raw_push(body, attempt=1, correlation_id="corr-fw-06")
    push["message"]["attributes"]["schema_version"] = "2"
    assert _client().post("/", json=push).status_code == 200
    assert app_harness.store.reports[email_id].status == "done"
