"""The outbox against the real Postgres and SMTP stand-in: sent once, retried, given up."""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
import uuid
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from infra.fakes.clients import Mailbox
from shared.config import get_settings
from shared.db.engine import get_engine, transaction
from shared.mail import SmtpMailer
from shared.processing import outbox as outbox_module
from shared.processing.notifications import OutboxMessage
from shared.processing.outbox import PostgresOutbox, add_to_outbox


def _queue(email_id: str, kind: str = "review_request", *, age_seconds: int = 0) -> None:
    message = OutboxMessage(
        kind,
        f"{email_id}:{kind}",
        "staff@localhost",
        f"[Review needed] other - {email_id}",
        f"Email id: {email_id}\n",
    )
    with transaction() as session:
        add_to_outbox(
            session, [message, message], email_id=email_id, correlation_id="corr-outbox-1"
        )
        if age_seconds:
            session.execute(
                text(
                    "UPDATE notifications SET created_at = now() - make_interval(secs => :s) "
                    "WHERE email_id = :id"
                ),
                {"s": age_seconds, "id": email_id},
            )


def _row(email_id: str) -> tuple:
    with transaction() as session:
        return tuple(
            session.execute(
                text(
                    "SELECT status, attempts, last_error, sent_at IS NOT NULL "
                    "FROM notifications WHERE email_id = :id"
                ),
                {"id": email_id},
            ).one()
        )


def _mine(mailbox: Mailbox, email_id: str) -> list:
    return [m for m in mailbox.messages() if m["X-Inbound-Email-Id"] == email_id]


def test_pending_rows_are_sent_once_with_ids_in_headers(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    email_id = f"em-outbox-{uuid.uuid4().hex}"
    _queue(email_id)
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    summary = outbox.send_pending(SmtpMailer(), email_id=email_id)
    assert (summary.sent, summary.failed) == (1, 0)
    assert outbox.send_pending(SmtpMailer(), email_id=email_id).sent == 0
    assert _row(email_id)[0::3] == ("sent", True)
    sent = _mine(mailbox, email_id)
    assert len(sent) == 1
    assert sent[0]["X-Correlation-ID"] == "corr-outbox-1"
    assert sent[0].get_content_type() == "text/plain"


def test_concurrent_senders_send_each_row_once(stack_env: dict[str, str], mailbox: Mailbox) -> None:
    email_ids = [f"em-outbox-{uuid.uuid4().hex}" for _ in range(3)]
    for email_id in email_ids:
        _queue(email_id, age_seconds=120)
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    barrier = threading.Barrier(8)

    def sender(i: int) -> None:
        barrier.wait()
        if i % 2:
            outbox.send_pending(SmtpMailer(), limit=50)  # the sweep
        else:
            for email_id in email_ids:
                outbox.send_pending(SmtpMailer(), email_id=email_id)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for email_id in email_ids:
        assert len(_mine(mailbox, email_id)) == 1, email_id
        assert _row(email_id)[0] == "sent"


def _due_in(email_id: str) -> float | None:
    """Seconds until the row's next attempt (None: due at once, never tried)."""
    with transaction() as session:
        seconds = session.execute(
            text(
                "SELECT EXTRACT(EPOCH FROM next_attempt_at - now()) FROM notifications "
                "WHERE email_id = :id"
            ),
            {"id": email_id},
        ).scalar_one()
    return None if seconds is None else float(seconds)


def _set(email_id: str, *, attempts: int | None = None, due_in: float | None = None) -> None:
    """Overwrite the attempts count and/or schedule the next attempt ``due_in`` seconds away."""
    with transaction() as session:
        session.execute(
            text(
                "UPDATE notifications"
                " SET attempts = COALESCE(CAST(:attempts AS integer), attempts),"
                " next_attempt_at = CASE WHEN CAST(:due AS double precision) IS NULL"
                " THEN next_attempt_at"
                " ELSE now() + make_interval(secs => CAST(:due AS double precision)) END"
                " WHERE email_id = :id"
            ),
            {"id": email_id, "attempts": attempts, "due": due_in},
        )


def test_a_failed_send_schedules_the_next_attempt_and_is_not_retried_before(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    email_id = f"em-outbox-{uuid.uuid4().hex}"
    _queue(email_id, age_seconds=120)
    assert _due_in(email_id) is None  # a new row is due at once
    outbox = PostgresOutbox(max_attempts=2, sweep_min_age_seconds=60, retry_base_seconds=30)
    mailbox.refuse(True)
    try:
        assert outbox.send_pending(SmtpMailer(), email_id=email_id).failed == 1
        status, attempts, last_error, _ = _row(email_id)
        assert (status, attempts) == ("pending", 1)
        assert last_error.startswith("DependencyUnavailable: smtp")
        assert 28 < float(_due_in(email_id) or 0) <= 30  # base * 2^0
        # not due: neither its own redelivery nor the sweep tries it again (no attempt burnt)
        assert outbox.send_pending(SmtpMailer(), email_id=email_id).failed == 0
        outbox.send_pending(SmtpMailer(), limit=500)
        assert _row(email_id)[:2] == ("pending", 1)
    finally:
        mailbox.refuse(False)
    assert outbox.send_pending(SmtpMailer(), email_id=email_id).sent == 0
    assert _mine(mailbox, email_id) == []
    _set(email_id, due_in=-1)  # the backoff elapsed
    assert outbox.send_pending(SmtpMailer(), limit=500).sent >= 1  # the sweep sends it
    assert _row(email_id)[0::3] == ("sent", True)
    assert outbox.send_pending(SmtpMailer(), email_id=email_id).sent == 0
    assert len(_mine(mailbox, email_id)) == 1  # sent once


def test_the_backoff_doubles_per_attempt_up_to_the_cap(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    outbox = PostgresOutbox(
        max_attempts=100, sweep_min_age_seconds=60, retry_base_seconds=30, retry_max_seconds=3600
    )
    expected = {0: 30, 1: 60, 3: 240, 6: 1920, 7: 3600, 500: 3600}  # attempts before -> delay
    mailbox.refuse(True)
    try:
        for before, delay in expected.items():
            email_id = f"em-outbox-{uuid.uuid4().hex}"
            _queue(email_id)
            _set(email_id, attempts=before)
            assert outbox.send_pending(SmtpMailer(), email_id=email_id).failed == 1
            assert _row(email_id)[:2] == ("pending", before + 1)
            assert delay - 2 < float(_due_in(email_id) or 0) <= delay, before
    finally:
        mailbox.refuse(False)


def test_giving_up_needs_the_attempts_and_the_age_and_never_a_compliance_alert(
    stack_env: dict[str, str], mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = PostgresOutbox(
        max_attempts=3, sweep_min_age_seconds=60, give_up_after_seconds=3 * 24 * 3600
    )
    young = f"em-outbox-{uuid.uuid4().hex}"  # many attempts, but not yet 3 days old
    _queue(young)
    _set(young, attempts=10)
    old = f"em-outbox-{uuid.uuid4().hex}"  # 4 days old, the last allowed attempt
    _queue(old, age_seconds=4 * 24 * 3600)
    _set(old, attempts=2)
    compliance = f"em-outbox-{uuid.uuid4().hex}"  # as old and tried, but legally required
    _queue(compliance, kind="compliance_alert", age_seconds=4 * 24 * 3600)
    _set(compliance, attempts=50)
    mailbox.refuse(True)
    try:
        with caplog.at_level(logging.WARNING, logger="shared.processing.outbox"):
            for email_id in (young, old, compliance):
                assert outbox.send_pending(SmtpMailer(), email_id=email_id).failed == 1
    finally:
        mailbox.refuse(False)
    assert _row(young)[:2] == ("pending", 11)
    assert _row(old)[:2] == ("failed", 3)
    assert _row(compliance)[:2] == ("pending", 51)
    records = {r.json_fields["notification_id"]: r for r in caplog.records}  # type: ignore[attr-defined]
    by_event = {(r.getMessage(), r.levelno, r.json_fields["kind"]) for r in records.values()}  # type: ignore[attr-defined]
    assert by_event == {
        ("notification_send_failed", logging.WARNING, "review_request"),  # young: retried
        ("notification_failed", logging.ERROR, "review_request"),  # old: given up
        ("notification_send_failed", logging.ERROR, "compliance_alert"),  # overdue, kept
    }
    # a failed row is never picked again; the compliance alert goes out once due
    _set(old, due_in=-1)
    _set(compliance, due_in=-1)
    outbox.send_pending(SmtpMailer(), limit=500)
    assert _row(old)[0] == "failed" and _mine(mailbox, old) == []
    assert _row(compliance)[0] == "sent" and len(_mine(mailbox, compliance)) == 1


def test_sweep_picks_only_rows_older_than_the_minimum_age(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    fresh = f"em-outbox-{uuid.uuid4().hex}"
    old = f"em-outbox-{uuid.uuid4().hex}"
    _queue(fresh)
    _queue(old, age_seconds=3600)
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    outbox.send_pending(SmtpMailer(), limit=500)
    assert _row(old)[0] == "sent"
    assert _row(fresh)[0] == "pending"


def test_the_sweep_picks_due_retries_and_skips_scheduled_ones(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    due = f"em-outbox-{uuid.uuid4().hex}"  # retried once, its backoff over (young row)
    later = f"em-outbox-{uuid.uuid4().hex}"  # old, but its next attempt is in a minute
    _queue(due)
    _set(due, attempts=1, due_in=-1)
    _queue(later, age_seconds=3600)
    _set(later, attempts=1, due_in=60)
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    outbox.send_pending(SmtpMailer(), limit=500)
    assert _row(due)[:2] == ("sent", 2)
    assert _row(later)[:2] == ("pending", 1)
    assert outbox.send_pending(SmtpMailer(), email_id=later).sent == 0
    assert len(_mine(mailbox, due)) == 1 and _mine(mailbox, later) == []


def _scheduled_sweep(stack: Any) -> dict[str, Any]:
    """What Cloud Scheduler's outbox job does: POST {"task": "outbox_sweep"} to the rollup."""
    request = urllib.request.Request(
        stack.url("rollup") + "/",
        data=b'{"task": "outbox_sweep"}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_the_scheduled_sweep_sends_what_waited_for_a_quiet_night(
    stack: Any, stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    """No email arrives after an SMTP outage: the rollup function's sweep task sends the due
    rows once, keeps the not-yet-due ones for later, and a refusing relay reschedules them."""
    waiting = [f"em-outbox-{uuid.uuid4().hex}" for _ in range(3)]
    for email_id in waiting:
        _queue(email_id, "compliance_alert", age_seconds=3600)
    later = f"em-outbox-{uuid.uuid4().hex}"
    _queue(later, age_seconds=3600)
    _set(later, attempts=1, due_in=600)
    mailbox.refuse(True)
    try:
        refused = _scheduled_sweep(stack)
    finally:
        mailbox.refuse(False)
    assert refused["task"] == "outbox_sweep" and refused["sent"] == 0
    assert refused["failed"] >= len(waiting)
    for email_id in waiting:
        assert _row(email_id)[:2] == ("pending", 1)
        _set(email_id, due_in=-1)  # its backoff is over
    answer = _scheduled_sweep(stack)
    assert answer["sent"] >= len(waiting)
    for email_id in waiting:
        assert _row(email_id)[:2] == ("sent", 2)
        assert len(_mine(mailbox, email_id)) == 1
    assert _row(later)[:2] == ("pending", 1) and _mine(mailbox, later) == []
    _scheduled_sweep(stack)
    assert all(len(_mine(mailbox, email_id)) == 1 for email_id in waiting)


class _KillsTheOutboxConnection(SmtpMailer):
    """Sends for real, then terminates the outbox's pooled Postgres connection (``pid``):
    Postgres "goes away" for this process after the relay accepted the mail and before the row
    is marked sent. Another sender then tries to claim the same email's rows."""

    def __init__(self, pid: int) -> None:
        super().__init__()
        self.pid = pid

    def send(self, **kwargs: Any) -> str:
        message_id = super().send(**kwargs)
        engine = create_engine(str(get_settings().database_url), poolclass=NullPool)
        with engine.begin() as conn:
            killed = conn.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": self.pid}
            ).scalar_one()
            # another sender (its own connection) claims this email's due rows: none
            taken = conn.execute(
                outbox_module._CLAIM_EMAIL_ROWS,
                {"email_id": kwargs["headers"]["X-Inbound-Email-Id"], "limit": 10, "lease": 60},
            ).all()
        engine.dispose()
        assert killed, "the outbox's connection was not found"
        assert taken == [], "another sender took a row whose mail is on its way"
        return message_id


def test_mail_accepted_before_postgres_went_away_is_recorded_not_sent_again(
    stack_env: dict[str, str], mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    email_id = f"em-outbox-{uuid.uuid4().hex}"
    _queue(email_id)
    # one pooled connection, used by the claim and then by the record after the kill (only
    # this test's own connection is killed: other processes share the database)
    get_engine().dispose()
    with get_engine().connect() as conn:
        pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    with caplog.at_level(logging.INFO):
        summary = outbox.send_pending(_KillsTheOutboxConnection(pid), email_id=email_id)
    assert summary.sent == 1
    assert _row(email_id)[0::3] == ("sent", True)
    assert outbox.send_pending(SmtpMailer(), email_id=email_id).sent == 0
    assert len(_mine(mailbox, email_id)) == 1
    events = [r.getMessage() for r in caplog.records]
    assert "notification_sent_unrecorded" in events
    assert "notification_sent_recorded_late" in events


def test_a_batch_stops_mailing_before_its_lease_runs_out_and_releases_the_rest(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    """A relay answering slowly: the rows a sender cannot mail and record inside their lease
    are released, never mailed by it after another sender may have taken them."""
    emails = [f"em-outbox-{uuid.uuid4().hex}" for _ in range(3)]
    for email_id in emails:
        _queue(email_id)
    seconds = iter([0.0, 250.0])  # the first mail took 250 s of a 300 s lease
    outbox = PostgresOutbox(
        max_attempts=3,
        sweep_min_age_seconds=60,
        send_lease_seconds=300,
        record_sent_within_seconds=60,
        one_mail_seconds=30,
        clock=lambda: next(seconds, 250.0),
    )
    rows = []
    for email_id in emails:  # claimed together, as a sweep's batch is
        with transaction() as session:
            rows += (
                session.execute(
                    outbox_module._CLAIM_EMAIL_ROWS,
                    {
                        "email_id": email_id,
                        "limit": 10,
                        "lease": 300.0,
                    },
                )
                .mappings()
                .all()
            )
    summary = outbox.send_claimed(SmtpMailer(), rows)
    assert (summary.sent, summary.failed) == (1, 0)
    first, *rest = sorted(
        emails, key=lambda e: min(int(r["id"]) for r in rows if r["email_id"] == e)
    )
    assert _row(first)[0::3] == ("sent", True)
    for email_id in rest:
        assert _row(email_id)[:2] == ("pending", 0) and _mine(mailbox, email_id) == []
        # released: due again at once for the next sender, not at the end of the lease
        assert (
            PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
            .send_pending(SmtpMailer(), email_id=email_id)
            .sent
            == 1
        )


# -- every send of a row carries the same Message-ID; a sender whose lease passed -------------


def test_every_send_of_a_row_carries_the_message_id_of_its_dedup_key(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    """A resend (a crash after the relay accepted, a lease that ran out mid-send) collapses at
    the recipient's mail client: the Message-ID is derived from the row's dedup key."""
    from shared.mail.compose import stable_message_id

    email_id = f"em-outbox-{uuid.uuid4().hex}"
    _queue(email_id)
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    assert outbox.send_pending(SmtpMailer(), email_id=email_id).sent == 1
    _set(email_id, due_in=-1)  # as if the record of the first send had been lost
    with transaction() as session:
        session.execute(
            text("UPDATE notifications SET status = 'pending' WHERE email_id = :id"),
            {"id": email_id},
        )
    assert outbox.send_pending(SmtpMailer(), email_id=email_id).sent == 1
    sent = _mine(mailbox, email_id)
    assert len(sent) == 2
    expected = stable_message_id(f"{email_id}:review_request")
    assert [m["Message-ID"] for m in sent] == [expected, expected]


def test_rows_the_finishing_statement_leased_carry_the_same_message_id(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    from shared.mail.compose import stable_message_id
    from shared.processing.report import Report
    from shared.processing.store import PostgresProcessingStore
    from tests.fakes import RecordingMetrics
    from tests.processing_fakes import notice

    store = PostgresProcessingStore(lease_seconds=60)
    n = notice(f"em-outbox-{uuid.uuid4().hex}")
    store.claim(n, correlation_id="corr-outbox-2", owner="me")
    message = OutboxMessage(
        "debt_update", f"{n.email_id}:debt_update", "staff@localhost", "s", "body\n"
    )
    claimed: list[dict[str, Any]] = []
    report = Report(email_id=n.email_id, correlation_id="corr-outbox-2", status="done", attempt=1)
    store.finish(
        report, owner="me", notifications=[message], metrics=RecordingMetrics(), claimed=claimed
    )
    assert len(claimed) == 1
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    assert outbox.send_claimed(SmtpMailer(), claimed).sent == 1
    (sent,) = _mine(mailbox, n.email_id)
    assert sent["Message-ID"] == stable_message_id(message.dedup_key)
    assert _row(n.email_id)[0] == "sent"


class _LeasePassesMidSend(SmtpMailer):
    """While a message is on its way, this sender's lease ends and another sender claims the
    row (its own lease, far ahead); then the relay accepts (``fail_with`` None) or refuses."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        super().__init__()
        self.fail_with = fail_with

    def send(self, **kwargs: Any) -> str:
        with transaction() as session:
            session.execute(
                text(
                    "UPDATE notifications SET next_attempt_at = now() + interval '900 seconds'"
                    " WHERE email_id = :id"
                ),
                {"id": kwargs["headers"]["X-Inbound-Email-Id"]},
            )
        if self.fail_with is not None:
            raise self.fail_with
        return super().send(**kwargs)


def test_a_refusal_after_the_lease_passed_leaves_the_new_holders_lease(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    """Recording the refusal would move the row's next attempt 30 s ahead: inside the other
    sender's lease, so a third sender could mail it beside the second."""
    from shared.errors import DependencyUnavailable

    email_id = f"em-outbox-{uuid.uuid4().hex}"
    _queue(email_id)
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60, retry_base_seconds=30)
    refused = _LeasePassesMidSend(DependencyUnavailable("smtp", "SMTPServerDisconnected"))
    outbox.send_pending(refused, email_id=email_id)
    assert _row(email_id)[:2] == ("pending", 0)  # the attempt is the new holder's to count
    due = _due_in(email_id)
    assert due is not None and due > 800


def test_rows_released_after_the_lease_passed_stay_with_the_new_holder(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    """The mailer fails unexpectedly on the first row; the second, not tried, would be made due
    at once — under the other sender's lease."""
    email_id = f"em-outbox-{uuid.uuid4().hex}"
    _queue(email_id, "review_request")
    _queue(email_id, "compliance_alert")
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    with pytest.raises(RuntimeError):
        outbox.send_pending(_LeasePassesMidSend(RuntimeError("a bug")), email_id=email_id)
    with transaction() as session:
        soonest = session.execute(
            text(
                "SELECT min(EXTRACT(EPOCH FROM next_attempt_at - now())) FROM notifications"
                " WHERE email_id = :id"
            ),
            {"id": email_id},
        ).scalar_one()
    assert float(soonest) > 800  # neither made due at once under the new holder


def test_a_mail_accepted_after_the_lease_passed_is_recorded_and_reported(
    stack_env: dict[str, str], mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    """The relay accepted it: the row is sent whoever holds it now (the other sender may mail
    it too, with the same Message-ID), and the log says so."""
    email_id = f"em-outbox-{uuid.uuid4().hex}"
    _queue(email_id)
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    with caplog.at_level(logging.INFO):
        assert outbox.send_pending(_LeasePassesMidSend(), email_id=email_id).sent == 1
    assert _row(email_id)[0::3] == ("sent", True)
    assert "notification_sent_after_lease_passed" in [r.getMessage() for r in caplog.records]
