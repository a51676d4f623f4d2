"""Every provider format becomes the same canonical MIME and the same ``email_id`` (no I/O)."""

from __future__ import annotations

import base64
import email
import json
import time
from email import policy

import pytest

from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS
from shared.config import Settings, load_settings
from shared.intake.canonical import InboundEmail, derive_email_id, normalise_message_id
from shared.intake.errors import IntakeRejection, MalformedPayload, UnsupportedMediaType
from shared.intake.handler import ROUTES
from shared.intake.rebuild import Attachment, build_mime
from tests.intake_payloads import emails

SETTINGS: Settings = load_settings(dict(LOCAL_WEBHOOK_SECRETS))
SAMPLES = {factory.__name__: factory for factory in emails.ALL}


def _parse(request: sign_request.SignedRequest) -> InboundEmail:
    route = ROUTES[request.path]
    if route.authenticate is not None:
        route.authenticate(request.headers, SETTINGS)
    return route.parse(request.body, request.headers, SETTINGS, time.time())


@pytest.mark.parametrize("route", sign_request.ROUTES)
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_each_route_stores_mime_that_parses_back_to_the_same_email(route: str, sample: str) -> None:
    given = SAMPLES[sample]()
    inbound = _parse(sign_request.build_request(route, given.mime, LOCAL_WEBHOOK_SECRETS))
    assert emails.summarise(inbound.mime) == given.expected
    assert inbound.attachment_count == len(given.expected.attachments)
    assert inbound.source == (
        "original" if route in ("mailgun-mime", "sendgrid-raw", "raw") else "rebuilt"
    )


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_email_id_is_the_same_whichever_provider_relays_the_email(sample: str) -> None:
    given = SAMPLES[sample]()
    ids = {
        _parse(sign_request.build_request(route, given.mime, LOCAL_WEBHOOK_SECRETS)).email_id
        for route in sign_request.ROUTES
    }
    assert len(ids) == 1
    (email_id,) = ids
    assert email_id.startswith("m-") and len(email_id) == 34


def test_without_message_id_the_id_is_a_content_hash_stable_across_retries() -> None:
    given = emails.without_message_id()
    first = _parse(sign_request.build_request("postmark", given.mime, LOCAL_WEBHOOK_SECRETS))
    again = _parse(sign_request.build_request("postmark", given.mime, LOCAL_WEBHOOK_SECRETS))
    assert first.email_id.startswith("h-")
    assert first.mime == again.mime  # rebuilt deterministically: same boundaries
    assert first.email_id == again.email_id
    other = emails.without_message_id()
    assert (
        _parse(sign_request.build_request("raw", other.mime, LOCAL_WEBHOOK_SECRETS)).email_id
        != first.email_id
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<abc.123@Mail.Example.COM>", "<abc.123@mail.example.com>"),
        ("  <abc@example.com> (comment)", "<abc@example.com>"),
        ("abc@example.com", "<abc@example.com>"),
        ("<ABC@example.com>", "<ABC@example.com>"),  # the left side is case-sensitive
        ("", None),
        ("<no-at-sign>", None),
        ("<a@b@c>", None),
        ("<ümlaut@example.com>", None),
        ("<a b@example.com>", None),
        (None, None),
        ("<" + "a" * 2000 + "@example.com>", None),
    ],
)
def test_message_id_normalisation(raw: str | None, expected: str | None) -> None:
    assert normalise_message_id(raw) == expected


def test_email_id_shape() -> None:
    assert derive_email_id("<a@b>", b"x") == derive_email_id("<a@b>", b"other bytes")
    assert derive_email_id(None, b"x") != derive_email_id(None, b"y")
    assert derive_email_id(None, b"x").startswith("h-")


def test_rebuilt_headers_cannot_inject_headers_or_parts() -> None:
    rebuilt = build_mime(
        [
            ("From", "a@example.com"),
            ("Subject", "hello\r\nBcc: victim@example.com\r\n\r\nfake body"),
            ("X-Evil\r\nBcc", "x"),
            ("Content-Type", "multipart/mixed; boundary=zzz"),
        ],
        text="body",
        html=None,
    )
    parsed = email.message_from_bytes(rebuilt.mime, policy=policy.default)
    assert parsed["Bcc"] is None
    assert "Bcc: victim@example.com" in str(parsed["Subject"])  # kept as text, on one line
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content().strip() == "body"
    assert rebuilt.dropped_headers == 1


def test_odd_attachment_metadata_is_made_safe() -> None:
    rebuilt = build_mime(
        [("From", "a@example.com")],
        text=None,
        html=None,
        attachments=[
            Attachment("a\r\nb.pdf", "not a type", b"1"),
            Attachment(None, "multipart/mixed", b"2"),
            Attachment("x.txt", "TEXT/PLAIN; charset=utf-8", b"3", content_id="<cid-1>"),
        ],
    )
    parsed = email.message_from_bytes(rebuilt.mime, policy=policy.default)
    parts = list(parsed.iter_attachments())
    assert [p.get_content_type() for p in parts] == [
        "application/octet-stream",
        "application/octet-stream",
        "text/plain",
    ]
    assert parts[0].get_filename() == "a b.pdf"
    assert parts[2]["Content-ID"] == "<cid-1>"
    assert [p.get_payload(decode=True) for p in parts] == [b"1", b"2", b"3"]


def _settings_request(path: str, body: bytes, content_type: str, **headers: str) -> IntakeRejection:
    route = ROUTES[path]
    with pytest.raises(IntakeRejection) as caught:
        route.parse(body, {"Content-Type": content_type, **headers}, SETTINGS, time.time())
    return caught.value


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _signed_mailgun_fields(**extra: str) -> list[tuple[str, bytes]]:
    stamp = str(int(time.time()))
    token = "k" * 50
    signature = sign_request.sign_mailgun(
        LOCAL_WEBHOOK_SECRETS["WEBHOOK_MAILGUN_SIGNING_KEY"], stamp, token
    )
    fields = [("timestamp", stamp), ("token", token), ("signature", signature), *extra.items()]
    return [(name, value.encode()) for name, value in fields]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({}, "recipient"),
        ({"recipient": "a@b.c", "message-headers": "not json"}, "message-headers"),
        ({"recipient": "a@b.c", "message-headers": '{"a": 1}'}, "message-headers"),
        ({"recipient": "a@b.c", "message-headers": '[["From"]]'}, "message-headers"),
        ({"recipient": "a@b.c", "from": "a@b.c", "attachment-count": "2"}, "attachment-count"),
        ({"recipient": "a@b.c", "from": "a@b.c", "attachment-count": "-1"}, "attachment-count"),
        ({"recipient": "a@b.c", "body-mime": "just text, no headers"}, "body-mime"),
        ({"recipient": "a@b.c", "body-mime": ""}, "body-mime"),
        ({"recipient": "a@b.c"}, "no message headers"),
        ({"recipient": "a@b.c", "from": "a@b.c", "content-id-map": "[]"}, "content-id-map"),
    ],
)
def test_mailgun_signed_but_malformed_is_rejected_with_a_named_problem(
    extra: dict[str, str], problem: str
) -> None:
    body, content_type = sign_request.encode_multipart(_signed_mailgun_fields(**extra), [])
    rejection = _settings_request("/mailgun", body, content_type)
    assert isinstance(rejection, MalformedPayload)
    assert problem in rejection.message
    assert ROUTES["/mailgun"].final_status == 406


def test_mailgun_unsupported_content_type_is_415() -> None:
    rejection = _settings_request("/mailgun", b"{}", "application/json")
    assert isinstance(rejection, UnsupportedMediaType)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ([], "headers"),
        ([("headers", b"From: a@b.c\n"), ("charsets", b"[1]")], "charsets"),
        ([("headers", b"From: a@b.c\n"), ("attachments", b"1")], "attachments"),
        ([("headers", b"From: a@b.c\n"), ("attachment-info", b"[]")], "attachment-info"),
        ([("email", b"\x00\x01 not mime")], "email"),
        ([("headers", b"")], "headers"),
    ],
)
def test_sendgrid_malformed_fields_are_rejected(
    fields: list[tuple[str, bytes]], problem: str
) -> None:
    body, content_type = sign_request.encode_multipart(fields, [])
    rejection = _settings_request("/sendgrid", body, content_type)
    assert isinstance(rejection, MalformedPayload)
    assert problem in rejection.message


def test_sendgrid_decodes_each_field_with_its_declared_charset() -> None:
    fields = [
        ("headers", b"From: a@example.com\nSubject: x\nMessage-ID: <cs@example.com>\n"),
        ("text", "Grüße".encode("latin-1")),
        ("html", "<p>こんにちは</p>".encode("iso-2022-jp")),
        ("charsets", json.dumps({"text": "iso-8859-1", "html": "ISO-2022-JP"}).encode()),
    ]
    body, content_type = sign_request.encode_multipart(fields, [])
    inbound = ROUTES["/sendgrid"].parse(body, {"Content-Type": content_type}, SETTINGS, 0)
    summary = emails.summarise(inbound.mime)
    assert summary.text == "Grüße"
    assert summary.html == "<p>こんにちは</p>"


def test_sendgrid_unknown_charset_falls_back_to_utf8_and_keeps_the_email() -> None:
    fields = [
        ("headers", b"From: a@example.com\n"),
        ("text", "ok ✓".encode()),
        ("charsets", b'{"text": "x-no-such-charset"}'),
    ]
    body, content_type = sign_request.encode_multipart(fields, [])
    inbound = ROUTES["/sendgrid"].parse(body, {"Content-Type": content_type}, SETTINGS, 0)
    assert emails.summarise(inbound.mime).text == "ok ✓"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "JSON"),
        (b"\xff\xfe", "JSON"),
        (b"[]", "object"),
        (b"{}", "From"),
        (b'{"From": 5}', "From"),
        (b'{"From": "a@b.c", "Headers": {}}', "Headers"),
        (b'{"From": "a@b.c", "Headers": [{"Value": "x"}]}', "Name"),
        (b'{"From": "a@b.c", "Attachments": [{"Content": "***"}]}', "base64"),
        (b'{"From": "a@b.c", "Attachments": ["x"]}', "attachment 1"),
        (b'{"From": "a@b.c", "TextBody": ["x"]}', "TextBody"),
        (b'{"RawEmail": "no headers here"}', "RawEmail"),
        (b"[" * 100_000, "JSON"),
    ],
)
def test_postmark_malformed_json_is_rejected(body: bytes, problem: str) -> None:
    rejection = _settings_request("/postmark", body, "application/json")
    assert isinstance(rejection, MalformedPayload)
    assert problem in rejection.message
    assert ROUTES["/postmark"].final_status == 403


def test_postmark_message_id_comes_from_headers_and_postmarks_own_id_is_kept_apart() -> None:
    given = emails.with_attachments()
    request = sign_request.build_request("postmark", given.mime, LOCAL_WEBHOOK_SECRETS)
    inbound = _parse(request)
    assert inbound.message_id == normalise_message_id(given.expected.message_id)
    assert inbound.provider_message_id == "73e6d360-66eb-11e1-8e72-a8904824019b"


def test_raw_requires_message_rfc822() -> None:
    given = emails.html_only()
    request = sign_request.build_request("raw", given.mime, LOCAL_WEBHOOK_SECRETS)
    headers = {**request.headers, "Content-Type": "text/plain"}
    with pytest.raises(UnsupportedMediaType):
        ROUTES["/raw"].parse(request.body, headers, SETTINGS, time.time())


def test_header_work_is_bounded_and_the_identifying_headers_survive() -> None:
    """Folding non-ASCII headers is slow in the stdlib; a hostile email with hundreds of long
    ones is cut down instead of holding the request for minutes."""
    long_value = "日本語 ü " * 2000
    headers = [("Subject", "Zahlung " + long_value), ("Message-ID", "<bounded@example.com>")]
    headers += [(f"X-Junk-{i}", long_value) for i in range(500)]
    started = time.monotonic()
    rebuilt = build_mime(headers, text="body", html=None)
    assert time.monotonic() - started < 10
    parsed = email.message_from_bytes(rebuilt.mime, policy=policy.default)
    assert str(parsed["Subject"]).startswith("Zahlung 日本語 ü")
    assert rebuilt.message_id == "<bounded@example.com>"
    assert rebuilt.dropped_headers > 400
