"""Property tests of the MIME rebuild: any headers, bodies and attachments a signed provider
request can carry become a deterministic message that parses back (never an exception, so a
genuine but odd email is never answered with a 500)."""

from __future__ import annotations

import base64
import email
from email import policy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.intake.errors import MalformedPayload
from shared.intake.rebuild import Attachment, build_mime, check_original

header_names = st.one_of(
    st.sampled_from(
        [
            "From",
            "To",
            "Cc",
            "Reply-To",
            "Subject",
            "Date",
            "Message-ID",
            "References",
            "In-Reply-To",
            "Received",
            "DKIM-Signature",
            "X-Spam-Status",
            "Content-Type",
            "Sender",
            "Resent-From",
            "Comments",
        ]
    ),
    st.text(min_size=1, max_size=20),
)
header_values = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "=?utf-8?q?J=C3=BCrgen?= <j@example.de>",
            "=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <y@example.jp>",
            '"unterminated <a@b',
            "<<<@>>>",
            "a@b, , ,c@d",
            "=?x-unknown?q?abc?=",
            "=?utf-8?b?invalid base64?=",
            "x" * 300,
            "ü" * 120,
            "Group: a@b, c@d;",
            "(comment) <id@host> (more)",
        ]
    ),
)
attachments = st.builds(
    Attachment,
    filename=st.none() | st.text(max_size=60),
    content_type=st.one_of(
        st.sampled_from(["application/pdf", "message/rfc822", "text/plain", "image/png"]),
        st.text(max_size=30),
    ),
    data=st.binary(max_size=300),
    content_id=st.none() | st.text(max_size=30),
)


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    headers=st.lists(st.tuples(header_names, header_values), max_size=10),
    text=st.none() | st.text(max_size=300),
    html=st.none() | st.text(max_size=300),
    files=st.lists(attachments, max_size=3),
)
def test_rebuild_never_fails_and_is_deterministic(
    headers: list[tuple[str, str]], text: str | None, html: str | None, files: list[Attachment]
) -> None:
    first = build_mime(headers, text=text, html=html, attachments=files)
    again = build_mime(headers, text=text, html=html, attachments=files)
    assert first.mime == again.mime
    assert first.attachment_count == len(files)
    parsed = email.message_from_bytes(first.mime, policy=policy.default)
    assert len(list(parsed.iter_attachments())) == len(files)
    for name, _ in headers:
        assert "\n" not in name or parsed.get(name) is None


@settings(max_examples=300, deadline=None, database=None)
@given(raw=st.binary(max_size=600))
def test_checking_an_original_either_accepts_or_names_the_problem(raw: bytes) -> None:
    try:
        checked = check_original(raw, what="body")
    except MalformedPayload as problem:
        assert "body" in problem.message
    else:
        assert checked.mime == raw


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.one_of(
        st.binary(max_size=2_000),
        # around the 256-line blocks _base64_lines cuts at once (57 × 256 input bytes)
        st.integers(min_value=57 * 256 - 120, max_value=57 * 768 + 120).map(bytes),
        st.integers(min_value=0, max_value=600_000).map(lambda n: b"\xa5" * n),
    )
)
def test_attachment_base64_is_encodebytes_in_crlf_lines(data: bytes) -> None:
    """The fast base64 writer gives exactly ``base64.encodebytes``'s lines (76 characters, the
    last one shorter), each ending CRLF: the same bytes as the generator it replaced."""
    from shared.intake.rebuild import _base64_lines

    encoded = b"".join(_base64_lines(data))
    assert encoded == base64.encodebytes(data).replace(b"\n", b"\r\n")
    lines = encoded.split(b"\r\n")
    assert lines[-1] == b""
    assert all(len(line) == 76 for line in lines[:-2])
    assert base64.b64decode(encoded) == data
