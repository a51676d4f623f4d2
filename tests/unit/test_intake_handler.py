"""The HTTP surface through the functions-framework app, with fake storage and publisher."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import functions_framework
import pytest

from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS
from shared.config import reset_settings_cache
from shared.intake.bootstrap import IntakeDependencies, reset_dependencies, set_dependencies
from tests.fakes import InMemoryObjectStore, RecordingPublisher
from tests.intake_payloads import emails
from tests.intake_payloads.probes import WEBHOOK_SOURCE


@dataclass
class Harness:
    client: Any
    store: InMemoryObjectStore
    publisher: RecordingPublisher


@pytest.fixture
def harness() -> Iterator[Harness]:
    os.environ.update(LOCAL_WEBHOOK_SECRETS)
    os.environ["WEBHOOK_MAX_BODY_BYTES"] = str(64 * 1024)
    reset_settings_cache()
    store, publisher = InMemoryObjectStore(), RecordingPublisher()
    set_dependencies(IntakeDependencies(store=store, publisher=publisher))
    app = functions_framework.create_app(target="webhook", source=WEBHOOK_SOURCE)
    yield Harness(app.test_client(), store, publisher)
    reset_dependencies()


def _post(harness: Harness, request: sign_request.SignedRequest, **headers: str) -> Any:
    return harness.client.post(
        request.path, data=request.body, headers={**request.headers, **headers}
    )


@pytest.mark.parametrize("route", sign_request.ROUTES)
def test_accepted_email_answers_200_with_ids_and_the_correlation_header(
    harness: Harness, route: str
) -> None:
    sample = emails.latin1_payment()
    request = sign_request.build_request(route, sample.mime, LOCAL_WEBHOOK_SECRETS)
    answer = _post(harness, request, **{"X-Correlation-ID": "provider-req-0001"})
    assert answer.status_code == 200, answer.json
    assert answer.json["correlation_id"] == "provider-req-0001"
    assert answer.headers["X-Correlation-ID"] == "provider-req-0001"
    ((data, attributes),) = harness.publisher.published
    assert json.loads(data)["email_id"] == answer.json["email_id"]
    assert attributes == {
        "correlation_id": "provider-req-0001",
        "email_id": answer.json["email_id"],
    }


def test_an_invalid_correlation_header_is_replaced(harness: Harness) -> None:
    request = sign_request.build_request("raw", emails.html_only().mime, LOCAL_WEBHOOK_SECRETS)
    answer = _post(harness, request, **{"X-Correlation-ID": "bad id\u00e9"})
    assert answer.status_code == 200
    assert answer.json["correlation_id"] != "bad id\u00e9"
    assert len(answer.json["correlation_id"]) == 32


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/", 404),
        ("POST", "/mailgun/extra", 404),
        ("GET", "/mailgun", 405),
        ("PUT", "/raw", 405),
        ("GET", "/", 404),
    ],
)
def test_unknown_routes_and_methods(harness: Harness, method: str, path: str, status: int) -> None:
    answer = harness.client.open(path, method=method)
    assert answer.status_code == status
    assert answer.json["error"] in ("unknown_route", "method_not_allowed")


def test_trailing_slash_is_the_same_route(harness: Harness) -> None:
    request = sign_request.build_request("raw", emails.html_only().mime, LOCAL_WEBHOOK_SECRETS)
    answer = harness.client.post("/raw/", data=request.body, headers=request.headers)
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("route", "status"), [("mailgun", 406), ("sendgrid", 400), ("postmark", 403), ("raw", 400)]
)
def test_malformed_bodies_get_the_providers_do_not_retry_status(
    harness: Harness, route: str, status: int
) -> None:
    if route == "mailgun":
        fields = [("recipient", b"a@b.c")]
        request = sign_request.mailgun_request(b"", signing_key="x")
        body, content_type = sign_request.encode_multipart(
            [f for f in _fields_of(request) if f[0] in ("timestamp", "token", "signature")]
            + fields,
            [],
        )
        request = sign_request.SignedRequest("/mailgun", {"Content-Type": content_type}, body)
        request = _resign_mailgun(request)
    elif route == "sendgrid":
        good = sign_request.build_request("sendgrid", b"", LOCAL_WEBHOOK_SECRETS)
        body, content_type = sign_request.encode_multipart([("to", b"x")], [])
        request = sign_request.SignedRequest(
            "/sendgrid", {**good.headers, "Content-Type": content_type}, body
        )
    elif route == "postmark":
        good = sign_request.build_request("postmark", b"", LOCAL_WEBHOOK_SECRETS)
        request = sign_request.SignedRequest("/postmark", good.headers, b'{"To": "x"}')
    else:
        request = sign_request.raw_request(
            b"no header here", secret=LOCAL_WEBHOOK_SECRETS["WEBHOOK_RAW_SECRET"]
        )
    answer = _post(harness, request)
    assert answer.status_code == status
    assert answer.json["error"] == "malformed_payload"
    assert answer.json["detail"]
    assert harness.publisher.published == []
    # Authenticated, so the body is kept for a person to look at (and the Mailgun token used).
    kept = {n for n in harness.store.objects if n.startswith("rejected/")}
    cid = answer.headers["X-Correlation-ID"]
    assert {n.rsplit("/", 1)[1] for n in kept} == {f"{cid}.body", f"{cid}.json"}
    (body_name,) = [n for n in kept if n.endswith(".body")]
    assert harness.store.objects[body_name][0] == request.body
    others = set(harness.store.objects) - kept
    assert all(n.startswith("replay/mailgun/") for n in others) and len(others) == int(
        route == "mailgun"
    )


@pytest.mark.parametrize(
    ("route", "status"), [("mailgun", 406), ("sendgrid", 415), ("postmark", 403), ("raw", 415)]
)
def test_wrong_content_type_is_final_where_the_provider_has_a_final_status(
    harness: Harness, route: str, status: int
) -> None:
    request = sign_request.build_request(route, emails.html_only().mime, LOCAL_WEBHOOK_SECRETS)
    answer = _post(harness, request, **{"Content-Type": "text/csv"})
    assert answer.status_code == status
    assert answer.json["error"] == "unsupported_media_type"
    assert harness.publisher.published == []


def _fields_of(request: sign_request.SignedRequest) -> list[tuple[str, bytes]]:
    from shared.intake.forms import parse_form

    form = parse_form(request.body, request.headers["Content-Type"], max_bytes=10**7)
    return list(form.fields.items())


def _resign_mailgun(request: sign_request.SignedRequest) -> sign_request.SignedRequest:
    fields = dict(_fields_of(request))
    key = LOCAL_WEBHOOK_SECRETS["WEBHOOK_MAILGUN_SIGNING_KEY"]
    fields["signature"] = sign_request.sign_mailgun(
        key, fields["timestamp"].decode(), fields["token"].decode()
    ).encode()
    body, content_type = sign_request.encode_multipart(list(fields.items()), [])
    return sign_request.SignedRequest("/mailgun", {"Content-Type": content_type}, body)


@pytest.mark.parametrize("route", ["mailgun", "sendgrid", "postmark", "raw"])
def test_bad_credentials_are_401_and_change_nothing(harness: Harness, route: str) -> None:
    wrong = {key: value + "-wrong" for key, value in LOCAL_WEBHOOK_SECRETS.items()}
    request = sign_request.build_request(route, emails.html_only().mime, wrong)
    answer = _post(harness, request)
    assert answer.status_code == 401
    assert answer.json["error"] == "unauthenticated"
    assert harness.publisher.published == [] and harness.store.objects == {}


def test_body_over_the_limit_is_413_by_content_length(harness: Harness) -> None:
    request = sign_request.build_request("raw", emails.html_only().mime, LOCAL_WEBHOOK_SECRETS)
    big = request.body + b"x" * (64 * 1024)
    answer = harness.client.post("/raw", data=big, headers=request.headers)
    assert answer.status_code == 413


def test_body_over_the_limit_is_413_when_chunked(harness: Harness) -> None:
    """No Content-Length (chunked upload): the limit is enforced while reading."""
    answer = harness.client.post(
        "/postmark",
        input_stream=io.BytesIO(b"y" * (100 * 1024)),
        headers={
            "Content-Type": "application/json",
            "Authorization": sign_request._basic("postmark", "local-postmark-password"),
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 413
    assert answer.json["error"] == "payload_too_large"
    assert harness.publisher.published == []


def test_chunked_body_under_the_limit_is_read_whole(harness: Harness) -> None:
    request = sign_request.build_request("postmark", emails.html_only().mime, LOCAL_WEBHOOK_SECRETS)
    answer = harness.client.post(
        "/postmark",
        input_stream=io.BytesIO(request.body),
        headers={**request.headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 200


def test_outages_answer_503_with_retry_after_and_log_an_error(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.publisher.down = True
    request = sign_request.build_request("raw", emails.html_only().mime, LOCAL_WEBHOOK_SECRETS)
    with caplog.at_level(logging.INFO):
        answer = _post(harness, request)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert answer.json == {"error": "unavailable", "detail": "pubsub: ServiceUnavailable"}
    (record,) = [r for r in caplog.records if r.getMessage() == "webhook_unavailable"]
    assert record.levelno == logging.ERROR
    assert record.json_fields["provider"] == "raw"


def test_logs_name_events_and_never_the_payload(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    sample = emails.with_attachments()
    good = sign_request.build_request("postmark", sample.mime, LOCAL_WEBHOOK_SECRETS)
    forged = sign_request.build_request(
        "mailgun", sample.mime, {**LOCAL_WEBHOOK_SECRETS, "WEBHOOK_MAILGUN_SIGNING_KEY": "nope"}
    )
    with caplog.at_level(logging.INFO):
        assert _post(harness, good).status_code == 200
        assert _post(harness, forged).status_code == 401
    events = {r.getMessage(): r for r in caplog.records}
    received = events["webhook_received"].json_fields
    assert received["provider"] == "postmark"
    assert received["attachment_count"] == 2
    rejected = events["webhook_rejected"]
    assert rejected.levelno == logging.WARNING
    assert rejected.json_fields["status"] == 401
    everything = " ".join(
        f"{r.getMessage()} {json.dumps(getattr(r, 'json_fields', {}), default=str)}"
        for r in caplog.records
    )
    for secret in (
        "Anna",
        "Schmidt",
        "Überweisung",
        "AC-3003",
        "anna@example.de",
        "local-postmark-password",
        sample.expected.message_id,
    ):
        assert secret not in everything
