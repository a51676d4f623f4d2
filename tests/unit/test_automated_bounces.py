"""Which delivery reports make an email a bounce: the report a mail system sends (RFC 3464),
never one a person attached to their own email; and the failed recipients only of a bounce."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.extraction.email_parser import parse_email
from shared.processing.decision import Route
from shared.processing.envelope import Delivery
from tests.processing_fakes import extraction, harness, notice

CORPUS = Path(__file__).resolve().parents[2] / "eval" / "corpus"

REPORT = (
    "Content-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example\r\n\r\n"
    "Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
)
ORIGINAL = (
    "Content-Type: message/rfc822\r\n\r\n"
    "From: collections@collector.example\r\nTo: jane@example.org\r\nSubject: CASE-2024-0001\r\n\r\n"
    "If you dispute this debt, write to us. This is an attempt to collect a debt.\r\n"
)


def multipart_part(content_type: str, *parts: str, boundary: str = "B") -> str:
    """A multipart body part: its Content-Type header, then ``parts`` (each headers, blank
    line, body)."""
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts)
    return f'Content-Type: {content_type}; boundary="{boundary}"\r\n\r\n{body}--{boundary}--'


def multipart(headers: str, content_type: str, *parts: str, boundary: str = "B") -> bytes:
    return (
        f"{headers}To: collections@collector.example\r\nMIME-Version: 1.0\r\n"
        f"{multipart_part(content_type, *parts, boundary=boundary)}\r\n"
    ).encode()


def _process(h: Any, email_id: str) -> str:
    """One delivery of ``email_id`` through the harness's pipeline."""
    d = Delivery(
        notice=notice(email_id),
        correlation_id=f"corr-{email_id}",
        pubsub_message_id="1",
        publish_time=datetime(2026, 1, 2, tzinfo=UTC),
        delivery_attempt=1,
    )
    h.raw.put(d.notice, b"raw")
    return str(h.pipeline.process(d))


def report(recipient: str = "jane@example.org") -> str:
    return REPORT.format(recipient=recipient)


# --- a person's email with a report in it is read like any other ------------------------------

DISPUTE_HEADERS = (
    "From: Jane Example <jane@example.org>\r\nSubject: Dispute CASE-2024-0001 (resent)\r\n"
    "Date: Fri, 02 Jan 2026 10:00:00 +0000\r\nMessage-ID: <j1@example.org>\r\n"
)
DISPUTE_TEXT = (
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "I dispute this debt (CASE-2024-0001) and request validation of the debt.\r\n"
    "My first email to your old address bounced, the delivery report is attached.\r\n"
)
ATTACHED_REPORT = (
    'Content-Type: message/delivery-status; name="details.txt"\r\n'
    'Content-Disposition: attachment; filename="details.txt"\r\n\r\n'
    "Reporting-MTA: dns; mx.oldcollector.example\r\n\r\n"
    "Final-Recipient: rfc822; disputes@oldcollector.example\r\nAction: failed\r\n"
    "Status: 5.1.1\r\n"
)


def test_a_dispute_with_the_report_of_an_earlier_bounce_attached_is_no_bounce() -> None:
    email = parse_email(
        multipart(DISPUTE_HEADERS, "multipart/mixed", DISPUTE_TEXT, ATTACHED_REPORT)
    )
    assert email.automated is None
    assert email.bounced_recipients == ()
    assert "I dispute this debt" in email.text


def test_that_dispute_holds_the_account_and_alerts_staff() -> None:
    email = parse_email(
        multipart(DISPUTE_HEADERS, "multipart/mixed", DISPUTE_TEXT, ATTACHED_REPORT)
    )
    h = harness(email=email, claude_result=extraction("dispute", case_number="CASE-2024-0001"))
    assert _process(h, "em-bounce-0001") == "done"
    report_ = h.store.reports["em-bounce-0001"]
    assert report_.decision == Route.UPDATE_AND_NOTIFY
    assert h.accounts.documents["ACC-1001"]["hold"]["active"] is True
    assert [m.kind for m in h.store.outbox] == ["compliance_alert"]
    assert not any(a.get("type") == "note_bounce" for a in report_.actions)


@pytest.mark.parametrize(
    "shape",
    [
        # a report attached by anyone, directly under the top level
        lambda: multipart(
            "From: someone@example.net\r\nSubject: fyi\r\n",
            "multipart/mixed",
            "Content-Type: text/plain\r\n\r\nSee attached.",
            report(),
        ),
        # a bounce forwarded as an attachment
        lambda: multipart(
            "From: Jane Example <jane@example.org>\r\nSubject: Fwd: Undelivered Mail\r\n",
            "multipart/mixed",
            "Content-Type: text/plain\r\n\r\nYour address bounced my letter, see below.",
            "Content-Type: message/rfc822\r\n\r\n"
            + multipart(
                "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\n",
                "multipart/report; report-type=delivery-status",
                "Content-Type: text/plain\r\n\r\nCould not be delivered.",
                report("disputes@oldcollector.example"),
                boundary="inner",
            ).decode(),
        ),
        # a report nested in a part of a person's email
        lambda: multipart(
            "From: Jane Example <jane@example.org>\r\nSubject: my letter\r\n",
            "multipart/mixed",
            "Content-Type: text/plain\r\n\r\nI dispute this debt.",
            multipart_part("multipart/mixed", report(), boundary="inner"),
        ),
    ],
    ids=["attached-by-a-person", "forwarded-bounce", "nested-in-a-part"],
)
def test_a_report_a_person_attached_marks_no_address_bounced(shape: object) -> None:
    email = parse_email(shape())  # type: ignore[operator]
    assert email.automated is None
    assert email.bounced_recipients == ()


# --- bounces from mail systems stay bounces ------------------------------------------------


POSTFIX = multipart(
    "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx1.collector.example (Mail Delivery System)\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n",
    "multipart/report; report-type=delivery-status",
    "Content-Type: text/plain\r\n\r\nThis is the mail system at host mx1.",
    report("Jane@Example.org"),
    ORIGINAL,
)
GMAIL = multipart(
    "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n"
    "Subject: Delivery Status Notification (Failure)\r\n",
    "multipart/report; report-type=delivery-status",
    "Content-Type: text/plain\r\n\r\nAddress not found",
    report(),
    ORIGINAL,
)
EXCHANGE = multipart(
    "From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.com>\r\n"
    "Subject: Undeliverable: Your account\r\n",
    "multipart/report; report-type=delivery-status",
    "Content-Type: text/html\r\n\r\n<p>Delivery has failed to these recipients.</p>",
    report(),
    ORIGINAL,
)
EXIM_PLAIN = (
    b"From: Mail Delivery System <Mailer-Daemon@mail.example.net>\r\n"
    b"To: collections@collector.example\r\nSubject: Mail delivery failed\r\n"
    b"X-Failed-Recipients: jane@example.org\r\nAuto-Submitted: auto-replied\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    b"This message was created automatically by mail delivery software.\r\n"
)
# a mail system's report in a multipart/mixed (no report-type on the top level)
MIXED_FROM_POSTMASTER = multipart(
    "From: PostMaster <postmaster@exmail.example.com>\r\nSubject: Delivery failure\r\n",
    "multipart/mixed",
    "Content-Type: text/plain\r\n\r\nYour message could not be delivered.",
    report(),
    ORIGINAL,
)
MIXED_EMPTY_RETURN_PATH = multipart(
    "Return-Path: <>\r\nFrom: Mail System <noreply@mail.example.net>\r\nSubject: Returned\r\n",
    "multipart/mixed",
    "Content-Type: text/plain\r\n\r\nReturned mail.",
    report(),
)
# a gateway that wraps every inbound email in a multipart/mixed (a footer added)
WRAPPED_BY_A_GATEWAY = multipart(
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nSubject: Undelivered\r\n",
    "multipart/mixed",
    multipart_part(
        "multipart/report; report-type=delivery-status",
        "Content-Type: text/plain\r\n\r\nCould not be delivered.",
        report(),
        boundary="inner",
    ),
    "Content-Type: text/plain\r\n\r\nScanned by the mail gateway.",
)


@pytest.mark.parametrize(
    "raw",
    [
        POSTFIX,
        GMAIL,
        EXCHANGE,
        EXIM_PLAIN,
        MIXED_FROM_POSTMASTER,
        MIXED_EMPTY_RETURN_PATH,
        WRAPPED_BY_A_GATEWAY,
    ],
    ids=[
        "postfix",
        "gmail",
        "exchange",
        "exim-x-failed-recipients",
        "mixed-from-postmaster",
        "mixed-empty-return-path",
        "wrapped-by-a-gateway",
    ],
)
def test_a_mail_system_s_bounce_stays_a_bounce_with_its_failed_recipient(raw: bytes) -> None:
    email = parse_email(raw)
    assert email.automated == "bounce"
    assert email.bounced_recipients == ("jane@example.org",)


CORPUS_BOUNCES = {
    "0231-en-bounce.eml": ("kohara@icloud.example.com",),
    "0232-en-bounce.eml": ("priya.nair@gmail.example.com",),
    "0233-fr-bounce.eml": ("chantal.roux@gmail.example.com",),
    "0234-de-bounce.eml": ("t.brenner@gmail.example.com",),
    "0235-es-bounce.eml": (),  # delayed, not failed
    "0236-nl-bounce.eml": ("ruben.smit@orange.example.fr",),
}


@pytest.mark.parametrize(("name", "recipients"), sorted(CORPUS_BOUNCES.items()))
def test_the_corpus_bounces_stay_bounces(name: str, recipients: tuple[str, ...]) -> None:
    email = parse_email((CORPUS / name).read_bytes())
    assert (email.automated, email.bounced_recipients) == ("bounce", recipients)


def test_a_bounce_notes_the_address_only_of_the_report_a_mail_system_wrote() -> None:
    """A bounce that also carries a report someone else attached further down (inside the
    returned message) takes its failed recipients from its own report only."""
    forwarded = (
        "Content-Type: message/rfc822\r\n\r\n"
        + multipart(
            "From: someone@example.net\r\nSubject: fyi\r\n",
            "multipart/mixed",
            "Content-Type: text/plain\r\n\r\nSee attached.",
            report("victim@example.org"),
            boundary="inner",
        ).decode()
    )
    email = parse_email(
        multipart(
            "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\n",
            "multipart/report; report-type=delivery-status",
            "Content-Type: text/plain\r\n\r\nCould not be delivered.",
            report(),
            forwarded,
        )
    )
    assert (email.automated, email.bounced_recipients) == ("bounce", ("jane@example.org",))


def test_a_dispute_from_a_person_is_no_bounce_even_with_a_mailer_daemon_style_report() -> None:
    """The sender decides a report in a multipart/mixed: a person's address is not a mail
    system's, whatever the report says."""
    email = parse_email(
        multipart(
            "From: Post Master <post.master@example.org>\r\nSubject: Dispute\r\n",
            "multipart/mixed",
            DISPUTE_TEXT,
            report(),
        )
    )
    assert email.automated is None and email.bounced_recipients == ()


def test_an_account_is_not_noted_bounced_from_an_attached_report() -> None:
    raw = multipart(
        "From: someone@example.net\r\nSubject: fyi\r\n",
        "multipart/mixed",
        "Content-Type: text/plain\r\n\r\nSee attached.",
        report(),
    )
    h = harness(email=parse_email(raw), claude_result=extraction("other", intent_confidence=0.5))
    _process(h, "em-bounce-0002")
    assert h.store.reports["em-bounce-0002"].decision != Route.AUTOMATED
    document = h.accounts.documents["ACC-1001"]
    assert "email_bounced" not in document["debtor"]
    assert not any(entry.get("note") == "email_address_bounced" for entry in document["history"])


# --- a read receipt repeats our subject and says nothing of its own ---------------------------

READ_RECEIPT_TEXT = (
    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    "Your message\r\n  Subject: Final notice before insolvency application - CASE-2024-0001\r\n"
    "was read on Monday.\r\n"
)
DISPOSITION = (
    "Content-Type: message/disposition-notification\r\n\r\n"
    "Final-Recipient: rfc822; jane@example.org\r\n"
    "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
)


def test_a_read_receipt_is_automated_and_never_read_for_compliance() -> None:
    email = parse_email(
        multipart(
            "From: Jane Example <jane@example.org>\r\n"
            "Subject: Read: Final notice before insolvency application - CASE-2024-0001\r\n",
            "multipart/report; report-type=disposition-notification",
            READ_RECEIPT_TEXT,
            DISPOSITION,
        )
    )
    assert email.automated == "read_receipt"
    h = harness(
        email=email, rules_result=extraction("bankruptcy_notice", case_number="CASE-2024-0001")
    )
    assert _process(h, "em-mdn-0001") == "done"
    assert h.store.reports["em-mdn-0001"].decision == Route.AUTOMATED
    assert h.accounts.documents["ACC-1001"]["hold"]["active"] is False
    assert h.store.outbox == []
