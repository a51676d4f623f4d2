"""Queries over ``processing_reports`` (kept for good: collection records are never purged).

Every function takes the caller's :class:`~sqlalchemy.orm.Session`, so it composes with
:func:`shared.db.engine.transaction` and with tests. ``fields`` is JSONB shaped
``{"<field>": {"value": …, "confidence": 0.0–1.0, "evidence": …}}``; the confidence queries
read it in SQL and ignore entries without a numeric confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Float, Text, and_, cast, column, exists, func, or_, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from shared.db.models import ProcessingReport

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def report_by_email_id(session: Session, email_id: str) -> ProcessingReport | None:
    return session.scalar(select(ProcessingReport).where(ProcessingReport.email_id == email_id))


def reports_by_correlation_id(session: Session, correlation_id: str) -> list[ProcessingReport]:
    query = (
        select(ProcessingReport)
        .where(ProcessingReport.correlation_id == correlation_id)
        .order_by(ProcessingReport.created_at)
    )
    return list(session.scalars(query))


def reports_between(
    session: Session,
    since: datetime,
    until: datetime | None = None,
    *,
    decision: str | None = None,
    intent: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[ProcessingReport]:
    """Reports created in ``[since, until)``, newest first, optionally of one decision/intent."""
    conditions = [ProcessingReport.created_at >= since]
    if until is not None:
        conditions.append(ProcessingReport.created_at < until)
    if decision is not None:
        conditions.append(ProcessingReport.decision == decision)
    if intent is not None:
        conditions.append(ProcessingReport.intent == intent)
    query = (
        select(ProcessingReport)
        .where(and_(*conditions))
        .order_by(ProcessingReport.created_at.desc(), ProcessingReport.id.desc())
        .limit(_limit(limit))
    )
    return list(session.scalars(query))


def low_confidence_reports(
    session: Session,
    threshold: float,
    *,
    field: str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[ProcessingReport]:
    """Reports with a field whose confidence is below ``threshold`` (``field``: that field
    only; otherwise any field, or the overall confidence), newest first."""
    if not 0 <= threshold <= 1:
        raise ValueError("threshold must be between 0 and 1")
    if field is not None:
        entry = ProcessingReport.fields[field]
        condition: Any = and_(
            func.jsonb_typeof(entry["confidence"]) == "number",
            cast(entry["confidence"].astext, Float) < threshold,
        )
    else:
        each = (
            func.jsonb_each(ProcessingReport.fields)
            .table_valued(column("key", Text), column("value", JSONB))
            .alias("f")
        )
        condition = or_(
            ProcessingReport.overall_confidence < threshold,
            exists(
                select(1)
                .select_from(each)
                .where(
                    func.jsonb_typeof(each.c.value["confidence"]) == "number",
                    cast(each.c.value["confidence"].astext, Float) < threshold,
                )
            ),
        )
    query = select(ProcessingReport).where(condition)
    if since is not None:
        query = query.where(ProcessingReport.created_at >= since)
    query = query.order_by(ProcessingReport.created_at.desc()).limit(_limit(limit))
    return list(session.scalars(query))


def failed_reports(
    session: Session, *, since: datetime | None = None, limit: int = DEFAULT_LIMIT
) -> list[ProcessingReport]:
    query = select(ProcessingReport).where(ProcessingReport.status == "failed")
    if since is not None:
        query = query.where(ProcessingReport.created_at >= since)
    query = query.order_by(ProcessingReport.created_at.desc()).limit(_limit(limit))
    return list(session.scalars(query))


@dataclass(frozen=True)
class DailyCount:
    day: date
    decision: str | None
    intent: str | None
    count: int


def daily_counts(
    session: Session, since: datetime, until: datetime | None = None, *, time_zone: str = "UTC"
) -> list[DailyCount]:
    """Reports per day (in ``time_zone``) × decision × intent, oldest day first."""
    day = func.date(func.timezone(time_zone, ProcessingReport.created_at)).label("day")
    query = select(
        day, ProcessingReport.decision, ProcessingReport.intent, func.count().label("n")
    ).where(ProcessingReport.created_at >= since)
    if until is not None:
        query = query.where(ProcessingReport.created_at < until)
    # By position: the day expression carries a bound parameter, so repeating it would not
    # be recognised as the same expression.
    query = query.group_by(text("1"), text("2"), text("3")).order_by(text("1, 2, 3"))
    return [DailyCount(r.day, r.decision, r.intent, int(r.n)) for r in session.execute(query)]


__all__ = [
    "DailyCount",
    "daily_counts",
    "failed_reports",
    "low_confidence_reports",
    "report_by_email_id",
    "reports_between",
    "reports_by_correlation_id",
]
