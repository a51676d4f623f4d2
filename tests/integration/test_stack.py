"""The local stack: every real server answers its real client."""

from __future__ import annotations

import json
import smtplib
import uuid
from email.message import EmailMessage

import anthropic
import pymongo
import sentry_sdk
from google.auth.credentials import AnonymousCredentials
from google.cloud import pubsub_v1, storage
from sqlalchemy import create_engine, text

from infra.fakes.clients import ClaudeStandin, Mailbox, SentrySink
from infra.stack import PROJECT, LocalStack
from shared.config import get_settings


def test_postgres_has_the_migrated_schema(stack_env: dict[str, str]) -> None:
    engine = create_engine(stack_env["DATABASE_URL"])
    with engine.connect() as conn:
        tables = set(
            conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        )
        version = conn.scalar(text("SELECT current_setting('server_version_num')::int"))
    engine.dispose()
    assert {
        "emails",
        "processing_reports",
        "notifications",
        "circuit_breakers",
        "operational_metrics",
        "operational_metrics_daily",
        "alembic_version",
    } <= tables
    assert 150000 <= version < 160000


def test_pubsub_emulator_routes_the_dead_letter_topic_to_its_subscription(
    stack_env: dict[str, str],
) -> None:
    settings = get_settings()
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT, settings.pubsub_dead_letter_topic)
    subscription = subscriber.subscription_path(PROJECT, settings.pubsub_dead_letter_subscription)
    marker = uuid.uuid4().hex
    publisher.publish(topic, marker.encode(), correlation_id="corr-" + marker).result(timeout=30)
    received = []
    for _ in range(10):
        response = subscriber.pull(
            request={"subscription": subscription, "max_messages": 10}, timeout=30
        )
        for item in response.received_messages:
            subscriber.acknowledge(request={"subscription": subscription, "ack_ids": [item.ack_id]})
            received.append(item.message)
        if any(m.data == marker.encode() for m in received):
            break
    mine = [m for m in received if m.data == marker.encode()]
    assert len(mine) == 1
    assert mine[0].attributes["correlation_id"] == "corr-" + marker
    sub = subscriber.get_subscription(
        request={
            "subscription": subscriber.subscription_path(
                PROJECT, settings.pubsub_processor_subscription
            )
        }
    )
    assert sub.push_config.push_endpoint.startswith(stack_env["PROCESSOR_URL"])
    assert sub.dead_letter_policy.dead_letter_topic == topic
    assert sub.dead_letter_policy.max_delivery_attempts == 5
    subscriber.close()


def test_fake_gcs_stores_and_returns_objects(stack_env: dict[str, str]) -> None:
    client = storage.Client(project=PROJECT, credentials=AnonymousCredentials())
    blob = client.bucket(get_settings().raw_email_bucket).blob(f"probe/{uuid.uuid4().hex}.eml")
    blob.upload_from_string(b"Subject: hi\r\n\r\nbody", content_type="message/rfc822")
    assert blob.download_as_bytes() == b"Subject: hi\r\n\r\nbody"


def test_mongodb_wire_server_round_trips_documents(stack_env: dict[str, str]) -> None:
    client: pymongo.MongoClient = pymongo.MongoClient(
        stack_env["MONGODB_URI"], serverSelectionTimeoutMS=5000
    )
    collection = client["stack_probe"]["docs"]
    key = uuid.uuid4().hex
    collection.insert_one({"key": key, "balance": 10.5})
    assert collection.find_one({"key": key}, {"_id": 0}) == {"key": key, "balance": 10.5}
    client.close()


def test_smtp_server_keeps_what_it_receives(stack: LocalStack) -> None:
    mailbox = Mailbox(stack.mailbox_dir)
    before = len(mailbox.messages())
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["To"] = "b@example.com"
    subject = f"probe {uuid.uuid4().hex}"
    message["Subject"] = subject
    message.set_content("hello")
    with smtplib.SMTP("127.0.0.1", stack.servers["smtp"].port, timeout=10) as smtp:
        smtp.send_message(message)
    messages = mailbox.wait_for(before + 1, timeout=10)
    assert any(m["Subject"] == subject for m in messages)


def test_claude_standin_answers_the_real_sdk(stack: LocalStack) -> None:
    standin = ClaudeStandin(stack.url("claude"))
    standin.reset()
    standin.set_default({"kind": "tool_use", "input": {"intent": "other"}})
    client = anthropic.Anthropic(api_key="test", base_url=stack.url("claude"), max_retries=0)
    reply = client.messages.create(
        model="claude-test",
        max_tokens=100,
        tools=[{"name": "record", "description": "d", "input_schema": {"type": "object"}}],
        messages=[{"role": "user", "content": "probe"}],
    )
    assert reply.stop_reason == "tool_use"
    assert reply.content[0].input == {"intent": "other"}
    assert len(standin.requests()) == 1


def test_sentry_sink_receives_events_from_the_real_sdk(stack: LocalStack) -> None:
    sink = SentrySink(stack.url("sentry"))
    sink.reset()
    client = sentry_sdk.Client(dsn=f"http://public@127.0.0.1:{stack.servers['sentry'].port}/1")
    with sentry_sdk.new_scope() as scope:
        scope.set_client(client)
        try:
            raise LookupError("probe failure")
        except LookupError:
            sentry_sdk.capture_exception()
    client.flush(timeout=5)
    events = sink.wait_for_events(1, timeout=10)
    assert events[0]["exception"]["values"][0]["type"] == "LookupError"
    client.close()


def test_functions_answer_over_http(stack: LocalStack) -> None:
    import urllib.error
    import urllib.request

    for name in ("webhook", "rollup", "processor", "console"):
        try:
            with urllib.request.urlopen(stack.url(name) + "/", timeout=10) as response:
                headers = response.headers
        except urllib.error.HTTPError as exc:
            headers = exc.headers
        if name != "processor":  # HTTP functions run inside the invocation wrapper
            assert headers["X-Correlation-ID"], name


def test_env_file_names_every_address(stack: LocalStack, tmp_path) -> None:
    path = tmp_path / "stack.env"
    stack.write_env_file(path)
    values = dict(
        line.split("=", 1) for line in path.read_text().splitlines() if not line.startswith("#")
    )
    for key in (
        "WEBHOOK_URL",
        "DATABASE_URL",
        "PUBSUB_EMULATOR_HOST",
        "STORAGE_EMULATOR_HOST",
        "MONGODB_URI",
        "SMTP_HOST",
        "SMTP_PORT",
    ):
        assert values[key], key
    assert all("0.0.0.0" not in value for value in values.values())
    assert json.dumps(values)  # plain strings only
