"""Authenticity against the real stack: a Mailgun token is shared by every instance (the
replay cache is in GCS), stale or forged requests store and publish nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS, LocalStack
from shared.intake.service import replay_object_name
from tests.intake_payloads import emails
from tests.intake_payloads.probes import Bucket, TopicProbe, topic_probe, webhook_client

pytestmark = pytest.mark.stack

KEY = LOCAL_WEBHOOK_SECRETS["WEBHOOK_MAILGUN_SIGNING_KEY"]


@pytest.fixture
def client(stack_env: dict[str, str]) -> Iterator[Any]:
    with webhook_client() as test_client:
        yield test_client


@pytest.fixture
def probe(stack_env: dict[str, str]) -> Iterator[TopicProbe]:
    with topic_probe() as created:
        yield created


def _in_process(client: Any, request: sign_request.SignedRequest) -> tuple[int, dict[str, Any]]:
    answer = client.post(request.path, data=request.body, headers=request.headers)
    return answer.status_code, answer.json


def test_a_token_replayed_with_another_email_to_a_second_instance_is_refused(
    stack: LocalStack, client: Any, probe: TopicProbe
) -> None:
    """Two processes (the stack's functions-framework webhook and this one) get the same
    signed token at the same time with different emails: exactly one is accepted."""
    token = f"replay-{time.time_ns()}"
    stamp = int(time.time())
    first = sign_request.mailgun_request(
        emails.latin1_payment().mime, signing_key=KEY, timestamp=stamp, token=token
    )
    forged = sign_request.mailgun_request(
        emails.html_only().mime, signing_key=KEY, timestamp=stamp, token=token
    )
    with ThreadPoolExecutor(2) as pool:
        remote = pool.submit(first.post, stack.url("webhook"))
        local = pool.submit(_in_process, client, forged)
        results = [remote.result(), local.result()]
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 403], results
    (refused,) = [body for status, body in results if status == 403]
    assert refused["error"] == "replayed"
    (accepted,) = [body for status, body in results if status == 200]
    (message,) = probe.pull(expected=1)
    assert message.data["email_id"] == accepted["email_id"]
    assert replay_object_name("mailgun", token) in Bucket().names("replay/mailgun/")


def test_the_identical_signed_request_to_two_instances_is_one_email(
    stack: LocalStack, client: Any, probe: TopicProbe
) -> None:
    """A redelivery (same token, same email) is a duplicate, not a forgery: same email_id,
    one stored object, the reference published again for the idempotent processor."""
    request = sign_request.mailgun_request(emails.with_attachments().mime, signing_key=KEY)
    remote_status, remote = request.post(stack.url("webhook"))
    local_status, local = _in_process(client, request)
    assert (remote_status, local_status) == (200, 200)
    assert remote["email_id"] == local["email_id"]
    messages = probe.pull(expected=2)
    assert len({m.data["gcs_uri"] for m in messages}) == 1
    day = messages[0].data["received_at"][:10].replace("-", "/")
    assert len(Bucket().names(f"{day}/{remote['email_id']}.eml")) == 1


@pytest.mark.parametrize(("skew", "status"), [(-297, 200), (297, 200), (-303, 401), (303, 401)])
def test_timestamp_tolerance_is_enforced_on_the_running_function(
    client: Any, probe: TopicProbe, skew: int, status: int
) -> None:
    """Default tolerance 300 s; ±3 s margins absorb the request's own latency (the exact ±1 s
    boundary is pinned by the unit tests with a fixed clock)."""
    sample = emails.latin1_payment()
    stamp = int(time.time()) + skew
    mailgun = sign_request.mailgun_request(sample.mime, signing_key=KEY, timestamp=stamp)
    raw = sign_request.raw_request(
        sample.mime, secret=LOCAL_WEBHOOK_SECRETS["WEBHOOK_RAW_SECRET"], timestamp=stamp
    )
    assert _in_process(client, mailgun)[0] == status
    assert _in_process(client, raw)[0] == status
    published = probe.pull(expected=2 if status == 200 else 0)
    assert len(published) == (2 if status == 200 else 0)


@pytest.mark.parametrize("route", ["sendgrid", "postmark", "mailgun", "raw"])
def test_wrong_credentials_store_and_publish_nothing(
    client: Any, probe: TopicProbe, route: str
) -> None:
    wrong = {name: value[::-1] for name, value in LOCAL_WEBHOOK_SECRETS.items()}
    sample = emails.with_attachments()
    request = sign_request.build_request(route, sample.mime, wrong)
    status, body = _in_process(client, request)
    assert status == 401
    assert body["error"] == "unauthenticated"
    assert probe.pull(expected=0) == []
    from shared.intake.canonical import derive_email_id, normalise_message_id

    email_id = derive_email_id(normalise_message_id(sample.expected.message_id), b"")
    assert not [n for n in Bucket().names("20") if email_id in n]
