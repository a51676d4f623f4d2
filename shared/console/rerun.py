"""Re-run extraction on an item's email: Claude through its shared breaker when configured
(the rules extractor when it is not, or while the breaker is open or Claude refuses), exactly
as the processor reads an email. The new reading is stored on the item (``override``) with its
audit row; applying uses it. The report, the business record of what the processor did, is
left as it was."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from shared.config import Settings
from shared.console.actions import Done, check_open, lock_item, write_audit
from shared.console.auth import Identity
from shared.console.updates import reading
from shared.errors import BreakerOpenError, ProcessingError
from shared.extraction.models import Extraction, ParsedEmail
from shared.processing.report import fields_of


def extract(settings: Settings, email: ParsedEmail) -> Extraction:
    """A fresh reading of ``email`` (slow: call it before locking the item)."""
    from shared.extraction.factory import build_extractors

    claude, rules = build_extractors(settings)
    if claude is not None:
        from shared.breakers import get_breaker

        breaker = get_breaker("claude")
        if not breaker.is_open():
            try:
                result: Extraction = breaker.call(claude.extract, email)
                return result
            except (BreakerOpenError, ProcessingError):
                pass  # the rules extractor stands in, as in the processor
    return rules.extract(email)


def store_rerun(
    conn: Connection,
    email_id: str,
    who: Identity,
    *,
    extraction: Extraction,
    report: dict[str, Any] | None,
) -> Done:
    item = lock_item(conn, email_id)
    check_open(item, who)
    before = reading(report, item)
    override = {
        "intent": extraction.intent,
        "fields": fields_of(extraction),
        "extractor": extraction.extractor,
        "overall_confidence": round(extraction.overall_confidence, 4),
    }
    conn.execute(
        text(
            "UPDATE review_items SET override = CAST(:o AS jsonb), updated_at = now() "
            "WHERE id = :id"
        ),
        {"o": json.dumps(override, default=str), "id": item["id"]},
    )
    write_audit(conn, item, who, "rerun_extraction", before=before, after=override)
    return Done(
        f"Extraction re-run ({extraction.extractor}): intent {extraction.intent}, "
        f"{len(extraction.fields)} fields. Apply to use it."
    )
