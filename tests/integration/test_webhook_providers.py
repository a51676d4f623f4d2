"""Each provider route against the real local GCS and Pub/Sub emulator, with realistic payloads:
the object lands under its day, parses back to the same email, and one reference is published."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from typing import Any

import pytest

from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS
from shared.intake.canonical import normalise_message_id
from tests.intake_payloads import emails
from tests.intake_payloads.probes import Bucket, TopicProbe, topic_probe, webhook_client

pytestmark = pytest.mark.stack

SAMPLES = (*emails.ALL, emails.without_message_id)


@pytest.fixture
def client(stack_env: dict[str, str]) -> Iterator[Any]:
    with webhook_client() as test_client:
        yield test_client


@pytest.fixture
def probe(stack_env: dict[str, str]) -> Iterator[TopicProbe]:
    with topic_probe() as created:
        yield created


@pytest.mark.parametrize("route", sign_request.ROUTES)
def test_route_stores_and_publishes_every_sample(
    client: Any, probe: TopicProbe, route: str
) -> None:
    bucket = Bucket()
    sent = []
    for factory in SAMPLES:
        sample = factory()
        request = sign_request.build_request(route, sample.mime, LOCAL_WEBHOOK_SECRETS)
        before = datetime.now(UTC)
        answer = client.post(request.path, data=request.body, headers=request.headers)
        assert answer.status_code == 200, (sample.name, answer.json)
        assert answer.headers["X-Correlation-ID"] == answer.json["correlation_id"]
        sent.append((sample, answer.json, before))

    published = {p.data["email_id"]: p for p in probe.pull(expected=len(sent))}
    assert len(published) == len(sent)
    for sample, answer, before in sent:
        email_id = answer["email_id"]
        message = published[email_id]
        assert message.attributes == {
            "correlation_id": answer["correlation_id"],
            "email_id": email_id,
        }
        body = message.data
        assert set(body) == {
            "email_id",
            "gcs_uri",
            "provider",
            "received_at",
            "size_bytes",
            "attachment_count",
            "message_id",
        }
        received = datetime.fromisoformat(body["received_at"])
        assert before - timedelta(seconds=1) <= received <= datetime.now(UTC)
        day = received.strftime("%Y/%m/%d")
        assert body["gcs_uri"] == f"gs://raw-emails/{day}/{email_id}.eml"
        assert body["provider"] == ("raw" if route == "raw" else route.split("-", maxsplit=1)[0])
        assert body["message_id"] == normalise_message_id(sample.expected.message_id)
        if sample.expected.message_id is None:
            assert email_id.startswith("h-")
        stored = bucket.read(body["gcs_uri"])
        assert len(stored) == body["size_bytes"]
        assert emails.summarise(stored) == sample.expected, sample.name
        assert body["attachment_count"] == len(sample.expected.attachments)
        parsed = email.message_from_bytes(stored, policy=policy.default)
        assert not [d for d in parsed.defects if "Boundary" in type(d).__name__]
        metadata = bucket.metadata(body["gcs_uri"])
        assert metadata["email_id"] == email_id
        assert metadata["size_bytes"] == str(body["size_bytes"])
        assert metadata["correlation_id"] == answer["correlation_id"]
        assert metadata["content_source"] in ("original", "rebuilt")


def test_mailgun_urlencoded_post_is_accepted(client: Any, probe: TopicProbe) -> None:
    sample = emails.latin1_payment()
    request = sign_request.mailgun_request(
        sample.mime,
        signing_key=LOCAL_WEBHOOK_SECRETS["WEBHOOK_MAILGUN_SIGNING_KEY"],
        urlencoded=True,
    )
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    answer = client.post(request.path, data=request.body, headers=request.headers)
    assert answer.status_code == 200, answer.json
    (message,) = probe.pull(expected=1)
    assert emails.summarise(Bucket().read(message.data["gcs_uri"])) == sample.expected


def test_the_same_email_through_two_providers_is_one_object_and_one_email_id(
    client: Any, probe: TopicProbe
) -> None:
    sample = emails.with_attachments()
    answers = []
    for route in ("postmark", "sendgrid-raw", "mailgun"):
        request = sign_request.build_request(route, sample.mime, LOCAL_WEBHOOK_SECRETS)
        answers.append(client.post(request.path, data=request.body, headers=request.headers))
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.json["email_id"] for a in answers}) == 1
    messages = probe.pull(expected=3)
    assert len({m.data["gcs_uri"] for m in messages}) == 1
    assert {m.data["provider"] for m in messages} == {"postmark"}  # the stored copy's metadata
    email_id = answers[0].json["email_id"]
    day = messages[0].data["received_at"][:10].replace("-", "/")
    assert Bucket().names(f"{day}/{email_id}") == [f"{day}/{email_id}.eml"]
    assert Bucket().metadata(f"{day}/{email_id}.eml")["provider"] == "postmark"
