"""Signed requests the webhook must refuse with a clear 4xx, keeping the body under
``rejected/`` (never a 500, never processed), over HTTP to the reliability stack's webhook:

- MIME nested 1,000 levels deep (68 KiB; the stdlib's parser runs out of recursion near
  there) at ``/raw``, SendGrid's ``email``, Postmark's ``RawEmail`` and Mailgun's
  ``body-mime``; and the same message already stored, which the processor fails for good
  with a report, acknowledged once;
- Postmark JSON with ``NaN``, ``Infinity``, ``1e999999`` or a duplicate key;
- a Mailgun ``store()`` post, whose attachments are URLs in an ``attachments`` field and not
  files: refused with an error naming the misconfiguration, logged for operators.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from infra.sign_request import encode_multipart, raw_request
from shared.intake.auth import sign_mailgun
from shared.mime_depth import MAX_MIME_DEPTH
from tests.e2e.conftest import wait_until
from tests.intake_payloads.probes import Bucket, TopicProbe
from tests.reliability.helpers import Harness, unique
from tests.reliability.summary import SUMMARY


def nested(depth: int, tag: str) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nleaf\r\n"
    for level in range(depth):
        body = (
            b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
            + body
            + b"\r\n--b%d--\r\n" % level
        )
    return (
        f"From: Deep <deep@sender.example>\r\nTo: inbound@collections.example\r\n"
        f"Subject: deep\r\nMessage-ID: <{tag}@deep.example>\r\nMIME-Version: 1.0\r\n"
    ).encode() + body


def _basic(env: dict[str, str], provider: str) -> str:
    user = env[f"WEBHOOK_{provider.upper()}_USERNAME"]
    password = env[f"WEBHOOK_{provider.upper()}_PASSWORD"]
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _mailgun_fields(env: dict[str, str]) -> list[tuple[str, bytes]]:
    stamp, token = str(int(time.time())), secrets.token_hex(25)
    key = env["WEBHOOK_MAILGUN_SIGNING_KEY"]
    return [
        ("recipient", b"inbound@collections.example"),
        ("sender", b"deep@sender.example"),
        ("from", b"Deep <deep@sender.example>"),
        ("subject", b"refused"),
        ("timestamp", stamp.encode()),
        ("token", token.encode()),
        ("signature", sign_mailgun(key, stamp, token).encode()),
    ]


def _request(route: str, mime: bytes, env: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
    """The provider's request carrying ``mime`` as its original message (built by hand: the
    provider simulators parse the message first, which the stdlib cannot at this depth)."""
    if route == "raw":
        signed = raw_request(mime, secret=env["WEBHOOK_RAW_SECRET"])
        return "/raw", signed.headers, signed.body
    if route == "sendgrid-raw":
        body, content_type = encode_multipart(
            [
                ("from", b"deep@sender.example"),
                ("to", b"inbound@collections.example"),
                ("email", mime),
            ],
            [],
        )
        headers = {"Content-Type": content_type, "Authorization": _basic(env, "sendgrid")}
        return "/sendgrid", headers, body
    if route == "postmark-raw":
        payload = {"From": "deep@sender.example", "Subject": "deep", "RawEmail": mime.decode()}
        headers = {"Content-Type": "application/json", "Authorization": _basic(env, "postmark")}
        return "/postmark", headers, json.dumps(payload).encode()
    body, content_type = encode_multipart([*_mailgun_fields(env), ("body-mime", mime)], [])
    return "/mailgun", {"Content-Type": content_type}, body


def _post(
    harness: Harness, path: str, headers: dict[str, str], body: bytes, cid: str
) -> tuple[int, dict[str, Any]]:
    url = harness.stack.env()["WEBHOOK_URL"].rstrip("/") + path
    request = urllib.request.Request(
        url, data=body, headers={**headers, "X-Correlation-ID": cid}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _kept(cid: str) -> list[str]:
    return sorted(n for n in Bucket().names("rejected/") if f"/{cid}." in n)


@pytest.fixture
def probe(harness: Harness) -> Any:
    topic = TopicProbe()
    try:
        yield topic
    finally:
        topic.close()


DEEP_STATUS = {"raw": 400, "sendgrid-raw": 400, "postmark-raw": 403, "mailgun-mime": 406}


def test_deep_mime_is_refused_at_every_route_and_kept(harness: Harness, probe: TopicProbe) -> None:
    env = harness.stack.env()
    mime = nested(1000, unique("deep"))
    assert 60_000 < len(mime) < 80_000
    for route, expected in DEEP_STATUS.items():
        cid = unique(f"deep-{route}")
        status, answer = _post(harness, *_request(route, mime, env), cid)
        SUMMARY.count("hostile_inputs")
        assert status == expected, f"{route}: {status} {answer}"
        assert answer["error"] == "malformed_payload"
        assert f"more than {MAX_MIME_DEPTH} levels deep" in answer["detail"]
        assert len(_kept(cid)) == 2, f"{route}: body not kept under rejected/"
    within = nested(MAX_MIME_DEPTH, unique("deep-ok"))
    status, answer = _post(harness, *_request("raw", within, env), unique("deep-ok"))
    assert status == 200, f"{MAX_MIME_DEPTH} levels must pass: {status} {answer}"
    published = probe.pull(1, timeout=20)
    assert [p.data.get("email_id") for p in published] == [answer["email_id"]]
    harness.wait_for_report(str(answer["email_id"]), timeout=120)
    assert harness.stack.servers["webhook"].alive()


def test_deep_mime_already_stored_fails_once_with_a_report(harness: Harness) -> None:
    email_id = unique("em-deep")
    uri = harness.store_mime(email_id, nested(1000, email_id))
    harness.publish(
        harness.notice(email_id, uri), correlation_id=f"corr-{email_id}", email_id=email_id
    )
    report = harness.wait_for_report(email_id, timeout=120)
    assert report["status"] == "failed"
    error = report["errors"][0]
    assert (error["stage"], error["error_type"]) == ("parse", "MimeNestedTooDeep")
    assert f"more than {MAX_MIME_DEPTH} levels deep" in error["message"]
    time.sleep(5)  # a redelivery would bump attempts on the same row
    row = harness.email_row(email_id)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert harness.stack.servers["processor"].alive()


LYING_JSON = {
    "nan": b'{"From": "a@sender.example", "TextBody": "x", "Spam": NaN}',
    "infinity": b'{"From": "a@sender.example", "TextBody": "x", "Spam": -Infinity}',
    "huge": b'{"From": "a@sender.example", "TextBody": "x", "Spam": 1e999999}',
    "duplicate": b'{"From": "a@sender.example", "TextBody": "x", "From": "b@elsewhere.example"}',
}


def test_postmark_json_that_parsers_disagree_on_is_refused(
    harness: Harness, probe: TopicProbe
) -> None:
    env = harness.stack.env()
    headers = {"Content-Type": "application/json", "Authorization": _basic(env, "postmark")}
    for name, body in LYING_JSON.items():
        cid = unique(f"json-{name}")
        status, answer = _post(harness, "/postmark", headers, body, cid)
        SUMMARY.count("hostile_inputs")
        assert status == 403, f"{name}: {status} {answer}"  # Postmark's "do not retry"
        assert answer["error"] == "malformed_payload" and "not valid JSON" in answer["detail"]
        assert len(_kept(cid)) == 2, f"{name}: body not kept under rejected/"
    assert probe.pull(0, timeout=3) == []


def test_a_mailgun_store_post_is_refused_naming_the_route(
    harness: Harness, probe: TopicProbe
) -> None:
    env = harness.stack.env()
    log = harness.stack.servers["webhook"].log_path
    offset = log.stat().st_size
    listed = [
        {
            "url": "https://storage.eu.mailgun.net/v3/domains/d/messages/m/attachments/0",
            "content-type": "application/pdf",
            "name": "bankruptcy-notice.pdf",
            "size": 48213,
        }
    ]
    fields = [
        *_mailgun_fields(env),
        ("message-headers", b'[["From", "Deep <deep@sender.example>"], ["Subject", "notice"]]'),
        ("body-plain", b"Please see the attached notice."),
        ("attachments", json.dumps(listed).encode()),
        ("message-url", b"https://storage.eu.mailgun.net/v3/domains/d/messages/m"),
    ]
    body, content_type = encode_multipart(fields, [])
    cid = unique("store")
    status, answer = _post(harness, "/mailgun", {"Content-Type": content_type}, body, cid)
    assert status == 406, f"{status} {answer}"  # Mailgun's "do not retry"
    assert answer["error"] == "attachments_not_received"
    assert "store()" in answer["detail"] and "forward()" in answer["detail"]
    assert "1 attachment" in answer["detail"]
    assert len(_kept(cid)) == 2, "body not kept under rejected/"
    assert probe.pull(0, timeout=3) == [], "an email without its attachments was published"

    def logged() -> list[dict[str, Any]]:
        with log.open("rb") as handle:
            handle.seek(offset)
            lines = handle.read().decode("utf-8", "replace").splitlines()
        return [json.loads(line) for line in lines if "webhook_attachments_not_received" in line]

    (line,) = wait_until(logged, 10, "the operators' log line")
    assert line["severity"] == "ERROR"
    text = json.dumps(line)
    for personal in ("deep@sender.example", "bankruptcy-notice", "storage.eu.mailgun.net"):
        assert personal not in text, f"{personal} in the log line"
