"""What the console reads from Postgres (plain SQL, one statement per page part)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from shared.processing.outcome import ReviewReason

REASONS = tuple(ReviewReason)
REASON_LABELS = {
    ReviewReason.COMPLIANCE: "Compliance",
    ReviewReason.NO_MATCH: "No match",
    ReviewReason.AMBIGUOUS: "Ambiguous match",
    ReviewReason.POSSIBLE_DUPLICATE: "Possible duplicate",
    ReviewReason.LOW_CONFIDENCE: "Low confidence",
    ReviewReason.FAILED: "Failed",
}
AGES = {"1h": "1 hour", "24h": "24 hours", "7d": "7 days"}
QUEUE_LIMIT = 200


@dataclass(frozen=True)
class QueueFilter:
    reason: str | None = None
    creditor: str | None = None
    older_than: str | None = None  # a key of AGES

    @classmethod
    def from_args(cls, args: Any) -> QueueFilter:
        reason = args.get("reason") or None
        age = args.get("age") or None
        creditor = (args.get("creditor") or "").strip()[:300] or None
        return cls(
            reason=reason if reason in REASONS else None,
            creditor=creditor,
            older_than=age if age in AGES else None,
        )


_QUEUE = """
    SELECT i.id, i.email_id, i.reason, i.creditor, i.status, i.claimed_by, i.claimed_until,
           i.created_at, now() - i.created_at AS waiting, r.intent, r.decision,
           r.overall_confidence, i.claimed_until > now() AS claim_active
      FROM review_items i LEFT JOIN processing_reports r ON r.email_id = i.email_id
     WHERE i.status <> 'closed'
       AND (CAST(:reason AS text) IS NULL OR i.reason = :reason)
       AND (CAST(:creditor AS text) IS NULL OR i.creditor ILIKE '%' || :creditor || '%')
       AND (CAST(:age AS interval) IS NULL OR i.created_at < now() - CAST(:age AS interval))
     ORDER BY (i.reason = 'compliance') DESC, i.created_at, i.id
     LIMIT :limit
"""


def queue(conn: Connection, flt: QueueFilter) -> list[dict[str, Any]]:
    """Open items, compliance first, then oldest first."""
    rows = conn.execute(
        text(_QUEUE),
        {
            "reason": flt.reason,
            "creditor": flt.creditor,
            "age": AGES[flt.older_than] if flt.older_than else None,
            "limit": QUEUE_LIMIT,
        },
    ).mappings()
    return [dict(r) for r in rows]


def counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        text("SELECT reason, count(*) FROM review_items WHERE status <> 'closed' GROUP BY reason")
    ).all()
    found = {str(reason): int(n) for reason, n in rows}
    return {reason: found.get(reason, 0) for reason in REASONS}


def item(conn: Connection, email_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            text(
                """
                SELECT i.*, i.claimed_until > now() AS claim_active,
                       now() - i.created_at AS waiting, e.gcs_uri, e.provider,
                       e.received_at, e.correlation_id AS email_correlation_id
                  FROM review_items i JOIN emails e ON e.email_id = i.email_id
                 WHERE i.email_id = :email_id
                """
            ),
            {"email_id": email_id},
        )
        .mappings()
        .one_or_none()
    )
    return dict(row) if row is not None else None


def report(conn: Connection, email_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            text("SELECT * FROM processing_reports WHERE email_id = :email_id"),
            {"email_id": email_id},
        )
        .mappings()
        .one_or_none()
    )
    return dict(row) if row is not None else None


def audit(conn: Connection, item_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            "SELECT id, actor, role, action, reason, before, after, at FROM review_audit "
            "WHERE item_id = :item_id ORDER BY at, id"
        ),
        {"item_id": item_id},
    ).mappings()
    return [dict(r) for r in rows]


def waited(created_at: datetime, now: datetime) -> str:
    """``3 h 12 min`` style waiting time."""
    minutes = max(0, int((now - created_at).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"
