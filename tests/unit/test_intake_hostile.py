"""Hostile requests in process (fake storage and publisher): deep MIME, JSON that parsers
disagree on, a Mailgun store() post, lying Content-Length, routes with empty segments, the
encoded-word helper on its own, headers the stdlib chokes on, MIME with too many parts, costly
attachment names, charsets that cannot decode, senders the stdlib cannot format, non-ASCII
addresses in rebuilt headers, and Mailgun forms our multipart parser refuses or reads leniently."""

from __future__ import annotations

import email
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.utils import getaddresses
from typing import Any

import functions_framework
import pytest

from infra.sign_request import encode_multipart, raw_request
from infra.stack import LOCAL_WEBHOOK_SECRETS
from shared.config import reset_settings_cache
from shared.extraction.email_parser import MimeNestedTooDeep, parse_email
from shared.header_values import hides_control, settle_encoded_words
from shared.intake.bootstrap import IntakeDependencies, reset_dependencies, set_dependencies
from shared.intake.errors import MalformedPayload
from shared.intake.forms import strict_json
from shared.intake.handler import route_path
from shared.intake.rebuild import clean_header_value
from shared.mail import build_message
from shared.mime_depth import (
    MAX_MIME_DEPTH,
    MAX_MIME_PARTS,
    MimeTooDeep,
    MimeTooManyParts,
    nesting_depth,
    parse_within_depth,
)
from tests.fakes import InMemoryObjectStore, RecordingPublisher
from tests.intake_payloads.hostile import basic_auth, mailgun_fields, nested, provider_request
from tests.intake_payloads.probes import WEBHOOK_SOURCE


@dataclass
class Rig:
    client: Any
    store: InMemoryObjectStore
    publisher: RecordingPublisher

    def rejected(self) -> list[str]:
        return [name for name in self.store.objects if name.startswith("rejected/")]


@pytest.fixture
def rig() -> Iterator[Rig]:
    os.environ.update(LOCAL_WEBHOOK_SECRETS)
    os.environ["WEBHOOK_MAX_BODY_BYTES"] = str(1024 * 1024)
    reset_settings_cache()
    store, publisher = InMemoryObjectStore(), RecordingPublisher()
    set_dependencies(IntakeDependencies(store=store, publisher=publisher))
    app = functions_framework.create_app(target="webhook", source=WEBHOOK_SOURCE)
    yield Rig(app.test_client(), store, publisher)
    reset_dependencies()


@pytest.mark.parametrize(
    ("route", "status"),
    [("raw", 400), ("sendgrid-raw", 400), ("postmark-raw", 403), ("mailgun-mime", 406)],
)
def test_deep_mime_is_a_4xx_kept_under_rejected(rig: Rig, route: str, status: int) -> None:
    path, headers, body = provider_request(route, nested(1000, "deep"), dict(LOCAL_WEBHOOK_SECRETS))
    answer = rig.client.post(path, data=body, headers=headers)
    assert answer.status_code == status, answer.json
    assert answer.json["detail"].endswith(f"more than {MAX_MIME_DEPTH} levels deep")
    assert len(rig.rejected()) == 2 and not rig.publisher.published


def test_mime_at_the_limit_is_accepted(rig: Rig) -> None:
    path, headers, body = provider_request(
        "raw", nested(MAX_MIME_DEPTH, "ok"), dict(LOCAL_WEBHOOK_SECRETS)
    )
    assert rig.client.post(path, data=body, headers=headers).status_code == 200


def test_the_processor_fails_deep_mime_for_good() -> None:
    assert parse_email(nested(MAX_MIME_DEPTH, "ok")).subject == "deep"
    for depth in (MAX_MIME_DEPTH + 1, 1000, 3000):
        with pytest.raises(MimeNestedTooDeep) as raised:
            parse_email(nested(depth, "deep"))
        assert raised.value.stage == "parse"


@pytest.mark.parametrize(
    "text",
    [
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": -Infinity}',
        '{"a": 1e999999}',
        '{"a": 1, "a": 2}',
        '{"b": {"x": 1, "x": 1}}',
        '{"a": 1' + "0" * 5000 + "}",
    ],
)
def test_strict_json_refuses_what_parsers_disagree_on(text: str) -> None:
    with pytest.raises(MalformedPayload) as raised:
        strict_json(text, what="body")
    assert raised.value.message.startswith("body is not valid JSON")


def test_strict_json_keeps_ordinary_json() -> None:
    assert strict_json('{"a": [1, 2.5e3, -0.1, null, true]}', what="x") == {
        "a": [1, 2500.0, -0.1, None, True]
    }


def test_postmark_duplicate_keys_are_a_403_kept(rig: Rig) -> None:
    body = b'{"From": "a@sender.example", "TextBody": "x", "From": "b@elsewhere.example"}'
    answer = rig.client.post(
        "/postmark",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic cG9zdG1hcms6bG9jYWwtcG9zdG1hcmstcGFzc3dvcmQ=",
        },
    )
    assert answer.status_code == 403
    assert answer.json["detail"] == "body is not valid JSON: an object has a duplicate key"
    assert len(rig.rejected()) == 2


def test_a_mailgun_store_post_is_refused_naming_the_misconfiguration(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    listed = [{"url": "https://storage.example/a/0", "name": "notice.pdf", "size": 10}] * 2
    fields = [
        *mailgun_fields(dict(LOCAL_WEBHOOK_SECRETS)),
        ("message-headers", b'[["From", "a@sender.example"], ["Subject", "notice"]]'),
        ("attachments", json.dumps(listed).encode()),
    ]
    body, content_type = encode_multipart(fields, [])
    answer = rig.client.post("/mailgun", data=body, headers={"Content-Type": content_type})
    assert answer.status_code == 406
    assert answer.json == {
        "error": "attachments_not_received",
        "detail": "Mailgun listed 2 attachment(s) as URLs instead of posting the files: the "
        "route uses store(); configure it with forward() so attachments are posted",
    }
    assert len(rig.rejected()) == 2 and not rig.publisher.published
    logged = [r for r in caplog.records if "webhook_attachments_not_received" in r.getMessage()]
    assert logged and logged[0].levelname == "ERROR"
    assert "notice.pdf" not in caplog.text and "a@sender.example" not in caplog.text


def test_an_empty_attachments_list_is_no_refusal(rig: Rig) -> None:
    fields = [
        *mailgun_fields(dict(LOCAL_WEBHOOK_SECRETS)),
        ("message-headers", b'[["From", "a@sender.example"], ["Subject", "hi"]]'),
        ("attachments", b"[]"),
    ]
    body, content_type = encode_multipart(fields, [])
    answer = rig.client.post("/mailgun", data=body, headers={"Content-Type": content_type})
    assert answer.status_code == 200, answer.json


def test_a_body_shorter_than_its_content_length_is_a_400_not_kept(rig: Rig) -> None:
    signed = raw_request(b"From: a@b.example\r\nSubject: s\r\n\r\nx\r\n", secret="local-raw-secret")
    environ = {"CONTENT_LENGTH": str(len(signed.body) + 100)}
    answer = rig.client.post(
        "/raw", data=signed.body, headers=signed.headers, environ_overrides=environ
    )
    assert answer.status_code == 400 and answer.json["error"] == "incomplete_body"
    assert not rig.rejected() and not rig.publisher.published


def test_a_declared_oversized_body_is_a_413(rig: Rig) -> None:
    answer = rig.client.post(
        "/raw",
        data=b"x" * (1024 * 1024 + 1),
        headers={"Content-Type": "message/rfc822", "X-Signature": "t=1,v1=00"},
    )
    assert answer.status_code == 413 and "declared body" in answer.json["detail"]


@pytest.mark.parametrize(
    ("path", "raw_uri", "route"),
    [
        ("/raw", "/raw", "/raw"),
        ("/raw/", "/raw/", "/raw"),
        ("/raw", "//raw", "//"),
        ("/raw//", "/raw//", "//"),
        ("/raw", "/raw?x=//y", "/raw"),
        ("/raw", "http://host.example/raw", "/raw"),
        ("/raw", "http://host.example//raw", "//"),
        ("/raw", "/%2Fraw", "/%2Fraw"),  # what the server decoded does not decide
        ("/raw/", "/raw%2F", "/raw%2F"),
        ("/raw", "/r%61w", "/r%61w"),
        ("/raw", "/%2fraw/", "/%2fraw"),
    ],
)
def test_route_path(path: str, raw_uri: str, route: str) -> None:
    assert route_path(path, raw_uri) == route


@pytest.mark.parametrize("target", ["/%2Fraw", "/raw%2F", "/r%61w"])
def test_a_percent_encoded_route_is_a_404(rig: Rig, target: str) -> None:
    signed = raw_request(b"From: a@b.example\r\nSubject: s\r\n\r\nx\r\n", secret="local-raw-secret")
    answer = rig.client.post(
        "/raw", data=signed.body, headers=signed.headers, environ_overrides={"RAW_URI": target}
    )
    assert answer.status_code == 404 and answer.json["error"] == "unknown_route"
    assert not rig.publisher.published


def _nested_with_filler(depth: int, filler: bytes) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\n" + filler
    for level in range(depth):
        body = (
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
            + body
            + b"\r\n--b%d--\r\n" % level
        )
    return b"From: a@b.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n" + body


def test_mime_deeper_than_the_limit_is_refused_before_its_lines_are_parsed() -> None:
    """600 KB of lines inside 400 levels: the stdlib matched each line against every open
    boundary (seconds of CPU) before the depth was measured; now the parse stops at the
    limit, before the lines."""
    raw = _nested_with_filler(400, b"\r\n" * 300_000)
    started = time.process_time()
    with pytest.raises(MimeTooDeep):
        parse_within_depth(raw, policy.default)
    assert time.process_time() - started < 0.5


@pytest.mark.parametrize("line", [b"\r\n", b"--\r\n", b"--b3x\r\n", b"--b29 --\r\n"])
def test_lines_at_the_limit_cost_no_more_than_at_one_level(line: bytes) -> None:
    """Lines that are not boundaries are not matched against every open boundary, so 600 KB at
    the deepest accepted level parses in about the time it takes at one level."""
    filler = line * (600_000 // len(line))
    timings = []
    for depth in (1, MAX_MIME_DEPTH):
        started = time.process_time()
        message = parse_within_depth(_nested_with_filler(depth, filler), policy.default)
        timings.append(time.process_time() - started)
        assert nesting_depth(message) == depth
    assert timings[1] < timings[0] * 3 + 0.2, timings


def test_boundaries_are_still_found_at_every_level() -> None:
    """The short cut in front of the boundary check keeps what the stdlib finds: a closing
    boundary with blanks, an outer boundary closing an inner part early, a lone CR."""
    raw = (
        b'From: a@b.example\r\nContent-Type: multipart/mixed; boundary="out"\r\n\r\n'
        b'--out\r\nContent-Type: multipart/alternative; boundary="in-"\r\n\r\n'
        b"--in-\r\nContent-Type: text/plain\r\n\r\none\r\n--in-- \t\r\n"
        b"--out\rContent-Type: text/plain\r\n\r\ntwo\r\n"
        b'--out\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n'
        b"Content-Type: text/plain\r\n\r\nthree\r\n--out--\r\n"
    )
    ours = parse_within_depth(raw, policy.default)
    theirs = email.message_from_bytes(raw, policy=policy.default)
    assert [p.get_content_type() for p in ours.walk()] == [
        p.get_content_type() for p in theirs.walk()
    ]
    assert [p.get_payload() for p in ours.walk() if not p.is_multipart()] == [
        p.get_payload() for p in theirs.walk() if not p.is_multipart()
    ]
    assert ours.as_bytes() == theirs.as_bytes()


@pytest.mark.parametrize(
    "value",
    [
        "=?utf-8?q?Hello=0D=0ABcc:_x@y.example?=",
        "=?utf-8?b?SGVsbG8NCkJjYzogeEB5LmV4YW1wbGU=?=",
        "=?utf-16?b?//5IAA0ACgBCAGMAYwA6AA==?=",
        "=?x-unknown?q?a=E2=80=A8b?=",
        "=?utf-8?q?=3D=3Futf-8=3Fq=3Fa=3D0D=3D0Ab=3F=3D?=",  # an encoded encoded word
        '"=?utf-8?q?a=00b?=" <x@y.example>',
    ],
)
def test_encoded_words_hiding_a_control_are_decoded_and_cleaned(value: str) -> None:
    assert hides_control(value)
    settled = settle_encoded_words(value, clean_header_value)
    assert settled is not None and not hides_control(settled)
    assert "\r" not in settled and "\n" not in settled


def test_harmless_encoded_words_are_kept_as_sent() -> None:
    value = "=?utf-8?q?caf=C3=A9?= <a@b.example>"
    assert not hides_control(value)
    assert settle_encoded_words(value, clean_header_value) == value


def test_the_mail_we_send_has_no_smuggled_header() -> None:
    message = build_message(
        sender="alerts@collections.example",
        to="staff@collections.example",
        subject="=?utf-8?q?Hello=0D=0ABcc:_victim@elsewhere.example?=",
        body="x",
        headers={"X-Note": "=?utf-8?b?DQpCY2M6IHhAeS5leGFtcGxl?="},
    )
    assert "Bcc" not in message and b"\r\nBcc:" not in message.as_bytes()
    assert str(message["Subject"]) == "Hello Bcc: victim@elsewhere.example"


# -- headers the stdlib chokes on, too many parts, costly attachment names, odd charsets ----

_PARENS = "(" * 300  # past the stdlib's recursion limit for nested comments


def _postmark(payload: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    headers = {
        "Content-Type": "application/json",
        "Authorization": basic_auth(dict(LOCAL_WEBHOOK_SECRETS), "postmark"),
    }
    return "/postmark", headers, json.dumps(payload).encode()


def _sendgrid(fields: list[tuple[str, bytes]]) -> tuple[str, dict[str, str], bytes]:
    body, content_type = encode_multipart(fields, [])
    headers = {
        "Content-Type": content_type,
        "Authorization": basic_auth(dict(LOCAL_WEBHOOK_SECRETS), "sendgrid"),
    }
    return "/sendgrid", headers, body


def _raw(mime: bytes) -> tuple[str, dict[str, str], bytes]:
    signed = raw_request(mime, secret=LOCAL_WEBHOOK_SECRETS["WEBHOOK_RAW_SECRET"])
    return "/raw", signed.headers, signed.body


def _accepted_mime(rig: Rig, request: tuple[str, dict[str, str], bytes]) -> bytes:
    """Post ``request``, check it was accepted, and return the one MIME stored."""
    path, headers, body = request
    answer = rig.client.post(path, data=body, headers=headers)
    assert answer.status_code == 200, answer.json
    assert len(rig.publisher.published) == 1 and not rig.rejected()
    (stored,) = [data for name, (data, _) in rig.store.objects.items() if name.endswith(".eml")]
    return stored


def _with_part(part_headers: bytes) -> bytes:
    return (
        b"From: a@sender.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        + part_headers
        + b"\r\n\r\ndata\r\n--b--\r\n"
    )


def _flat(children: int) -> bytes:
    return (
        b"From: a@sender.example\r\nSubject: wide\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + b"--b\r\n\r\n" * children
        + b"--b--\r\n"
    )


@pytest.mark.parametrize(
    "request_",
    [
        _postmark({"From": "a@sender.example", "To": "x@y.example " + _PARENS, "TextBody": "x"}),
        _sendgrid([("headers", f"From: a@sender.example\nCc: x@y.example {_PARENS}\n".encode())]),
        *(
            _postmark(
                {
                    "From": "a@sender.example",
                    "Headers": [{"Name": name, "Value": "<x@y.example> " + _PARENS}],
                    "TextBody": "x",
                }
            )
            for name in ("Reply-To", "Bcc", "Message-ID")
        ),
        _postmark(
            {
                "From": "a@sender.example",
                "Date": "Mon, 1 Jan 2024 00:00:00 +99999999999999999999 (" + "x" * 80 + ")",
                "TextBody": "x",
            }
        ),
    ],
    ids=["postmark-to", "sendgrid-cc", "reply-to", "bcc", "message-id", "date-overflow"],
)
def test_rebuilt_headers_the_stdlib_chokes_on_are_no_500(
    rig: Rig, request_: tuple[str, dict[str, str], bytes]
) -> None:
    stored = _accepted_mime(rig, request_)
    assert parse_email(stored).sender == "a@sender.example"


def test_an_original_message_id_the_stdlib_chokes_on_is_stored_without_one(rig: Rig) -> None:
    mime = b"From: a@sender.example\r\nSubject: s\r\nMessage-ID: <a@b.c> " + b"(" * 900
    stored = _accepted_mime(rig, _raw(mime + b"\r\n\r\nbody\r\n"))
    assert stored == mime + b"\r\n\r\nbody\r\n"
    assert rig.publisher.published[0][1]["email_id"].startswith("h-")


@pytest.mark.parametrize(
    "part_headers",
    [
        b"Content-Disposition: attachment; filename=a.pdf " + b"(" * 481,
        b"Content-Type: application/pdf; filename*0*",
    ],
    ids=["recursion-in-a-header", "index-error-in-the-parser"],
)
@pytest.mark.parametrize(
    ("route", "status"),
    [("raw", 400), ("sendgrid-raw", 400), ("postmark-raw", 403), ("mailgun-mime", 406)],
)
def test_an_original_the_parser_fails_on_is_a_4xx_kept_under_rejected(
    rig: Rig, route: str, status: int, part_headers: bytes
) -> None:
    path, headers, body = provider_request(
        route, _with_part(part_headers), dict(LOCAL_WEBHOOK_SECRETS)
    )
    answer = rig.client.post(path, data=body, headers=headers)
    assert answer.status_code == status, answer.json
    assert answer.json["detail"].endswith("could not be parsed as MIME")
    assert len(rig.rejected()) == 2 and not rig.publisher.published


def test_mime_with_too_many_parts_is_a_4xx_kept_under_rejected(rig: Rig) -> None:
    path, headers, body = _raw(_flat(MAX_MIME_PARTS))  # with the message itself, one too many
    answer = rig.client.post(path, data=body, headers=headers)
    assert answer.status_code == 400, answer.json
    assert answer.json["detail"] == f"body: MIME message has more than {MAX_MIME_PARTS} parts"
    assert len(rig.rejected()) == 2 and not rig.publisher.published


def test_mime_with_as_many_parts_as_the_limit_is_accepted(rig: Rig) -> None:
    _accepted_mime(rig, _raw(_flat(MAX_MIME_PARTS - 1)))


def test_the_processor_fails_mime_with_too_many_parts_for_good() -> None:
    with pytest.raises(MimeNestedTooDeep) as raised:
        parse_email(_flat(MAX_MIME_PARTS))
    assert raised.value.stage == "parse"
    with pytest.raises(MimeTooManyParts):
        parse_within_depth(_flat(MAX_MIME_PARTS), policy.default)


def test_attachment_names_and_ids_are_cut_before_the_costly_work(rig: Rig) -> None:
    """Each 16,000-character name cost about 0.5 s of CPU to encode and fold."""
    attachment = {"Content": "eA==", "ContentType": "application/pdf"}
    long_ones = [{**attachment, "Name": "é" * 16_000, "ContentID": "c" * 16_000}] * 5
    non_ascii_id = {**attachment, "Name": "a.pdf", "ContentID": "é" * 16_000}
    started = time.process_time()
    stored = _accepted_mime(
        rig,
        _postmark({"From": "a@sender.example", "Attachments": [*long_ones, non_ascii_id]}),
    )
    assert time.process_time() - started < 0.5
    parts = list(email.message_from_bytes(stored, policy=policy.default).iter_attachments())
    assert [part.get_filename() for part in parts] == ["é" * 127] * 5 + ["a.pdf"]  # 254 bytes
    assert [part["Content-ID"] for part in parts] == ["<" + "c" * 998 + ">"] * 5 + [None]


@pytest.mark.parametrize("charset", ["idna", "undefined", "punycode", "utf-8\x00"])
def test_a_sendgrid_charset_that_cannot_decode_falls_back_to_utf8(rig: Rig, charset: str) -> None:
    stored = _accepted_mime(
        rig,
        _sendgrid(
            [
                ("headers", b"From: a@sender.example\n"),
                ("text", "caf\u00e9 ".encode() + b"\xff"),
                ("charsets", json.dumps({"text": charset}).encode()),
            ]
        ),
    )
    assert parse_email(stored).text.startswith("caf\u00e9 \ufffd")


@pytest.mark.parametrize(
    ("sender", "name", "expected"),
    [
        ("jos\u00e9@example.com", "Jos\u00e9", ("jos\u00e9@example.com", "Jos\u00e9")),
        ("a@sender.example", "Jo\ud800", ("a@sender.example", "Jo?")),
        ("jose@example.com", "Jos\u00e9", ("jose@example.com", "Jos\u00e9")),
    ],
    ids=["internationalised-address", "lone-surrogate-in-name", "ascii-address"],
)
def test_postmark_senders_the_stdlib_cannot_format_are_kept(
    rig: Rig, sender: str, name: str, expected: tuple[str, str | None]
) -> None:
    payload = {"From": sender, "FromName": name, "TextBody": "x"}
    parsed = parse_email(_accepted_mime(rig, _postmark(payload)))
    assert (parsed.sender, parsed.sender_name) == expected


def test_a_subject_with_a_tab_is_kept_with_a_space(rig: Rig) -> None:
    # the subject often carries the case number: a tab in it must not drop the whole header
    payload = {"From": "a@sender.example", "Subject": "Payment\tCASE-2024-0001", "TextBody": "x"}
    parsed = parse_email(_accepted_mime(rig, _postmark(payload)))
    assert parsed.subject == "Payment CASE-2024-0001"


# -- non-ASCII addresses in rebuilt headers, for every provider -----------------------------

ADDRESSES = [
    ("Jo <jos\u00e9@example.com>", "Jo", "jos\u00e9@example.com"),
    ("Jos\u00e9 <jos\u00e9@example.com>", "Jos\u00e9", "jos\u00e9@example.com"),
    ('"M\u00fcller, Hans" <hans@example.com>', "M\u00fcller, Hans", "hans@example.com"),
    ("=?utf-8?q?M=C3=BCller=2C_Hans?= <hans@example.com>", "M\u00fcller, Hans", "hans@example.com"),
    (
        "\u7528\u6237 <\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a>",
        "\u7528\u6237",
        "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a",
    ),
    ("Z\u00f6e " * 20 + "<z@example.com>", ("Z\u00f6e " * 20).strip(), "z@example.com"),
]
TO = "Zo\u00eb <z@example.com>, =?utf-8?q?Jos=C3=A9?= <j@example.com>, \u00e5sa@example.se"
TO_READ = [
    ("Zo\u00eb", "z@example.com"),
    ("Jos\u00e9", "j@example.com"),
    ("", "\u00e5sa@example.se"),
]


def _with_addresses(provider: str, header: str, name: str, address: str) -> Any:
    """``provider``'s request whose From is ``header`` (Postmark: ``name`` and ``address``) and
    whose To and Reply-To are :data:`TO`."""
    if provider == "postmark":
        payload = {"From": address, "FromName": name, "To": TO, "ReplyTo": TO, "TextBody": "x"}
        return _postmark(payload)
    if provider == "sendgrid":
        block = f"From: {header}\nTo: {TO}\nReply-To: {TO}\nSubject: s\n"
        charsets = b'{"headers": "UTF-8"}'
        return _sendgrid([("headers", block.encode()), ("text", b"x"), ("charsets", charsets)])
    listed = [["From", header], ["To", TO], ["Reply-To", TO], ["Subject", "s"]]
    fields = [
        *mailgun_fields(dict(LOCAL_WEBHOOK_SECRETS)),
        ("message-headers", json.dumps(listed).encode()),
        ("body-plain", b"x"),
    ]
    body, content_type = encode_multipart(fields, [])
    return "/mailgun", {"Content-Type": content_type}, body


@pytest.mark.parametrize(("header", "name", "address"), ADDRESSES)
@pytest.mark.parametrize("provider", ["mailgun", "sendgrid", "postmark"])
def test_non_ascii_addresses_read_back_as_sent(
    rig: Rig, provider: str, header: str, name: str, address: str
) -> None:
    """Written as one RFC 2047 encoded text, ``Jo <josé@example.com>`` was read as the address
    ``jo <josé@example.com>`` and ``"Müller, Hans"`` as no sender at all."""
    stored = _accepted_mime(rig, _with_addresses(provider, header, name, address))
    parsed = parse_email(stored)
    assert (parsed.sender, parsed.sender_name) == (address, name)
    message = email.message_from_bytes(stored, policy=policy.default)
    for field in ("To", "Reply-To"):  # read as the processor reads From
        assert getaddresses([str(message[field])]) == TO_READ, field


@pytest.mark.parametrize(
    "value",
    [
        "\u00e9 =?utf-8?q?a=0D=0ABcc:_victim@elsewhere.example?= <a@b.example>",
        '"=?utf-8?q?J=C3=A9=0D=0ABcc:_x@y.example?=" <j\u00e9@b.example>',
        "J\u00e9\tTab <a@b.example>",
        "\u00e9 " + "(" * 400 + " <a@b.example>",
        "\u00e9" * 600 + " <a@b.example>",
    ],
    ids=["encoded-crlf", "quoted-encoded-crlf", "tab", "nested-comments", "long-word"],
)
def test_non_ascii_address_headers_stay_one_header(rig: Rig, value: str) -> None:
    stored = _accepted_mime(
        rig, _postmark({"From": "a@sender.example", "To": value, "TextBody": "x"})
    )
    head = stored.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    assert not any(line.lower().startswith(b"bcc") for line in lines)
    assert b"\n" not in head.replace(b"\r\n", b"") and b"\r" not in head.replace(b"\r\n", b"")
    assert b"\x00" not in head and b"\t" not in head
    assert all(len(line) <= 998 for line in lines)
    to_lines = [i for i, line in enumerate(lines) if line.startswith(b"To:")]
    assert len(to_lines) == 1
    message = email.message_from_bytes(stored, policy=policy.default)
    assert "Bcc" not in message and "\n" not in str(message["To"])
    assert parse_email(stored).sender == "a@sender.example"


# -- Mailgun forms our multipart parser refuses or reads leniently ---------------------------


def _mailgun_form(*, signed: bool = True, filename: bytes = b"notice.pdf") -> tuple[bytes, str]:
    fields = [
        *mailgun_fields(dict(LOCAL_WEBHOOK_SECRETS)),
        ("message-headers", b'[["From", "a@sender.example"], ["Subject", "notice"]]'),
        ("body-plain", b"Please see the attached notice."),
        ("attachment-count", b"1"),
    ]
    if not signed:
        fields = [(n, b"0" * 64 if n == "signature" else v) for n, v in fields]
    body, content_type = encode_multipart(
        fields, [("attachment-1", "x.pdf", "application/pdf", b"%PDF")]
    )
    return body.replace(b'filename="x.pdf"', b'filename="' + filename + b'"'), content_type


def _without_disposition(body: bytes) -> bytes:
    """The body with one part's Content-Disposition gone: werkzeug refuses the whole form."""
    cut = body.replace(b'Content-Disposition: form-data; name="body-plain"', b"X-Part: plain")
    assert cut != body
    return cut


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"], ids=["canonical", "werkzeug"])
def test_a_mailgun_attachment_named_in_latin1_is_accepted(rig: Rig, newline: bytes) -> None:
    """A raw Latin-1 byte in a part's filename made the whole form malformed: 406, not kept."""
    body, content_type = _mailgun_form(filename=b"caf\xe9.pdf")
    body = body.replace(b"\r\n", newline)
    stored = _accepted_mime(rig, ("/mailgun", {"Content-Type": content_type}, body))
    message = email.message_from_bytes(stored, policy=policy.default)
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "caf\u00e9.pdf"
    assert attachment.get_content() == b"%PDF"


@pytest.mark.parametrize("content_type", [None, "text/csv"], ids=["multipart", "wrong-type"])
def test_a_signed_mailgun_form_the_parser_refuses_is_kept(
    rig: Rig, content_type: str | None
) -> None:
    """The credentials are read from the refused body: authentic, so the body is kept under
    rejected/ (and its token claimed) before Mailgun is told not to retry."""
    body, multipart = _mailgun_form()
    body = _without_disposition(body)
    answer = rig.client.post(
        "/mailgun", data=body, headers={"Content-Type": content_type or multipart}
    )
    assert answer.status_code == 406, answer.json
    kept = rig.rejected()
    assert len(kept) == 2 and not rig.publisher.published
    (name,) = [n for n in kept if n.endswith(".body")]
    assert rig.store.objects[name][0] == body
    assert any(n.startswith("replay/mailgun/") for n in rig.store.objects)


@pytest.mark.parametrize(
    ("content_type", "status", "error"),
    [(None, 400, "malformed_payload"), ("text/csv", 415, "unsupported_media_type")],
    ids=["multipart", "wrong-type"],
)
def test_a_mailgun_form_refused_before_authentication_is_retryable(
    rig: Rig, content_type: str | None, status: int, error: str
) -> None:
    """Without credentials that verify the refusal cannot be trusted to be final: Mailgun's
    406 would drop an email our parser may have been wrong about; nothing is kept."""
    body, multipart = _mailgun_form(signed=False)
    body = _without_disposition(body)
    answer = rig.client.post(
        "/mailgun", data=body, headers={"Content-Type": content_type or multipart}
    )
    assert (answer.status_code, answer.json["error"]) == (status, error)
    assert not rig.store.objects and not rig.publisher.published


def test_a_mailgun_form_refused_without_a_signing_key_is_retried(rig: Rig) -> None:
    os.environ["WEBHOOK_MAILGUN_SIGNING_KEY"] = ""
    reset_settings_cache()
    body, content_type = _mailgun_form()
    answer = rig.client.post(
        "/mailgun", data=_without_disposition(body), headers={"Content-Type": content_type}
    )
    assert answer.status_code == 503 and answer.json["error"] == "not_configured"
    assert not rig.store.objects
