"""B9 — end to end: a burst of emails through the webhook, the emulator's push and the processor.

The stack's own webhook and processor (``THREADS=8``) with the Pub/Sub emulator's push
subscription in between; Claude is the stand-in answering each email after 200 ms. 16 client
threads post ``b9_emails`` signed ``/raw`` requests as fast as the webhook takes them; then the
benchmark waits for every report. Latency: from sending an email's webhook request to its
report row's ``created_at``. Figure: emails per second from the first request to the last
report; p50/p95 latency in the details.

Baseline, in the same run and before it: the same burst (as many fresh emails, 16 client
threads) through a webhook process of the same code and threads, publishing to a topic of its
own whose push subscription (same emulator, same retry policy) delivers to a bare CloudEvent
handler (:mod:`infra.bench.baselines.bare_push`, the processor's ``THREADS``) that waits as long
as the stand-in takes and acknowledges — everything the burst must go through except the
processor's own work. Both sides are warmed with 16 emails first.

Where the time goes, in the details: each server's CPU per email over each side's burst (the
process tree's user + system time from ``/proc``: functions-framework's workers, Postgres'
backends included) and the processor's stage medians from the reports.

Target: processor rate ≥ 0.8 × the baseline's, and all processed exactly once — every request
answered 200, one ``done`` report per email with the scripted decision, each account updated
once (``applied_email_ids`` holds only that email, one history entry), one notification per
``UPDATE_AND_NOTIFY`` email.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from typing import Any

from infra.bench import workload
from infra.bench.b3_throughput import stage_medians
from infra.bench.context import BenchContext, require
from infra.bench.cpu import tree_cpu_seconds
from infra.bench.processes import BASELINES, function_process, post
from infra.bench.results import Check, Measurement, percentile
from infra.stack import PROJECT

KEY = "B9"
TITLE = "end to end (webhook→report)"
TARGET = "≥ 0.8 × bare push handler, exactly once"
LIMIT = 0.8
CLIENT_THREADS = 16
WARMUP = 16
BASELINE_TOPIC = "bench-b9-baseline"
BASELINE_SUBSCRIPTION = "bench-b9-baseline-push"


def _post_all(
    ctx: BenchContext, emails: list[workload.BenchEmail], url: str | None = None
) -> dict[str, Any]:
    build_request = require("infra.sign_request", "build_request").build_request
    env = ctx.env()
    url = (url or env["WEBHOOK_URL"]).rstrip("/")

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


def _push_subscription(ctx: BenchContext, endpoint: str) -> None:
    """The baseline's topic and push subscription, configured as the processor's."""
    from google.api_core.exceptions import AlreadyExists, NotFound
    from google.cloud import pubsub_v1
    from google.protobuf import duration_pb2

    from shared.config import get_settings

    settings = get_settings()
    stack = ctx.stack
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    try:
        topic = publisher.topic_path(PROJECT, BASELINE_TOPIC)
        subscription = subscriber.subscription_path(PROJECT, BASELINE_SUBSCRIPTION)
        with contextlib.suppress(AlreadyExists):
            publisher.create_topic(request={"name": topic}, timeout=30)
        with contextlib.suppress(NotFound):
            subscriber.delete_subscription(request={"subscription": subscription}, timeout=30)
        low = stack.push_min_backoff
        subscriber.create_subscription(
            request={
                "name": subscription,
                "topic": topic,
                "push_config": {"push_endpoint": endpoint + "/"},
                "ack_deadline_seconds": 60,
                "retry_policy": {
                    "minimum_backoff": duration_pb2.Duration(
                        seconds=int(low), nanos=int(low % 1 * 1e9)
                    ),
                    "maximum_backoff": duration_pb2.Duration(seconds=int(stack.push_max_backoff)),
                },
                "dead_letter_policy": {
                    "dead_letter_topic": publisher.topic_path(
                        PROJECT, settings.pubsub_dead_letter_topic
                    ),
                    "max_delivery_attempts": stack.max_delivery_attempts,
                },
            },
            timeout=30,
        )
    finally:
        subscriber.close()
        publisher.transport.close()


def _drop_push_subscription() -> None:
    from google.api_core.exceptions import NotFound
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(PROJECT, BASELINE_SUBSCRIPTION)
    try:
        with contextlib.suppress(NotFound):
            subscriber.delete_subscription(request={"subscription": subscription}, timeout=30)
    finally:
        subscriber.close()


def _finished(path: Any) -> dict[str, float]:
    """email id → when the bare handler finished it (the first time)."""
    done: dict[str, float] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            email_id, _, when = line.partition(" ")
            if when:
                done.setdefault(email_id, float(when))
    return done


def _baseline(ctx: BenchContext) -> dict[str, Any]:
    """The same burst through a webhook, the emulator's push and a bare handler."""
    sizes = ctx.sizes
    done_file = ctx.work_dir / f"b9-bare-{uuid.uuid4().hex[:8]}.txt"
    bare = function_process(
        ctx,
        "b9-bare",
        function="processor",
        threads=ctx.stack.processor_threads,
        source=BASELINES / "bare_push.py",
        target="bare",
        extra_env={
            "BENCH_WAIT_SECONDS": str(sizes.b9_claude_seconds),
            "BENCH_DONE_FILE": str(done_file),
        },
    )
    webhook = function_process(
        ctx, "b9-webhook", function="webhook", extra_env={"PUBSUB_TOPIC": BASELINE_TOPIC}
    )
    warm = workload.make_emails(WARMUP, "b9bw")
    emails = workload.make_emails(sizes.b9_emails, "b9b")
    try:
        bare.start()
        webhook.start()
        _push_subscription(ctx, f"http://127.0.0.1:{bare.port}")
        url = f"http://127.0.0.1:{webhook.port}"
        warm_ids = set(_post_all(ctx, warm, url)["ids"].values())
        _wait(lambda: warm_ids <= set(_finished(done_file)), sizes.b9_timeout_seconds)
        servers = {name: ctx.stack.servers[name] for name in ("pubsub", "gcs")}
        cpu = CpuWatch({"webhook": webhook, "bare handler": bare, **servers})
        cpu.start()
        started = time.time()
        posted = _post_all(ctx, emails, url)
        ids = set(posted["ids"].values())
        _wait(lambda: ids <= set(_finished(done_file)), sizes.b9_timeout_seconds)
        cpu_ms = cpu.per_email(len(emails))
    finally:
        _drop_push_subscription()
        webhook.stop()
        bare.stop()
    finished = {k: v for k, v in _finished(done_file).items() if k in ids}
    latencies = [
        finished[email_id] - posted["sent"][marker]
        for marker, email_id in posted["ids"].items()
        if email_id in finished
    ]
    last = max(finished.values(), default=time.time())
    return {
        "rate": len(finished) / (last - started) if finished else 0.0,
        "finished": len(finished),
        "emails": len(emails),
        "latency_p50_seconds": round(percentile(latencies, 0.5), 2) if latencies else None,
        "latency_p95_seconds": round(percentile(latencies, 0.95), 2) if latencies else None,
        "cpu_ms_per_email": cpu_ms,
    }


def _server_pid(process: Any) -> int | None:
    pid_of = getattr(process, "_postmaster_pid", None)  # Postgres: its postmaster
    if pid_of is not None:
        return pid_of()  # type: ignore[no-any-return]
    return int(process.process.pid) if getattr(process, "process", None) is not None else None


class CpuWatch:
    """CPU milliseconds per email of each watched server's process tree, between
    :meth:`start` and :meth:`per_email`."""

    def __init__(self, servers: dict[str, Any]) -> None:
        pids = {name: _server_pid(process) for name, process in servers.items()}
        self._pids = {name: pid for name, pid in pids.items() if pid is not None}
        self._before: dict[str, float] = {}

    def start(self) -> None:
        self._before = {name: tree_cpu_seconds(pid) for name, pid in self._pids.items()}

    def per_email(self, emails: int) -> dict[str, float]:
        spent = {
            name: tree_cpu_seconds(pid) - self._before[name] for name, pid in self._pids.items()
        }
        return {name: round(seconds * 1000 / max(emails, 1), 1) for name, seconds in spent.items()}


def _wait(done: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.25)


def _cpu_line(cpu_ms: dict[str, float]) -> str:
    busy = sorted(cpu_ms.items(), key=lambda item: -item[1])
    return ", ".join(f"{name} {ms:g}" for name, ms in busy if ms >= 0.1)


def run(ctx: BenchContext) -> Measurement:
    require("shared.intake.handler", "ROUTES")
    require("infra.sign_request", "build_request")
    require("shared.processing.bootstrap", "get_pipeline")
    ctx.use_stack_env()
    from shared.db.engine import get_engine

    sizes = ctx.sizes
    env = ctx.env()
    engine = get_engine()
    baseline = _baseline(ctx)
    warm = workload.make_emails(WARMUP, "b9w")
    emails = workload.make_emails(sizes.b9_emails, "b9")
    workload.prepare(env, warm + emails, delay_seconds=sizes.b9_claude_seconds)
    warm_ids = list(_post_all(ctx, warm)["ids"].values())
    _wait(lambda: len(_reports(engine, warm_ids)) >= len(warm_ids), sizes.b9_timeout_seconds)
    cpu = CpuWatch(dict(ctx.stack.servers))
    cpu.start()
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
    cpu_ms = cpu.per_email(len(emails))  # as the bare side's: the burst's end, no settling
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
    stages = stage_medians(ids)
    p50 = percentile(latencies, 0.5) if latencies else float("nan")
    p95 = percentile(latencies, 0.95) if latencies else float("nan")
    base = baseline["rate"]
    ratio = rate / base if base else 0.0
    return Measurement(
        summary=(
            f"{len(reports)} of {len(emails)} reported; webhook→report latency "
            f"p50 {p50:.1f} s, p95 {p95:.1f} s (burst posted in {posted_seconds:.0f} s); "
            f"bare handler: {baseline['finished']} of {baseline['emails']} acknowledged, "
            f"latency p50 {baseline['latency_p50_seconds']} s, "
            f"p95 {baseline['latency_p95_seconds']} s; CPU per email (ms) "
            + _cpu_line(cpu_ms)
            + "; bare side "
            + _cpu_line(baseline["cpu_ms_per_email"])
            + "; stage medians (ms) "
            + ", ".join(f"{stage} {ms:g}" for stage, ms in stages.items())
        ),
        figure=rate,
        unit="email/s",
        baseline=base,
        ratio=ratio,
        checks=[
            Check.at_least("processor / bare handler", ratio, LIMIT, "{:.2f}"),
            Check.equal("bare handler acknowledged", baseline["finished"], baseline["emails"]),
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
            "cpu_ms_per_email": cpu_ms,
            "stage_medians_ms": stages,
            "baseline": baseline,
        },
    )
