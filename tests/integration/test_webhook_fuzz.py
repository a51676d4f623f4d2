"""Thousands of malformed bodies and headers at every route, through the real
functions-framework app on the real GCS and Pub/Sub: never a 5xx, never a publish.

Authenticated cases are malformed by construction (a required field is missing or the
attachment count cannot match), so whatever Hypothesis generates, nothing may be accepted.
The only objects they may leave are their own bodies under ``rejected/`` (with the metadata
JSON) and, for Mailgun, the claim of their token; a forged request leaves nothing at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra import sign_request
from infra.stack import LOCAL_WEBHOOK_SECRETS
from shared.intake.service import replay_object_name
from tests.intake_payloads.probes import Bucket, TopicProbe, topic_probe, webhook_client

pytestmark = pytest.mark.stack

EXAMPLES_PER_ROUTE = 550
ALLOWED = {400, 401, 403, 404, 405, 406, 413, 415}
MALFORMED = {"/mailgun": 406, "/sendgrid": 400, "/postmark": 403, "/raw": 400}

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=80,
)
content_types = st.one_of(
    st.sampled_from(
        [
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=b",
            "application/x-www-form-urlencoded",
            "application/json",
            "application/json; charset=utf-16",
            "message/rfc822",
            "text/plain",
        ]
    ),
    header_text,
)
field_names = st.one_of(
    st.sampled_from(
        [
            "recipient",
            "sender",
            "from",
            "subject",
            "body-plain",
            "body-html",
            "body-mime",
            "message-headers",
            "attachment-count",
            "attachment-1",
            "content-id-map",
            "headers",
            "text",
            "html",
            "to",
            "cc",
            "envelope",
            "charsets",
            "attachments",
            "attachment-info",
            "attachment1",
            "email",
            "timestamp",
            "token",
            "signature",
        ]
    ),
    st.text(min_size=1, max_size=12, alphabet="abcdefghijklmnopqrstuvwxyz-_1"),
)
field_values = st.one_of(
    st.binary(max_size=120),
    st.sampled_from([b"", b"[]", b"{}", b"null", b"1", b'[["From"]]', b'{"a": 1}', b"\xff\xfe"]),
    st.text(max_size=100).map(lambda text: text.encode("utf-8", "surrogatepass")),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
postmark_keys = st.sampled_from(
    [
        "To",
        "Cc",
        "Subject",
        "Date",
        "MessageID",
        "TextBody",
        "HtmlBody",
        "Headers",
        "Attachments",
        "FromName",
        "FromFull",
        "ReplyTo",
        "StrippedTextReply",
        "From",
    ]
)


@dataclass
class Case:
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    signed: bool = False  # carries valid credentials or a valid signature
    token: str | None = None  # the Mailgun token it was signed with


@dataclass
class Expected:
    """What the authenticated cases may leave in the bucket."""

    bodies: dict[str, str] = field(default_factory=dict)  # rejected/…/<cid>.body → base64 MD5
    tokens: set[str] = field(default_factory=set)  # replay claims of kept Mailgun bodies
    kept: Counter[str] = field(default_factory=Counter)  # per route


def _basic(provider: str) -> str:
    upper = provider.upper()
    return sign_request._basic(
        LOCAL_WEBHOOK_SECRETS[f"WEBHOOK_{upper}_USERNAME"],
        LOCAL_WEBHOOK_SECRETS[f"WEBHOOK_{upper}_PASSWORD"],
    )


@st.composite
def multipart_bodies(draw: st.DrawFn, fields: Any = None) -> tuple[bytes, str]:
    chosen = draw(
        fields if fields is not None else st.lists(st.tuples(field_names, field_values), max_size=8)
    )
    body, content_type = sign_request.encode_multipart(chosen, [])
    if draw(st.booleans()):
        body = draw(
            st.sampled_from(
                [
                    body[: len(body) // 2],
                    body.replace(b"\r\n", b"\n"),
                    body + draw(st.binary(max_size=20)),
                ]
            )
        )
    return body, content_type


@st.composite
def unauthenticated(draw: st.DrawFn, path: str) -> Case:
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["Content-Type"] = draw(content_types)
    for name in ("Authorization", "X-Signature", "X-Correlation-ID"):
        if draw(st.booleans()):
            headers[name] = draw(header_text)
    kind = draw(st.sampled_from(["binary", "multipart", "json"]))
    if kind == "multipart":
        body, content_type = draw(multipart_bodies())
        headers.setdefault("Content-Type", content_type)
    elif kind == "json":
        body = json.dumps(draw(json_values)).encode()
    else:
        body = draw(st.binary(max_size=300))
    method = draw(st.sampled_from(["POST"] * 8 + ["GET", "PUT"]))
    suffix = draw(st.sampled_from(["", "", "", "/", "x", "/../raw"]))
    return Case(path + suffix, body, headers, method)


@st.composite
def signed_mailgun(draw: st.DrawFn) -> Case:
    stamp = str(int(time.time()))
    token = draw(st.text(min_size=1, max_size=50, alphabet="0123456789abcdef"))
    signature = sign_request.sign_mailgun(
        LOCAL_WEBHOOK_SECRETS["WEBHOOK_MAILGUN_SIGNING_KEY"], stamp, token
    )
    names = field_names.filter(
        lambda n: (
            n
            not in {"body-mime", "timestamp", "token", "signature", "recipient", "attachment-count"}
        )
    )
    extra = draw(st.lists(st.tuples(names, field_values), max_size=6))
    fields = [(b"timestamp", stamp), (b"token", token), (b"signature", signature)]
    chosen = [(n.decode(), v.encode()) for n, v in fields] + extra
    if draw(st.booleans()):  # recipient present, but the attachment count cannot match
        chosen += [("recipient", b"inbound@example.com"), ("attachment-count", b"3")]
    body, content_type = sign_request.encode_multipart(chosen, [])
    return Case("/mailgun", body, {"Content-Type": content_type}, signed=True, token=token)


@st.composite
def signed_sendgrid(draw: st.DrawFn) -> Case:
    names = field_names.filter(lambda n: n not in {"email", "headers", "attachments"})
    chosen = draw(st.lists(st.tuples(names, field_values), max_size=6))
    if draw(st.booleans()):  # headers present, but the attachment count cannot match
        chosen += [("headers", draw(field_values)), ("attachments", b"2")]
    body, content_type = sign_request.encode_multipart(chosen, [])
    headers = {"Content-Type": content_type, "Authorization": _basic("sendgrid")}
    return Case("/sendgrid", body, headers, signed=True)


@st.composite
def signed_postmark(draw: st.DrawFn) -> Case:
    payload = draw(st.dictionaries(postmark_keys, json_values, max_size=8))
    if isinstance(payload.get("From"), str):
        payload["From"] = 1  # From must be missing or not a string: malformed by construction
    if draw(st.booleans()):
        payload["Attachments"] = [{"Name": "a", "Content": draw(st.text(max_size=20)) + "*"}]
        payload["From"] = "a@example.com"
    body = json.dumps(payload).encode()
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    headers = {"Content-Type": "application/json", "Authorization": _basic("postmark")}
    return Case("/postmark", body, headers, signed=True)


@st.composite
def signed_raw(draw: st.DrawFn) -> Case:
    # A first line that is not a header: never an RFC 5322 message, whatever follows.
    body = b"\x00" + draw(st.binary(max_size=400))
    secret = LOCAL_WEBHOOK_SECRETS["WEBHOOK_RAW_SECRET"]
    content_type = draw(st.sampled_from(["message/rfc822", "text/plain", "message/rfc822; x=1"]))
    headers = {
        "Content-Type": content_type,
        "X-Signature": sign_request.sign_raw(secret, int(time.time()), body),
    }
    return Case("/raw", body, headers, signed=True)


CASES = {
    "/mailgun": st.one_of(unauthenticated("/mailgun"), signed_mailgun()),
    "/sendgrid": st.one_of(unauthenticated("/sendgrid"), signed_sendgrid()),
    "/postmark": st.one_of(unauthenticated("/postmark"), signed_postmark()),
    "/raw": st.one_of(unauthenticated("/raw"), signed_raw()),
}


@pytest.fixture(scope="module")
def fuzz_target(_session_stack: Any) -> Iterator[tuple[Any, TopicProbe, Expected]]:
    import os

    from shared.config import reset_settings_cache

    saved = dict(os.environ)
    os.environ.update(_session_stack.env())
    reset_settings_cache()
    try:
        with webhook_client() as client, topic_probe() as probe:
            before = set(Bucket().names(""))
            expected = Expected()
            yield client, probe, expected
            assert probe.pull(expected=0, settle=1.0) == [], "a malformed request was published"
            _assert_only_kept_bodies_were_stored(before, expected)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings_cache()


def _assert_only_kept_bodies_were_stored(before: set[str], expected: Expected) -> None:
    """New objects: exactly the kept bodies (byte for byte, by MD5), their metadata, and the
    Mailgun tokens they claimed. Nothing from a forged request, nothing else."""
    blobs = {blob.name: blob for blob in Bucket().bucket.list_blobs()}
    new = set(blobs) - before
    claims = {replay_object_name("mailgun", token) for token in expected.tokens}
    metadata = {name.removesuffix(".body") + ".json" for name in expected.bodies}
    assert new == set(expected.bodies) | metadata | (claims - before), "unexpected objects"
    for name, md5 in expected.bodies.items():
        assert blobs[name].md5_hash == md5, name


@pytest.mark.parametrize("path", sorted(CASES))
def test_malformed_requests_never_5xx_and_never_publish(
    fuzz_target: tuple[Any, TopicProbe, Expected], path: str
) -> None:
    client, _, expected = fuzz_target
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=CASES[path])
    def check(case: Case) -> None:
        answer = client.open(case.path, method=case.method, data=case.body, headers=case.headers)
        assert answer.status_code in ALLOWED, (answer.status_code, answer.get_data()[:300])
        assert answer.is_json and "error" in answer.json
        statuses[answer.status_code] += 1
        if case.signed and answer.json["error"] in KEPT_ERRORS:
            _expect_kept(expected, case, answer)

    check()
    assert sum(statuses.values()) >= EXAMPLES_PER_ROUTE
    # Both halves were exercised: forged requests and signed-but-malformed ones.
    assert statuses[401] > 0
    assert statuses[MALFORMED[path]] > 0, statuses
    assert expected.kept[path] > 0


# Refusals of an authenticated body that keep it under rejected/ (a Mailgun form that lists
# its attachments as URLs is one: the fuzzer draws the field name "attachments").
KEPT_ERRORS = {"malformed_payload", "unsupported_media_type", "attachments_not_received"}


def _expect_kept(expected: Expected, case: Case, answer: Any) -> None:
    cid = answer.headers["X-Correlation-ID"]
    day = time.strftime("%Y/%m/%d", time.gmtime())
    md5 = base64.b64encode(hashlib.md5(case.body).digest()).decode()  # noqa: S324 (GCS's hash)
    expected.bodies[f"rejected/{day}/{cid}.body"] = md5
    expected.kept[case.path] += 1
    if case.token is not None:
        expected.tokens.add(case.token)
