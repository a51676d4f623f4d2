"""The pipeline's logic with fakes: outcomes, error policy, fallback, outbox, metrics."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.config import load_settings
from shared.errors import DependencyUnavailable, LeaseHeldError
from shared.extraction.errors import (
    ClaudeRateLimited,
    ClaudeRequestRejected,
    ClaudeUnavailable,
    MalformedModelAnswer,
)
from shared.extraction.models import TokenUsage
from shared.processing.envelope import Delivery
from tests.processing_fakes import (
    Harness,
    account_document,
    extraction,
    harness,
    notice,
    parsed_email,
)


def delivery(email_id: str = "em-unit-0001", attempt: int | None = 1) -> Delivery:
    return Delivery(
        notice=notice(email_id),
        correlation_id="corr-unit-000001",
        pubsub_message_id="42",
        publish_time=datetime(2026, 1, 1, tzinfo=UTC),
        delivery_attempt=attempt,
    )


def run(h: Harness, d: Delivery | None = None) -> str:
    d = d or delivery()
    h.raw.put(d.notice, b"raw")
    return h.pipeline.process(d)


def test_auto_update_records_the_payment_once_and_notifies_nobody() -> None:
    h = harness()
    assert run(h) == "done"
    report = h.store.reports["em-unit-0001"]
    assert (report.status, report.decision, report.extractor) == ("done", "AUTO_UPDATE", "claude")
    assert report.match["method"] == "case_number"
    assert report.fields["amount"]["value"] == 200.0
    assert report.pipeline["attempt"] == 1 and report.pipeline["delivery_attempt"] == 1
    assert set(report.pipeline["stage_seconds"]) >= {"read", "parse", "extract", "match", "apply"}
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 1000.0
    assert h.accounts.documents["ACC-1001"]["applied_email_ids"] == ["em-unit-0001"]
    entry = h.accounts.documents["ACC-1001"]["history"][0]
    assert entry["email_id"] == "em-unit-0001" and entry["decision"] == "AUTO_UPDATE"
    assert entry["fields"]["amount"] == {"value": 200.0, "confidence": 0.95}
    assert h.mailer.sent == []
    # the redelivery is a duplicate: nothing applied twice
    assert run(h) == "duplicate"
    assert len(h.accounts.applied) == 1


def test_metrics_cover_the_issue_list() -> None:
    h = harness()
    run(h)
    names = {(name, tuple(sorted(labels.items()))) for name, _, labels in h.metrics[0].rows}
    for expected in [
        ("queue_lag_seconds", ()),
        ("delivery_attempt", ()),
        ("tokens_input", ()),
        ("tokens_cache_write", ()),
        ("processing_seconds", (("stage", "total"),)),
        ("processing_seconds", (("stage", "extract"),)),
        ("extraction_confidence", (("field", "overall"),)),
        ("extraction_confidence", (("field", "amount"),)),
        ("match_score", (("method", "case_number"),)),
        ("decision", (("decision", "AUTO_UPDATE"),)),
    ]:
        assert expected in names
    assert h.metrics[0].written == 1


def test_held_lease_raises_for_redelivery() -> None:
    h = harness()
    h.store.emails["em-unit-0001"] = {"status": "processing", "attempts": 1, "owner": "other"}
    with pytest.raises(LeaseHeldError):
        run(h)
    assert h.accounts.applied == []


def test_missing_object_is_a_failed_report_and_acknowledged() -> None:
    h = harness()
    d = delivery()
    assert h.pipeline.process(d) == "failed"  # nothing was put in the fake bucket
    report = h.store.reports["em-unit-0001"]
    assert report.status == "failed"
    assert report.errors[0]["stage"] == "read"
    assert report.errors[0]["error_type"] == "MissingObject"
    assert h.store.emails["em-unit-0001"]["status"] == "failed"
    assert h.pipeline.process(d) == "duplicate"


@pytest.mark.parametrize(
    "error",
    [
        DependencyUnavailable("gcs", "ReadTimeout", stage="read"),
        ClaudeUnavailable("InternalServerError", status_code=529),
        ClaudeRateLimited(2.0),
    ],
)
def test_transient_errors_raise_release_the_lease_and_keep_the_metrics(error: Exception) -> None:
    h = harness()
    if isinstance(error, DependencyUnavailable) and error.dependency == "gcs":
        h.raw.fail_with = error
    else:
        h.claude.errors.append(error)
    with pytest.raises(type(error)):
        run(h)
    assert h.store.released == ["em-unit-0001"]
    assert h.store.emails["em-unit-0001"]["status"] == "processing"
    assert h.store.metrics_written == 1
    assert any(name == "error" for name, _, _ in h.metrics[0].rows)
    assert h.accounts.applied == [] and h.store.reports == {}
    # the redelivery succeeds
    h.raw.fail_with = None
    assert run(h) == "done"
    assert h.store.reports["em-unit-0001"].pipeline["attempt"] == 2


def test_open_claude_breaker_uses_rules_marked_degraded_never_auto_applied() -> None:
    h = harness()
    h.breaker.open_ = True
    run(h)
    report = h.store.reports["em-unit-0001"]
    assert (report.extractor, report.degraded) == ("rules", True)
    assert report.decision != "AUTO_UPDATE"
    assert h.claude.calls == 0
    assert "claude_breaker_open" in report.pipeline["warnings"]
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 1200.0


def test_no_api_key_uses_rules_not_degraded() -> None:
    # offline rules are the configured extractor, not a fallback after Claude failed
    h = harness(claude_configured=False)
    run(h)
    report = h.store.reports["em-unit-0001"]
    assert (report.extractor, report.degraded) == ("rules", False)
    assert "claude_not_configured" in report.pipeline["warnings"]


def test_malformed_answers_raise_until_the_fallback_attempt_then_use_rules() -> None:
    h = harness(settings=load_settings({"PROCESSOR_RULES_FALLBACK_ATTEMPT": "3"}))
    h.claude.errors.extend(
        MalformedModelAnswer("no_tool_use", TokenUsage(input=100, output=7)) for _ in range(3)
    )
    for _ in range(2):
        with pytest.raises(MalformedModelAnswer):
            run(h)
    assert run(h) == "done"
    report = h.store.reports["em-unit-0001"]
    assert report.attempt == 3 and (report.extractor, report.degraded) == ("rules", True)
    assert "claude_malformed_answer_fallback:no_tool_use" in report.pipeline["warnings"]
    assert any(e["code"].startswith("claude_malformed") for e in report.errors)
    spent = [v for m in h.metrics for name, v, _ in m.rows if name == "tokens_input"]
    assert spent.count(100.0) == 3  # every useless answer's tokens are counted


@pytest.mark.parametrize(
    "failure",
    [ClaudeRateLimited(retry_after=30.0), ClaudeUnavailable("APITimeoutError")],
    ids=["rate_limited", "timed_out"],
)
def test_claude_failing_on_the_last_deliveries_falls_back_to_rules_not_the_dead_letters(
    failure: Exception,
) -> None:
    h = harness(settings=load_settings({"PROCESSOR_CLAUDE_OUTAGE_FALLBACK_ATTEMPT": "3"}))
    h.claude.errors.extend([failure] * 3)
    for _ in range(2):  # earlier deliveries wait for Claude: such failures usually pass
        with pytest.raises(type(failure)):
            run(h)
        assert h.store.reports == {}
    assert run(h) == "done"
    report = h.store.reports["em-unit-0001"]
    assert report.attempt == 3 and (report.extractor, report.degraded) == ("rules", True)
    assert report.decision != "AUTO_UPDATE"  # degraded: never applied alone
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 1200.0
    code = f"claude_unavailable_fallback:{failure.error_type}"  # type: ignore[attr-defined]
    assert code in report.pipeline["warnings"]


def test_the_fallback_counts_pubsub_deliveries_lost_before_the_claim() -> None:
    """Two deliveries lost to a Postgres blip at the claim: the third claim is Pub/Sub's 9th
    delivery of 10, the last but one, and the rules read the email."""
    h = harness(settings=load_settings({"PROCESSOR_CLAUDE_OUTAGE_FALLBACK_ATTEMPT": "9"}))
    h.claude.errors.append(ClaudeRateLimited(retry_after=30.0))
    assert run(h, delivery(attempt=9)) == "done"
    report = h.store.reports["em-unit-0001"]
    assert report.attempt == 1 and (report.extractor, report.degraded) == ("rules", True)


def test_rejected_request_falls_back_to_rules_instead_of_failing() -> None:
    h = harness()
    h.claude.errors.append(ClaudeRequestRejected("BadRequestError", 400))
    assert run(h) == "done"
    report = h.store.reports["em-unit-0001"]
    assert (
        report.extractor == "rules"
        and "claude_request_rejected:400" in (report.pipeline["warnings"])
    )


def test_cease_and_desist_holds_the_account_and_queues_a_compliance_alert() -> None:
    h = harness(claude_result=extraction("cease_and_desist", case_number="CASE-2024-0001"))
    run(h)
    document = h.accounts.documents["ACC-1001"]
    assert document["status"] == "on_hold"
    assert document["hold"]["active"] is True and document["hold"]["reason"] == "cease_and_desist"
    report = h.store.reports["em-unit-0001"]
    assert report.decision == "UPDATE_AND_NOTIFY"
    assert {a["type"] for a in report.actions} >= {"hold", "notification"}
    assert [m.kind for m in h.store.outbox] == ["compliance_alert"]
    assert len(h.mailer.sent) == 1
    assert h.mailer.sent[0]["Subject"].strip().startswith("[Compliance alert] cease_and_desist")


def test_injection_suspected_never_moves_money() -> None:
    h = harness(
        claude_result=extraction(
            case_number="CASE-2024-0001", amount=1200.0, warnings=("injection_suspected",)
        )
    )
    run(h)
    report = h.store.reports["em-unit-0001"]
    assert report.decision == "MANUAL_REVIEW"
    assert h.accounts.applied == []
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 1200.0
    assert [m.kind for m in h.store.outbox] == ["review_request"]


def test_smtp_down_leaves_the_notification_pending_and_the_email_done() -> None:
    h = harness(claude_result=extraction("payment_plan_request", case_number="CASE-2024-0001"))
    h.mailer.fail_with = DependencyUnavailable("smtp", "SMTPDataError", stage="notify")
    assert run(h) == "done"
    assert h.store.emails["em-unit-0001"]["status"] == "done"
    assert h.outbox.sent_keys == [] and len(h.store.outbox) == 1
    # a later delivery of the same email sends it, exactly once
    h.mailer.fail_with = None
    assert run(h) == "duplicate"
    assert h.outbox.sent_keys == ["em-unit-0001:debt_update"]
    assert run(h) == "duplicate"
    assert len(h.mailer.sent) == 1


def test_ambiguous_match_is_never_applied() -> None:
    docs = [
        account_document("A1", case_number="C-1", email="jane@example.org"),
        account_document(
            "A2", case_number="C-2", account_reference="R-2", email="jane@example.org"
        ),
    ]
    h = harness(documents=docs, claude_result=extraction("payment_promise", amount=10.0))
    run(h)
    report = h.store.reports["em-unit-0001"]
    assert report.match["ambiguous"] is True and report.match["account_id"] is None
    assert report.decision == "MANUAL_REVIEW"
    assert h.accounts.applied == []
    assert [m.kind for m in h.store.outbox] == ["review_request"]


def test_invalid_account_documents_become_a_warning_not_a_crash() -> None:
    broken = account_document("B1", case_number="CASE-2024-0001")
    broken["history"] = "not a list"
    h = harness(documents=[broken, account_document()])
    assert run(h) == "done"
    report = h.store.reports["em-unit-0001"]
    assert "account_document_invalid" in report.pipeline["warnings"]
    assert report.match["account_id"] == "ACC-1001"


def test_an_email_finished_without_notifications_does_not_look_for_outbox_rows() -> None:
    h = harness(settings=load_settings({"NOTIFICATION_SWEEP_INTERVAL_SECONDS": "3600"}))
    assert run(h) == "done"
    assert h.store.reports["em-unit-0001"].decision == "AUTO_UPDATE"
    assert h.outbox.calls == [None]  # the instance's first sweep only, no lookup of its own
    # a redelivery of a finished email always looks (it may repair a crash after commit)
    assert run(h) == "duplicate"
    assert h.outbox.calls == [None, "em-unit-0001"]


def test_queued_notifications_are_sent_right_after_the_finish() -> None:
    h = harness(
        claude_result=extraction("payment_plan_request", case_number="CASE-2024-0001"),
        settings=load_settings({"NOTIFICATION_SWEEP_INTERVAL_SECONDS": "3600"}),
    )
    assert run(h) == "done"
    assert h.outbox.calls == ["em-unit-0001", None]
    assert h.outbox.sent_keys == ["em-unit-0001:debt_update"]


def test_rows_the_finish_leased_are_sent_without_looking_for_them_again() -> None:
    h = harness(
        claude_result=extraction("payment_plan_request", case_number="CASE-2024-0001"),
        settings=load_settings({"NOTIFICATION_SWEEP_INTERVAL_SECONDS": "3600"}),
    )
    h.store.leases = True
    assert run(h) == "done"
    assert h.outbox.calls == ["claimed", None]  # no lookup of this email's rows
    assert h.outbox.sent_keys == ["em-unit-0001:debt_update"]
    # a redelivery of the finished email still looks (its mail may not have gone out)
    assert run(h) == "duplicate"
    assert h.outbox.calls == ["claimed", None, "em-unit-0001"]


@pytest.mark.parametrize(("interval", "sweeps"), [("3600", 1), ("0", 3)])
def test_the_sweep_runs_at_most_once_per_interval(interval: str, sweeps: int) -> None:
    h = harness(settings=load_settings({"NOTIFICATION_SWEEP_INTERVAL_SECONDS": interval}))
    for number in range(3):
        assert run(h, delivery(f"em-unit-sweep-{number}")) == "done"
    assert h.outbox.calls.count(None) == sweeps


def test_compliance_wording_under_a_payment_intent_holds_instead_of_paying() -> None:
    text = (
        "I paid 200 EUR today for CASE-2024-0001. My attorney has filed a chapter 7 "
        "bankruptcy petition; the automatic stay applies."
    )
    h = harness(email=parsed_email(text=text))
    run(h)
    document = h.accounts.documents["ACC-1001"]
    assert document["balance"]["amount"] == 1200.0
    assert document["hold"]["active"] is True
    assert document["hold"]["reason"] == "bankruptcy_notice"
    report = h.store.reports["em-unit-0001"]
    assert report.decision == "UPDATE_AND_NOTIFY"
    assert [m.kind for m in h.store.outbox] == ["compliance_alert"]


def test_payment_to_a_held_account_is_reported_to_compliance() -> None:
    held = account_document(
        status="on_hold", hold={"active": True, "reason": "dispute", "since": None}
    )
    h = harness(documents=[held])
    run(h)
    document = h.accounts.documents["ACC-1001"]
    assert document["balance"]["amount"] == 1200.0 and document["status"] == "on_hold"
    assert h.store.reports["em-unit-0001"].decision == "UPDATE_AND_NOTIFY"
    assert [m.kind for m in h.store.outbox] == ["compliance_alert"]
    assert "the account below is on hold" in h.mailer.sent[0].get_content()


def test_a_review_request_links_to_the_console_item_when_one_is_configured() -> None:
    settings = load_settings({"CONSOLE_BASE_URL": "https://console.example/"})
    h = harness(
        documents=[], claude_result=extraction("payment_promise", amount=10.0), settings=settings
    )
    run(h)
    assert [m.kind for m in h.store.outbox] == ["review_request"]
    assert "Review it here:  https://console.example/items/em-unit-0001\n" in (
        h.store.outbox[0].body
    )


def test_an_update_that_needs_nobody_carries_no_console_link() -> None:
    settings = load_settings({"CONSOLE_BASE_URL": "https://console.example"})
    h = harness(
        claude_result=extraction("payment_plan_request", case_number="CASE-2024-0001"),
        settings=settings,
    )
    run(h)
    assert [m.kind for m in h.store.outbox] == ["debt_update"]
    assert "console.example" not in h.store.outbox[0].body


def _slow_claude(h: Harness, seconds: float, meanwhile: Any = None) -> None:
    """Claude answering after ``seconds``; ``meanwhile`` runs first (e.g. a takeover)."""
    answer = h.claude.extract

    def extract(email: Any) -> Any:
        time.sleep(seconds)
        if meanwhile is not None:
            meanwhile()
        return answer(email)

    h.claude.extract = extract  # type: ignore[method-assign]


def test_a_delivery_that_lost_its_lease_changes_no_account() -> None:
    """It ran past its lease and a redelivery took the email over: it stops before the apply
    (the other delivery owns the change), and writes nothing."""
    h = harness(settings=load_settings({"PROCESSOR_LEASE_SECONDS": "1"}))

    def taken_over() -> None:
        h.store.emails["em-unit-0001"]["owner"] = "another-delivery"

    _slow_claude(h, 0.6, taken_over)
    with pytest.raises(LeaseHeldError):
        run(h)
    assert h.accounts.applied == [] and h.store.reports == {}
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 1200.0


def test_a_slow_delivery_still_holding_its_lease_renews_it_and_applies() -> None:
    h = harness(settings=load_settings({"PROCESSOR_LEASE_SECONDS": "1"}))
    _slow_claude(h, 0.6)
    assert run(h) == "done"
    assert h.store.renewed == ["em-unit-0001"] and len(h.accounts.applied) == 1


def _with_request_timeout(h: Harness, seconds: float) -> None:
    from dataclasses import replace

    from shared.processing.pipeline import Pipeline

    h.pipeline = Pipeline(replace(h.pipeline.deps, request_seconds=seconds))


def test_no_account_write_starts_too_late_in_the_request() -> None:
    """A delivery renewed its lease, but its request is about to time out: past it the
    instance's CPU is throttled and the thread may stall longer than any lease, then apply
    after a redelivery changed another account. It raises before the write instead (the lease
    released), and the redelivery applies, once."""
    settings = load_settings({"PROCESSOR_LEASE_SECONDS": "1", "MONGODB_TIMEOUT_MS": "100"})
    h = harness(settings=settings)
    _with_request_timeout(h, 0.7)  # 0.1 s left at the write, under the 0.2 s margin
    _slow_claude(h, 0.6)
    with pytest.raises(LeaseHeldError) as caught:
        run(h)
    assert caught.value.stage == "apply"
    assert h.store.renewed == ["em-unit-0001"]  # it did hold the email: too late all the same
    assert h.accounts.applied == [] and h.store.reports == {}
    assert h.store.released == ["em-unit-0001"]
    del h.claude.extract  # a quick redelivery
    assert run(h) == "done"
    assert len(h.accounts.applied) == 1
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 1000.0


def test_a_renewed_delivery_with_request_time_left_applies() -> None:
    settings = load_settings({"PROCESSOR_LEASE_SECONDS": "1", "MONGODB_TIMEOUT_MS": "100"})
    h = harness(settings=settings)
    _with_request_timeout(h, 5.0)
    _slow_claude(h, 0.6)
    assert run(h) == "done"
    assert h.store.renewed == ["em-unit-0001"] and len(h.accounts.applied) == 1


def test_the_request_timeout_is_the_lease_less_a_minute_as_terraform_sets_it() -> None:
    from shared.processing.pipeline import apply_margin_of, request_seconds_of

    assert request_seconds_of(load_settings({})) == 300.0  # the defaults: 360 s lease
    assert request_seconds_of(load_settings({"PROCESSOR_LEASE_SECONDS": "120"})) == 60.0
    # a lease no Terraform deployment has (a test stack): no request timeout to keep to
    assert request_seconds_of(load_settings({"PROCESSOR_LEASE_SECONDS": "10"})) is None
    assert apply_margin_of(load_settings({})) == 10.0  # two MongoDB operations of 5 s


def test_a_quick_delivery_does_not_renew_its_lease() -> None:
    h = harness()
    assert run(h) == "done"
    assert h.store.renewed == []


def test_a_dispute_whose_only_reference_is_a_stray_number_holds_the_writers_account_too() -> None:
    """A tracking number equals another debtor's reference: the writer's own account is held
    as well as the one the number points at, never only the stranger's."""
    writer = account_document("ACC-1001", account_reference="REF-1001")
    stranger = account_document(
        "ACC-2002", case_number="CASE-2024-0002", account_reference="40817810", email=None
    )
    email = parsed_email(text="I dispute this debt. Stop.\n\nParcel tracking 40817810")
    h = harness(documents=[writer, stranger], claude_result=extraction("dispute"), email=email)
    assert run(h) == "done"
    assert h.accounts.documents["ACC-1001"]["hold"]["active"] is True
    assert h.accounts.documents["ACC-2002"]["hold"]["active"] is True
    assert [m.kind for m in h.store.outbox] == ["compliance_alert"]
