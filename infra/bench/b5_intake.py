"""B5 — webhook intake: requests per second vs. a bare functions-framework handler.

Two processes started alike (``functions-framework``, ``THREADS=8``, the stack's env): the real
webhook, publishing to a topic of its own with a pull subscription (so the stack's processor
does not compete for the CPU), and :mod:`infra.bench.baselines.bare_intake`, which reads the
body and does the webhook's unavoidable I/O with the same client libraries and settings — the
replay marker and the email written to GCS create-if-absent, one confirmed publish — and
nothing else. The same load generator (:mod:`infra.bench.loadgen`: ``wrk``, 1 thread,
``b5_connections`` keep-alive connections on loopback) posts Mailgun route requests: a 50 KB
email with a 200 KB attachment, every request signed with its own one-time token and carrying
its own Message-ID. After a warm-up of each, ``repeats`` runs alternate between the two (each
pair in the other order than the last); the figures are the median rates, the ratio the
median of the pairs' ratios. Target: webhook / bare ≥ 0.8, no error response or socket error,
every accepted email's id on the topic, and no signed body sent twice.

CPU per request is read from ``/proc`` for each server's process tree (and for the GCS and
Pub/Sub emulators) around every run: the webhook's own CPU per request is the webhook's minus
the baseline's, medians over the runs.
"""

from __future__ import annotations

import contextlib
import random
import time
from email import policy
from email.message import EmailMessage
from typing import Any

from infra.bench import loadgen
from infra.bench.context import BenchContext, require
from infra.bench.cpu import tree_cpu_seconds
from infra.bench.processes import BASELINES, function_process
from infra.bench.results import Check, Measurement, median
from infra.stack import PROJECT

KEY = "B5"
TITLE = "webhook intake"
TARGET = "webhook/bare ≥ 0.8, no errors, all on topic"
LIMIT = 0.8
TOPIC = "bench-b5-intake"
SUBSCRIPTION = "bench-b5-intake-pull"
ROWS_PER_RUN = 4000


def _mime() -> bytes:
    paragraph = (
        "I am writing about the letter I received regarding my account. I have checked my "
        "bank statements and would like to set out, once more, what I paid and when, so that "
        "your records can be corrected where needed.\n"
    )
    message = EmailMessage()
    message["From"] = "A Debtor <debtor@example.org>"
    message["To"] = "inbound@collections.example"
    message["Subject"] = "My account and the payments made"
    message["Date"] = "Mon, 03 Mar 2025 10:15:00 +0000"
    message["Message-ID"] = f"<{loadgen.MESSAGE_ID}@bench.example>"
    text = paragraph * (50_000 // len(paragraph) + 1)
    message.set_content(text[:50_000])
    attachment = random.Random(8).randbytes(200_000)
    message.add_attachment(attachment, "application", "pdf", filename="statement.pdf")
    return message.as_bytes(policy=policy.SMTP)


def template(signing_key: str) -> loadgen.Template:
    mailgun_request = require("infra.sign_request", "mailgun_request").mailgun_request
    sign_mailgun = require("shared.intake.auth", "sign_mailgun").sign_mailgun
    signed = mailgun_request(
        _mime(), signing_key=signing_key, timestamp=int(loadgen.STAMP), token=loadgen.TOKEN
    )
    signature = sign_mailgun(signing_key, loadgen.STAMP, loadgen.TOKEN)
    return loadgen.cut_template(signed.path, dict(signed.headers), signed.body, signature)


def _topic(create: bool) -> tuple[Any, Any]:
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import pubsub_v1

    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT, TOPIC)
    subscription = subscriber.subscription_path(PROJECT, SUBSCRIPTION)
    if create:
        with contextlib.suppress(AlreadyExists):
            publisher.create_topic(request={"name": topic}, timeout=30)
        with contextlib.suppress(AlreadyExists):
            subscriber.create_subscription(
                request={"name": subscription, "topic": topic, "ack_deadline_seconds": 60},
                timeout=30,
            )
    return publisher, subscriber


def _drain_topic(expected: set[str], timeout: float = 60.0) -> list[str]:
    """Messages on the benchmark's subscription (acknowledged) until every ``expected`` email
    id was seen or ``timeout`` passed: their email ids."""
    from google.api_core.exceptions import DeadlineExceeded

    publisher, subscriber = _topic(create=False)
    subscription = subscriber.subscription_path(PROJECT, SUBSCRIPTION)
    ids: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while not expected <= set(ids) and time.monotonic() < deadline:
            try:
                answer = subscriber.pull(
                    request={"subscription": subscription, "max_messages": 1000}, timeout=5
                )
            except DeadlineExceeded:
                continue
            if not answer.received_messages:
                continue
            ids += [m.message.attributes.get("email_id", "") for m in answer.received_messages]
            subscriber.acknowledge(
                request={
                    "subscription": subscription,
                    "ack_ids": [m.ack_id for m in answer.received_messages],
                },
                timeout=30,
            )
    finally:
        subscriber.close()
        publisher.transport.close()
    return ids


def run(ctx: BenchContext) -> Measurement:
    require("shared.intake.handler", "ROUTES")
    require("infra.sign_request", "mailgun_request")
    sign_mailgun = require("shared.intake.auth", "sign_mailgun").sign_mailgun
    ctx.use_stack_env()

    env = ctx.env()
    key = env["WEBHOOK_MAILGUN_SIGNING_KEY"]
    body = template(key)
    publisher, subscriber = _topic(create=True)
    subscriber.close()
    publisher.transport.close()
    sizes = ctx.sizes
    wrk = loadgen.ensure_wrk(ctx.log)
    settings = {"PUBSUB_TOPIC": TOPIC}
    servers = {
        "webhook": function_process(ctx, "b5-webhook", function="webhook", extra_env=settings),
        "bare": function_process(
            ctx,
            "b5-bare",
            function="webhook",
            source=BASELINES / "bare_intake.py",
            target="bare",
            extra_env=settings,
        ),
    }
    results: dict[str, list[loadgen.LoadResult]] = {"webhook": [], "bare": []}
    # CPU ms per request of each run: the server's own process tree, and each emulator's.
    cpu: dict[str, dict[str, list[float]]] = {
        name: {"server": [], "gcs": [], "pubsub": []} for name in results
    }
    warmups: list[loadgen.LoadResult] = []
    runs = 0

    def pids(name: str) -> dict[str, int]:
        found = {"server": _pid(servers[name])}
        found.update({e: _pid(ctx.stack.servers[e]) for e in ("gcs", "pubsub")})
        return found

    def measured_load(name: str, seconds: int) -> loadgen.LoadResult:
        watched = pids(name)
        before = {key: tree_cpu_seconds(pid) for key, pid in watched.items()}
        result = load(name, seconds)
        if result.requests:
            for key, pid in watched.items():
                spent = tree_cpu_seconds(pid) - before[key]
                cpu[name][key].append(spent * 1000 / result.requests)
        return result

    def load(name: str, seconds: int) -> loadgen.LoadResult:
        nonlocal runs
        runs += 1
        rows = loadgen.make_rows(ROWS_PER_RUN, key, sign_mailgun)
        url = f"http://127.0.0.1:{servers[name].port}"
        if wrk:
            return loadgen.run_wrk(
                wrk,
                url,
                body,
                rows,
                seconds=seconds,
                connections=sizes.b5_connections,
                work=ctx.work_dir / f"b5-{runs}",
            )
        return loadgen.run_python(
            url, body, rows, seconds=seconds, connections=sizes.b5_connections
        )

    try:
        for server in servers.values():
            server.start()
        warmups += [load("bare", 1), load("webhook", 1)]
        # Alternating, and each pair in the other order than the last: the GCS emulator grows
        # slower with every object stored, so a fixed order would favour the side run first.
        for repeat in range(sizes.repeats):
            pair = ("bare", "webhook") if repeat % 2 == 0 else ("webhook", "bare")
            for name in pair:
                results[name].append(measured_load(name, sizes.b5_seconds))
    finally:
        for server in servers.values():
            server.stop()
    webhook_runs = results["webhook"] + [warmups[1]]
    accepted = [email_id for r in webhook_runs for email_id in r.accepted]
    on_topic = set(_drain_topic(set(accepted)))
    errors = sum(r.status_errors + r.socket_errors for r in webhook_runs)
    missing = len(set(accepted) - on_topic)
    reused = sum(max(0, r.requests - ROWS_PER_RUN) for r in webhook_runs)
    figure = median(r.rate for r in results["webhook"])
    base = median(r.rate for r in results["bare"])
    # The runs of a pair are back to back: the median of the pairs' ratios keeps a change of
    # the machine's load between pairs out of the ratio (medians of each side would mix them).
    pairs = [
        w.rate / b.rate if b.rate else 0.0
        for w, b in zip(results["webhook"], results["bare"], strict=True)
    ]
    ratio = median(pairs)
    cpu_ms = {
        name: {key: round(median(values), 2) for key, values in parts.items() if values}
        for name, parts in cpu.items()
    }
    own = cpu_ms["webhook"].get("server", 0.0) - cpu_ms["bare"].get("server", 0.0)
    return Measurement(
        summary=(
            f"CPU per request (ms): webhook {cpu_ms['webhook'].get('server', 0):g}, "
            f"bare {cpu_ms['bare'].get('server', 0):g}, so the webhook's own {own:.2f}; "
            f"emulators per request: GCS {cpu_ms['webhook'].get('gcs', 0):g} / "
            f"{cpu_ms['bare'].get('gcs', 0):g}, Pub/Sub {cpu_ms['webhook'].get('pubsub', 0):g} / "
            f"{cpu_ms['bare'].get('pubsub', 0):g} (webhook runs / bare runs)"
        ),
        figure=figure,
        unit="req/s",
        baseline=base,
        ratio=ratio,
        checks=[
            Check.at_least("webhook / bare", ratio, LIMIT, "{:.2f}"),
            Check.equal("webhook error responses and socket errors", errors, 0),
            Check.equal("accepted emails missing on the topic", missing, 0),
            Check.equal("accepted answers without an email id", _unaccounted(webhook_runs), 0),
            Check.equal("signed bodies sent twice", reused, 0),
        ],
        details={
            "load_generator": webhook_runs[0].tool,
            "connections": sizes.b5_connections,
            "seconds_per_run": sizes.b5_seconds,
            "body_bytes": len(body.body(loadgen.make_rows(1, key, sign_mailgun)[0])),
            "webhook_rates": [round(r.rate, 1) for r in results["webhook"]],
            "bare_rates": [round(r.rate, 1) for r in results["bare"]],
            "ratio_per_pair": [round(r, 3) for r in pairs],
            "cpu_ms_per_request": cpu_ms,
            "webhook_own_cpu_ms_per_request": round(own, 2),
            "webhook_requests": sum(r.requests for r in webhook_runs),
            "accepted": len(accepted),
            "distinct_accepted": len(set(accepted)),
            "messages_on_topic": len(on_topic),
        },
    )


def _pid(process: Any) -> int:
    if process.process is None:
        raise RuntimeError(f"{process.name} is not running")
    return int(process.process.pid)


def _unaccounted(runs: list[loadgen.LoadResult]) -> int:
    """Requests answered 200 whose answer carried no email id (should be none)."""
    return sum(r.requests - r.status_errors - len(r.accepted) for r in runs)
