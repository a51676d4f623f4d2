"""Faults 5–7: the processor SIGKILLed mid-pipeline 20 times, the Claude stand-in misbehaving in
every documented way, and the SMTP server refusing mail for a while."""

from __future__ import annotations

import random
import time
from typing import Any

from tests.reliability.helpers import Harness, MailCase, Sizes, make_cases
from tests.reliability.summary import SUMMARY


def test_processor_sigkilled_at_random_points(harness: Harness, size: Sizes) -> None:
    rng = random.Random()
    cases = make_cases(size.kill_emails)
    # slow, varied Claude answers so that kills land before, during and after the Claude call
    for case in cases:
        harness.claude.add_rule(
            case.marker,
            {
                "kind": "tool_use",
                "delay_seconds": round(rng.uniform(0.05, 1.5), 2),
                "input": case.claude_answer(),
            },
        )
    with harness._mongo() as client:
        client["collections"]["accounts"].insert_many([c.account_document() for c in cases])
    join = harness.send_in_background(
        cases, senders=4, per_second=size.kill_emails / (size.kills * 2.5)
    )
    processor = harness.stack.servers["processor"]
    for _ in range(size.kills):
        time.sleep(rng.uniform(0.2, 2.0))
        processor.kill()
        SUMMARY.fault("processor SIGKILL")
        harness.stack.start_server("processor")
    join()
    harness.wait_for_reports(cases, timeout=240)
    harness.wait_for_notifications_sent(cases)
    harness.verify(cases)


def _claude_faults(case: MailCase, index: int) -> tuple[str, list[tuple[dict[str, Any], int]]]:
    """(name, [(behaviour, times)]) scripted before the good answer for this case."""
    good = case.claude_answer()
    wrong_types = dict(good, intent=7, intent_confidence="very", case_number=["x"])
    missing = {k: v for k, v in good.items() if k not in ("intent", "intent_confidence")}
    faults: list[tuple[str, list[tuple[dict[str, Any], int]]]] = [
        ("5xx burst", [({"kind": "error", "status": 500}, 3)]),
        ("503 burst", [({"kind": "error", "status": 503}, 2)]),
        ("529 overloaded", [({"kind": "error", "status": 529}, 3)]),
        ("429 retry-after", [({"kind": "error", "status": 429, "retry_after": 1}, 2)]),
        ("hang past timeout", [({"kind": "hang", "seconds": 20}, 2)]),
        ("malformed JSON", [({"kind": "malformed"}, 2)]),
        ("wrong types", [({"kind": "tool_use", "input": wrong_types}, 2)]),
        ("missing fields", [({"kind": "tool_use", "input": missing}, 2)]),
        ("tool_use cut by max_tokens", [({"kind": "max_tokens", "input": good}, 2)]),
        ("malformed forever", [({"kind": "malformed"}, 50)]),
    ]
    return faults[index % len(faults)]


def test_claude_standin_faults(harness: Harness, size: Sizes) -> None:
    cases = make_cases(size.claude_emails, kinds=("payment", "plan"))
    names: dict[str, str] = {}
    for i, case in enumerate(cases):
        name, script = _claude_faults(case, i)
        names[case.marker] = name
        for behaviour, times in script:
            harness.claude.add_rule(case.marker, behaviour, times=times)
        SUMMARY.fault(f"claude {name}")
    # answers whose evidence is not in the email: confident, exact, and wrong
    liars = make_cases(max(2, size.claude_emails // 4), kinds=("payment",))
    for case in liars:
        answer = case.claude_answer()
        answer["amount"] = {"value": 9999.99, "confidence": 0.99, "evidence": "9999.99 EUR"}
        answer["intent_evidence"] = "I have paid everything I owe"
        harness.claude.add_rule(case.marker, {"kind": "tool_use", "input": answer})
        SUMMARY.fault("claude evidence not in the email")
    harness.prepare(cases + liars)
    harness.send_all(cases + liars, senders=4)
    harness.wait_for_reports(cases + liars, timeout=240)
    harness.wait_for_notifications_sent(cases + liars)
    # breakers may open on the bursts: then the rules extractor decides (never AUTO_UPDATE)
    harness.verify(cases + liars, expect_decisions=False)
    reports = {r["email_id"]: r for r in harness.report_rows([str(c.email_id) for c in liars])}
    for case in liars:
        report = reports[str(case.email_id)]
        assert report["decision"] != "AUTO_UPDATE", "a payment was applied on invented evidence"
        assert not any(
            a.get("result") in ("applied", "already_applied") for a in report["actions"] or []
        )
    stats = harness.claude.stats()
    assert stats, "the stand-in saw no requests"


def test_smtp_refusing_then_notifications_sent_once(harness: Harness, size: Sizes) -> None:
    cases = make_cases(size.smtp_emails, kinds=("plan", "dispute"))
    harness.prepare(cases)
    harness.mailbox.refuse(True)
    SUMMARY.fault(f"smtp refusing {size.smtp_outage:.0f}s")
    join = harness.send_in_background(
        cases, senders=4, per_second=size.smtp_emails / size.smtp_outage
    )
    time.sleep(size.smtp_outage)
    join()
    harness.wait_for_reports(cases, timeout=180)
    pending = harness.query(
        "SELECT count(*) AS n FROM notifications WHERE email_id = ANY(:ids) AND status = 'pending'",
        ids=[c.email_id for c in cases],
    )[0]["n"]
    assert pending > 0, "the refusal did not hold back any notification"
    assert not [
        m for m in harness.mailbox.messages() if m["X-Inbound-Email-Id"] in harness.accepted
    ]
    harness.mailbox.refuse(False)
    harness.wait_for_notifications_sent(cases)
    counts = harness.verify(cases)
    assert counts["mails"] >= len([c for c in cases if c.email_id])
