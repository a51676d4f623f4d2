"""Faults 1–4: Postgres, MongoDB, fake-gcs-server and the Pub/Sub emulator go away while mail
keeps arriving; after recovery every accepted email has one report, one effect, one mail."""

from __future__ import annotations

import contextlib
import time

from tests.reliability.helpers import Harness, Sizes, make_cases
from tests.reliability.summary import SUMMARY


def _flow(harness: Harness, n: int, seconds: float, senders: int = 4):  # type: ignore[no-untyped-def]
    cases = make_cases(n)
    harness.prepare(cases)
    join = harness.send_in_background(cases, senders=senders, per_second=n / seconds)
    return cases, join


def test_postgres_stopped_while_mail_flows(harness: Harness, size: Sizes) -> None:
    outage = size.postgres_outage
    cases, join = _flow(harness, size.postgres_emails, outage + 10)
    time.sleep(3)
    postgres = harness.stack.servers["postgres"]
    postgres.stop()
    SUMMARY.fault(f"postgres stopped {outage:.0f}s")
    time.sleep(outage)
    postgres.start()
    join()
    harness.wait_for_reports(cases, timeout=240)
    harness.wait_for_notifications_sent(cases)
    counts = harness.verify(cases)
    assert counts["accepted"] == len(cases)


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
    with contextlib.suppress(AssertionError):
        harness.wait_for_reports(cases, timeout=25, record=False, stall_seconds=10)
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
