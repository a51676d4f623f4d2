"""The outbox against the real Postgres and SMTP stand-in: sent once, retried, given up."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import text

from infra.fakes.clients import Mailbox
from shared.db.engine import transaction
from shared.mail import SmtpMailer
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


def test_pending_rows_are_sent_once_with_ids_in_headers(stack_env: dict, mailbox: Mailbox) -> None:
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


def test_concurrent_senders_send_each_row_once(stack_env: dict, mailbox: Mailbox) -> None:
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


def test_smtp_refusing_leaves_rows_pending_then_failed(stack_env: dict, mailbox: Mailbox) -> None:
    email_id = f"em-outbox-{uuid.uuid4().hex}"
    _queue(email_id)
    outbox = PostgresOutbox(max_attempts=2, sweep_min_age_seconds=60)
    mailbox.refuse(True)
    assert outbox.send_pending(SmtpMailer(), email_id=email_id).failed == 1
    status, attempts, last_error, _ = _row(email_id)
    assert (status, attempts) == ("pending", 1)
    assert last_error.startswith("DependencyUnavailable: smtp")
    assert outbox.send_pending(SmtpMailer(), email_id=email_id).failed == 1
    assert _row(email_id)[:2] == ("failed", 2)
    mailbox.refuse(False)
    assert outbox.send_pending(SmtpMailer(), email_id=email_id).sent == 0
    assert _mine(mailbox, email_id) == []


def test_sweep_picks_only_rows_older_than_the_minimum_age(
    stack_env: dict, mailbox: Mailbox
) -> None:
    fresh = f"em-outbox-{uuid.uuid4().hex}"
    old = f"em-outbox-{uuid.uuid4().hex}"
    _queue(fresh)
    _queue(old, age_seconds=3600)
    outbox = PostgresOutbox(max_attempts=3, sweep_min_age_seconds=60)
    outbox.send_pending(SmtpMailer(), limit=500)
    assert _row(old)[0] == "sent"
    assert _row(fresh)[0] == "pending"
