"""Encoded-word header smuggling: no value decoded from a provider field becomes a header line.

An RFC 2047 encoded word is printable ASCII, so stripping CR/LF from a field does not remove
the line break it encodes; the stdlib decodes it when the value is set as a header and folds
the decoded CR LF as it is. Hypothesis generates header values holding encoded words (q and b,
several charsets, encoded twice, raw) around CR/LF/NUL and the other line breaks, posts them in
every provider format through the providers' parsers (what the webhook stores is exactly the
``mime`` they return) and through the mail we send, and checks the resulting header set.
"""

from __future__ import annotations

import base64
import json
import time
from email import policy
from email.parser import BytesParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.sign_request import encode_multipart
from infra.stack import LOCAL_WEBHOOK_SECRETS
from shared.config import Settings, load_settings
from shared.header_values import UNSAFE
from shared.intake.auth import sign_mailgun, sign_raw
from shared.intake.canonical import InboundEmail
from shared.intake.providers.mailgun import parse_mailgun
from shared.intake.providers.postmark import parse_postmark
from shared.intake.providers.raw import parse_raw
from shared.intake.providers.sendgrid import parse_sendgrid
from shared.mail import build_message
from tests.reliability.summary import SUMMARY

SETTINGS: Settings = load_settings(dict(LOCAL_WEBHOOK_SECRETS))
BREAKS = ["\r\n", "\n", "\r", "\x00", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\r\n\r\n"]
CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "utf-16", "utf-16-le", "us-ascii", "koi8-r"]
CHARSETS += ["shift_jis", "UTF-8*en", "x-unknown"]
SMUGGLED = {"bcc", "x-injected"}
PROVIDERS = ("mailgun", "sendgrid", "postmark", "raw", "mail-we-send")


def _encoded_word(text: str, charset: str, kind: str) -> str:
    codec = charset.split("*", maxsplit=1)[0]
    try:
        data = text.encode(codec)
    except (LookupError, UnicodeEncodeError):
        data = text.encode("utf-8")
    if kind == "b":
        return f"=?{charset}?b?{base64.b64encode(data).decode()}?="
    quoted = "".join(
        chr(b) if chr(b).isalnum() else "_" if b == 0x20 else f"={b:02X}" for b in data
    )
    return f"=?{charset}?q?{quoted}?="


@st.composite
def smuggling_value(draw: st.DrawFn) -> str:
    """A header value whose decoded text holds a line break and an extra header."""
    name = draw(st.sampled_from(["Bcc", "X-Injected", "bcc", "X-INJECTED"]))
    inner = draw(st.sampled_from(["Hello", "", "caf\u00e9"])) + draw(st.sampled_from(BREAKS))
    inner += f"{name}: victim@elsewhere.example" + draw(st.sampled_from(["", *BREAKS]))
    value = inner
    for _ in range(draw(st.integers(1, 3))):
        value = _encoded_word(value, draw(st.sampled_from(CHARSETS)), draw(st.sampled_from("qb")))
    prefix = draw(st.sampled_from(["", "Re: ", '"quoted ', "x"]))
    suffix = draw(st.sampled_from(["", " tail", " =?utf-8?q?ok?=", "\r\n Bcc: raw@x.example"]))
    return prefix + value + suffix


def _header_names(mime: bytes) -> list[str]:
    """Header names of the stored message, read line by line (no parser to trust)."""
    head = mime.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    names = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") or not line:
            continue
        names.append(line.split(b":", 1)[0].decode("latin-1").strip().lower())
    return names


def _post(provider: str, value: str) -> bytes:
    now = time.time()
    if provider == "mailgun":
        stamp, token = str(int(now)), f"tok{time.time_ns()}"
        listed = [["From", "a@sender.example"], ["Subject", value], ["X-Custom", value]]
        fields = [
            ("recipient", b"inbound@collections.example"),
            ("from", value.encode("utf-8", "surrogatepass")),
            ("subject", value.encode("utf-8", "surrogatepass")),
            ("Reply-To", value.encode("utf-8", "surrogatepass")),
            ("message-headers", json.dumps(listed).encode()),
            ("timestamp", stamp.encode()),
            ("token", token.encode()),
            (
                "signature",
                sign_mailgun(
                    LOCAL_WEBHOOK_SECRETS["WEBHOOK_MAILGUN_SIGNING_KEY"], stamp, token
                ).encode(),
            ),
            ("body-plain", b"text"),
        ]
        body, content_type = encode_multipart(fields, [])
        email = parse_mailgun(body, {"Content-Type": content_type}, SETTINGS, now)
    elif provider == "sendgrid":
        # the header block is the original's: its own line breaks are real headers, so the
        # value goes in as a provider sends an encoded word, on one line
        one_line = value.replace("\r", " ").replace("\n", " ")
        block = f"From: a@sender.example\nSubject: {one_line}\nX-Custom: {one_line}\n"
        fields = [
            ("headers", block.encode("utf-8", "surrogatepass")),
            ("from", value.encode("utf-8", "surrogatepass")),
            ("to", value.encode("utf-8", "surrogatepass")),
            ("subject", value.encode("utf-8", "surrogatepass")),
            ("text", b"text"),
            ("charsets", b'{"headers": "UTF-8", "subject": "UTF-8", "to": "UTF-8"}'),
        ]
        body, content_type = encode_multipart(fields, [])
        email = parse_sendgrid(body, {"Content-Type": content_type}, SETTINGS, now)
    elif provider == "postmark":
        payload = {
            "From": "a@sender.example",
            "FromName": value,
            "To": value,
            "Subject": value,
            "ReplyTo": value,
            "TextBody": "text",
            "Headers": [{"Name": "X-Custom", "Value": value}],
        }
        body = json.dumps(payload).encode()
        email = parse_postmark(body, {"Content-Type": "application/json"}, SETTINGS, now)
    else:  # raw: the original message is stored byte for byte
        one_line = value.replace("\r", " ").replace("\n", " ").encode("utf-8", "surrogatepass")
        body = b"From: a@sender.example\r\nSubject: " + one_line + b"\r\n\r\ntext\r\n"
        signature = sign_raw(LOCAL_WEBHOOK_SECRETS["WEBHOOK_RAW_SECRET"], int(now), body)
        headers = {"Content-Type": "message/rfc822", "X-Signature": signature}
        email = parse_raw(body, headers, SETTINGS, now)
    assert isinstance(email, InboundEmail)
    return email.mime


def _check(provider: str, mime: bytes) -> None:
    names = _header_names(mime)
    assert not SMUGGLED.intersection(names), f"{provider}: smuggled header in {names}"
    assert names.count("subject") <= 1, f"{provider}: two Subject lines"
    if provider == "raw":
        return
    # what we wrote decodes to one line too, so a reader of the stored message (the processor,
    # a mail client) cannot be led to write it as two
    message = BytesParser(policy=policy.default).parsebytes(mime, headersonly=True)
    for name, header in message.items():
        assert not UNSAFE.search(str(header)), f"{provider}: {name} decodes to a line break"


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(value=smuggling_value(), provider=st.sampled_from(PROVIDERS))
def test_no_decoded_value_becomes_a_header_line(value: str, provider: str) -> None:
    SUMMARY.count("hostile_inputs")
    if provider == "mail-we-send":
        mail = build_message(
            sender="alerts@collections.example",
            to="staff@collections.example",
            subject=value,
            body="text",
            headers={"X-Inbound-Subject": value},
        )
        _check(provider, mail.as_bytes())
        return
    _check(provider, _post(provider, value))


def test_the_reported_sendgrid_subject_is_one_header() -> None:
    """The case as found: SendGrid's ``headers`` field delivers the subject undecoded."""
    value = "=?utf-8?q?Hello=0D=0ABcc:_victim@elsewhere.example?="
    mime = _post("sendgrid", value)
    assert "bcc" not in _header_names(mime)
    subject = BytesParser(policy=policy.default).parsebytes(mime)["Subject"]
    assert str(subject) == "Hello Bcc: victim@elsewhere.example"


# Found by review: a base64 word with a character outside the alphabet (the stdlib retries it
# leniently), a charset with a space or a tab (the stdlib splits the word on "?" only).
REVIEWED = [
    "=?utf-8?b?SGVsbG8NCkJjYzogdmljdGltQGUuZXhhbXBsZQ*?=",
    "Re: =?utf-8?b?SGVsbG8NCkJjYzogdmljdGltQGUuZXhhbXBsZQ*?=",
    "=?x y?q?Hello=0D=0ABcc:_victim@e.example?=",
    "=?x\ty?q?Hello=0D=0ABcc:_victim@e.example?=",
]


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("value", REVIEWED)
def test_reviewed_encoded_words_stay_one_header(value: str, provider: str) -> None:
    if provider == "mail-we-send":
        mail = build_message(
            sender="alerts@collections.example",
            to="staff@collections.example",
            subject="Re: " + value,
            body="text",
            headers={"X-Inbound-Subject": value},
        )
        _check(provider, mail.as_bytes())
        assert "Bcc" not in mail
        return
    _check(provider, _post(provider, value))


FILENAMES = [
    '"=?utf-8?q?=0D=0AContent-Type:_text/html=0D=0AX-Evil:?=',
    '"=?utf-8?q?=0D=0A=0D=0AAAAA?=',
    "=?utf-8?q?=0D=0AContent-Type:_text/html=0D=0AX-Evil:?=",
    "=?utf-8?b?DQpYLUV2aWw6IHgNCg0KQUFBQQ*?=",
    "report =?x y?q?=0D=0AX-Evil:_x?=.pdf",
]
ATTACHMENT = b"%PDF-1.4 attachment bytes"


def _post_attachment(provider: str, filename: str) -> bytes:
    """A message with one attachment named ``filename`` in ``provider``'s format."""
    now = time.time()
    if provider == "postmark":
        payload = {
            "From": "a@sender.example",
            "Subject": "s",
            "TextBody": "text",
            "Attachments": [
                {
                    "Name": filename,
                    "Content": base64.b64encode(ATTACHMENT).decode(),
                    "ContentType": "application/pdf",
                }
            ],
        }
        body = json.dumps(payload).encode()
        email = parse_postmark(body, {"Content-Type": "application/json"}, SETTINGS, now)
    elif provider == "sendgrid":
        info = {"attachment1": {"filename": filename, "type": "application/pdf"}}
        fields = [
            ("headers", b"From: a@sender.example\nSubject: s\n"),
            ("from", b"a@sender.example"),
            ("subject", b"s"),
            ("text", b"text"),
            ("attachments", b"1"),
            ("attachment-info", json.dumps(info).encode()),
        ]
        files = [("attachment1", "a.pdf", "application/pdf", ATTACHMENT)]
        body, content_type = encode_multipart(fields, files)
        email = parse_sendgrid(body, {"Content-Type": content_type}, SETTINGS, now)
    else:  # mailgun: the filename as the multipart part's own (no quote: it would end it)
        stamp, token = str(int(now)), f"tok{time.time_ns()}"
        key = LOCAL_WEBHOOK_SECRETS["WEBHOOK_MAILGUN_SIGNING_KEY"]
        fields = [
            ("recipient", b"inbound@collections.example"),
            ("from", b"a@sender.example"),
            ("subject", b"s"),
            ("timestamp", stamp.encode()),
            ("token", token.encode()),
            ("signature", sign_mailgun(key, stamp, token).encode()),
            ("body-plain", b"text"),
            ("attachment-count", b"1"),
        ]
        files = [("attachment-1", filename.lstrip('"'), "application/pdf", ATTACHMENT)]
        body, content_type = encode_multipart(fields, files)
        email = parse_mailgun(body, {"Content-Type": content_type}, SETTINGS, now)
    assert isinstance(email, InboundEmail) and email.attachment_count == 1
    return email.mime


ATTACHMENT_HEADERS = {"content-type", "content-transfer-encoding", "content-disposition"}


def _check_attachment(provider: str, mime: bytes) -> None:
    """The stored message: one header block as written, the attachment part with exactly its
    three content headers, its payload the attachment's bytes, nothing decoding to a break."""
    _check(provider, mime)
    message = BytesParser(policy=policy.default).parsebytes(mime)
    parts = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1, f"{provider}: {[p.get_content_type() for p in message.walk()]}"
    part = parts[0]
    assert {name.lower() for name in part} == ATTACHMENT_HEADERS, list(part.items())
    assert part.get_content_disposition() == "attachment"
    assert part.get_payload(decode=True) == ATTACHMENT
    for name, header in part.items():
        assert not UNSAFE.search(str(header)), f"{provider}: {name} decodes to a line break"
    filename = part.get_filename()
    assert filename is None or not UNSAFE.search(filename)


@pytest.mark.parametrize("provider", ["postmark", "sendgrid", "mailgun"])
@pytest.mark.parametrize("filename", FILENAMES)
def test_reviewed_filenames_add_no_header_and_no_body(filename: str, provider: str) -> None:
    _check_attachment(provider, _post_attachment(provider, filename))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(
    value=smuggling_value(),
    quote=st.sampled_from(["", '"', "'", " "]),
    provider=st.sampled_from(["postmark", "sendgrid", "mailgun"]),
)
def test_no_decoded_filename_becomes_a_header_or_body_line(
    value: str, quote: str, provider: str
) -> None:
    SUMMARY.count("hostile_inputs")
    filename = (quote + value).replace("\r", " ").replace("\n", " ")
    if provider == "mailgun":
        filename = filename.replace('"', " ")
    _check_attachment(provider, _post_attachment(provider, filename))
