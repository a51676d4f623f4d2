"""Sample inbound emails as raw bytes, each with what a reader should find in it.

Written by hand where the bytes matter (charsets, transfer encodings), so the providers'
formats are exercised with what real mailers send: ISO-8859-1 quoted-printable, ISO-2022-JP
(7-bit JIS), HTML-only, a forwarded message (``message/rfc822``), attachments with non-ASCII
filenames (RFC 2231), inline images.
"""

from __future__ import annotations

import base64
import email
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <<>>\n%%EOF\n" + bytes(range(256))
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40


@dataclass(frozen=True)
class Summary:
    """What matters in an email: subject, text, html, attachments (name, type, bytes)."""

    subject: str
    text: str | None
    html: str | None
    attachments: tuple[tuple[str | None, str, bytes], ...]
    message_id: str | None


@dataclass(frozen=True)
class Sample:
    name: str
    mime: bytes
    expected: Summary


def _norm(text: str | None) -> str | None:
    return None if text is None else text.replace("\r\n", "\n").strip()


def summarise(mime: bytes) -> Summary:
    """Parse ``mime`` with ``email.policy.default`` the way the processor will."""
    message = email.message_from_bytes(mime, policy=policy.default)
    attachments = []
    text = html = None
    for part in _leaves(message):
        is_body = part.get_content_disposition() != "attachment" and part.get_filename() is None
        if is_body and part.get_content_type() == "text/plain" and text is None:
            text = part.get_content()
        elif is_body and part.get_content_type() == "text/html" and html is None:
            html = part.get_content()
        else:
            attachments.append((part.get_filename(), part.get_content_type(), _bytes_of(part)))
    message_id = message.get("Message-ID")
    return Summary(
        subject=str(message.get("Subject", "")),
        text=_norm(text),
        html=_norm(html),
        attachments=tuple(attachments),
        message_id=None if message_id is None else str(message_id).strip(),
    )


def _leaves(message: Message) -> Iterator[Message]:
    if message.get_content_maintype() == "multipart":
        for part in message.get_payload():
            yield from _leaves(part)
    else:
        yield message


def _bytes_of(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()[0]
        # Compare forwarded messages by what they say, not by their serialisation.
        summary = summarise(inner.as_bytes(policy=policy.SMTP))
        return f"{summary.subject}\n{summary.text}".encode()
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _mid() -> str:
    return f"<{uuid.uuid4().hex}@mail.example.com>"


def latin1_payment(message_id: str | None = None) -> Sample:
    """ISO-8859-1, quoted-printable, encoded-word subject."""
    mid = message_id or _mid()
    body = (
        "Sehr geehrte Damen und Herren,\r\n\r\nich habe heute 250,00 EUR für das Konto "
        "AC-1001 überwiesen.\r\n\r\nMit freundlichen Grüßen\r\nJürgen Müller\r\n"
    )
    qp = body.encode("latin-1")
    import quopri

    mime = (
        b"Return-Path: <juergen@example.de>\r\n"
        b"Received: from mail.example.de (mail.example.de [192.0.2.1])\r\n"
        b"\tby mx.example.com with ESMTPS id abc123; Mon, 3 Mar 2025 10:15:02 +0100\r\n"
        b"From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <juergen@example.de>\r\n"
        b"To: Inkasso <inbound@collections.example>\r\n"
        b"Subject: =?ISO-8859-1?Q?Zahlungsbest=E4tigung_f=FCr_Konto_AC-1001?=\r\n"
        b"Date: Mon, 3 Mar 2025 10:15:00 +0100\r\n"
        b"Message-ID: " + mid.encode() + b"\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=ISO-8859-1\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + quopri.encodestring(qp)
    )
    return Sample(
        "latin1",
        mime,
        Summary("Zahlungsbestätigung für Konto AC-1001", _norm(body), None, (), mid),
    )


def iso2022jp_dispute(message_id: str | None = None) -> Sample:
    """ISO-2022-JP (7-bit JIS) subject and body, as Japanese mailers still send."""
    mid = message_id or _mid()
    subject = "請求書について異議があります"
    body = "お世話になっております。\r\nこの請求には同意できません。\r\n山田太郎\r\n"
    encoded_subject = base64.b64encode(subject.encode("iso-2022-jp")).decode()
    mime = (
        b"From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.jp>\r\n"
        b"To: inbound@collections.example\r\n"
        b"Subject: =?ISO-2022-JP?B?" + encoded_subject.encode() + b"?=\r\n"
        b"Date: Tue, 4 Mar 2025 09:00:00 +0900\r\n"
        b"Message-ID: " + mid.encode() + b"\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=ISO-2022-JP\r\n"
        b"Content-Transfer-Encoding: 7bit\r\n\r\n" + body.encode("iso-2022-jp")
    )
    return Sample("iso2022jp", mime, Summary(subject, _norm(body), None, (), mid))


def html_only(message_id: str | None = None) -> Sample:
    mid = message_id or _mid()
    html = (
        "<html><body><p>Hello,</p><p>please set up a <b>payment plan</b> for account "
        "AC-2002 &mdash; 50&nbsp;EUR per month.</p><p>Zoë</p></body></html>"
    )
    message = EmailMessage()
    message["From"] = "Zoë Example <zoe@example.org>"
    message["To"] = "inbound@collections.example"
    message["Subject"] = "Payment plan request"
    message["Date"] = "Wed, 05 Mar 2025 14:30:00 +0000"
    message["Message-ID"] = mid
    message.set_content(html, subtype="html")
    return Sample(
        "html_only",
        message.as_bytes(policy=policy.SMTP),
        Summary("Payment plan request", None, _norm(html), (), mid),
    )


def with_attachments(message_id: str | None = None) -> Sample:
    """multipart/mixed: alternative text+html, a PDF with a non-ASCII name, an inline image."""
    mid = message_id or _mid()
    text = "Anbei die Überweisungsbestätigung.\n\nViele Grüße\nAnna Schmidt\n"
    html = "<p>Anbei die <i>Überweisungsbestätigung</i>.</p><p>Anna Schmidt</p>"
    message = EmailMessage()
    message["From"] = "Anna Schmidt <anna@example.de>"
    message["To"] = "inbound@collections.example"
    message["Cc"] = "Kanzlei Recht <office@law.example>"
    message["Subject"] = "Überweisung März – Konto AC-3003"
    message["Date"] = "Thu, 06 Mar 2025 08:00:00 +0100"
    message["Message-ID"] = mid
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message.add_attachment(PDF, "application", "pdf", filename="Überweisung_März_2025.pdf")
    message.add_attachment(PNG, "image", "png", filename="kontoauszug.png")
    return Sample(
        "attachments",
        message.as_bytes(policy=policy.SMTP),
        Summary(
            "Überweisung März – Konto AC-3003",
            _norm(text),
            _norm(html),
            (
                ("Überweisung_März_2025.pdf", "application/pdf", PDF),
                ("kontoauszug.png", "image/png", PNG),
            ),
            mid,
        ),
    )


def forwarded(message_id: str | None = None) -> Sample:
    """A lawyer forwards a debtor's email as an attachment (``message/rfc822``)."""
    mid = message_id or _mid()
    inner = latin1_payment()
    outer = EmailMessage()
    outer["From"] = "Dr. Peter Klein <klein@law.example>"
    outer["To"] = "inbound@collections.example"
    outer["Subject"] = "Fwd: Zahlungsbestätigung für Konto AC-1001"
    outer["Date"] = "Fri, 07 Mar 2025 11:00:00 +0100"
    outer["Message-ID"] = mid
    text = "Please see the forwarded confirmation from our client.\n\nP. Klein\n"
    outer.set_content(text)
    outer.add_attachment(
        email.message_from_bytes(inner.mime, policy=policy.SMTP), filename="forwarded.eml"
    )
    expected_inner = f"{inner.expected.subject}\n{inner.expected.text}".encode()
    return Sample(
        "forwarded",
        outer.as_bytes(policy=policy.SMTP),
        Summary(
            "Fwd: Zahlungsbestätigung für Konto AC-1001",
            _norm(text),
            None,
            (("forwarded.eml", "message/rfc822", expected_inner),),
            mid,
        ),
    )


def without_message_id() -> Sample:
    message = EmailMessage()
    message["From"] = "noreply@bank.example"
    message["To"] = "inbound@collections.example"
    message["Subject"] = "Statement available"
    message["Date"] = "Sat, 08 Mar 2025 06:00:00 +0000"
    message.set_content(f"Your statement is ready. Ref {uuid.uuid4().hex}\n")
    return Sample(
        "no_message_id",
        message.as_bytes(policy=policy.SMTP),
        summarise(message.as_bytes(policy=policy.SMTP)),
    )


ALL = (latin1_payment, iso2022jp_dispute, html_only, with_attachments, forwarded)
