"""B1 — database round trips per processed email, breakers included.

The real processor pipeline (``shared.processing``: real Postgres, GCS, MongoDB, SMTP, shared
breakers, metrics) runs in this process on one thread, one delivery after another, with an
instant Claude stand-in. After a warm-up (pool filled, breaker snapshots cached, clients
created), each email's round trips and statements are counted on its own
(:mod:`infra.bench.dbcount`). The figure is the median per email; the target (≤ 3) is checked
for the median of each decision path (``AUTO_UPDATE``, ``UPDATE_AND_NOTIFY``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from infra.bench import workload
from infra.bench.context import BenchContext, require
from infra.bench.dbcount import count_database
from infra.bench.results import Check, Measurement, median

KEY = "B1"
TITLE = "DB round trips per email"
TARGET = "≤ 3 per email, every route (steady state)"
LIMIT = 3


def processor_pipeline(ctx: BenchContext) -> Any:
    """The instance's real pipeline, built for the stack's settings."""
    require("shared.processing.entrypoint", "handle_delivery")
    bootstrap = require("shared.processing.bootstrap", "get_pipeline", "reset_pipeline")
    require("shared.breakers", "get_breaker")
    ctx.use_stack_env()
    bootstrap.reset_pipeline()
    return bootstrap.get_pipeline()


def deliver(email: workload.BenchEmail, pipeline: Any) -> str:
    from shared.processing.entrypoint import handle_delivery

    return str(handle_delivery(workload.cloud_event(email), pipeline=pipeline))


def run(ctx: BenchContext) -> Measurement:
    pipeline = processor_pipeline(ctx)
    from shared.db.engine import get_engine

    sizes = ctx.sizes
    warmup = workload.make_emails(sizes.b1_warmup, "b1w")
    emails = workload.make_emails(sizes.b1_emails, "b1")
    workload.prepare(ctx.env(), warmup + emails)
    outcomes: Counter[str] = Counter(deliver(email, pipeline) for email in warmup)
    by_path: dict[str, list[int]] = defaultdict(list)
    trips: list[int] = []
    statements: list[int] = []
    flushes: list[int] = []
    with count_database(get_engine()) as counts:
        for email in emails:
            before = counts.snapshot()
            outcomes[deliver(email, pipeline)] += 1
            after = counts.snapshot()
            statements.append(after[0] - before[0])
            trips.append(after[1] - before[1])
            flushes.append(after[2] - before[2])
            by_path[email.expected_decision].append(trips[-1])
        kinds = dict(counts.kinds)
    if outcomes.get("done", 0) != len(warmup) + len(emails):
        raise RuntimeError(f"not every email was processed: outcomes {dict(outcomes)}")
    decisions = _decisions([e.email_id for e in emails])
    wrong = {e.email_id for e in emails if decisions.get(e.email_id) != e.expected_decision}
    checks = [Check.at_most("median round trips per email", median(trips), LIMIT, "{:g}")]
    checks += [
        Check.at_most(f"median round trips ({path})", median(values), LIMIT, "{:g}")
        for path, values in sorted(by_path.items())
    ]
    checks.append(Check.equal("emails decided as scripted", len(emails) - len(wrong), len(emails)))
    return Measurement(
        summary=(
            f"per email: {median(trips):g} round trips = {median(statements):g} SQL statements "
            "+ implicit BEGIN, COMMIT and pool pre-ping per transaction"
        ),
        figure=median(trips),
        unit="rt",
        checks=checks,
        details={
            "emails": len(emails),
            "warmup_emails": len(warmup),
            "round_trips": {"median": median(trips), "max": max(trips), "mean": _mean(trips)},
            "statements": {"median": median(statements), "max": max(statements)},
            "wire_flushes_median": median(flushes),
            "round_trips_by_path": {p: median(v) for p, v in sorted(by_path.items())},
            "round_trips_by_first_word": kinds,
        },
    )


def _mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 2)


def _decisions(email_ids: list[str]) -> dict[str, str]:
    from sqlalchemy import text

    from shared.db.engine import get_engine

    with get_engine().connect() as conn:
        rows = conn.execute(
            text("SELECT email_id, decision FROM processing_reports WHERE email_id = ANY(:ids)"),
            {"ids": email_ids},
        )
        return {row.email_id: row.decision for row in rows}
