"""Accept one normalised email: claim its replay token, store it, publish its reference.

Idempotent by ``email_id``: the object path is ``<yyyy>/<mm>/<dd>/<email_id>.eml`` and is written
create-if-absent, so a retry after a failed publish finds the object already there and publishes
the same reference again (never a second, different email). The first stored copy wins; its
metadata (the object's custom metadata, written in the same request as the MIME, so the two can
never disagree or exist one without the other) describes what the Pub/Sub message announces.
Objects stored before the metadata moved onto the object have a ``<email_id>.json`` beside them,
still read on that (duplicate) path.

A Mailgun token is claimed under ``replay/mailgun/<sha256(token)>`` with a create-if-absent
write, which every instance sees. The claim records the ``email_id``: the token presented again
with a *different* email is a forgery (Mailgun's signature does not cover the body) and is
refused; presented again with the *same* email it is a redelivery of a request that may not
have finished, and is handled like any other duplicate (nothing new is stored).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.context import set_email_id
from shared.intake.canonical import InboundEmail
from shared.intake.errors import ReplayedRequest
from shared.intake.ports import ObjectStore, Publisher
from shared.logs import log_event

logger = logging.getLogger(__name__)

REPLAY_PREFIX = "replay/"


@dataclass(frozen=True)
class AcceptedEmail:
    email_id: str
    gcs_uri: str
    pubsub_message_id: str
    duplicate: bool
    announcement: dict[str, Any]


def object_base(email_id: str, received_at: datetime) -> str:
    """``yyyy/mm/dd/<email_id>`` (UTC day of receipt)."""
    return f"{received_at.astimezone(UTC):%Y/%m/%d}/{email_id}"


def accept_email(
    email: InboundEmail,
    *,
    store: ObjectStore,
    publisher: Publisher,
    correlation_id: str,
    received_at: datetime,
) -> AcceptedEmail:
    """Store (if absent) and publish; raises :class:`IntakeUnavailable` or
    :class:`ReplayedRequest`, having published nothing."""
    email_id = email.email_id
    set_email_id(email_id)
    if email.replay_token is not None:
        claim_replay_token(store, email.provider, email.replay_token, email_id)
    base = object_base(email_id, received_at)
    metadata = _metadata(email, email_id, correlation_id, received_at)
    created = store.create_if_absent(
        base + ".eml", email.mime, "message/rfc822", metadata=object_metadata(metadata)
    )
    if not created:
        stored = _stored_metadata(store, base)
        if stored is not None:
            log_event(
                logger,
                "email_duplicate",
                first_provider=stored.get("provider"),
                same_content=stored.get("sha256") == metadata["sha256"],
            )
            metadata = {**metadata, **{k: stored[k] for k in _ANNOUNCED if k in stored}}
    announcement = {
        "email_id": email_id,
        "gcs_uri": store.uri(base + ".eml"),
        **{key: metadata[key] for key in _ANNOUNCED},
    }
    message_id = publisher.publish(
        json.dumps(announcement, sort_keys=True).encode(),
        {"correlation_id": correlation_id, "email_id": email_id},
    )
    return AcceptedEmail(
        email_id=email_id,
        gcs_uri=announcement["gcs_uri"],
        pubsub_message_id=message_id,
        duplicate=not created,
        announcement=announcement,
    )


_ANNOUNCED = ("provider", "received_at", "size_bytes", "attachment_count", "message_id")


def _metadata(
    email: InboundEmail, email_id: str, correlation_id: str, received_at: datetime
) -> dict[str, Any]:
    return {
        "email_id": email_id,
        "provider": email.provider,
        "received_at": iso_utc(received_at),
        "size_bytes": len(email.mime),
        "attachment_count": email.attachment_count,
        "message_id": email.message_id,
        "provider_message_id": email.provider_message_id,
        "content_source": email.source,
        "dropped_headers": email.dropped_headers,
        "sha256": email.sha256,
        "correlation_id": correlation_id,
    }


_INTEGERS = frozenset({"size_bytes", "attachment_count", "dropped_headers"})
# Cloud Storage allows 8 KiB of custom metadata per object; every value but a provider's own id
# is bounded ASCII already (a Message-ID is at most 995 characters).
_MAX_METADATA_VALUE = 1024


def object_metadata(metadata: dict[str, Any]) -> dict[str, str]:
    """The metadata as the object's custom metadata: valid UTF-8 strings of bounded length,
    ``None`` left out."""
    return {
        key: str(value).encode("utf-8", "replace").decode("utf-8")[:_MAX_METADATA_VALUE]
        for key, value in metadata.items()
        if value is not None
    }


def parse_object_metadata(stored: dict[str, str]) -> dict[str, Any]:
    """Back from :func:`object_metadata`: counts as ints, absent optional fields as ``None``."""
    metadata: dict[str, Any] = {"message_id": None, "provider_message_id": None}
    for key, value in stored.items():
        if key in _INTEGERS:
            try:
                metadata[key] = int(value)
            except ValueError:
                continue  # not ours: the current request's value stays
        else:
            metadata[key] = value
    return metadata


def _stored_metadata(store: ObjectStore, base: str) -> dict[str, Any] | None:
    """What the first stored copy said about itself; ``None`` when it says nothing."""
    on_object = store.read_metadata(base + ".eml")
    if on_object:
        return parse_object_metadata(on_object)
    return _read_json(store, base + ".json")  # stored before metadata moved onto the object


def iso_utc(moment: datetime) -> str:
    """``2024-05-01T12:00:00.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _read_json(store: ObjectStore, name: str) -> dict[str, Any] | None:
    raw = store.read(name)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def replay_object_name(provider: str, token: str) -> str:
    digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{REPLAY_PREFIX}{provider}/{digest}"


def claim_replay_token(store: ObjectStore, provider: str, token: str, email_id: str) -> None:
    """Record ``token`` as used for ``email_id``; refuse it for any other email."""
    name = replay_object_name(provider, token)
    record = json.dumps({"email_id": email_id}).encode()
    if store.create_if_absent(name, record, "application/json"):
        return
    claimed = _read_json(store, name)
    if claimed is None or claimed.get("email_id") != email_id:
        raise ReplayedRequest("token already used for another request")
    log_event(logger, "replay_token_redelivered", provider=provider)
