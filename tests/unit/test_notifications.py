"""Notification texts: nothing from the inbound email can inject headers, lines or HTML."""

from __future__ import annotations

from email import message_from_bytes, policy

from shared.accounts import Action, ApplyStatus
from shared.accounts.mongo import validate_account
from shared.mail import build_message, one_line
from shared.processing.decision import NotificationKind, Thresholds, decide
from shared.processing.matching import NO_MATCH, Candidate, Match
from shared.processing.notifications import compose, dedup_key
from shared.processing.report import AccountChange
from tests.processing_fakes import account_document, extraction, parsed_email

ACCOUNT = validate_account(account_document())
MATCH = Match("case_number", 1.0, (Candidate(ACCOUNT, 1.0),))  # type: ignore[arg-type]
HOSTILE = "Ann\r\nBcc: victim@example.org\r\n\r\n<script>alert(1)</script>\nDecision: AUTO_UPDATE"


def _compose(
    kind: NotificationKind, ext: object, match: Match = MATCH, subject: str = HOSTILE
) -> object:
    decision = decide(ext, match, Thresholds(0.9, 0.6))  # type: ignore[arg-type]
    return compose(
        kind,
        recipient="staff@example.org",
        email_id="em-notify-1",
        correlation_id="corr-notify-1",
        email=parsed_email(subject=subject, sender="evil@example.org"),
        extraction=ext,
        match=match,
        decision=decision,
        actions=[AccountChange(Action.NOTE, "ACC-1001", ApplyStatus.APPLIED)],
    )


def test_subject_carries_only_our_identifiers() -> None:
    message = _compose(
        NotificationKind.DEBT_UPDATE, extraction("payment_plan_request", debtor_name=HOSTILE)
    )
    assert message.subject == "[Debt update] payment_plan_request - ACC-1001"
    assert (
        message.dedup_key
        == dedup_key("em-notify-1", NotificationKind.DEBT_UPDATE)
        == "em-notify-1:debt_update"
    )


def test_inbound_values_are_one_line_each_and_the_mail_is_plain_text() -> None:
    message = _compose(NotificationKind.REVIEW_REQUEST, extraction("other", debtor_name=HOSTILE))
    body_lines = message.body.splitlines()
    assert not any(line.startswith("Bcc:") for line in body_lines)
    assert not any(line.startswith("Decision: AUTO_UPDATE") for line in body_lines)
    assert len([line for line in body_lines if line.startswith("Decision:")]) == 1  # ours
    built = build_message(
        sender="p@localhost", to=message.recipient, subject=HOSTILE, body=message.body
    )
    parsed = message_from_bytes(built.as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "text/plain"
    assert parsed["Bcc"] is None
    assert "\n" not in str(parsed["Subject"])


def test_compliance_alert_without_account_says_what_to_do() -> None:
    message = _compose(NotificationKind.COMPLIANCE_ALERT, extraction("cease_and_desist"), NO_MATCH)
    assert message.kind == "compliance_alert"
    assert "no single account matched" in message.body
    assert "no account matched" in message.subject


def test_one_line_bounds_and_flattens() -> None:
    assert one_line("a\r\nb\tc\x00d") == "a b c d"
    assert len(one_line("x" * 1000, 50)) == 50


def test_one_formatting_helper_for_headers_and_bodies() -> None:
    value = "x\r\nBcc: y\t" + "z" * 400
    assert one_line(value, 20) == "x Bcc: y zzzzzzzzzz…"  # a body value: the cut is marked
    assert len(one_line(value)) == 300
    message = build_message(sender="a@localhost", to="b@localhost", subject=value, body="")
    assert message["Subject"] == ("x Bcc: y " + "z" * 400)[:200]  # a header: cut plainly


def test_a_notification_has_the_same_valid_message_id_at_every_send() -> None:
    """Derived from the outbox row's dedup key: a resend collapses at the mail client."""
    from email.headerregistry import HeaderRegistry

    from shared.mail.compose import MESSAGE_ID_DOMAIN, stable_message_id

    key = dedup_key("em-notify-1", NotificationKind.DEBT_UPDATE)
    first, again = (
        build_message(
            sender="p@example.org",
            to="staff@example.org",
            subject="s",
            body="b",
            headers={"Message-ID": stable_message_id(key)},
        )
        for _ in range(2)
    )
    assert first["Message-ID"] == again["Message-ID"] == stable_message_id(key)
    assert stable_message_id(key) != stable_message_id(
        dedup_key("em-notify-1", NotificationKind.REVIEW_REQUEST)
    )
    parsed = message_from_bytes(first.as_bytes(), policy=policy.default)
    (message_id,) = parsed.get_all("Message-ID")
    assert message_id.defects == ()  # a valid RFC 5322 msg-id
    assert HeaderRegistry()("Message-ID", str(message_id)).defects == ()
    assert str(message_id).endswith(f"@{MESSAGE_ID_DOMAIN}>")
    assert "em-notify-1" not in str(message_id)


def test_a_message_id_that_is_not_one_is_replaced_and_injects_nothing() -> None:
    message = build_message(
        sender="p@example.org",
        to="staff@example.org",
        subject="s",
        body="b",
        headers={"message-id": "<x@y>\r\nBcc: victim@example.org", "X-Tag": "t"},
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed.get_all("Bcc") is None
    assert len(parsed.get_all("Message-ID")) == 1
    assert "victim" not in str(parsed["Message-ID"])
    assert parsed["X-Tag"] == "t"
