"""B9 — end to end: a burst of emails through the webhook, the emulator's push and the processor.

The stack's own webhook and processor (``THREADS=8``) with the Pub/Sub emulator's push
subscription in between; Claude is the stand-in answering each email after 200 ms. 16 client
threads post ``b9_emails`` signed ``/raw`` requests as fast as the webhook takes them; then the
benchmark waits for every report. Latency: from sending an email's webhook request to its
report row's ``created_at``. Figure: emails per second from the first request to the last
report; p50/p95 latency in the details.

Target: all processed exactly once — every request answered 200, one ``done`` report per
email with the scripted decision, each account updated once (``applied_email_ids`` holds only
that email, one history entry), one notification per ``UPDATE_AND_NOTIFY`` email.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from typing import Any

from infra.bench import workload
from infra.bench.context import BenchContext, require
from infra.bench.processes import post
from infra.bench.results import Check, Measurement, percentile

KEY = "B9"
TITLE = "end to end (webhook→report)"
TARGET = "all processed exactly once"
CLIENT_THREADS = 16


def _post_all(ctx: BenchContext, emails: list[workload.BenchEmail]) -> dict[str, Any]:
    build_request = require("infra.sign_request", "build_request").build_request
    env = ctx.env()
    url = env["WEBHOOK_URL"].rstrip("/")

    def send(email: workload.BenchEmail) -> tuple[str, float, int, str | None]:
        signed = build_request("raw", email.mime, env)
        sent = time.time()
        status, body = post(url + signed.path, signed.body, dict(signed.headers))
        email_id = None
        if status == 200:
            email_id = json.loads(body).get("email_id")
        return email.marker, sent, status, email_id

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        answers = list(pool.map(send, emails))
    return {
        "sent": {marker: sent for marker, sent, _, _ in answers},
        "statuses": Counter(status for _, _, status, _ in answers),
        "ids": {marker: email_id for marker, _, _, email_id in answers if email_id},
    }


def _reports(engine: Any, ids: list[str]) -> list[Any]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT email_id, status, decision, created_at FROM processing_reports "
                    "WHERE email_id = ANY(:ids)"
                ),
                {"ids": ids},
            )
        )


def _notifications(engine: Any, ids: list[str]) -> Counter[str]:
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT email_id FROM notifications WHERE email_id = ANY(:ids)"), {"ids": ids}
        )
        return Counter(row.email_id for row in rows)


def _accounts(env: dict[str, str], emails: list[workload.BenchEmail]) -> dict[str, Any]:
    import pymongo

    client: Any = pymongo.MongoClient(env["MONGODB_URI"])
    try:
        collection = client[env.get("MONGODB_DATABASE", "collections")][
            workload.ACCOUNTS_COLLECTION
        ]
        docs = collection.find({"_id": {"$in": [e.account_id for e in emails]}})
        return {doc["_id"]: doc for doc in docs}
    finally:
        client.close()


def run(ctx: BenchContext) -> Measurement:
    require("shared.intake.handler", "ROUTES")
    require("infra.sign_request", "build_request")
    require("shared.processing.bootstrap", "get_pipeline")
    ctx.use_stack_env()
    from shared.db.engine import get_engine

    sizes = ctx.sizes
    env = ctx.env()
    engine = get_engine()
    emails = workload.make_emails(sizes.b9_emails, "b9")
    workload.prepare(env, emails, delay_seconds=sizes.b9_claude_seconds)
    started = time.time()
    posted = _post_all(ctx, emails)
    posted_seconds = time.time() - started
    ids = list(posted["ids"].values())
    deadline = time.monotonic() + sizes.b9_timeout_seconds
    reports: list[Any] = []
    while time.monotonic() < deadline:
        reports = _reports(engine, ids)
        if len(reports) >= len(ids):
            break
        time.sleep(0.5)
    time.sleep(2.0)  # let any redelivery that was still in flight land before counting
    reports = _reports(engine, ids)
    by_id = {row.email_id: row for row in reports}
    latencies = [
        by_id[email_id].created_at.astimezone(UTC).timestamp() - posted["sent"][marker]
        for marker, email_id in posted["ids"].items()
        if email_id in by_id
    ]
    last = max((row.created_at.timestamp() for row in reports), default=time.time())
    rate = len(reports) / (last - started) if reports else 0.0
    accounts = _accounts(env, emails)
    notes = _notifications(engine, ids)
    once = 0
    for email in emails:
        email_id = posted["ids"].get(email.marker)
        doc = accounts.get(email.account_id) or {}
        report = by_id.get(email_id) if email_id else None
        wanted_notes = 1 if email.expected_decision == "UPDATE_AND_NOTIFY" else 0
        if (
            report is not None
            and report.status == "done"
            and report.decision == email.expected_decision
            and doc.get("applied_email_ids") == [email_id]
            and len(doc.get("history", [])) == 1
            and notes.get(email_id, 0) == wanted_notes
        ):
            once += 1
    statuses = posted["statuses"]
    p50 = percentile(latencies, 0.5) if latencies else float("nan")
    p95 = percentile(latencies, 0.95) if latencies else float("nan")
    return Measurement(
        summary=(
            f"{len(reports)} of {len(emails)} reported; webhook→report latency "
            f"p50 {p50:.1f} s, p95 {p95:.1f} s (burst posted in {posted_seconds:.0f} s)"
        ),
        figure=rate,
        unit="email/s",
        checks=[
            Check.equal("webhook answers 200", statuses.get(200, 0), len(emails)),
            Check.equal("distinct email ids", len(set(ids)), len(emails)),
            Check.equal("emails processed exactly once", once, len(emails)),
        ],
        details={
            "emails": len(emails),
            "claude_seconds": sizes.b9_claude_seconds,
            "processor_threads": ctx.stack.processor_threads,
            "webhook_statuses": dict(statuses),
            "posting_seconds": round(posted_seconds, 1),
            "reports": len(reports),
            "latency_p50_seconds": round(percentile(latencies, 0.5), 2) if latencies else None,
            "latency_p95_seconds": round(percentile(latencies, 0.95), 2) if latencies else None,
            "latency_max_seconds": round(max(latencies), 2) if latencies else None,
        },
    )
