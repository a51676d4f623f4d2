"""The Pub/Sub delivery, decoded and validated.

A push from the subscription reaches the function as a CloudEvent (functions-framework converts
the raw push body; Eventarc sends one directly in production). ``cloud_event.data["message"]``
holds ``data`` (base64 JSON published by the webhook), ``attributes``, ``messageId`` and
``publishTime``. The fields we read are checked strictly (every one present with the right
type, the object under ``yyyy/mm/dd/<email_id>.eml``); fields and attributes we do not know are
ignored, so a webhook that publishes a new field (a rolling deploy: new webhook, old processor)
never makes the processor drop the email.

Anything that fails those checks can never succeed on redelivery: :class:`InvalidEnvelope` (a
:class:`~shared.errors.InvalidMessage`) is acknowledged with a ``failed`` report. Such a message
may lack a usable ``email_id``, so the report is keyed on :func:`poison_key` — a hash of the
message data — which is stable across redeliveries of the same message (one report, however
often Pub/Sub delivers it). Error messages name fields and problems, never values.

A well-formed notice of an object in **another bucket** than this deployment's raw-email bucket
is not the message's fault but the configuration's (a webhook and a processor deployed with
different buckets): :class:`ForeignBucket` is transient, so Pub/Sub redelivers it and then moves
it to the dead-letter topic, from where it is replayed once the configuration is fixed — never
acknowledged as failed. ``delivery_foreign_bucket`` is logged at ERROR (bucket names and the
email id only).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.errors import InvalidMessage, TransientError
from shared.logs import log_event

EMAIL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
_EMAIL_ID = re.compile(EMAIL_ID_PATTERN)
_GCS_URI = re.compile(
    r"^gs://(?P<bucket>[a-z0-9][a-z0-9._-]{1,220})/(?P<name>[^\x00-\x1f]{1,1024})$"
)
_OBJECT_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/(?P<stem>[A-Za-z0-9][A-Za-z0-9._:-]{0,127})\.eml$")
POISON_PREFIX = "invalid-"

logger = logging.getLogger(__name__)


class InvalidEnvelope(InvalidMessage):
    """The delivery can never be processed; ``claimed_email_id`` is kept when it looked valid."""

    def __init__(self, message: str, *, claimed_email_id: str | None = None) -> None:
        super().__init__(message, stage="envelope")
        self.claimed_email_id = claimed_email_id


class ForeignBucket(TransientError):
    """The notice names another bucket than the configured raw-email bucket: redelivered, then
    dead-lettered (replayable), never acknowledged — the configuration is wrong, not the email."""

    def __init__(self, *, bucket: str, expected_bucket: str) -> None:
        super().__init__("gcs_uri names another bucket than the raw-email bucket", stage="envelope")
        self.bucket = bucket
        self.expected_bucket = expected_bucket


RECEIVED_AT_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
RECEIVED_AT_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class _Notice(BaseModel):
    """The body the webhook publishes (see ``shared/intake``); fields added by a newer webhook
    are ignored (a rolling deploy must not lose emails)."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    email_id: str = Field(pattern=EMAIL_ID_PATTERN)
    gcs_uri: str = Field(max_length=1100)
    provider: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    received_at: datetime
    size_bytes: int = Field(ge=0)
    attachment_count: int = Field(ge=0)
    message_id: str | None = Field(default=..., max_length=998)

    @field_validator("received_at")
    @classmethod
    def _a_day_the_processor_can_compute_with(cls, value: datetime) -> datetime:
        """Between 2000 and 2100 in UTC: the webhook writes the time it received the email, and
        a year 1 or 9999 overflows the day arithmetic of the payment keys after the claim."""
        try:
            utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        except OverflowError:
            raise ValueError("received_at is out of range") from None
        if not RECEIVED_AT_EARLIEST <= utc < RECEIVED_AT_LATEST:
            raise ValueError("received_at is out of range")
        return value


@dataclass(frozen=True)
class EmailNotice:
    """What the webhook told us about one stored email."""

    email_id: str
    gcs_uri: str
    bucket: str
    object_name: str
    provider: str
    received_at: datetime
    size_bytes: int
    attachment_count: int
    message_id: str | None


@dataclass(frozen=True)
class Delivery:
    """One push delivery of one email."""

    notice: EmailNotice
    correlation_id: str
    pubsub_message_id: str | None
    publish_time: datetime | None
    delivery_attempt: int | None

    @property
    def email_id(self) -> str:
        return self.notice.email_id


def message_of(data: Any) -> Mapping[str, Any]:
    """The ``message`` mapping of a CloudEvent's data, or an empty mapping."""
    if isinstance(data, Mapping):
        message = data.get("message")
        if isinstance(message, Mapping):
            return message
    return {}


def attributes_of(data: Any) -> Mapping[str, str]:
    attributes = message_of(data).get("attributes")
    if not isinstance(attributes, Mapping):
        return {}
    return {k: v for k, v in attributes.items() if isinstance(k, str) and isinstance(v, str)}


def poison_key(data: Any) -> str:
    """A stable email id for a message that has no usable one: a hash of its data."""
    raw = message_of(data).get("data")
    if isinstance(raw, str):
        material = raw.encode("utf-8", "replace")
    else:
        material = json.dumps(data, sort_keys=True, default=str).encode("utf-8", "replace")
    return POISON_PREFIX + hashlib.sha256(material).hexdigest()[:40]


def delivery_attempt_of(data: Any, push_envelope: Any = None) -> int | None:
    """``deliveryAttempt`` from the CloudEvent data or the raw push envelope, when present.

    Pub/Sub sets it only on subscriptions with a dead-letter policy; functions-framework drops
    it when converting a raw push, so the entry point passes the push envelope too.
    """
    for source in (data, push_envelope):
        if isinstance(source, Mapping):
            value = source.get("deliveryAttempt")
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _claimed_email_id(body: Any) -> str | None:
    if isinstance(body, Mapping):
        value = body.get("email_id")
        if isinstance(value, str) and _EMAIL_ID.fullmatch(value):
            return value
    return None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        where = ".".join(str(part) for part in error["loc"]) or "body"
        problems.append(f"{where}: {error['type']}")
    return "invalid message body (" + "; ".join(sorted(problems)[:10]) + ")"


def decode_delivery(
    data: Any,
    *,
    correlation_id: str,
    expected_bucket: str,
    delivery_attempt: int | None = None,
) -> Delivery:
    """Validate one delivery; raises :class:`InvalidEnvelope` when it can never be processed,
    :class:`ForeignBucket` (transient) when it names another bucket than ``expected_bucket``."""
    message = message_of(data)
    if not message:
        raise InvalidEnvelope("the event has no Pub/Sub message")
    encoded = message.get("data")
    if not isinstance(encoded, str) or not encoded:
        raise InvalidEnvelope("the message has no data")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidEnvelope("the message data is not valid base64") from None
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):  # nested past any notice
        raise InvalidEnvelope("the message data is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidEnvelope("the message data is not a JSON object")
    claimed = _claimed_email_id(body)
    try:
        notice = _Notice.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidEnvelope(_describe(exc), claimed_email_id=claimed) from None
    match = _GCS_URI.fullmatch(notice.gcs_uri)
    if match is None:
        raise InvalidEnvelope("gcs_uri is not a gs:// object URI", claimed_email_id=claimed)
    name_match = _OBJECT_NAME.fullmatch(match["name"])
    if name_match is None or name_match["stem"] != notice.email_id:
        raise InvalidEnvelope(
            "gcs_uri object is not yyyy/mm/dd/<email_id>.eml", claimed_email_id=claimed
        )
    attributes = attributes_of(data)
    attribute_email_id = attributes.get("email_id")
    if attribute_email_id is not None and attribute_email_id != notice.email_id:
        raise InvalidEnvelope(
            "the email_id attribute disagrees with the body", claimed_email_id=claimed
        )
    if match["bucket"] != expected_bucket:
        # Checked last: a message that is malformed as well is refused for that (acknowledged).
        log_event(
            logger,
            "delivery_foreign_bucket",
            level=logging.ERROR,
            email_id=notice.email_id,
            bucket=match["bucket"],
            expected_bucket=expected_bucket,
        )
        raise ForeignBucket(bucket=match["bucket"], expected_bucket=expected_bucket)
    received_at = notice.received_at
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    message_id = message.get("messageId")
    return Delivery(
        notice=EmailNotice(
            email_id=notice.email_id,
            gcs_uri=notice.gcs_uri,
            bucket=match["bucket"],
            object_name=match["name"],
            provider=notice.provider,
            received_at=received_at,
            size_bytes=notice.size_bytes,
            attachment_count=notice.attachment_count,
            message_id=notice.message_id,
        ),
        correlation_id=correlation_id,
        pubsub_message_id=message_id if isinstance(message_id, str) else None,
        publish_time=_parse_time(message.get("publishTime")),
        delivery_attempt=delivery_attempt,
    )
