"""A letter nobody could read: which attachments are documents, which of them no reader saw,
and the hold a cover note for such a document gets."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from dataclasses import replace

import pytest

from shared.accounts import Action
from shared.accounts.mongo import validate_account
from shared.config import load_settings
from shared.extraction.email_parser import parse_email
from shared.extraction.models import ParsedEmail
from shared.extraction.prompt import build_request, documents_sent
from shared.processing.decision import (
    COVER_NOTE_MAX_WORDS,
    UNREAD_DOCUMENT,
    NotificationKind,
    Route,
    Thresholds,
    decide,
)
from shared.processing.matching import NO_MATCH, Candidate, Match
from shared.processing.notifications import compliance_alert
from tests.fixtures.pdfs import scanned_pdf, text_pdf
from tests.processing_fakes import account_document, extraction

THRESHOLDS = Thresholds(auto_update=0.9, notify=0.6)
ACCOUNT = validate_account(account_document())
BY_SENDER = Match("sender_email", 0.8, (Candidate(ACCOUNT, 0.8, "sender_email"),))


def mail(text: str, *parts: tuple[str, str, bytes, str]) -> bytes:
    """A multipart/mixed email: ``text``, then each (content type, filename, data, extra
    headers) part, base64-encoded."""
    chunks = [
        "From: Fleur <fleur@example.nl>\r\nSubject: brief\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    ]
    for content_type, filename, data, extra in parts:
        encoded = base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")
        chunks.append(
            f'--b\r\nContent-Type: {content_type}; name="{filename}"\r\n{extra}'
            f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n"
        )
    chunks.append("--b--\r\n")
    return "".join(chunks).encode()


ATTACHED = "Content-Disposition: attachment\r\n"
EMBEDDED = "Content-Disposition: inline\r\nContent-ID: <logo@x>\r\n"


def kb(n: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + bytes(range(256)) * (n * 4)


# --- which attachments are documents ---------------------------------------------------------


def test_a_scanned_pdf_is_an_unread_document_unless_the_model_read_it() -> None:
    email = parse_email(mail("Zie bijlage.", ("application/pdf", "scan.pdf", scanned_pdf(), "")))
    [pdf] = email.attachments
    assert (pdf.document, pdf.scanned, pdf.text) == (True, True, None)
    assert email.unread_documents(scans_read=0) == 1
    assert email.unread_documents(scans_read=1) == 0


def test_a_pdf_with_a_text_layer_was_read() -> None:
    pdf = text_pdf(["I dispute this debt and ask you to validate it."])
    email = parse_email(mail("See attached.", ("application/pdf", "letter.pdf", pdf, ATTACHED)))
    [attachment] = email.attachments
    assert attachment.document and attachment.text and not attachment.scanned
    assert email.unread_documents(scans_read=0) == 0


COURT_LETTER = "Notice of hearing in case CASE-2026-00123: the debtor has filed for bankruptcy."


def encrypted_pdf(*, user_password: str, algorithm: str = "RC4-128") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf([COURT_LETTER]))))
    writer.encrypt(user_password=user_password, owner_password="x", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_mail(pdf: bytes) -> bytes:
    return mail("See attached.", ("application/pdf", "notice.pdf", pdf, ATTACHED))


@pytest.mark.parametrize("algorithm", ["RC4-40", "RC4-128", "AES-128", "AES-256"])
def test_a_pdf_with_only_an_owner_password_is_read(algorithm: str) -> None:
    email = parse_email(pdf_mail(encrypted_pdf(user_password="", algorithm=algorithm)))
    [attachment] = email.attachments
    assert attachment.text is not None and "CASE-2026-00123" in attachment.text
    assert "pdf_encrypted" not in email.notes and "pdf_unreadable" not in email.notes
    assert email.unread_documents(scans_read=0) == 0


def test_a_pdf_that_needs_a_password_stays_an_unread_document() -> None:
    email = parse_email(pdf_mail(encrypted_pdf(user_password="secret", algorithm="AES-256")))
    [attachment] = email.attachments
    assert attachment.text is None and not attachment.scanned
    assert "pdf_encrypted" in email.notes
    assert email.unread_documents(scans_read=0) == 1


def _without_the_aes_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """pypdf as installed without ``cryptography``: its stand-in raises DependencyError on AES."""
    import pypdf._encryption
    from pypdf._crypt_providers import _fallback

    for name in ("CryptAES", "aes_cbc_decrypt", "aes_cbc_encrypt", "aes_ecb_decrypt",
                 "aes_ecb_encrypt"):  # fmt: skip
        monkeypatch.setattr(pypdf._encryption, name, getattr(_fallback, name))


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_an_aes_pdf_without_the_crypto_package_stays_unread_and_nothing_raises(
    algorithm: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pdf = encrypted_pdf(user_password="", algorithm=algorithm)
    _without_the_aes_package(monkeypatch)
    caplog.set_level("DEBUG")
    email = parse_email(pdf_mail(pdf))
    [attachment] = email.attachments
    assert attachment.text is None
    assert {"pdf_encrypted", "pdf_unreadable"} & set(email.notes)
    assert email.unread_documents(scans_read=0) == 1
    assert "CASE-2026-00123" not in _logged(caplog)


def test_a_failing_decrypt_keeps_the_pdf_unread_and_logs_no_content(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from pypdf import PdfReader

    def broken(self: PdfReader, password: str | bytes) -> object:
        raise ValueError(f"bad key for {COURT_LETTER}")  # an error quoting the document

    monkeypatch.setattr(PdfReader, "decrypt", broken)
    caplog.set_level("DEBUG")
    email = parse_email(pdf_mail(encrypted_pdf(user_password="")))
    assert email.attachments[0].text is None and "pdf_encrypted" in email.notes
    assert email.unread_documents(scans_read=0) == 1
    assert "CASE-2026-00123" not in _logged(caplog)


@pytest.mark.parametrize(
    ("content_type", "filename", "size_kb", "headers", "document"),
    [
        ("image/jpeg", "IMG_2041.jpeg", 300, ATTACHED, True),  # a photographed page
        ("image/jpeg", "IMG_2041.jpeg", 300, EMBEDDED, True),  # shown in the body, but a page
        ("image/png", "scan.png", 30, "", True),  # attached without Content-ID
        ("image/png", "logo.png", 12, EMBEDDED, False),  # a signature logo
        ("image/gif", "pixel.gif", 1, ATTACHED, False),  # a tracking pixel or an icon
        ("application/octet-stream", "page1.JPG", 90, ATTACHED, True),
        ("application/msword", "brief.doc", 40, ATTACHED, True),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "letter",
            40,
            ATTACHED,
            True,
        ),
        ("application/octet-stream", "Widerspruch.docx", 40, ATTACHED, True),
        ("text/calendar", "invite.ics", 3, ATTACHED, False),
        ("application/pgp-signature", "signature.asc", 3, ATTACHED, False),
        ("application/zip", "files.zip", 60, ATTACHED, False),
    ],
)
def test_what_counts_as_a_document(
    content_type: str, filename: str, size_kb: int, headers: str, document: bool
) -> None:
    email = parse_email(mail("Hi", (content_type, filename, kb(size_kb), headers)))
    [attachment] = email.attachments
    assert attachment.document is document
    assert email.unread_documents(scans_read=1) == int(document)


def png(width: int, height: int, size_kb: int) -> bytes:
    """A PNG whose header says ``width`` × ``height``, padded to ``size_kb``."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = (
        struct.pack(">I", len(ihdr))
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    )
    head = b"\x89PNG\r\n\x1a\n" + chunk
    return head + bytes(size_kb * 1024 - len(head))


def jpeg(width: int, height: int, size_kb: int) -> bytes:
    """A baseline JPEG whose frame header says ``width`` × ``height``, padded to ``size_kb``."""
    frame = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    head = b"\xff\xd8" + frame
    return head + bytes(size_kb * 1024 - len(head))


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="2480" height="3508">' + bytes(60_000)
GMAIL_ATTACHED = (
    "Content-Disposition: attachment\r\nContent-ID: <f_lx1>\r\nX-Attachment-Id: f_lx1\r\n"
)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, version: int, payload: bytes) -> bytes:
    return _box(kind, bytes([version, 0, 0, 0]) + payload)


def heic(width: int, height: int, *, item_extents: int = 0) -> bytes:
    """A HEIC whose image properties say ``width`` x ``height``; with ``item_extents``, an item
    location table of that many zero-sized extents (a header crafted to make a reader loop)."""
    locations = b""
    if item_extents:
        item = struct.pack(">HHHH", 1, 0, 0, item_extents)  # id, method, reference, extents
        locations = _full_box(b"iloc", 1, bytes([0, 0]) + struct.pack(">H", 1) + item)
    size = _full_box(b"ispe", 0, struct.pack(">II", width, height))
    association = _full_box(b"ipma", 0, struct.pack(">IHB", 1, 1, 1) + bytes([0x81]))
    properties = _box(b"iprp", _box(b"ipco", size) + association)
    primary = _full_box(b"pitm", 0, struct.pack(">H", 1))
    meta = _full_box(b"meta", 0, primary + locations + properties)
    return _box(b"ftyp", b"heic" + bytes(4) + b"mif1heic") + meta + _box(b"mdat", bytes(60_000))


@pytest.mark.parametrize(
    ("content_type", "filename", "data", "headers", "document"),
    [
        ("image/png", "banner.png", png(1400, 280, 150), EMBEDDED, False),  # signature banner
        ("image/png", "logo.png", png(400, 400, 120), EMBEDDED, False),  # a heavy logo
        ("image/jpeg", "IMG_0412.jpeg", jpeg(3024, 4032, 60), EMBEDDED, True),  # a page, inline
        ("image/png", "scan.png", png(1654, 2339, 40), EMBEDDED, True),  # A4 at 200 dpi
        ("image/png", "page.png", png(595, 842, 30), EMBEDDED, True),  # A4 rendered at 72 dpi
        ("image/jpeg", "IMG_0415.jpeg", jpeg(480, 640, 40), EMBEDDED, True),  # "medium" photo
        ("image/png", "Screenshot.png", png(1179, 2556, 300), EMBEDDED, True),  # phone screen
        ("image/jpeg", "IMG_0413.jpeg", jpeg(640, 480, 50), ATTACHED, True),  # attached photo
        ("image/jpeg", "IMG_0414.jpeg", jpeg(640, 480, 20), GMAIL_ATTACHED, True),
        ("image/png", "icon.png", png(200, 60, 10), ATTACHED, False),  # an attached icon
        ("image/png", "divider.png", png(2000, 2, 10), ATTACHED, False),  # a thin rule
        ("image/png", "fax.png", png(1700, 2200, 1), ATTACHED, True),  # a bilevel page, tiny
        ("image/gif", "pixel.gif", b"GIF89a\x01\x00\x01\x00" + bytes(3000), EMBEDDED, False),
        ("image/heic", "IMG_0416.HEIC", heic(4032, 3024), ATTACHED, True),
        ("image/svg+xml", "letterhead.svg", SVG, ATTACHED, False),  # drawn, not photographed
        ("application/octet-stream", "logo.svg", SVG, EMBEDDED, False),
        ("image/png", "letter.png", SVG, ATTACHED, False),  # an SVG, whatever its label says
    ],
)
def test_an_image_is_a_page_by_its_pixels_when_its_header_tells_them(
    content_type: str, filename: str, data: bytes, headers: str, document: bool
) -> None:
    email = parse_email(mail("Hi", (content_type, filename, data, headers)))
    [attachment] = email.attachments
    assert attachment.document is document


def test_a_heic_crafted_to_loop_is_read_without_its_item_locations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reading a HEIC's rotation walks its item locations, which a crafted table of zero-sized
    extents makes take seconds per kilobyte: the rotation is never asked for."""
    import imagesize

    asked: list[dict[str, object]] = []
    real = imagesize.get

    def get(stream: io.BytesIO, **options: object) -> tuple[int, int]:
        asked.append(options)
        return real(stream, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(imagesize, "get", get)
    crafted = heic(4032, 3024, item_extents=65_535)
    email = parse_email(mail("Hi", ("image/png", "logo.png", crafted, EMBEDDED)))
    assert asked == [{"exif_rotation": False}]
    assert email.attachments[0].document is True


# --- the hold ----------------------------------------------------------------------------------


def rules_other() -> object:
    return replace(extraction("other", intent_confidence=0.3), extractor="rules", degraded=False)


def scan_note(text: str = "Zie bijlage.\n\nVerzonden vanaf mijn iPhone") -> ParsedEmail:
    return parse_email(mail(text, ("application/pdf", "scan_20261109.pdf", scanned_pdf(), "")))


def test_a_cover_note_for_an_unread_scan_holds_the_account_and_alerts() -> None:
    decision = decide(rules_other(), BY_SENDER, THRESHOLDS, email=scan_note())  # type: ignore[arg-type]
    assert decision.decision == Route.UPDATE_AND_NOTIFY
    assert decision.action == Action.HOLD and decision.hold_reason == UNREAD_DOCUMENT
    assert decision.notification == NotificationKind.COMPLIANCE_ALERT
    assert UNREAD_DOCUMENT in decision.reasons


def test_the_same_scan_read_by_the_model_is_decided_on_what_the_model_found() -> None:
    read = replace(extraction("other", intent_confidence=0.9), documents_read=1)
    decision = decide(read, BY_SENDER, THRESHOLDS, email=scan_note())
    assert decision.action is None and decision.decision == Route.MANUAL_REVIEW
    assert UNREAD_DOCUMENT not in decision.reasons


def test_a_scan_the_model_was_not_given_still_holds() -> None:
    """Claude read the text, but the scan was over its document limits (``documents_read`` 0)."""
    decision = decide(
        extraction("other", intent_confidence=0.9), BY_SENDER, THRESHOLDS, email=scan_note()
    )
    assert decision.hold and decision.hold_reason == UNREAD_DOCUMENT


def test_the_request_counts_the_scans_it_hands_the_model() -> None:
    email = scan_note()
    request = build_request(email, load_settings({}))
    assert documents_sent(request) == 1
    assert (
        "<attachment>scan_20261109.pdf (scanned PDF)"
        in request["messages"][0]["content"][0]["text"]
    )
    none_allowed = load_settings({"CLAUDE_MAX_DOCUMENTS": "0"})
    assert documents_sent(build_request(email, none_allowed)) == 0


def test_an_image_the_model_never_sees_holds_whichever_extractor_read_the_text() -> None:
    photo = parse_email(mail("see attached", ("image/jpeg", "IMG_1.jpg", kb(200), ATTACHED)))
    decision = decide(
        extraction("other", intent_confidence=0.9), BY_SENDER, THRESHOLDS, email=photo
    )
    assert decision.hold and decision.hold_reason == UNREAD_DOCUMENT


def test_an_email_that_says_more_than_a_cover_note_goes_to_review_without_a_hold() -> None:
    words = " ".join(["word"] * (COVER_NOTE_MAX_WORDS + 1))
    decision = decide(rules_other(), BY_SENDER, THRESHOLDS, email=scan_note(words))  # type: ignore[arg-type]
    assert decision.action is None and decision.decision == Route.MANUAL_REVIEW
    assert decision.notification == NotificationKind.REVIEW_REQUEST


def test_a_recognised_intent_with_an_unread_document_is_decided_as_usual() -> None:
    promise = replace(
        extraction("payment_promise", intent_confidence=0.7), extractor="rules", degraded=False
    )
    decision = decide(promise, BY_SENDER, THRESHOLDS, email=scan_note())
    assert not decision.hold and UNREAD_DOCUMENT not in decision.reasons


def test_no_account_matched_alerts_without_holding() -> None:
    decision = decide(rules_other(), NO_MATCH, THRESHOLDS, email=scan_note())  # type: ignore[arg-type]
    assert decision.decision == Route.MANUAL_REVIEW and decision.action is None
    assert decision.notification == NotificationKind.COMPLIANCE_ALERT
    assert UNREAD_DOCUMENT in decision.reasons


def test_the_alert_says_the_document_was_not_read() -> None:
    email = scan_note()
    made = rules_other()
    decision = decide(made, BY_SENDER, THRESHOLDS, email=email)  # type: ignore[arg-type]
    message = compliance_alert(
        recipient="staff@collector.example",
        email_id="e1",
        correlation_id="c1",
        email=email,
        extraction=made,
        match=BY_SENDER,
        decision=decision,
        actions=[],
    )
    assert "a document nothing could read" in message.body
    assert "put on hold until a person reads it" in message.body


def test_a_short_thank_you_with_a_large_signature_banner_is_not_held() -> None:
    thanks = parse_email(
        mail(
            "Thanks, received.\n\nJan de Vries\nAccounts payable",
            ("image/png", "image001.png", png(1400, 280, 150), EMBEDDED),
        )
    )
    assert thanks.unread_documents(scans_read=0) == 0
    decision = decide(rules_other(), BY_SENDER, THRESHOLDS, email=thanks)  # type: ignore[arg-type]
    assert not decision.hold and UNREAD_DOCUMENT not in decision.reasons


def test_the_pixels_are_looked_for_in_the_header_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A crafted file of endless tiny JPEG segments is searched no further than its first
    128 KiB; its pixels unknown, the size rule decides (embedded, 3 MB: a page)."""
    import imagesize

    searched: list[int] = []
    real = imagesize.get

    def get(stream: io.BytesIO, **options: object) -> tuple[int, int]:
        searched.append(len(stream.getbuffer()))
        return real(stream, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(imagesize, "get", get)
    crafted = b"\xff\xd8" + b"\xff\xe1\x00\x02" * 800_000
    email = parse_email(mail("Hi", ("image/jpeg", "x.jpg", crafted, EMBEDDED)))
    [attachment] = email.attachments
    assert searched == [128 * 1024]
    assert attachment.document is True


def test_a_machine_sent_scan_is_not_set_aside_as_automated() -> None:
    # fax-to-email gateways and office scanners mark their mail auto-generated
    raw = b"Auto-Submitted: auto-generated\r\n" + mail(
        "Fax received: 2 pages.", ("image/tiff", "fax_0001.tif", kb(300), ATTACHED)
    )
    fax = parse_email(raw)
    assert fax.automated == "auto_generated" and fax.unread_documents(scans_read=0) == 1
    decision = decide(rules_other(), BY_SENDER, THRESHOLDS, email=fax)  # type: ignore[arg-type]
    assert decision.decision != Route.AUTOMATED
    assert decision.hold and decision.hold_reason == UNREAD_DOCUMENT
