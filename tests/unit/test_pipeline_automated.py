"""Mail no person wrote (auto-replies, bounces, bulk mail) through the pipeline: its own
decision, nobody notified, no account change (a bounce notes the address on the account, once);
and a compliance email referring to several accounts holds each of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.extraction.email_parser import parse_email
from shared.metrics.collector import InvalidMetric, validate_metric
from shared.processing.decision import Route
from shared.processing.envelope import Delivery
from tests.processing_fakes import Harness, account_document, extraction, harness, notice

AUTOMATED = Route.AUTOMATED


def delivery(email_id: str = "em-auto-0001") -> Delivery:
    return Delivery(
        notice=notice(email_id),
        correlation_id="corr-auto-000001",
        pubsub_message_id="7",
        publish_time=datetime(2026, 1, 1, tzinfo=UTC),
        delivery_attempt=1,
    )


def run(h: Harness, d: Delivery | None = None) -> str:
    d = d or delivery()
    h.raw.put(d.notice, b"raw")
    return h.pipeline.process(d)


def mime(headers: str, body: str) -> bytes:
    return (
        "From: Jane Example <jane@example.org>\r\nTo: collections@collector.example\r\n"
        "Message-ID: <x1@example.org>\r\nDate: Mon, 1 Jun 2026 10:00:00 +0000\r\n"
        f"{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ("Subject: Out of office\r\nAuto-Submitted: auto-replied\r\n", "auto_reply"),
        ("Subject: Away\r\nX-Autoreply: yes\r\n", "auto_reply"),
        ("Subject: Away\r\nX-Autorespond: Away\r\n", "auto_reply"),
        ("Subject: Away\r\nPrecedence: auto_reply\r\n", "auto_reply"),
        ("Subject: News\r\nPrecedence: list\r\n", "bulk"),
        ("Subject: News\r\nList-Id: <debt-news.lists.example>\r\n", "bulk"),
    ],
)
def test_automated_mail_is_reported_on_its_own_route_and_changes_nothing(
    headers: str, kind: str
) -> None:
    # the extraction says "payment of 200 EUR for CASE-2024-0001": still nothing moves
    email = parse_email(mime(headers, "I am out of the office until Monday."))
    h = harness(email=email)
    assert run(h) == "done"
    report = h.store.reports["em-auto-0001"]
    assert report.decision == AUTOMATED
    reasons = report.actions[-1]["reasons"]
    assert reasons == [f"automated:{kind}"]
    assert h.store.outbox == [] and h.mailer.sent == []
    assert h.accounts.applied == []
    assert h.accounts.documents["ACC-1001"]["balance"]["amount"] == 1200.0
    assert h.claude.calls == 0  # nobody wrote it: no model call
    assert report.degraded is False
    rows = [(n, labels) for m in h.metrics for n, _, labels in m.rows]
    assert ("automated_mail", {"kind": kind}) in rows
    assert ("decision", {"decision": AUTOMATED}) in rows


def test_a_machine_notice_with_nothing_recognised_is_automated() -> None:
    email = parse_email(mime("Subject: Ticket 4411\r\nAuto-Submitted: auto-generated\r\n", "Ok."))
    assert email.automated == "auto_generated"
    h = harness(email=email, claude_result=extraction("other"))
    run(h)
    report = h.store.reports["em-auto-0001"]
    assert report.decision == AUTOMATED and report.actions[-1]["reasons"] == [
        "automated:auto_generated"
    ]
    assert h.store.outbox == [] and h.accounts.applied == []


def test_a_machine_notice_with_a_payment_or_a_bankruptcy_is_acted_on() -> None:
    # a bank's payment advice and a court's notice are machine mail that matters
    advice = parse_email(
        mime("Subject: Payment advice\r\nAuto-Submitted: auto-generated\r\n", "Transfer done.")
    )
    h = harness(email=advice)  # Claude reads it: a payment for CASE-2024-0001
    run(h)
    assert h.claude.calls == 1
    assert h.store.reports["em-auto-0001"].decision != AUTOMATED
    court = parse_email(
        mime(
            "Subject: Notice\r\nAuto-Submitted: auto-generated\r\n",
            "Notice of Chapter 7 bankruptcy case filed. The automatic stay applies.",
        )
    )
    h = harness(email=court, claude_result=extraction("other", case_number="CASE-2024-0001"))
    run(h)
    assert h.accounts.documents["ACC-1001"]["hold"]["active"] is True
    assert [m.kind for m in h.store.outbox] == ["compliance_alert"]


def test_auto_submitted_no_is_a_person_writing() -> None:
    email = parse_email(mime("Subject: Paid\r\nAuto-Submitted: no\r\n", "I paid."))
    assert email.automated is None
    h = harness(email=email)
    run(h)
    assert h.store.reports["em-auto-0001"].decision != AUTOMATED


def test_bulk_mail_about_disputes_does_not_hold() -> None:
    # a newsletter from nobody's address names no account: it holds nothing
    body = "Newsletter: how to dispute a debt. Stop collection calls! Chapter 7 explained."
    raw = mime("Subject: Tips\r\nList-Id: <tips.example>\r\n", body)
    email = parse_email(raw.replace(b"jane@example.org", b"news@tips.example"))
    h = harness(email=email, rules_result=replace(extraction("dispute"), extractor="rules"))
    run(h)
    assert h.store.reports["em-auto-0001"].decision == AUTOMATED
    assert h.accounts.documents["ACC-1001"]["hold"]["active"] is False
    assert h.store.outbox == []


def test_compliance_wording_marked_bulk_from_a_debtors_address_holds() -> None:
    # the debtor's own mail program or mail-merge tool may add bulk headers to a letter: from
    # the debtor's address, compliance wording names the account well enough to hold it (a
    # hold a person releases costs less than collecting through a bankruptcy stay)
    body = "I have filed a Chapter 7 bankruptcy petition. Stop all collection calls."
    email = parse_email(mime("Subject: Notice\r\nList-Unsubscribe: <mailto:u@x.example>\r\n", body))
    h = harness(email=email, rules_result=replace(extraction("other"), extractor="rules"))
    run(h)
    assert h.store.reports["em-auto-0001"].decision != AUTOMATED
    assert h.accounts.documents["ACC-1001"]["hold"]["active"] is True


@pytest.mark.parametrize(
    "headers",
    [
        "Subject: CASE-2024-0001\r\nList-Id: <lawmail.lists.example>\r\n",
        "Subject: CASE-2024-0001\r\nPrecedence: list\r\n",
        "Subject: Re: CASE-2024-0001\r\nAuto-Submitted: auto-replied\r\n",
    ],
)
def test_bulk_or_auto_replied_mail_naming_an_account_with_a_compliance_signal_holds(
    headers: str,
) -> None:
    # a law firm's letter sent through a mailing platform that adds bulk headers
    body = "We represent the debtor in CASE-2024-0001. Cease all communication with our client."
    email = parse_email(mime(headers, body))
    assert email.automated in ("bulk", "auto_reply")
    h = harness(email=email)  # the rules read the case number: a reference names the account
    run(h)
    report = h.store.reports["em-auto-0001"]
    assert report.decision != AUTOMATED
    assert h.accounts.documents["ACC-1001"]["hold"]["active"] is True
    assert [m.kind for m in h.store.outbox] == ["compliance_alert"]
    assert h.claude.calls == 0  # still no model call for mail no person wrote


def test_an_out_of_office_reply_quoting_our_subject_does_not_hold() -> None:
    # the subject is ours quoted back; the body is the auto-reply: nothing to act on
    email = parse_email(
        mime(
            "Subject: Automatic reply: Your dispute of CASE-2024-0001\r\n"
            "Auto-Submitted: auto-replied\r\n",
            "I am out of the office until Monday.",
        )
    )
    h = harness(email=email)  # the rules read the case number in the subject
    run(h)
    assert h.store.reports["em-auto-0001"].decision == AUTOMATED
    assert h.accounts.documents["ACC-1001"]["hold"]["active"] is False
    assert h.store.outbox == []


BOUNCE = (
    "From: Mail Delivery Subsystem <mailer-daemon@mx.example>\r\n"
    "To: collections@collector.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    "Message-ID: <b1@mx.example>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
    "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example\r\n\r\n"
    "Final-Recipient: rfc822; Jane@Example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    "--B\r\nContent-Type: message/rfc822\r\n\r\n"
    "From: collections@collector.example\r\nTo: jane@example.org\r\nSubject: CASE-2024-0001\r\n\r\n"
    "If you dispute this debt, write to us. This is an attempt to collect a debt.\r\n"
    "--B--\r\n"
)


def test_a_bounce_notes_on_the_debtors_account_once_and_notifies_nobody() -> None:
    email = parse_email(BOUNCE.encode())
    assert (email.automated, email.bounced_recipients) == ("bounce", ("jane@example.org",))
    other = account_document("ACC-2002", case_number="C-2", email="someone@example.org")
    h = harness(email=email, documents=[account_document(), other])
    assert run(h) == "done"
    report = h.store.reports["em-auto-0001"]
    assert report.decision == AUTOMATED
    assert report.actions[0] == {
        "type": "note_bounce",
        "account_id": "ACC-1001",
        "result": "applied",
    }
    document = h.accounts.documents["ACC-1001"]
    assert document["debtor"]["email_bounced"]["email_id"] == "em-auto-0001"
    assert document["debtor"]["email_bounced"]["address"] == "jane@example.org"
    assert document["history"][-1]["note"] == "email_address_bounced"
    assert document["balance"]["amount"] == 1200.0 and document["hold"]["active"] is False
    assert h.accounts.documents["ACC-2002"]["history"] == []
    assert h.store.outbox == [] and h.mailer.sent == []
    # the same bounce delivered again (its report lost) notes nothing twice
    h.store.emails.clear()
    h.store.reports.clear()
    run(h)
    assert len(document["history"]) == 1
    assert h.store.reports["em-auto-0001"].actions[0]["result"] == "already_applied"


def test_a_compliance_email_holds_every_account_it_refers_to() -> None:
    documents = [
        account_document("ACC-1001", case_number="2024/00118", account_reference="KD-1"),
        account_document("ACC-2002", case_number="0099-7731", account_reference="KD-2",
                         email="other@example.org"),
    ]  # fmt: skip
    text = "Please see below.\r\n\r\n---------- Forwarded message ---------\r\n" + (
        "From: Jane <jane@example.org>\r\n\r\nI have a lawyer now. Stop contacting me about "
        "2024-00118 and 0099 7731."
    )
    email = parse_email(
        mime("Subject: Fwd: my client\r\n", text).replace(
            b"jane@example.org>\r\nTo", b"lawyer@law.example>\r\nTo", 1
        )
    )
    h = harness(email=email, documents=documents, claude_result=extraction(intent="other"))
    run(h)
    report = h.store.reports["em-auto-0001"]
    assert report.decision == "UPDATE_AND_NOTIFY"
    assert {a["account_id"] for a in report.actions if a.get("type") == "hold"} == {
        "ACC-1001",
        "ACC-2002",
    }
    for key in ("ACC-1001", "ACC-2002"):
        assert h.accounts.documents[key]["hold"]["active"] is True
        assert h.accounts.documents[key]["status"] == "on_hold"
    assert [m.kind for m in h.store.outbox] == ["compliance_alert"]
    assert "hold_every_referenced_account" in report.actions[-1]["reasons"]


@pytest.mark.parametrize("kind", ["bounce", "auto_reply", "bulk", "auto_generated"])
def test_the_automated_mail_metric_accepts_only_known_kinds(kind: str) -> None:
    assert validate_metric("automated_mail", 1, {"kind": kind}) == 1.0
    with pytest.raises(InvalidMetric):
        validate_metric("automated_mail", 1, {"kind": "jane@example.org"})


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        (
            "Subject: CASE-2024-0001\r\nList-Unsubscribe: <mailto:u@lawmail.example>\r\n",
            "Our client, holder of CASE-2024-0001, reports harassment by your callers. "
            "No further contact, please.",
        ),
        (
            "Subject: Re: CASE-2024-0001\r\nAuto-Submitted: auto-replied\r\n",
            "My lawyer handles this matter now; you are harassing me.",
        ),
    ],
    ids=["bulk", "auto-reply"],
)
def test_what_only_the_rules_keywords_recognise_in_the_body_still_holds(
    headers: str, body: str
) -> None:
    """The rules extractor reads bulk mail and auto-replies (no model call), without their
    subject and quoted history: its compliance intent from the body counts."""
    from shared.config import load_settings
    from shared.extraction.rules import RulesExtractor

    email = parse_email(mime(headers, body))
    rules = RulesExtractor(load_settings({}), degraded=False)
    h = harness(email=email)
    h.rules.result = rules.extract(replace(email, subject="", quoted_text=""))
    run(h)
    assert h.store.reports["em-auto-0001"].decision != AUTOMATED
    assert h.accounts.documents["ACC-1001"]["hold"]["active"] is True
    assert [m.kind for m in h.store.outbox] == ["compliance_alert"]


@pytest.mark.parametrize(
    "headers",
    [
        "Subject: Payment\r\nPrecedence: bulk\r\n",
        "Subject: Payment\r\nPrecedence: junk\r\n",
        "Subject: Payment\r\nList-Unsubscribe: <mailto:u@merge.example>\r\n",
    ],
)
def test_a_persons_mail_a_gateway_or_mail_merge_marked_as_bulk_is_read(headers: str) -> None:
    """A company gateway adds "Precedence: bulk" to a shared mailbox's mail, a mail-merge tool
    adds List-Unsubscribe: alone they mark no list, and the payment is read (by the model)."""
    email = parse_email(mime(headers, "I paid 200 EUR for CASE-2024-0001 yesterday."))
    assert email.automated == "auto_generated"
    h = harness(email=email)
    run(h)
    assert h.claude.calls == 1
    assert h.store.reports["em-auto-0001"].decision != AUTOMATED


def test_the_rules_read_automated_mail_without_its_subject_and_quoted_history() -> None:
    email = parse_email(
        mime("Subject: Your dispute of CASE-2024-0001\r\nPrecedence: list\r\n", "Newsletter.")
    )
    h = harness(email=email)
    seen: list[Any] = []
    extract = h.rules.extract

    def recording(parsed: Any) -> Any:
        seen.append(parsed)
        return extract(parsed)

    h.rules.extract = recording  # type: ignore[method-assign]
    run(h)
    assert [(e.subject, e.quoted_text, e.text) for e in seen] == [("", "", "Newsletter.")]
