"""Keep the raw body of an authenticated request that was refused as malformed.

Such a request gets the provider's "do not retry" status (Mailgun 406, Postmark 403), so if the
refusal is a bug of our own parser the email would be gone. Its body is therefore kept, as
received, in the raw-email bucket before the 4xx is sent::

    rejected/<yyyy>/<mm>/<dd>/<correlation_id>.body   the request body, byte for byte
    rejected/<yyyy>/<mm>/<dd>/<correlation_id>.json   provider, route, content type, reason,
                                                       status, received time, correlation id,
                                                       size, SHA-256 (no personal data)

Both are written create-if-absent. A sender-supplied correlation id reused for a *different*
body gets ``<correlation_id>-<sha256[:16]>`` instead, so nothing is overwritten or dropped. When
the bucket cannot be written the caller answers 503 (the provider retries: nothing is lost).

Never kept: unauthenticated or forged requests (nobody without our secrets can fill the
bucket), bodies over the size limit (413, logged only), replayed Mailgun tokens. A Mailgun
token is claimed in the replay cache like an accepted email's, with ``rejected-<sha256>`` of the
body, because Mailgun's signature does not cover the body: a captured signature can then store
one body only, and the provider's own retry of that body (after a 503) is kept again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.intake.errors import FINAL, IntakeRejection
from shared.intake.ports import ObjectStore
from shared.intake.service import claim_replay_token, iso_utc

REJECTED_PREFIX = "rejected/"
_MAX_CONTENT_TYPE = 512


@dataclass(frozen=True)
class RejectedRequest:
    """What is known about a refused request: where it came from and why it was refused."""

    provider: str
    route: str
    content_type: str | None
    body: bytes
    rejection: IntakeRejection
    status: int


def should_keep(rejection: IntakeRejection) -> bool:
    """Only a final refusal (malformed, wrong type) of a sender that proved who it is."""
    return rejection.authenticated and isinstance(rejection, FINAL)


def keep_rejected(
    store: ObjectStore,
    request: RejectedRequest,
    *,
    correlation_id: str,
    received_at: datetime,
) -> str:
    """Store the body and its metadata; returns the body's ``gs://`` URI.

    Raises :class:`~shared.intake.errors.IntakeUnavailable` when the bucket fails and
    :class:`~shared.intake.errors.ReplayedRequest` for a Mailgun token already used by another
    body or email (then nothing is stored)."""
    digest = hashlib.sha256(request.body).hexdigest()
    if request.rejection.replay_token is not None:
        claim_replay_token(
            store, request.provider, request.rejection.replay_token, f"rejected-{digest[:32]}"
        )
    base = rejected_object_base(correlation_id, received_at)
    if not _create_or_same(store, base + ".body", request.body):
        base = f"{base}-{digest[:16]}"
        _create_or_same(store, base + ".body", request.body)
    metadata = {
        "provider": request.provider,
        "route": request.route,
        "content_type": (request.content_type or "")[:_MAX_CONTENT_TYPE] or None,
        "reason": request.rejection.code,
        "detail": request.rejection.message,
        "status": request.status,
        "received_at": iso_utc(received_at),
        "correlation_id": correlation_id,
        "size_bytes": len(request.body),
        "sha256": digest,
    }
    store.create_if_absent(
        base + ".json", json.dumps(metadata, sort_keys=True).encode(), "application/json"
    )
    return store.uri(base + ".body")


def rejected_object_base(correlation_id: str, received_at: datetime) -> str:
    """``rejected/<yyyy>/<mm>/<dd>/<correlation_id>`` (UTC day of receipt)."""
    return f"{REJECTED_PREFIX}{received_at.astimezone(UTC):%Y/%m/%d}/{correlation_id}"


def _create_or_same(store: ObjectStore, name: str, body: bytes) -> bool:
    """``True`` when ``name`` now holds ``body`` (created, or already there byte for byte)."""
    if store.create_if_absent(name, body, "application/octet-stream"):
        return True
    return store.read(name) == body
