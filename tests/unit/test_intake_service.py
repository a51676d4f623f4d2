"""Store-then-publish, idempotency and the replay cache, with the fake store and publisher."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from shared.intake.canonical import InboundEmail
from shared.intake.errors import IntakeUnavailable, ReplayedRequest
from shared.intake.service import accept_email, replay_object_name
from tests.fakes import InMemoryObjectStore, RecordingPublisher
from tests.intake_payloads import emails

RECEIVED = datetime(2025, 3, 4, 23, 59, 58, 123456, tzinfo=UTC)


def _inbound(mime: bytes | None = None, token: str | None = None) -> InboundEmail:
    sample = emails.with_attachments("<fixed-id@example.com>")
    return InboundEmail(
        provider="mailgun" if token else "raw",
        mime=mime or sample.mime,
        source="original",
        message_id="<fixed-id@example.com>",
        attachment_count=2,
        replay_token=token,
    )


def _accept(
    inbound: InboundEmail,
    store: InMemoryObjectStore,
    publisher: RecordingPublisher,
    cid: str = "corr-00000001",
):
    return accept_email(
        inbound, store=store, publisher=publisher, correlation_id=cid, received_at=RECEIVED
    )


def test_stores_mime_and_metadata_by_day_then_publishes_the_contract_shape() -> None:
    store, publisher = InMemoryObjectStore(), RecordingPublisher()
    inbound = _inbound()
    accepted = _accept(inbound, store, publisher)
    base = f"2025/03/04/{inbound.email_id}"
    assert list(store.objects) == [base + ".eml"]  # one object per email, metadata on it
    assert store.objects[base + ".eml"] == (inbound.mime, "message/rfc822")
    metadata = store.metadata[base + ".eml"]
    assert metadata["sha256"] == hashlib.sha256(inbound.mime).hexdigest()
    assert metadata["content_source"] == "original"
    assert metadata["correlation_id"] == "corr-00000001"
    assert metadata["size_bytes"] == str(len(inbound.mime))
    assert "provider_message_id" not in metadata  # None is left out
    ((data, attributes),) = publisher.published
    assert json.loads(data) == {
        "email_id": inbound.email_id,
        "gcs_uri": f"gs://raw-emails/{base}.eml",
        "provider": "raw",
        "received_at": "2025-03-04T23:59:58.123Z",
        "size_bytes": len(inbound.mime),
        "attachment_count": 2,
        "message_id": "<fixed-id@example.com>",
    }
    assert attributes == {"correlation_id": "corr-00000001", "email_id": inbound.email_id}
    assert accepted.duplicate is False


def test_a_retry_after_a_failed_publish_reuses_the_stored_object() -> None:
    store, publisher = InMemoryObjectStore(), RecordingPublisher(down=True)
    inbound = _inbound()
    with pytest.raises(IntakeUnavailable, match="pubsub"):
        _accept(inbound, store, publisher)
    stored = dict(store.objects)
    assert len(stored) == 1 and publisher.published == []
    publisher.down = False
    accepted = _accept(inbound, store, publisher, cid="corr-00000002")
    assert store.objects == stored
    assert accepted.duplicate is True
    ((data, attributes),) = publisher.published
    assert json.loads(data)["email_id"] == inbound.email_id
    assert attributes["correlation_id"] == "corr-00000002"


def test_the_same_email_id_with_other_bytes_keeps_the_first_copy_and_announces_it() -> None:
    store, publisher = InMemoryObjectStore(), RecordingPublisher()
    first = _inbound()
    _accept(first, store, publisher)
    second = _inbound(mime=emails.with_attachments("<fixed-id@example.com>").mime + b"\r\n")
    assert second.email_id == first.email_id
    _accept(second, store, publisher)
    base = f"2025/03/04/{first.email_id}"
    assert store.objects[base + ".eml"][0] == first.mime
    announced = [json.loads(data) for data, _ in publisher.published]
    assert announced[0] == announced[1]
    assert announced[1]["size_bytes"] == len(first.mime)


def test_a_duplicate_of_an_email_stored_with_a_json_beside_it_announces_that_copy() -> None:
    """Objects stored before the metadata moved onto the object keep ``<email_id>.json``."""
    store, publisher = InMemoryObjectStore(), RecordingPublisher()
    first = _inbound()
    base = f"2025/03/04/{first.email_id}"
    legacy = {"provider": "sendgrid", "received_at": "2025-03-04T01:02:03.000Z", "size_bytes": 7}
    store.create_if_absent(base + ".eml", b"earlier", "message/rfc822")
    store.create_if_absent(base + ".json", json.dumps(legacy).encode(), "application/json")
    accepted = _accept(first, store, publisher)
    assert accepted.duplicate is True
    ((data, _),) = publisher.published
    announced = json.loads(data)
    assert {k: announced[k] for k in legacy} == legacy
    assert announced["message_id"] == "<fixed-id@example.com>"


def test_metadata_values_are_bounded_utf8_strings() -> None:
    store, publisher = InMemoryObjectStore(), RecordingPublisher()
    inbound = InboundEmail(
        provider="postmark",
        mime=_inbound().mime,
        source="original",
        message_id="<fixed-id@example.com>",
        attachment_count=2,
        provider_message_id="\ud800" + "x" * 5000,
    )
    _accept(inbound, store, publisher)
    (metadata,) = store.metadata.values()
    assert all(isinstance(value, str) for value in metadata.values())
    assert metadata["provider_message_id"].encode("utf-8")  # no lone surrogate left
    assert len(metadata["provider_message_id"]) == 1024
    assert sum(len(k) + len(v.encode()) for k, v in metadata.items()) < 8192


def test_storage_down_publishes_nothing() -> None:
    store, publisher = InMemoryObjectStore(down=True), RecordingPublisher()
    with pytest.raises(IntakeUnavailable, match="gcs"):
        _accept(_inbound(), store, publisher)
    assert publisher.published == []


def test_a_token_carries_one_email_only() -> None:
    store, publisher = InMemoryObjectStore(), RecordingPublisher()
    _accept(_inbound(token="tok-1"), store, publisher)
    assert replay_object_name("mailgun", "tok-1") in store.objects
    other = InboundEmail(
        provider="mailgun",
        mime=b"From: x@example.com\r\n\r\nforged\r\n",
        source="original",
        message_id=None,
        attachment_count=0,
        replay_token="tok-1",
    )
    with pytest.raises(ReplayedRequest):
        _accept(other, store, publisher)
    assert len(publisher.published) == 1
    assert not any(other.email_id in name for name in store.objects)


def test_the_same_token_with_the_same_email_is_a_redelivery_not_a_new_email() -> None:
    store, publisher = InMemoryObjectStore(), RecordingPublisher()
    inbound = _inbound(token="tok-2")
    _accept(inbound, store, publisher)
    before = dict(store.objects)
    again = _accept(inbound, store, publisher)
    assert again.duplicate is True
    assert store.objects == before
    assert {json.loads(d)["email_id"] for d, _ in publisher.published} == {inbound.email_id}


def test_token_names_in_the_bucket_do_not_reveal_the_token() -> None:
    name = replay_object_name("mailgun", "../../etc/passwd")
    assert name.startswith("replay/mailgun/") and ".." not in name and len(name) == 15 + 64


def test_an_email_without_message_id_is_hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its id and its object's ``sha256`` are the same digest of the MIME: computed once."""
    from shared.intake import canonical
    from shared.intake.canonical import derive_email_id

    mime = emails.without_message_id().mime
    inbound = InboundEmail(
        provider="raw", mime=mime, source="original", message_id=None, attachment_count=0
    )
    hashed: list[int] = []
    real_sha256 = hashlib.sha256

    def counting_sha256(data: bytes = b"") -> object:
        if data == mime:
            hashed.append(len(data))
        return real_sha256(data)

    monkeypatch.setattr(canonical.hashlib, "sha256", counting_sha256)
    store, publisher = InMemoryObjectStore(), RecordingPublisher()
    accepted = _accept(inbound, store, publisher)
    assert hashed == [len(mime)]
    digest = real_sha256(mime).hexdigest()
    assert accepted.email_id == "h-" + digest[:32] == derive_email_id(None, mime)
    assert store.metadata[f"2025/03/04/{accepted.email_id}.eml"]["sha256"] == digest
