"""Authenticated but malformed requests: the body is kept under ``rejected/`` (fakes only);
forged, oversized and replayed ones never are; a failing bucket turns the 4xx into a 503."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import functions_framework
import pytest

from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS
from shared.config import get_settings, reset_settings_cache
from shared.intake.bootstrap import IntakeDependencies, reset_dependencies, set_dependencies
from shared.intake.errors import (
    IntakeUnavailable,
    MalformedPayload,
    PayloadTooLarge,
    ReplayedRequest,
    Unauthenticated,
    UnsupportedMediaType,
    after_authentication,
)
from shared.intake.providers.mailgun import parse_mailgun
from shared.intake.providers.raw import parse_raw
from shared.intake.quarantine import RejectedRequest, keep_rejected, should_keep
from shared.intake.service import replay_object_name
from tests.fakes import InMemoryObjectStore, RecordingPublisher
from tests.intake_payloads import emails
from tests.intake_payloads.malformed import KEY, malformed_mailgun
from tests.intake_payloads.probes import WEBHOOK_SOURCE

WHEN = datetime(2025, 3, 4, 23, 59, 59, tzinfo=UTC)


def _rejected(
    body: bytes, rejection: Exception, provider: str = "postmark", content_type: str = "x/y"
) -> RejectedRequest:
    assert isinstance(rejection, MalformedPayload | UnsupportedMediaType)
    return RejectedRequest(
        provider=provider,
        route=f"/{provider}",
        content_type=content_type,
        body=body,
        rejection=rejection,
        status=403,
    )


# --- which rejections are kept -------------------------------------------------------------


def _marked(rejection: Exception, *, authenticated: bool) -> Any:
    if not authenticated:
        return rejection
    try:
        with after_authentication():
            raise rejection
    except type(rejection) as marked:
        return marked


@pytest.mark.parametrize(
    ("rejection", "authenticated", "kept"),
    [
        (MalformedPayload("x"), True, True),
        (UnsupportedMediaType("x"), True, True),
        (MalformedPayload("x"), False, False),
        (UnsupportedMediaType("x"), False, False),
        (PayloadTooLarge("x"), True, False),
        (Unauthenticated("x"), True, False),
        (ReplayedRequest("x"), True, False),
        (IntakeUnavailable("gcs", "x"), True, False),
    ],
)
def test_only_final_rejections_of_authenticated_requests_are_kept(
    rejection: Exception, authenticated: bool, kept: bool
) -> None:
    assert should_keep(_marked(rejection, authenticated=authenticated)) is kept


def test_mailgun_marks_a_rejection_authenticated_only_after_the_signature_holds() -> None:
    settings = _settings()
    authentic = malformed_mailgun("tok-authentic")
    with pytest.raises(MalformedPayload) as caught:
        parse_mailgun(authentic.body, authentic.headers, settings, time.time())
    assert caught.value.authenticated and caught.value.replay_token == "tok-authentic"
    forged = malformed_mailgun("tok-forged", key="not-the-key")
    with pytest.raises(Unauthenticated) as refused:
        parse_mailgun(forged.body, forged.headers, settings, time.time())
    assert not refused.value.authenticated
    unsigned = sign_request.SignedRequest("/mailgun", forged.headers, b"--garbage")
    with pytest.raises(MalformedPayload) as garbage:  # the signature cannot even be read
        parse_mailgun(unsigned.body, unsigned.headers, settings, time.time())
    assert not garbage.value.authenticated


def test_mailgun_reads_the_credentials_of_a_form_the_parser_refuses() -> None:
    """The form cannot be parsed (a part without Content-Disposition), but its signature is
    read from the body and holds: the refusal is authenticated, with the token to claim."""
    settings = _settings()
    for key, authenticated in ((KEY, True), ("not-the-key", False)):
        signed = malformed_mailgun("tok-unparsed", key=key)
        body = signed.body.replace(b'Content-Disposition: form-data; name="recipient"', b"X: y")
        with pytest.raises(MalformedPayload) as caught:
            parse_mailgun(body, signed.headers, settings, time.time())
        assert caught.value.message == "multipart body is malformed"
        assert caught.value.authenticated is authenticated
        assert caught.value.replay_token == ("tok-unparsed" if authenticated else None)


def test_raw_marks_a_wrong_content_type_authenticated_when_signed() -> None:
    settings = _settings()
    signed = sign_request.raw_request(
        emails.html_only().mime, secret=LOCAL_WEBHOOK_SECRETS["WEBHOOK_RAW_SECRET"]
    )
    headers = {**signed.headers, "Content-Type": "text/plain"}
    with pytest.raises(UnsupportedMediaType) as caught:
        parse_raw(signed.body, headers, settings, time.time())
    assert caught.value.authenticated and caught.value.replay_token is None


def _settings() -> Any:
    os.environ.update(LOCAL_WEBHOOK_SECRETS)
    reset_settings_cache()
    return get_settings()


# --- keep_rejected -----------------------------------------------------------------------


def test_body_and_metadata_are_kept_under_rejected_by_day_and_correlation_id() -> None:
    store = InMemoryObjectStore()
    body = b'{"From": 1, "TextBody": "Sehr geehrte Frau M\xc3\xbcller"}'
    rejection = _marked(MalformedPayload("field 'From' is not a string"), authenticated=True)
    uri = keep_rejected(
        store,
        _rejected(body, rejection, content_type="application/json"),
        correlation_id="cid-12345678",
        received_at=WHEN,
    )
    assert uri == "gs://raw-emails/rejected/2025/03/04/cid-12345678.body"
    assert store.objects["rejected/2025/03/04/cid-12345678.body"] == (
        body,
        "application/octet-stream",
    )
    raw_metadata, content_type = store.objects["rejected/2025/03/04/cid-12345678.json"]
    assert content_type == "application/json"
    metadata = json.loads(raw_metadata)
    assert metadata == {
        "provider": "postmark",
        "route": "/postmark",
        "content_type": "application/json",
        "reason": "malformed_payload",
        "detail": "field 'From' is not a string",
        "status": 403,
        "received_at": "2025-03-04T23:59:59.000Z",
        "correlation_id": "cid-12345678",
        "size_bytes": len(body),
        "sha256": metadata["sha256"],
    }
    assert b"M\xc3\xbcller" not in raw_metadata and "ller" not in raw_metadata.decode()
    assert set(store.objects) == {
        "rejected/2025/03/04/cid-12345678.body",
        "rejected/2025/03/04/cid-12345678.json",
    }


def test_a_reused_correlation_id_never_overwrites_another_body() -> None:
    store = InMemoryObjectStore()
    rejection = _marked(MalformedPayload("x"), authenticated=True)
    first = keep_rejected(
        store, _rejected(b"first", rejection), correlation_id="cid-12345678", received_at=WHEN
    )
    again = keep_rejected(
        store, _rejected(b"first", rejection), correlation_id="cid-12345678", received_at=WHEN
    )
    second = keep_rejected(
        store, _rejected(b"second", rejection), correlation_id="cid-12345678", received_at=WHEN
    )
    assert first == again != second
    assert len(store.objects) == 4  # the same body again adds nothing
    assert store.read(first.split("/", 3)[3]) == b"first"
    assert store.read(second.split("/", 3)[3]) == b"second"
    assert second.endswith(".body") and store.read(second.split("/", 3)[3][:-5] + ".json")


def test_a_mailgun_token_keeps_one_body_only() -> None:
    """Mailgun's signature does not cover the body: a captured signature must not let anyone
    store other bodies. The same body again (the provider's retry after a 503) is kept."""
    store = InMemoryObjectStore()
    rejection = _marked(MalformedPayload("x"), authenticated=True)
    rejection.replay_token = "tok-1"
    keep_rejected(
        store,
        _rejected(b"one", rejection, "mailgun"),
        correlation_id="cid-1aaaaaaa",
        received_at=WHEN,
    )
    assert replay_object_name("mailgun", "tok-1") in store.objects
    keep_rejected(
        store,
        _rejected(b"one", rejection, "mailgun"),
        correlation_id="cid-2aaaaaaa",
        received_at=WHEN,
    )
    before = dict(store.objects)
    with pytest.raises(ReplayedRequest):
        keep_rejected(
            store,
            _rejected(b"other", rejection, "mailgun"),
            correlation_id="cid-3aaaaaaa",
            received_at=WHEN,
        )
    assert store.objects == before
    assert len([n for n in store.objects if n.endswith(".body")]) == 2


def test_a_failing_bucket_raises_unavailable() -> None:
    store = InMemoryObjectStore(down=True)
    rejection = _marked(MalformedPayload("x"), authenticated=True)
    with pytest.raises(IntakeUnavailable):
        keep_rejected(store, _rejected(b"b", rejection), correlation_id="c" * 8, received_at=WHEN)


# --- through the HTTP surface, with fakes ------------------------------------------------


@pytest.fixture
def harness() -> Iterator[tuple[Any, InMemoryObjectStore, RecordingPublisher]]:
    os.environ.update(LOCAL_WEBHOOK_SECRETS)
    os.environ["WEBHOOK_MAX_BODY_BYTES"] = str(64 * 1024)
    reset_settings_cache()
    store, publisher = InMemoryObjectStore(), RecordingPublisher()
    set_dependencies(IntakeDependencies(store=store, publisher=publisher))
    app = functions_framework.create_app(target="webhook", source=WEBHOOK_SOURCE)
    yield app.test_client(), store, publisher
    reset_dependencies()


def _post(client: Any, request: Any, **headers: str) -> Any:
    return client.post(request.path, data=request.body, headers={**request.headers, **headers})


def test_an_authentic_malformed_post_is_kept_and_logged_without_its_content(
    harness: tuple[Any, InMemoryObjectStore, RecordingPublisher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, store, publisher = harness
    request = malformed_mailgun(f"tok-{time.time_ns()}")
    with caplog.at_level(logging.INFO):
        answer = _post(client, request, **{"X-Correlation-ID": "ops-check-0001"})
    assert answer.status_code == 406 and answer.json["error"] == "malformed_payload"
    assert publisher.published == []
    (body_name,) = [n for n in store.objects if n.endswith(".body")]
    assert body_name.startswith("rejected/") and body_name.endswith("/ops-check-0001.body")
    assert store.objects[body_name][0] == request.body
    (record,) = [r for r in caplog.records if r.getMessage() == "webhook_rejected_stored"]
    assert record.levelno == logging.WARNING
    assert record.json_fields["object"] == "gs://raw-emails/" + body_name
    assert record.json_fields["provider"] == "mailgun"
    logged = " ".join(
        json.dumps(r.json_fields) for r in caplog.records if hasattr(r, "json_fields")
    )
    assert "Zahlung" not in logged and "inbound@example.com" not in logged


@pytest.mark.parametrize("route", ["mailgun", "sendgrid", "postmark", "raw"])
def test_forged_malformed_posts_are_401_and_store_nothing(
    harness: tuple[Any, InMemoryObjectStore, RecordingPublisher], route: str
) -> None:
    client, store, _ = harness
    wrong = {key: value + "-wrong" for key, value in LOCAL_WEBHOOK_SECRETS.items()}
    if route == "mailgun":
        request = malformed_mailgun("tok-forged", key=wrong["WEBHOOK_MAILGUN_SIGNING_KEY"])
    else:
        good = sign_request.build_request(route, emails.html_only().mime, wrong)
        request = sign_request.SignedRequest(good.path, good.headers, b"\x00not a message")
    answer = _post(client, request)
    assert answer.status_code == 401
    assert store.objects == {}


def test_a_failing_bucket_turns_the_final_answer_into_503(
    harness: tuple[Any, InMemoryObjectStore, RecordingPublisher],
) -> None:
    client, store, _ = harness
    store.down = True
    good = sign_request.build_request("postmark", b"", LOCAL_WEBHOOK_SECRETS)
    answer = _post(client, sign_request.SignedRequest("/postmark", good.headers, b'{"To": 1'))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert answer.json == {"error": "unavailable", "detail": "gcs: ConnectionError"}
    store.down = False
    assert store.objects == {}


def test_an_oversized_authenticated_body_is_413_and_not_kept(
    harness: tuple[Any, InMemoryObjectStore, RecordingPublisher],
) -> None:
    client, store, _ = harness
    good = sign_request.build_request("postmark", b"", LOCAL_WEBHOOK_SECRETS)
    big = b'{"To": "' + b"x" * (64 * 1024) + b'"}'
    answer = client.post("/postmark", data=big, headers=good.headers)
    assert answer.status_code == 413
    assert store.objects == {}


def test_a_captured_mailgun_signature_cannot_store_a_second_body(
    harness: tuple[Any, InMemoryObjectStore, RecordingPublisher],
) -> None:
    client, store, _ = harness
    token = f"tok-{time.time_ns()}"
    assert _post(client, malformed_mailgun(token)).status_code == 406
    second = _post(client, malformed_mailgun(token, note=b"other"))
    assert second.status_code == 403 and second.json["error"] == "replayed"
    assert len([n for n in store.objects if n.endswith(".body")]) == 1
