"""Hostile *signed* requests at the running webhook process, then through the processor.

``tests/integration/test_webhook_fuzz.py`` fuzzes malformed envelopes (bad fields, bad
signatures, bad JSON) in process. This adds what the issue lists on top, as authenticated
requests over HTTP to the real functions-framework process, so the MIME parser is reached:
broken multipart boundaries, invalid charsets, giant headers, deeply nested MIME, zip and PDF
bombs as attachments, null bytes (property-based); and, once per route, 10,000 attachments and
an oversized body.

What must hold: never a 5xx, the process never dies, a 4xx publishes nothing, and whatever was
accepted (200) is processed to exactly one report — the processor survives the bombs too.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import tool_input
from tests.fixtures.pdfs import flate_bomb_pdf
from tests.intake_payloads.probes import TopicProbe
from tests.reliability.conftest import sizes
from tests.reliability.helpers import Harness, MailCase
from tests.reliability.summary import SUMMARY

MIME_ROUTES = ("raw", "mailgun-mime", "sendgrid-raw")
PARSED_ROUTES = ("mailgun", "sendgrid", "postmark")


def zip_bomb() -> bytes:
    """A zip whose single member inflates to 200 MB (about 200 KB on the wire)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("invoice.txt", b"\0" * (200 * 1024 * 1024))
    return buffer.getvalue()


_ZIP_BOMB: bytes | None = None
_PDF_BOMB: bytes | None = None


def bombs() -> tuple[bytes, bytes]:
    global _ZIP_BOMB, _PDF_BOMB
    if _ZIP_BOMB is None:
        _ZIP_BOMB = zip_bomb()
        _PDF_BOMB = flate_bomb_pdf(300 * 1024 * 1024)
    assert _PDF_BOMB is not None
    return _ZIP_BOMB, _PDF_BOMB


def _leaf(kind: str, charset: str, text: bytes) -> bytes:
    if kind == "zip":
        import base64

        return (
            b"Content-Type: application/zip; name=bomb.zip\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(bombs()[0])
        )
    if kind == "pdf":
        import base64

        return (
            b"Content-Type: application/pdf; name=bomb.pdf\r\n"
            b"Content-Disposition: attachment; filename=bomb.pdf\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(bombs()[1])
        )
    return f"Content-Type: text/plain; charset={charset}\r\n\r\n".encode() + text


@st.composite
def hostile_mime(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(0, 80))
    charset = draw(
        st.sampled_from(["utf-8", "utf-99", "x-unknown", "iso-2022-jp", "utf-16", "", '"'])
    )
    text = draw(
        st.sampled_from(
            [b"plain text", b"\xff\xfe\xfa invalid", b"nul\x00byte\x00", "caf\u00e9".encode()]
        )
        | st.binary(max_size=200)
    )
    leaf = _leaf(draw(st.sampled_from(["text"] * 6 + ["zip", "pdf"])), charset, text)
    broken = draw(st.sampled_from(["none", "no_close", "wrong_close", "in_body", "empty"]))
    body = leaf
    for level in range(depth):
        boundary = f"b{level}" if broken != "empty" else ""
        close = {
            "no_close": b"",
            "wrong_close": f"--x{boundary}--\r\n".encode(),
        }.get(broken, f"--{boundary}--\r\n".encode())
        inner = (
            body.replace(b"plain", f"--{boundary}\r\n".encode()) if broken == "in_body" else body
        )
        body = (
            f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode()
            + f"--{boundary}\r\n".encode()
            + inner
            + b"\r\n"
            + close
        )
    giant = draw(st.sampled_from([0, 0, 0, 1000, 100_000, 900_000]))
    many = draw(st.sampled_from([0, 0, 50, 3000]))
    nul = b"\x00" if draw(st.booleans()) else b""
    headers = (
        b"From: Fuzz <fuzz@example.org>\r\nTo: inbound@collections.example\r\n"
        b"Subject: fuzz" + nul + b"\r\n"
        b"Message-ID: <"
        + draw(st.uuids()).hex.encode()
        + b"@fuzz.example>\r\n"
        + (b"X-Giant: " + b"a" * giant + b"\r\n" if giant else b"")
        + b"".join(b"X-H%d: v\r\n" % i for i in range(many))
        + b"MIME-Version: 1.0\r\n"
    )
    return headers + body


@pytest.fixture
def probe(harness: Harness) -> Iterator[TopicProbe]:
    harness.claude.set_default({"kind": "tool_use", "input": tool_input("other", 0.5, "")})
    topic = TopicProbe()
    try:
        yield topic
    finally:
        topic.close()


class Outcomes:
    def __init__(self) -> None:
        self.accepted: dict[str, MailCase] = {}
        self.statuses: dict[int, int] = {}

    def record(self, status: int, answer: dict[str, Any], case: MailCase) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        SUMMARY.count("hostile_inputs")
        assert status < 500, f"webhook answered {status}: {answer}"
        if status == 200:
            case.email_id = str(answer["email_id"])
            self.accepted[case.email_id] = case


def _case(mime: bytes, route: str) -> MailCase:
    case = MailCase("plan", route, "", "", "", "", "", "", 0, 0, "")  # type: ignore[arg-type]
    case.mime = mime
    return case


def _check(harness: Harness, probe: TopicProbe, outcomes: Outcomes) -> None:
    assert harness.stack.servers["webhook"].alive(), "the webhook process died"
    published = {p.data.get("email_id") for p in probe.pull(len(outcomes.accepted), timeout=20)}
    assert published <= set(outcomes.accepted), "a refused request was published"
    cases = list(outcomes.accepted.values())
    harness.wait_for_reports(cases, timeout=240)
    reports = harness.report_rows(list(outcomes.accepted))
    assert len(reports) == len(outcomes.accepted)
    assert all(r["status"] in ("done", "failed") for r in reports)
    assert harness.stack.servers["processor"].alive(), "the processor died"
    SUMMARY.note(f"hostile webhook answers: {dict(sorted(outcomes.statuses.items()))}")


def test_hostile_mime_at_every_route(harness: Harness, probe: TopicProbe) -> None:
    outcomes = Outcomes()

    @settings(
        max_examples=sizes().fuzz_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(mime=hostile_mime(), route=st.sampled_from(MIME_ROUTES + PARSED_ROUTES))
    def post(mime: bytes, route: str) -> None:
        try:
            status, answer = harness.post_once(mime, route)
        except Exception as exc:  # the provider simulator itself cannot build this request
            if route in PARSED_ROUTES:
                return
            raise AssertionError(f"could not post to {route}: {exc!r}") from exc
        outcomes.record(status, answer, _case(mime, route))

    post()
    assert outcomes.statuses, "nothing was posted"
    _check(harness, probe, outcomes)


def test_ten_thousand_attachments_and_oversized_bodies(harness: Harness, probe: TopicProbe) -> None:
    outcomes = Outcomes()
    parts = b"".join(
        b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; "
        b'filename="a%d.txt"\r\n\r\nx\r\n' % i
        for i in range(10_000)
    )
    for route in MIME_ROUTES:
        many = (
            b"From: a@example.org\r\nTo: inbound@collections.example\r\nSubject: many\r\n"
            b"Message-ID: <many-%s@fuzz.example>\r\n"
            % route.encode()
            + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
            + parts
            + b"--b--\r\n"
        )
        status, answer = harness.post_once(many, route)
        outcomes.record(status, answer, _case(many, route))
        oversized = b"From: a@example.org\r\nSubject: big\r\n\r\n" + b"x" * (31 * 1024 * 1024)
        status, answer = harness.post_once(oversized, route)
        outcomes.record(status, answer, _case(oversized, route))
        assert status == 413, f"{route}: an oversized body got {status}"
    _check(harness, probe, outcomes)
