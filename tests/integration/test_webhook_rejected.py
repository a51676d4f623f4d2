"""Authenticated but malformed requests on the real GCS: the body is kept under ``rejected/``
with its metadata and the provider still gets its "do not retry" status; forged ones store
nothing; with GCS stopped the answer is 503 so the provider retries."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS, LocalStack
from shared.intake.service import replay_object_name
from tests.intake_payloads import emails
from tests.intake_payloads.malformed import malformed_mailgun
from tests.intake_payloads.probes import Bucket, TopicProbe, topic_probe, webhook_client

pytestmark = pytest.mark.stack


@pytest.fixture
def client(stack_env: dict[str, str]) -> Iterator[Any]:
    os.environ["WEBHOOK_GCS_RETRY_DEADLINE_SECONDS"] = "1"
    os.environ["WEBHOOK_GCS_TIMEOUT_SECONDS"] = "3"
    with webhook_client() as test_client:
        yield test_client


@pytest.fixture
def probe(stack_env: dict[str, str]) -> Iterator[TopicProbe]:
    with topic_probe() as created:
        yield created


def _post(client: Any, request: sign_request.SignedRequest, **headers: str) -> Any:
    return client.post(request.path, data=request.body, headers={**request.headers, **headers})


def _kept_under(cid: str) -> list[str]:
    return sorted(n for n in Bucket().names("rejected/") if f"/{cid}." in n)


def test_an_authentic_malformed_mailgun_post_is_406_and_its_body_is_kept(
    client: Any, probe: TopicProbe
) -> None:
    token = f"kept-{time.time_ns()}"
    request = malformed_mailgun(token)
    cid = f"rejected-test-{time.time_ns()}"
    answer = _post(client, request, **{"X-Correlation-ID": cid})
    assert answer.status_code == 406
    assert answer.json["error"] == "malformed_payload"
    assert answer.json["detail"] == "field 'message-headers' is not valid JSON"
    body_name, meta_name = _kept_under(cid)
    day = time.strftime("%Y/%m/%d", time.gmtime())
    assert body_name == f"rejected/{day}/{cid}.body" and meta_name == f"rejected/{day}/{cid}.json"
    bucket = Bucket()
    assert bucket.read(body_name) == request.body  # byte for byte, replayable
    metadata = json.loads(bucket.read(meta_name))
    assert metadata["provider"] == "mailgun" and metadata["route"] == "/mailgun"
    assert metadata["content_type"] == request.headers["Content-Type"]
    assert metadata["reason"] == "malformed_payload" and metadata["status"] == 406
    assert metadata["correlation_id"] == cid
    assert metadata["received_at"].startswith(day.replace("/", "-"))
    assert metadata["size_bytes"] == len(request.body)
    assert "inbound@example.com" not in json.dumps(metadata)
    assert replay_object_name("mailgun", token) in bucket.names("replay/mailgun/")
    assert probe.pull(expected=0, settle=0.5) == []


def test_an_authentic_postmark_post_with_a_wrong_content_type_is_kept(client: Any) -> None:
    good = sign_request.build_request("postmark", emails.html_only().mime, LOCAL_WEBHOOK_SECRETS)
    cid = f"rejected-pm-{time.time_ns()}"
    answer = _post(client, good, **{"Content-Type": "text/plain", "X-Correlation-ID": cid})
    assert answer.status_code == 403 and answer.json["error"] == "unsupported_media_type"
    body_name, meta_name = _kept_under(cid)
    assert Bucket().read(body_name) == good.body
    assert json.loads(Bucket().read(meta_name))["content_type"] == "text/plain"


def test_a_forged_malformed_mailgun_post_is_401_and_stores_nothing(
    client: Any, probe: TopicProbe
) -> None:
    before = set(Bucket().names(""))
    token = f"forged-{time.time_ns()}"
    request = malformed_mailgun(token, key="not-the-signing-key")
    cid = f"forged-test-{time.time_ns()}"
    answer = _post(client, request, **{"X-Correlation-ID": cid})
    assert answer.status_code == 401 and answer.json["error"] == "unauthenticated"
    assert _kept_under(cid) == []
    after = set(Bucket().names(""))
    assert replay_object_name("mailgun", token) not in after
    assert not {n for n in after - before if n.startswith("rejected/") or cid in n}
    assert probe.pull(expected=0, settle=0.3) == []


def test_gcs_stopped_turns_the_406_into_503_and_the_retry_keeps_the_body(
    stack: LocalStack, client: Any
) -> None:
    token = f"outage-{time.time_ns()}"
    request = malformed_mailgun(token)
    cid = f"rejected-outage-{time.time_ns()}"
    stack.servers["gcs"].stop()
    try:
        started = time.monotonic()
        answer = _post(client, request, **{"X-Correlation-ID": cid})
        elapsed = time.monotonic() - started
    finally:
        stack.start_server("gcs")
    assert answer.status_code == 503, answer.json
    assert answer.json["error"] == "unavailable" and answer.json["detail"].startswith("gcs")
    assert answer.headers["Retry-After"] == "30"
    assert elapsed < 8
    # Mailgun retries a 503 with the same token and body: now it is kept and answered 406.
    retry = _post(client, request, **{"X-Correlation-ID": cid})
    assert retry.status_code == 406
    body_name, _ = _kept_under(cid)
    assert Bucket().read(body_name) == request.body
