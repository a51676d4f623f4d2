"""The processor killed with SIGKILL mid-pipeline: the redelivery finishes the email exactly once.

Runs its own stack (processor only, no webhook) with a 10 s lease, so the lease of the killed
delivery expires within the test, and enough delivery attempts that the redeliveries arriving
while the lease is still held do not send the message to the dead-letter topic.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infra.fakes.clients import ClaudeStandin, Mailbox
from infra.stack import REPO_ROOT, LocalStack, StackError
from shared.config import reset_settings_cache
from tests.e2e.conftest import E2E, account, make_mime, tool_input, unique, wait_until

LEASE_SECONDS = 10


@pytest.fixture(scope="module")
def crash_stack() -> Iterator[LocalStack]:
    stack = LocalStack(
        REPO_ROOT / ".local" / f"test-crash-stack-{os.getpid()}",
        functions=("processor",),
        claude="standin",
        extra_env={"PROCESSOR_LEASE_SECONDS": str(LEASE_SECONDS)},
        push_min_backoff_seconds=1.0,
        push_max_backoff_seconds=3.0,
        max_delivery_attempts=30,
    )
    try:
        stack.start()
    except StackError as exc:
        pytest.fail(f"crash stack failed to start: {exc}")
    yield stack
    stack.stop()


@pytest.fixture
def crash_e2e(crash_stack: LocalStack) -> Iterator[E2E]:
    saved = dict(os.environ)
    os.environ.update(crash_stack.env())
    reset_settings_cache()
    claude = ClaudeStandin(crash_stack.url("claude"))
    claude.reset()
    mailbox = Mailbox(crash_stack.mailbox_dir)
    mailbox.clear()
    try:
        yield E2E(crash_stack, claude, mailbox)
    finally:
        if not crash_stack.servers["processor"].alive():
            crash_stack.start_server("processor")
        os.environ.clear()
        os.environ.update(saved)
        reset_settings_cache()


def test_sigkill_mid_pipeline_then_redelivery_finishes_exactly_once(crash_e2e: E2E) -> None:
    e2e = crash_e2e
    marker, case, account_id = unique("MK"), unique("CASE"), unique("ACC")
    e2e.seed(account(account_id, case))
    body = f"Case {case}: may I pay in monthly instalments of 75 EUR? {marker}"
    e2e.claude.add_rule(marker, {"kind": "hang", "seconds": 120}, times=1)
    e2e.claude.add_rule(
        marker,
        {
            "kind": "tool_use",
            "input": tool_input(
                "payment_plan_request",
                0.95,
                "pay in monthly instalments",
                case_number=(case, 0.99, f"Case {case}"),
                plan_installment_amount=(75.0, 0.9, "75 EUR"),
            ),
        },
    )
    email_id = unique("em-crash")
    gcs_uri = e2e.store_mime(email_id, make_mime(body))
    e2e.publish(e2e.notice(email_id, gcs_uri), correlation_id=f"corr-{email_id}")

    def hanging_in_claude() -> bool:
        return any(
            marker in str(r.get("body")) and r["status"] is None for r in e2e.claude.requests()
        )

    wait_until(hanging_in_claude, 60, "the delivery to reach Claude")
    row = e2e.email_row(email_id)
    assert row["status"] == "processing" and row["lease_owner"]
    e2e.stack.servers["processor"].kill()
    e2e.stack.start_server("processor")

    report = e2e.wait_for_report(email_id, timeout=120)
    assert report["status"] == "done" and report["decision"] == "UPDATE_AND_NOTIFY"
    assert report["attempt"] >= 2
    doc = e2e.account(account_id)
    assert doc["applied_email_ids"] == [email_id] and len(doc["history"]) == 1
    mails = e2e.wait_for_mail(email_id)
    assert len(mails) == 1
    assert [n["status"] for n in e2e.notifications(email_id)] == ["sent"]
    assert (
        len(e2e.query("SELECT id FROM processing_reports WHERE email_id = :id", id=email_id)) == 1
    )
    final = e2e.email_row(email_id)
    assert final["status"] == "done" and final["lease_owner"] is None
