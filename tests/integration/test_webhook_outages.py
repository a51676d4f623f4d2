"""GCS or Pub/Sub down (the real emulator process stopped): a quick 503, nothing published;
after recovery the provider's retry publishes exactly one reference to one stored object."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS, LocalStack
from tests.intake_payloads import emails
from tests.intake_payloads.probes import Bucket, topic_probe, webhook_client

pytestmark = pytest.mark.stack


@pytest.fixture
def client(stack_env: dict[str, str]) -> Iterator[Any]:
    os.environ["PUBSUB_PUBLISH_TIMEOUT_SECONDS"] = "3"
    os.environ["WEBHOOK_GCS_RETRY_DEADLINE_SECONDS"] = "1"
    os.environ["WEBHOOK_GCS_TIMEOUT_SECONDS"] = "3"
    with webhook_client() as test_client:
        yield test_client


def _post(client: Any, request: sign_request.SignedRequest) -> tuple[Any, float]:
    started = time.monotonic()
    answer = client.post(request.path, data=request.body, headers=request.headers)
    return answer, time.monotonic() - started


def test_storage_down_is_503_and_the_retry_after_recovery_publishes_once(
    stack: LocalStack, client: Any
) -> None:
    sample = emails.with_attachments()
    request = sign_request.build_request("postmark", sample.mime, LOCAL_WEBHOOK_SECRETS)
    with topic_probe() as probe:
        stack.servers["gcs"].stop()
        try:
            answer, elapsed = _post(client, request)
        finally:
            stack.start_server("gcs")
        assert answer.status_code == 503
        assert answer.json["error"] == "unavailable" and answer.json["detail"].startswith("gcs")
        assert elapsed < 6
        assert probe.pull(expected=0, settle=0.3) == []
        retry, _ = _post(client, request)
        assert retry.status_code == 200, retry.json
        (message,) = probe.pull(expected=1)
    assert message.data["email_id"] == retry.json["email_id"]
    assert emails.summarise(Bucket().read(message.data["gcs_uri"])) == sample.expected


def test_pubsub_down_is_503_and_the_retry_reuses_the_stored_object(
    stack: LocalStack, client: Any
) -> None:
    sample = emails.forwarded()
    request = sign_request.build_request("sendgrid", sample.mime, LOCAL_WEBHOOK_SECRETS)
    stack.servers["pubsub"].stop()
    try:
        answer, elapsed = _post(client, request)
    finally:
        stack.start_server("pubsub")  # in memory: topics come back, subscriptions are new
    assert answer.status_code == 503
    assert answer.json["detail"].startswith("pubsub")
    assert elapsed < 8
    bucket = Bucket()
    stored = [n for n in bucket.names("20") if n.endswith(".eml") and _id_of(sample) in n]
    assert len(stored) == 1  # the MIME was stored before the publish failed
    generation = bucket.generation(stored[0])
    with topic_probe() as probe:
        retry, _ = _post(client, request)
        assert retry.status_code == 200, retry.json
        (message,) = probe.pull(expected=1)
    assert message.data["gcs_uri"].endswith(stored[0])
    assert bucket.generation(stored[0]) == generation  # not rewritten: the same email
    assert message.data["email_id"] == retry.json["email_id"] == _id_of(sample)


def _id_of(sample: emails.Sample) -> str:
    from shared.intake.canonical import derive_email_id, normalise_message_id

    return derive_email_id(normalise_message_id(sample.expected.message_id), b"")
