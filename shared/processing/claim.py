"""Claiming an email for processing: one atomic statement on the ``emails`` row.

``INSERT … ON CONFLICT (email_id) DO UPDATE … WHERE <claimable> RETURNING`` either creates the
row already leased to us, or takes over a row that is not finished and whose lease is free or
expired — in both cases ``attempts`` counts this delivery. When the upsert claims nothing, the
same statement says why, from the row as it was when the statement started: the email is
``done``/``failed`` (a duplicate delivery: acknowledge) or another instance holds an unexpired
lease (raise :class:`~shared.errors.LeaseHeldError`, Pub/Sub redelivers later). Two deliveries
racing on the same id serialise on the row lock: exactly one of them gets the lease; a loser
that started before the winner's row existed sees no row and is told "held" as well.

One statement, run in autocommit by the store: one round trip per claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from shared.processing.envelope import EmailNotice
from shared.processing.outcome import ClaimStatus

if TYPE_CHECKING:  # the ORM loads with the first session only (cold start, B6)
    from sqlalchemy.orm import Session


_CLAIM = text(
    """
    WITH claimed AS (
    INSERT INTO emails (email_id, correlation_id, provider, gcs_uri, received_at, status,
                        attempts, lease_owner, lease_expires_at, created_at, updated_at)
    VALUES (:email_id, :correlation_id, :provider, :gcs_uri, :received_at, 'processing',
            1, :owner, now() + make_interval(secs => :lease), now(), now())
    ON CONFLICT (email_id) DO UPDATE
       SET status = 'processing',
           lease_owner = :owner,
           lease_expires_at = now() + make_interval(secs => :lease),
           attempts = emails.attempts + 1,
           correlation_id = EXCLUDED.correlation_id,
           provider = COALESCE(emails.provider, EXCLUDED.provider),
           gcs_uri = COALESCE(emails.gcs_uri, EXCLUDED.gcs_uri),
           received_at = COALESCE(emails.received_at, EXCLUDED.received_at),
           updated_at = now()
     WHERE emails.status NOT IN ('done', 'failed')
       AND (emails.lease_expires_at IS NULL OR emails.lease_expires_at < now())
    RETURNING attempts
    )
    SELECT 'claimed' AS status, attempts FROM claimed
    UNION ALL
    SELECT status, attempts FROM emails
     WHERE email_id = :email_id AND NOT EXISTS (SELECT 1 FROM claimed)
    """
)

_RELEASE = text(
    """
    UPDATE emails SET lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
     WHERE email_id = :email_id AND lease_owner = :owner AND status = 'processing'
    """
)


# A delivery that has run for long keeps its lease before it changes an account: only while
# it is still the owner (a takeover sets another owner), from now on for a whole lease.
_RENEW = text(
    """
    UPDATE emails SET lease_expires_at = now() + make_interval(secs => :lease), updated_at = now()
     WHERE email_id = :email_id AND lease_owner = :owner AND status = 'processing'
    RETURNING email_id
    """
)


@dataclass(frozen=True)
class Claim:
    status: ClaimStatus
    attempts: int


def claim_email(
    session: Connection | Session,
    notice: EmailNotice,
    *,
    correlation_id: str,
    owner: str,
    lease_seconds: int,
) -> Claim:
    """Insert-or-lease the email's row (see the module docstring)."""
    row = session.execute(
        _CLAIM,
        {
            "email_id": notice.email_id,
            "correlation_id": correlation_id,
            "provider": notice.provider,
            "gcs_uri": notice.gcs_uri,
            "received_at": notice.received_at,
            "owner": owner,
            "lease": float(lease_seconds),
        },
    ).first()
    if row is None:  # inserted by a racing delivery after we started, or deleted: held
        return Claim(ClaimStatus.HELD, 0)
    status, attempts = row
    if status in (ClaimStatus.CLAIMED, ClaimStatus.DONE, ClaimStatus.FAILED):
        return Claim(ClaimStatus(status), int(attempts))
    return Claim(ClaimStatus.HELD, int(attempts))


def release_lease(session: Connection | Session, *, email_id: str, owner: str) -> bool:
    """Give the lease back (a transient failure) so the redelivery need not wait for expiry."""
    result = session.execute(_RELEASE, {"email_id": email_id, "owner": owner})
    return bool(getattr(result, "rowcount", 0))


def renew_lease(
    session: Connection | Session, *, email_id: str, owner: str, lease_seconds: int
) -> bool:
    """Extend this delivery's lease by a whole lease; False: it is no longer this delivery's
    (another one took the email over once the lease expired, or finished it)."""
    row = session.execute(
        _RENEW, {"email_id": email_id, "owner": owner, "lease": float(lease_seconds)}
    ).first()
    return row is not None
