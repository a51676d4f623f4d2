"""The console's reading of a stored email on hostile MIME: whatever the sender wrote in any
part's headers (an attached message's included, which the webhook never checks), listing and
serving attachments never raises, and a message nested too deep is the one documented error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.console import email_view
from shared.extraction.email_parser import MimeNestedTooDeep
from shared.mime_depth import MAX_MIME_DEPTH, MAX_MIME_PARTS
from tests.console_support import in_attached_message
from tests.intake_payloads.hostile import nested

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"

# Part headers the stdlib fails on when asked for a disposition or a name: an IndexError in its
# parameter decoding, a RecursionError per nested comment.
BROKEN_PART_HEADERS = {
    "filename-star-index-error": b"Content-Disposition: attachment; filename*0*",
    "filename-comment-recursion": b"Content-Disposition: attachment; filename=a.pdf " + b"(" * 900,
    "filename-comment-recursion-3000": b"Content-Disposition: attachment; filename=a.pdf "
    + b"(" * 3000,
}


def at_top_level(part_headers: bytes, body: bytes = b"data") -> bytes:
    return (
        b"From: a@sender.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nI dispute this debt.\r\n--b\r\n"
        + part_headers
        + b"\r\n\r\n"
        + body
        + b"\r\n--b--\r\n"
    )


@pytest.mark.parametrize("wrap", [in_attached_message, at_top_level])
@pytest.mark.parametrize("part_headers", BROKEN_PART_HEADERS.values(), ids=BROKEN_PART_HEADERS)
def test_a_part_with_unreadable_headers_is_listed_under_a_made_up_name(
    wrap: Callable[[bytes], bytes], part_headers: bytes
) -> None:
    raw = wrap(part_headers)
    assert "I dispute this debt" in email_view.parse(raw).text
    listed = email_view.attachments(raw)
    assert [(a.index, a.filename, a.inline) for a in listed] == [(0, "attachment-0", False)]
    assert listed[0].content_type == email_view.DOWNLOAD_TYPE
    found = email_view.attachment_bytes(raw, 0)
    assert found is not None and found == (listed[0], b"data")
    assert email_view.attachment_bytes(raw, 1) is None


@pytest.mark.parametrize(
    "raw",
    [
        nested(MAX_MIME_DEPTH + 10, "deep"),
        # the stdlib's parser runs out of recursion on this Content-Type while it parses
        in_attached_message(b"Content-Type: application/pdf; name=a.pdf " + b"(" * 900),
        b"Subject: wide\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + b"--b\r\n\r\n" * MAX_MIME_PARTS
        + b"--b--\r\n",
    ],
    ids=["nested-too-deep", "recursion-while-parsing", "too-many-parts"],
)
def test_a_message_nested_too_deep_is_the_one_documented_error(raw: bytes) -> None:
    for read in (
        email_view.parse,
        email_view.attachments,
        lambda raw: email_view.attachment_bytes(raw, 0),
    ):
        with pytest.raises(MimeNestedTooDeep):
            read(raw)


def test_an_unparseable_message_lists_no_attachments() -> None:
    # the stdlib's parser itself fails on this Content-Type (an IndexError): the processor
    # reads nothing of the message either
    raw = in_attached_message(b"Content-Type: application/pdf; name*0*")
    assert email_view.parse(raw).notes == ("mime_unparseable",)
    assert email_view.attachments(raw) == []
    assert email_view.attachment_bytes(raw, 0) is None
    assert email_view.attachments(b"") == []


def _read_everything(raw: bytes) -> None:
    """Everything the item page and the download read; only the documented error escapes."""
    try:
        email_view.parse(raw)
        listed = email_view.attachments(raw)
        for attachment in listed:
            found = email_view.attachment_bytes(raw, attachment.index)
            assert found is not None and found[0] == attachment
    except MimeNestedTooDeep:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    _read_everything(raw)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(p.name for p in EMAILS.glob("*.eml"))),
    st.integers(min_value=0, max_value=10_000),
    st.binary(min_size=1, max_size=40),
)
def test_corrupted_samples_never_raise(name: str, position: int, junk: bytes) -> None:
    raw = (EMAILS / name).read_bytes()
    position %= len(raw)
    _read_everything(raw[:position] + junk + raw[position + len(junk) :])


_HEADER_NAMES = ["Content-Type", "Content-Disposition", "Content-Transfer-Encoding"]
_HEADER_VALUES = [
    "attachment; filename*0*",
    "attachment; filename*=''",
    "attachment; filename*0*=utf-8''a; filename*1*=%ff",
    "application/pdf; name*0*",
    "application/pdf; name=a.pdf " + "(" * 900,
    "attachment; filename=a.pdf " + "(" * 900,
    'attachment; filename="' + "\\" * 300,
    "=?utf-8?b?invalid base64?=",
    "base64",
    "x-uuencode",
    "multipart/mixed",
    "message/rfc822",
    "; ; ;",
]


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    headers=st.lists(
        st.tuples(
            st.sampled_from(_HEADER_NAMES),
            st.one_of(st.sampled_from(_HEADER_VALUES), st.text(max_size=80)),
        ),
        max_size=4,
    ),
    body=st.binary(max_size=200),
    attached=st.booleans(),
)
def test_any_part_headers_never_raise(
    headers: list[tuple[str, str]], body: bytes, attached: bool
) -> None:
    part_headers = b"\r\n".join(
        f"{name}: {value}".encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b"")
        for name, value in headers
    )
    wrap = in_attached_message if attached else at_top_level
    _read_everything(wrap(part_headers, body))


def test_ordinary_attachments_keep_their_names_and_types() -> None:
    raw = (EMAILS / "pdf_attachment_remittance.eml").read_bytes()
    listed = email_view.attachments(raw)
    assert listed and listed[0].content_type == "application/pdf" and listed[0].inline
    assert listed[0].filename.endswith(".pdf") and listed[0].size > 0
