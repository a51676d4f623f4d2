"""Issue 5's end-to-end case: the Claude stand-in fails → after five failures across two
processor processes the ``claude`` breaker opens, exactly one alert arrives, emails keep flowing
through the rules extractor, and after the reset timeout one trial call recovers it.

Runs its own stack (processor only), so the session stack's ``claude`` breaker row is never
left open: ``CLAUDE_MAX_RETRIES=0`` (one HTTP request per extraction, so the stand-in's request
count is exact) and a short ``CIRCUIT_BREAKER_RESET_TIMEOUT``. A second functions-framework
process serves ``functions/processor/main.py`` with the same environment on another port. A
push subscription targets one endpoint only, so the test is Pub/Sub here: it POSTs the push
envelopes itself, alternately to both processes, and redelivers what failed (a 5xx answer).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from infra.fakes.clients import ClaudeStandin, Mailbox
from infra.stack import PROJECT, REPO_ROOT, LocalStack, ManagedProcess, StackError, free_port
from shared.config import reset_settings_cache
from tests.e2e.conftest import E2E, account, make_mime, tool_input, unique, wait_until

RESET_TIMEOUT = 10.0  # seconds; the open phase below takes a few, with room on a loaded machine
CACHE_SECONDS = 1.0  # CIRCUIT_BREAKER_CACHE_SECONDS (the default): snapshot age bound
TRIAL_DELAY = 6.0  # the trial call is slow, so other deliveries arrive while it is in flight
ALERT_TO = "breaker-alerts@example.org"
SUBSCRIPTION = f"projects/{PROJECT}/subscriptions/inbound-emails-processor"


@dataclass
class TwoProcessors:
    stack: LocalStack
    second: ManagedProcess

    @property
    def urls(self) -> tuple[str, str]:
        return self.stack.url("processor"), f"http://127.0.0.1:{self.second.port}"


def _second_processor(stack: LocalStack) -> ManagedProcess:
    """Another functions-framework process for ``functions/processor/main.py``, same env."""
    first = stack.servers["processor"]
    port = free_port()
    argv = list(first.argv)
    argv[argv.index("--port") + 1] = str(port)
    return replace(
        first,
        name="processor-2",
        port=port,
        log_path=stack.logs / "processor-2.log",
        argv=argv,
        env=stack.function_env("processor"),
        process=None,
    )


@pytest.fixture(scope="module")
def two_processors() -> Iterator[TwoProcessors]:
    stack = LocalStack(
        REPO_ROOT / ".local" / f"test-breaker-stack-{os.getpid()}",
        functions=("processor",),
        claude="standin",
        extra_env={
            "CIRCUIT_BREAKER_RESET_TIMEOUT": str(RESET_TIMEOUT),
            "CIRCUIT_BREAKER_CACHE_SECONDS": str(CACHE_SECONDS),
            "CIRCUIT_BREAKER_ALERT_EMAIL": ALERT_TO,
            "CLAUDE_MAX_RETRIES": "0",
        },
    )
    second: ManagedProcess | None = None
    try:
        stack.start()
        second = _second_processor(stack)
        second.start()
    except StackError as exc:
        if second is not None:
            second.stop()
        stack.stop()
        pytest.fail(f"breaker stack failed to start: {exc}")
    try:
        yield TwoProcessors(stack, second)
    finally:
        second.stop()
        stack.stop()


@pytest.fixture
def e2e(two_processors: TwoProcessors) -> Iterator[E2E]:
    stack = two_processors.stack
    saved = dict(os.environ)
    os.environ.update(stack.env())
    reset_settings_cache()
    claude = ClaudeStandin(stack.url("claude"))
    claude.reset()
    mailbox = Mailbox(stack.mailbox_dir)
    mailbox.clear()
    try:
        yield E2E(stack, claude, mailbox)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings_cache()


# -- helpers ------------------------------------------------------------------------------


@dataclass
class Email:
    email_id: str
    marker: str
    case: str
    account_id: str
    gcs_uri: str


def new_email(e2e: E2E) -> Email:
    """A payment confirmation with an exact case number: AUTO_UPDATE material for Claude."""
    marker, account_id = unique("MK"), unique("ACC")
    case = f"CASE-2025-{uuid.uuid4().int % 10**6:06d}"  # a format the rules extractor knows
    e2e.seed(account(account_id, case, amount=500.0))
    email_id = unique("em-brk")
    body = f"Hello, I paid 120.50 EUR today for case {case}. Ref {marker}."
    return Email(email_id, marker, case, account_id, e2e.store_mime(email_id, make_mime(body)))


def push(url: str, email: Email, e2e: E2E) -> int:
    """One Pub/Sub push delivery (the emulator's exact JSON); the HTTP status it got."""
    envelope = {
        "message": {
            "data": base64.b64encode(e2e.notice(email.email_id, email.gcs_uri)).decode(),
            "attributes": {
                "correlation_id": f"corr-{email.email_id}",
                "email_id": email.email_id,
            },
            "messageId": uuid.uuid4().hex,
            "publishTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        },
        "subscription": SUBSCRIPTION,
    }
    request = urllib.request.Request(
        url + "/",
        data=json.dumps(envelope).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def push_all(pairs: list[tuple[str, Email]], e2e: E2E) -> list[int]:
    """Concurrent deliveries; statuses in the order given."""
    statuses: list[int] = [0] * len(pairs)

    def one(i: int) -> None:
        statuses[i] = push(pairs[i][0], pairs[i][1], e2e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(pairs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def messages_calls(claude: ClaudeStandin) -> list[dict[str, Any]]:
    return [r for r in claude.requests() if r["path"].rstrip("/").endswith("/v1/messages")]


def breaker_row(e2e: E2E, name: str = "claude") -> dict[str, Any]:
    return e2e.query("SELECT * FROM circuit_breakers WHERE name = :name", name=name)[0]


def breaker_mails(mailbox: Mailbox, event: str) -> list[EmailMessage]:
    return [
        m
        for m in mailbox.messages()
        if m["X-Breaker"] == "claude" and m["X-Breaker-Event"] == event
    ]


def healthy_answer(email: Email, delay: float = 0.0) -> dict[str, Any]:
    return {
        "kind": "tool_use",
        "delay_seconds": delay,
        "input": tool_input(
            "payment_confirmation",
            0.97,
            "I paid 120.50 EUR today",
            case_number=(email.case, 0.99, f"case {email.case}"),
            amount=(120.5, 0.97, "120.50 EUR"),
            currency=("EUR", 0.97, "120.50 EUR"),
        ),
    }


def assert_fallback(e2e: E2E, email: Email) -> dict[str, Any]:
    report = e2e.wait_for_report(email.email_id)
    assert report["status"] == "done", report["errors"]
    assert (report["extractor"], report["degraded"]) == ("rules", True)
    assert report["decision"] != "AUTO_UPDATE"
    assert "claude_breaker_open" in report["pipeline"]["warnings"]
    # the payment is reported to staff, never recorded: no money moves on the fallback's word
    assert all(a["type"] != "record_payment" for a in report["actions"])
    doc = e2e.account(email.account_id)
    assert doc["balance"]["amount"] == 500.0
    assert all(h["action"] != "record_payment" for h in doc["history"])
    return report


def log_count(path: Any, event: str) -> int:
    return sum(1 for line in path.read_text(errors="replace").splitlines() if f'"{event}"' in line)


# -- the test -----------------------------------------------------------------------------


def test_claude_outage_across_two_processes_opens_falls_back_and_recovers(
    two_processors: TwoProcessors, e2e: E2E
) -> None:
    urls = two_processors.urls
    logs = (e2e.stack.logs / "processor.log", two_processors.second.log_path)
    assert breaker_row(e2e)["state"] == "closed"
    timings: dict[str, float] = {}

    # 1. Claude answers 529: five deliveries, alternately to both processes, each fails (5xx,
    #    Pub/Sub would redeliver) and counts once; the fifth opens the breaker.
    e2e.claude.set_default({"kind": "error", "status": 529})
    failed = [new_email(e2e) for _ in range(5)]
    started = time.monotonic()
    for i, email in enumerate(failed):
        pushed = time.monotonic()
        assert push(urls[i % 2], email, e2e) == 500
        timings[f"failure_{i + 1}"] = time.monotonic() - pushed
        row = breaker_row(e2e)
        assert row["failure_count"] == i + 1
        assert row["state"] == ("open" if i == 4 else "closed"), (i, row)
        assert e2e.report(email.email_id) is None
    timings["five_failures"] = time.monotonic() - started
    opened = breaker_row(e2e)
    assert opened["last_error_type"] and opened["opened_at"].tzinfo is not None
    calls = messages_calls(e2e.claude)
    assert [c["status"] for c in calls] == [529] * 5
    assert [log_count(path, "claude_call_failed") for path in logs] == [3, 2]

    alert = wait_until(lambda: breaker_mails(e2e.mailbox, "opened"), 30, "the breaker alert")
    assert len(alert) == 1
    assert alert[0]["To"] == ALERT_TO and "claude" in alert[0]["Subject"]
    text = alert[0].get_content()
    assert "Consecutive failures: 5" in text and f"after {RESET_TIMEOUT:g} s" in text
    for email in failed:  # no email content in the alert
        assert email.marker not in text and email.case not in text

    # 2. Open: past the 1 s snapshot cache every process sees it. The five failed emails are
    #    redelivered and two new ones arrive, concurrently on both processes: all processed by
    #    the rules extractor (degraded, never auto-applied), Claude not called.
    time.sleep(CACHE_SECONDS + 0.3)
    fresh = [new_email(e2e) for _ in range(2)]
    pending = failed + fresh
    started = time.monotonic()
    statuses = push_all([(urls[i % 2], email) for i, email in enumerate(pending)], e2e)
    timings["open_phase_deliveries"] = time.monotonic() - started
    assert statuses == [200] * len(pending)
    assert datetime.now(UTC) < opened["opened_at"] + timedelta(seconds=RESET_TIMEOUT), (
        "the open phase outlasted the reset timeout; the test cannot tell fallback from trial"
    )
    for email in pending:
        assert_fallback(e2e, email)
    assert len(messages_calls(e2e.claude)) == 5
    assert breaker_row(e2e)["state"] == "open"
    assert [log_count(path, "claude_call_failed") for path in logs] == [3, 2]

    # 3. Claude is healthy again. After the reset timeout one trial call reaches it (slowly);
    #    deliveries meanwhile, on both processes, still fall back. The trial closes the
    #    breaker and one all-clear goes out.
    trial, during = new_email(e2e), [new_email(e2e), new_email(e2e)]
    e2e.claude.add_rule(trial.marker, healthy_answer(trial, delay=TRIAL_DELAY))
    for email in during:
        e2e.claude.add_rule(email.marker, healthy_answer(email))
    due = opened["opened_at"] + timedelta(seconds=RESET_TIMEOUT + 0.3)
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
    trial_status: list[int] = []
    trial_thread = threading.Thread(
        target=lambda: trial_status.append(push(urls[1], trial, e2e)), daemon=True
    )
    started = time.monotonic()
    trial_thread.start()
    wait_until(
        lambda: any(
            trial.marker in json.dumps(c.get("body")) and c["status"] is None
            for c in messages_calls(e2e.claude)
        ),
        30,
        "the trial call to reach the stand-in",
    )
    half_open = breaker_row(e2e)
    assert half_open["state"] == "half_open" and half_open["trial_reserved_until"] is not None
    assert push_all([(urls[0], during[0]), (urls[1], during[1])], e2e) == [200, 200]
    for email in during:
        assert_fallback(e2e, email)
    assert len(messages_calls(e2e.claude)) == 6  # the five failures + the one trial
    trial_thread.join(timeout=60)
    timings["trial_phase"] = time.monotonic() - started
    assert trial_status == [200]
    report = e2e.wait_for_report(trial.email_id)
    assert (report["extractor"], report["degraded"], report["decision"]) == (
        "claude",
        False,
        "AUTO_UPDATE",
    )
    assert e2e.account(trial.account_id)["balance"]["amount"] == 379.5
    closed = breaker_row(e2e)
    assert (closed["state"], closed["failure_count"], closed["opened_at"]) == ("closed", 0, None)
    all_clear = wait_until(lambda: breaker_mails(e2e.mailbox, "closed"), 30, "the all-clear")
    assert len(all_clear) == 1 and all_clear[0]["To"] == ALERT_TO
    assert len(breaker_mails(e2e.mailbox, "opened")) == 1

    # 4. Closed: once the snapshots have aged, Claude is called again from either process.
    time.sleep(CACHE_SECONDS + 0.3)
    after = new_email(e2e)
    e2e.claude.add_rule(after.marker, healthy_answer(after))
    assert push(urls[0], after, e2e) == 200
    assert e2e.wait_for_report(after.email_id)["extractor"] == "claude"
    assert len(messages_calls(e2e.claude)) == 7

    # Each transition was announced once (by the instance that won it), not once per process.
    transitions = e2e.query(
        "SELECT labels->>'from' AS f, labels->>'to' AS t FROM operational_metrics "
        "WHERE name = 'breaker_transition' AND labels->>'breaker' = 'claude' ORDER BY id"
    )
    assert [(r["f"], r["t"]) for r in transitions] == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]
    others = e2e.query(
        "SELECT name, state, failure_count FROM circuit_breakers WHERE name <> 'claude'"
    )
    assert {(r["name"], r["state"], r["failure_count"]) for r in others} == {
        ("gcs", "closed", 0),
        ("mongodb", "closed", 0),
    }
    print("breaker e2e timings (s):", {k: round(v, 2) for k, v in timings.items()})
