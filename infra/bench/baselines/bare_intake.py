"""B5's baseline: the webhook's unavoidable work and nothing else.

A bare functions-framework HTTP handler that reads the request body and does the same I/O as
the webhook for a Mailgun email, with the same client libraries built the same way and the same
settings (:func:`shared.intake.gcs.make_storage_client`, the generated publisher client, the
webhook's timeouts and retry budgets): a create-if-absent write of a small replay marker, a
create-if-absent write of the body with custom metadata of the same shape, one synchronous
publish of an announcement with the same attributes. It verifies nothing, parses nothing and
normalises nothing: that is what the benchmark charges to the webhook.
"""

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import functions_framework
from google.api_core.retry import Retry
from google.cloud.storage.retry import DEFAULT_RETRY

from shared.config import get_settings
from shared.intake.gcs import make_storage_client
from shared.intake.pubsub import _RETRYABLE, make_publisher_client

_settings = get_settings()
_storage = make_storage_client(_settings.google_cloud_project)
_bucket = _storage.bucket(_settings.raw_email_bucket)
_publisher = make_publisher_client()
_topic = _publisher.topic_path(_settings.google_cloud_project, _settings.pubsub_topic)
_gcs_timeout = (
    min(_settings.webhook_gcs_timeout_seconds, 5.0),
    _settings.webhook_gcs_timeout_seconds,
)
_gcs_retry = DEFAULT_RETRY.with_timeout(_settings.webhook_gcs_retry_deadline_seconds).with_delay(
    initial=0.2, maximum=1.0, multiplier=2.0
)
_publish_timeout = min(_settings.pubsub_publish_timeout_seconds, 10.0)
_publish_retry = Retry(
    predicate=_RETRYABLE,
    initial=0.1,
    maximum=1.0,
    multiplier=2.0,
    timeout=_settings.pubsub_publish_timeout_seconds,
)


def _write(name: str, data: bytes, content_type: str, metadata: dict[str, str] | None) -> None:
    blob = _bucket.blob(name)
    if metadata:
        blob.metadata = metadata
    blob.upload_from_string(
        data,
        content_type=content_type,
        if_generation_match=0,
        timeout=_gcs_timeout,
        retry=_gcs_retry,
    )


@functions_framework.http
def bare(request: Any) -> Any:
    body = request.get_data()
    email_id = "bare-" + uuid.uuid4().hex
    received_at = datetime.now(UTC)
    stamp = received_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    digest = hashlib.sha256(body).hexdigest()
    _write(
        "replay/bare/" + uuid.uuid4().hex,
        json.dumps({"email_id": email_id}).encode(),
        "application/json",
        None,
    )
    name = f"{received_at:%Y/%m/%d}/{email_id}.eml"
    metadata = {
        "email_id": email_id,
        "provider": "mailgun",
        "received_at": stamp,
        "size_bytes": str(len(body)),
        "attachment_count": "1",
        "message_id": f"<{email_id}@bench.example>",
        "content_source": "bare",
        "dropped_headers": "0",
        "sha256": digest,
        "correlation_id": email_id,
    }
    _write(name, body, "message/rfc822", metadata)
    announcement = {
        "email_id": email_id,
        "gcs_uri": f"gs://{_settings.raw_email_bucket}/{name}",
        "provider": "mailgun",
        "received_at": stamp,
        "size_bytes": len(body),
        "attachment_count": 1,
        "message_id": metadata["message_id"],
    }
    _publisher.publish(
        topic=_topic,
        messages=[
            {
                "data": json.dumps(announcement, sort_keys=True).encode(),
                "attributes": {"correlation_id": email_id, "email_id": email_id},
            }
        ],
        retry=_publish_retry,
        timeout=_publish_timeout,
    )
    return {"ok": True}, 200
