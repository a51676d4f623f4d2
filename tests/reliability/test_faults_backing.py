"""Faults 1–4: Postgres, MongoDB, fake-gcs-server and the Pub/Sub emulator go away while mail
keeps arriving; after recovery every accepted email has one report, one effect, one mail."""

from __future__ import annotations

import contextlib
import json
import time

from tests.reliability.helpers import Harness, MailCase, Sizes, make_cases
from tests.reliability.summary import SUMMARY


def _flow(harness: Harness, n: int, seconds: float, senders: int = 4):  # type: ignore[no-untyped-def]
    cases = make_cases(n)
    harness.prepare(cases)
    join = harness.send_in_background(cases, senders=senders, per_second=n / seconds)
    return cases, join


CAUGHT_CLAUDE_DELAY = 2.0  # under the stack's 3 s Claude timeout


def _catch_in_the_window(harness: Harness, n: int = 3) -> list[MailCase]:
    """Payments whose first Claude answer is delayed, so that Postgres is stopped after their
    claim and before their report: their account moves, the report is lost, and the redelivery
    reports ``already_applied`` — the path whose report must still carry the balances."""
    caught = make_cases(n, kinds=("payment",))
    for case in caught:  # the first matching rule wins: the delayed answer once, then prepare's
        answer = {"kind": "tool_use", "input": case.claude_answer()}
        harness.claude.add_rule(
            case.marker, {**answer, "delay_seconds": CAUGHT_CLAUDE_DELAY}, times=1
        )
    harness.prepare(caught)
    return caught


def _wait_until_claude_is_asked(harness: Harness, cases: list[MailCase]) -> None:
    markers = {case.marker for case in cases}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        asked = {m for r in harness.claude.requests() for m in markers if m in json.dumps(r)}
        if asked == markers:
            return
        time.sleep(0.05)
    raise AssertionError("the delayed payments never reached Claude")


def test_postgres_stopped_while_mail_flows(harness: Harness, size: Sizes) -> None:
    outage = size.postgres_outage
    caught = _catch_in_the_window(harness)
    cases, join = _flow(harness, size.postgres_emails, outage + 10)
    time.sleep(3)
    for case in caught:
        harness.send(case)
    _wait_until_claude_is_asked(harness, caught)  # claimed: Postgres answered the claim
    postgres = harness.stack.servers["postgres"]
    postgres.stop()
    SUMMARY.fault(f"postgres stopped {outage:.0f}s")
    time.sleep(outage)
    postgres.start()
    join()
    everything = cases + caught
    harness.wait_for_reports(everything, timeout=240)
    harness.wait_for_notifications_sent(everything)
    # verify() also checks that each payment's action, "applied" or "already_applied" (its
    # account moved before Postgres went away and the report was lost), carries the balances
    counts = harness.verify(everything)
    assert counts["accepted"] == len(everything)
    redelivered = [
        report
        for report in harness.report_rows([str(case.email_id) for case in caught])
        if any(a.get("result") == "already_applied" for a in report["actions"] or [])
    ]
    assert redelivered, "no payment was caught between its account update and its report"


def test_mongodb_killed_and_restarted(harness: Harness, size: Sizes) -> None:
    cases, join = _flow(harness, size.fault_emails, 20)
    time.sleep(3)
    harness.stack.servers["mongodb"].kill()
    SUMMARY.fault("mongodb SIGKILL")
    time.sleep(8)
    harness.stack.start_server("mongodb")
    join()
    harness.wait_for_reports(cases, timeout=180)
    harness.wait_for_notifications_sent(cases)
    harness.verify(cases)


def test_gcs_killed_webhook_answers_503_and_resends_are_accepted(
    harness: Harness, size: Sizes
) -> None:
    cases, join = _flow(harness, size.fault_emails, 20)
    time.sleep(3)
    harness.stack.servers["gcs"].kill()
    SUMMARY.fault("fake-gcs-server SIGKILL")
    before = SUMMARY.counts["webhook_posts"]
    time.sleep(8)
    during = SUMMARY.counts["webhook_posts"] - before
    harness.stack.start_server("gcs")
    join()
    # the senders kept posting during the outage and got 5xx (else nothing would be retried)
    assert during > 0
    assert SUMMARY.counts["webhook_posts"] > len(cases)
    harness.wait_for_reports(cases, timeout=180)
    harness.wait_for_notifications_sent(cases)
    harness.verify(cases)


def test_pubsub_emulator_restarted(harness: Harness, size: Sizes) -> None:
    """The emulator forgets everything on restart: messages published to it and not yet
    delivered are gone (Pub/Sub itself keeps them), so the test re-sends those — but every
    email accepted *after* the restart finished must arrive without help: the webhook never
    answered 200 for a message the (new) emulator did not have."""
    cases, join = _flow(harness, size.fault_emails, 20)
    time.sleep(4)
    SUMMARY.fault("pubsub emulator restart")
    harness.stack.restart("pubsub")
    restarted_at = time.monotonic()
    join()
    # what the new emulator has arrives on its own; under a loaded machine its push retries
    # back off for tens of seconds, so the wait allows them (nothing is re-sent before it ends)
    with contextlib.suppress(AssertionError):
        harness.wait_for_reports(cases, timeout=60, record=False, stall_seconds=30)
    done = {r["email_id"] for r in harness.report_rows([str(c.email_id) for c in cases])}
    missing = [c for c in cases if c.email_id not in done]
    late = [c.email_id for c in missing if harness.accepted_at[str(c.email_id)] > restarted_at]
    assert not late, f"accepted after the restart but never delivered: {late}"
    for case in missing:  # what the old emulator forgot: the provider-side resend
        harness.send(case, resend=True)
        SUMMARY.count("emails_resent")
    harness.wait_for_reports(cases, timeout=120)
    harness.wait_for_notifications_sent(cases)
    harness.verify(cases)
