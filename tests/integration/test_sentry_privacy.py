"""Sentry privacy: a real email-like failure, through the invocation wrapper, to the loopback
Sentry sink. The captured envelopes must not contain the email's body, sender address, debtor
name or amount — while keeping what operators need (type, tags, stage breadcrumbs)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

import anthropic
import pytest
from flask import Flask

from infra.fakes.clients import SentrySink
from shared.errors import DependencyUnavailable
from shared.observability.sentry import (
    init_sentry,
    set_invocation_tags,
    shutdown_sentry,
    stage_breadcrumb,
)
from shared.runtime import http_function, invocation

DEBTOR = "Jonathan Whitfield-Kowalski"
SENDER = "jonathan.whitfield@example.org"
AMOUNT = "1,234.56"
BODY_SENTENCE = "I paid the outstanding balance yesterday by bank transfer"
FORBIDDEN = (
    DEBTOR,
    "Whitfield",
    "Kowalski",
    SENDER,
    "jonathan.whitfield",
    AMOUNT,
    "1234.56",
    BODY_SENTENCE,
    "outstanding balance",
)


def _raw_email() -> bytes:
    message = EmailMessage()
    message["From"] = f"{DEBTOR} <{SENDER}>"
    message["To"] = "collections@agency.example"
    message["Subject"] = f"Account of {DEBTOR} - payment of EUR {AMOUNT}"
    message.set_content(
        f"Hello,\n\n{BODY_SENTENCE}. Amount: €{AMOUNT}.\nDebtor: {DEBTOR}\n\nRegards,\n{DEBTOR}\n"
    )
    return bytes(message)


def _parse_amount(parsed: EmailMessage) -> float:
    body = parsed.get_body(preferencelist=("plain",)).get_content()  # a local holding the text
    sender = parsed["From"]
    try:
        return float(body.split("Amount: €")[1].split("\n")[0])  # thousands separator: ValueError
    except ValueError as exc:
        raise ValueError(f"cannot parse amount in mail from {sender}: {body}") from exc


@pytest.fixture
def sentry_on(stack_env: dict[str, str], sentry_sink: SentrySink) -> Iterator[SentrySink]:
    shutdown_sentry()
    assert init_sentry()
    yield sentry_sink
    shutdown_sentry()


def _dump(sink: SentrySink) -> str:
    return json.dumps(sink.envelopes(), ensure_ascii=False)


def test_captured_email_failure_carries_no_personal_data(
    sentry_on: SentrySink, stack_env: dict[str, str]
) -> None:
    email_id = f"em-{uuid.uuid4().hex[:16]}"
    cid = f"cid-{uuid.uuid4().hex}"
    raw = _raw_email()
    third_party = logging.getLogger("some.library")
    with (
        pytest.raises(ValueError),
        invocation("processor", cid, tags={"pubsub_message_id": "1234-msg", "delivery_attempt": 3}),
    ):
        set_invocation_tags(email_id=email_id, debtor=DEBTOR, stage=SENDER)
        parsed = BytesParser(policy=default_policy).parsebytes(raw)
        stage_breadcrumb("parse", 0.0123)
        # The Anthropic SDK (auto-instrumented by default) sees the email in its prompt.
        client = anthropic.Anthropic(
            api_key=stack_env["ANTHROPIC_API_KEY"], base_url=stack_env["ANTHROPIC_BASE_URL"]
        )
        client.messages.create(
            model="claude-sonnet-5-5",
            max_tokens=256,
            messages=[{"role": "user", "content": raw.decode()}],
        )
        stage_breadcrumb("extract", 0.2)
        third_party.warning("unexpected input from %s: %s", SENDER, BODY_SENTENCE)
        third_party.error("giving up on %s (%s)", DEBTOR, AMOUNT)  # an event of its own
        _parse_amount(parsed)

    events = sentry_on.wait_for_events(2, timeout=10)
    dumped = _dump(sentry_on)
    for secret in FORBIDDEN:
        at = dumped.find(secret)
        assert at < 0, dumped[max(0, at - 300) : at + 100]

    (failure,) = [e for e in events if e.get("exception")]
    values = failure["exception"]["values"]
    assert [v["type"] for v in values] == ["ValueError", "ValueError"]
    assert all(v["value"] == "" for v in values)
    frames = [f for v in values for f in v["stacktrace"]["frames"]]
    assert frames and all("vars" not in f for f in frames)
    assert failure["tags"] == {
        "function": "processor",
        "correlation_id": cid,
        "email_id": email_id,
        "pubsub_message_id": "1234-msg",
        "delivery_attempt": "3",
    }
    crumbs = failure["breadcrumbs"]["values"]
    assert [(c["category"], c["message"], c["data"]) for c in crumbs] == [
        ("stage", "parse", {"seconds": 0.0123}),
        ("stage", "extract", {"seconds": 0.2}),
    ]
    assert "extra" not in failure and "user" not in failure
    (logged,) = [e for e in events if not e.get("exception")]
    assert logged["logentry"] == {"message": "[redacted]"}


def test_own_errors_keep_their_message_scrubbed(sentry_on: SentrySink) -> None:
    with (
        pytest.raises(DependencyUnavailable),
        invocation("processor", f"cid-{uuid.uuid4().hex}"),
    ):
        raise DependencyUnavailable("gcs", f"timeout after 30s (owner {SENDER}, EUR {AMOUNT})")
    (event,) = sentry_on.wait_for_events(1, timeout=10)
    assert event["exception"]["values"][-1]["value"] == (
        "gcs: timeout after 30s (owner [email], [amount])"
    )
    assert SENDER not in _dump(sentry_on)


def test_http_function_request_body_is_not_sent(sentry_on: SentrySink) -> None:
    app = Flask(__name__)

    @http_function("webhook")
    def handler(request: Any) -> Any:
        request.get_data()
        raise KeyError(DEBTOR)

    app.add_url_rule("/raw", "raw", lambda: handler(__import__("flask").request), methods=["POST"])
    response = app.test_client().post(
        f"/raw?from={SENDER}",
        data=_raw_email(),
        headers={"Content-Type": "message/rfc822", "X-Sender": SENDER},
    )
    assert response.status_code == 500
    events = sentry_on.wait_for_events(1, timeout=10)
    dumped = _dump(sentry_on)
    for secret in FORBIDDEN:
        assert secret not in dumped, secret
    assert events[0]["exception"]["values"][-1]["type"] == "KeyError"
    assert events[0]["tags"]["function"] == "webhook"


def test_ai_integrations_are_disabled(sentry_on: SentrySink) -> None:
    import sentry_sdk

    enabled = set(sentry_sdk.get_client().integrations)
    assert "anthropic" not in enabled
    assert "pymongo" not in enabled
    assert {"logging", "threading", "dedupe"} <= enabled
    assert "stdlib" not in enabled  # no breadcrumb or trace header per outgoing HTTP call
    assert sentry_sdk.get_client().options["send_default_pii"] is False
    assert sentry_sdk.get_client().options["include_local_variables"] is False


def test_without_a_dsn_sentry_is_a_no_op(stack_env: dict[str, str], monkeypatch: Any) -> None:
    from shared.config import reset_settings_cache

    shutdown_sentry()
    monkeypatch.delenv("SENTRY_DSN")
    reset_settings_cache()
    assert init_sentry() is False
    with pytest.raises(RuntimeError), invocation("processor", None):
        set_invocation_tags(email_id="x-123")
        stage_breadcrumb("parse", 0.1)
        raise RuntimeError("still raised")
