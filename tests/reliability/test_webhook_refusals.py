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

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from infra.sign_request import encode_multipart
from shared.mime_depth import MAX_MIME_DEPTH
from tests.e2e.conftest import tool_input, wait_until
from tests.intake_payloads.hostile import basic_auth, mailgun_fields, nested, provider_request
from tests.intake_payloads.probes import Bucket, TopicProbe
from tests.reliability.helpers import Harness, unique
from tests.reliability.summary import SUMMARY


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
        status, answer = _post(harness, *provider_request(route, mime, env), cid)
        SUMMARY.count("hostile_inputs")
        assert status == expected, f"{route}: {status} {answer}"
        assert answer["error"] == "malformed_payload"
        assert f"more than {MAX_MIME_DEPTH} levels deep" in answer["detail"]
        assert len(_kept(cid)) == 2, f"{route}: body not kept under rejected/"
    # The harness resets the Claude stand-in to an empty (malformed) answer; this email gets a
    # valid one, so its report comes from the first delivery, not after the rules fallback's
    # redeliveries (whose backoff can outlast the wait on a loaded machine).
    harness.claude.set_default({"kind": "tool_use", "input": tool_input("other", 0.9, "leaf")})
    within = nested(MAX_MIME_DEPTH, unique("deep-ok"))
    status, answer = _post(harness, *provider_request("raw", within, env), unique("deep-ok"))
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
    headers = {"Content-Type": "application/json", "Authorization": basic_auth(env, "postmark")}
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
        *mailgun_fields(env),
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
