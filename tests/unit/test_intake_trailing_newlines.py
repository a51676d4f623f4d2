"""A trailing newline never passes a ``^…$`` check: ``$`` also matches before a final "\\n",
so every validation pattern of the intake is applied with ``fullmatch``. Found by
``test_intake_mime_properties`` (a header named "0\\n" cut the rebuilt message's header block)."""

from __future__ import annotations

import email
from email import policy

import pytest

from shared.intake.auth import check_timestamp
from shared.intake.canonical import normalise_message_id
from shared.intake.errors import Unauthenticated
from shared.intake.rebuild import Attachment, build_mime


def test_a_header_name_ending_in_a_newline_is_dropped_and_the_message_stays_whole() -> None:
    rebuilt = build_mime(
        [("From", "a@example.com"), ("X-Bad\n", "v"), ("Subject", "kept")],
        text="body",
        html=None,
        attachments=[Attachment(None, "application/pdf", b"%PDF-1.4", None)],
    )
    parsed = email.message_from_bytes(rebuilt.mime, policy=policy.default)
    assert rebuilt.dropped_headers == 1
    assert parsed["Subject"] == "kept"
    assert len(list(parsed.iter_attachments())) == 1
    assert not parsed.defects


def test_a_filename_ending_in_a_newline_cannot_break_its_part_headers() -> None:
    rebuilt = build_mime(
        [("From", "a@example.com")],
        text="body",
        html=None,
        attachments=[Attachment("report.pdf\n", "application/pdf", b"%PDF-1.4", None)],
    )
    assert b'filename="report.pdf\n' not in rebuilt.mime
    parsed = email.message_from_bytes(rebuilt.mime, policy=policy.default)
    (part,) = parsed.iter_attachments()
    assert part.get_filename() == "report.pdf"
    assert part.get_content() == b"%PDF-1.4"


def test_a_timestamp_with_a_trailing_newline_is_malformed() -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        check_timestamp("1700000000\n", now=1700000000.0, tolerance_seconds=300)


def test_a_message_id_part_with_a_newline_is_not_an_id() -> None:
    assert normalise_message_id("<abc@example.com>") == "<abc@example.com>"
    assert normalise_message_id("abc\n@example.com") is None
