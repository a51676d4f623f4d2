"""parse_email on the sample corpus and on hostile input."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.extraction.email_parser import MimeLimits, decode_bytes, parse_email
from shared.extraction.html_text import html_to_text
from shared.extraction.models import ParsedEmail
from shared.extraction.quotes import split_quoted
from tests.fixtures.pdfs import flate_bomb_pdf, scanned_pdf, text_pdf

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"


def load(name: str) -> ParsedEmail:
    return parse_email((EMAILS / name).read_bytes())


def with_pdf(pdf: bytes, filename: str = "doc.pdf", text: str = "See attached.") -> bytes:
    encoded = base64.encodebytes(pdf).decode("ascii")
    return (
        "From: A <a@example.com>\nSubject: pdf\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n'
        f"--b\nContent-Type: text/plain\n\n{text}\n"
        "--b\nContent-Type: application/pdf\n"
        f'Content-Disposition: attachment; filename="{filename}"\n'
        f"Content-Transfer-Encoding: base64\n\n{encoded}\n--b--\n"
    ).encode()


# --- the corpus -------------------------------------------------------------------


def test_every_sample_parses_with_a_sender_and_some_text() -> None:
    names = sorted(p.name for p in EMAILS.glob("*.eml"))
    assert len(names) >= 20
    for name in names:
        email = load(name)
        assert email.text or email.quoted_text or email.attachments, name
        if name != "broken_mime_missing_boundary.eml":
            assert "@" in email.sender and email.sender == email.sender.lower(), name
            assert email.date is not None and email.message_id, name


def test_plain_headers_and_body() -> None:
    email = load("payment_confirmation_plain.eml")
    assert email.message_id == "<pc-plain-0001@mail.example.com>"
    assert email.subject == "Payment made - CASE-2026-00123"
    assert (email.sender, email.sender_name) == ("maria.keller@example.com", "Maria Keller")
    assert email.date is not None and email.date.isoformat() == "2026-11-16T09:12:44+01:00"
    assert "EUR 450.00 on 2026-11-14" in email.text
    assert email.quoted_text == "" and email.signals == () and email.attachments == ()


def test_html_only_drops_hidden_text_and_scripts_and_flags_it() -> None:
    email = load("html_only_hidden_injection.eml")
    assert "I will pay £120.00 on 2026-12-10 towards account ACC-100845." in email.text
    for hidden in ("Ignore previous", "assistant:", "Disregard", "close the account", "var a"):
        assert hidden not in email.searchable_text()
    assert ".x{color" not in email.text
    assert {"hidden_html", "injection_in_hidden_text"} <= set(email.signals)
    assert "html_only" in email.notes


def test_html_reply_quote_is_separated() -> None:
    email = load("html_reply_gmail_quote_de.eml")
    assert email.text.endswith("ab dem 01.01.2027.\n\nStefan Braun")
    assert email.quoted_text.startswith("Am Mo., 23. Nov. 2026 um 09:00 Uhr schrieb")
    assert "> die Forderung von 1.800,00 EUR" in email.quoted_text


def test_multipart_alternative_prefers_the_plain_part() -> None:
    email = load("payment_plan_request.eml")
    assert "£200.00 per month, starting on 2027-01-01" in email.text
    assert "<p>" not in email.text and email.text.count("£2,400.00") == 1


def test_iso_8859_1_body_and_encoded_words_decode() -> None:
    email = load("latin1_payment_confirmation_de.eml")
    assert email.subject == "Zahlungsbestätigung CASE-2026-00345"
    assert email.sender_name == "Jürgen Müller"
    assert "1.234,56 EUR für das Aktenzeichen" in email.text and "Grüßen" in email.text


def test_iso_2022_jp_decodes() -> None:
    email = load("iso2022jp_payment_promise.eml")
    assert email.sender_name == "山田太郎"
    assert email.subject == "お支払いのご連絡 CASE-2026-00567"
    assert "12月10日に 50,000 JPY をお支払いします" in email.text


def test_windows_1252_euro_sign_decodes() -> None:
    email = load("windows1252_settlement_offer_fr.eml")
    assert "règlement forfaitaire de 800,00 €" in email.text
    assert email.subject == "Proposition de règlement – CASE-2026-00678"


def test_iso_8859_1_label_is_read_as_windows_1252() -> None:
    assert decode_bytes(b"\x80 100", "iso-8859-1") == "€ 100"
    assert decode_bytes("déjà".encode(), "no-such-charset") == "déjà"
    assert decode_bytes(b"caf\xe9", "no-such-charset") == "café"


def _undeclared(content_type: str, body: bytes) -> bytes:
    return (
        b"From: Jo <jo@example.org>\r\nTo: in@example.com\r\nSubject: Zahlung\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: " + content_type.encode() + b"\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    )


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        # 8-bit text that names no charset: Windows-1252 when it is not UTF-8 ...
        ("text/plain", "Herr Müller zahlt 250 €.".encode("cp1252"), "Herr Müller zahlt 250 €."),
        # ... and UTF-8 when it is
        ("text/plain", "Herr Müller zahlt 250 €.".encode(), "Herr Müller zahlt 250 €."),
        # HTML that names its charset only in the page, as browsers read it
        (
            "text/html",
            b'<html><head><meta http-equiv="Content-Type" content="text/html; '
            b'charset=iso-8859-15"></head><body><p>Ich zahle 250 \xa4 am Freitag.</p></body>',
            "Ich zahle 250 € am Freitag.",
        ),
        (
            "text/html",
            b"<html><head><meta charset='utf-8'></head><body>Gr\xc3\xbc\xc3\x9fe</body>",
            "Grüße",
        ),
    ],
)
def test_text_without_a_declared_charset_is_read_as_mail_clients_read_it(
    content_type: str, body: bytes, expected: str
) -> None:
    email = parse_email(_undeclared(content_type, body))
    assert expected in email.text
    assert "\ufffd" not in email.text


def test_without_a_declared_charset_the_usual_fallbacks_apply() -> None:
    assert decode_bytes("déjà".encode(), None) == "déjà"
    assert decode_bytes(b"caf\xe9 \x80", None) == "café €"
    utf8 = "Herr Müller zahlt 250 € für Grüße".encode()
    # cut inside its last character (a part truncated to its limit): still UTF-8
    assert decode_bytes(utf8[: utf8.index("€".encode()) + 1], None) == "Herr Müller zahlt 250 "
    # one stray byte among UTF-8 text: that byte read as Windows-1252, the rest stays UTF-8
    stray = utf8.replace(b" f", b" \x80f")
    assert decode_bytes(stray, None) == "Herr Müller zahlt 250 € €für Grüße"


@pytest.mark.parametrize(
    ("transfer", "body"),
    [
        ("8bit", "Ich habe 120 € für AZ-2024-001 überwiesen.".encode("cp1252")),
        ("quoted-printable", b"Ich habe 120 =80 f=FCr AZ-2024-001 =FCberwiesen."),
    ],
    ids=["8bit", "quoted-printable"],
)
def test_a_body_labelled_utf_8_but_typed_in_latin_1_is_read_in_latin_1(
    transfer: str, body: bytes
) -> None:
    # a web form's or a script's default label on text typed in Windows-1252
    raw = _undeclared("text/plain; charset=utf-8", body).replace(b"8bit", transfer.encode())
    email = parse_email(raw)
    assert "Ich habe 120 € für AZ-2024-001 überwiesen." in email.text


def test_utf_8_declared_keeps_utf_8_with_a_stray_byte() -> None:
    utf8 = "Herr Müller zahlt 250 € für Grüße".encode()
    assert decode_bytes(utf8, "UTF-8") == "Herr Müller zahlt 250 € für Grüße"
    stray = utf8.replace(b" f", b" \x80f")
    assert decode_bytes(stray, "utf-8") == "Herr Müller zahlt 250 € €für Grüße"
    # as many Latin-1 bytes as UTF-8 letters (a gateway's footer): each read as what it is
    mixed = "Mon père est décédé.\n".encode() + "Message vérifié, société".encode("latin-1")
    assert decode_bytes(mixed, "utf-8") == "Mon père est décédé.\nMessage vérifié, société"
    assert decode_bytes(mixed, None) == "Mon père est décédé.\nMessage vérifié, société"


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        # a page found by reading ASCII is no UTF-16 page: UTF-8, as browsers take it
        (b'<meta charset="utf-16">', "Zahlung für AB-12345"),
        (b'<meta charset="UTF-16LE">', "Zahlung für AB-12345"),
        # UTF-7 is not supported: the bytes decide (UTF-8 here)
        (b'<meta charset="utf-7">', "Zahlung für AB-12345"),
    ],
)
def test_a_meta_charset_a_browser_would_not_use_is_not_used(meta: bytes, expected: str) -> None:
    body = b"<html><head>" + meta + b"</head><body>" + "Zahlung für AB-12345".encode() + b"</body>"
    email = parse_email(_undeclared("text/html", body))
    assert expected in email.text


@pytest.mark.parametrize("charset", ["cp1252", "utf-8"])
def test_headers_written_in_raw_8_bit_are_read_in_their_charset(charset: str) -> None:
    """Headers with raw 8-bit bytes instead of encoded words: UTF-8 when they are, else
    Windows-1252 (before: replacement characters in the subject and the sender's name)."""
    raw = (
        b"From: " + "Jürgen Müller".encode(charset) + b" <j@example.org>\r\n"
        b"To: in@example.com\r\nSubject: " + "Zahlung für 250 €".encode(charset) + b"\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhallo\r\n"
    )
    email = parse_email(raw)
    assert email.subject == "Zahlung für 250 €"
    assert (email.sender_name, email.sender) == ("Jürgen Müller", "j@example.org")


def test_a_raw_utf_8_header_with_a_stray_or_cut_byte_stays_utf_8() -> None:
    raw = (
        b"From: j@example.org\r\nSubject: M\xc3\xbcller Zahlung 250 \xe2\x82\xac \xfc\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhallo\r\n"
    )
    assert parse_email(raw).subject == "Müller Zahlung 250 € ü"  # the stray byte as cp1252
    cut = raw.replace(b" \xfc\r\n", b" M\xc3\r\n")
    assert parse_email(cut).subject == "Müller Zahlung 250 € M"


def test_reply_keeps_quoted_history_apart() -> None:
    email = load("reply_with_quoted_history.eml")
    assert email.text == "Done, the transfer went out this morning as agreed.\n\nAhmed"
    assert "you will pay EUR 780.00 on" in email.quoted_text
    assert "2026-11-27 to settle case CASE-2026-00234" in email.quoted_text
    assert email.quoted_text.startswith("On Mon, 23 Nov 2026")


def test_outlook_original_message_is_quoted() -> None:
    email = load("outlook_reply_original_message.eml")
    assert "already paid" in email.text and "EUR 310.00" not in email.text
    assert email.quoted_text.startswith("-----Original Message-----")
    assert "Transfer of EUR 310.00 executed on 20.11.2026" in email.quoted_text


def test_inline_forward_is_quoted() -> None:
    email = load("forwarded_message_inline.eml")
    assert email.text == "FYI - our customer says he paid you directly. Please check."
    assert "I paid GBP 640.00 to the collection agency on 2026-11-25." in email.quoted_text


def test_attached_message_is_read_into_quoted_text() -> None:
    email = load("forwarded_message_attached_rfc822.eml")
    assert email.text == "Forwarding the debtor's message below for your file."
    assert "Forwarded message" in email.quoted_text
    assert "Subject: Please stop writing to me" in email.quoted_text
    assert "I do not owe EUR 95.40." in email.quoted_text


def test_pdf_attachment_text_is_extracted() -> None:
    email = load("pdf_attachment_remittance.eml")
    [attachment] = email.attachments
    assert attachment.filename == "remittance-advice.pdf"
    assert attachment.content_type == "application/pdf" and attachment.size > 500
    assert attachment.text is not None and "Amount paid: EUR 2,050.00" in attachment.text
    assert "ACC-101178" in email.searchable_text() and email.scanned_pdfs == ()


def test_scanned_pdf_is_kept_for_the_model() -> None:
    email = load("scanned_pdf_attachment.eml")
    [attachment] = email.attachments
    assert attachment.text is None
    [pdf] = email.scanned_pdfs
    assert pdf.startswith(b"%PDF-") and len(pdf) == attachment.size


def test_zero_width_bidi_and_tag_characters_are_removed_and_flagged() -> None:
    email = load("zero_width_injection.eml")
    assert "\u200b" not in email.text and "\u202e" not in email.text
    assert not any(0xE0000 <= ord(c) <= 0xE007F for c in email.text)
    assert "ignore previous instructions" in email.text  # now visible to every check
    assert {"zero_width_chars", "bidi_control_chars", "unicode_tag_chars"} <= set(email.signals)


def test_broken_mime_yields_what_could_be_read() -> None:
    email = load("broken_mime_missing_boundary.eml")
    assert "ACC-100999" in email.text
    assert "mime_defects" in email.notes and "pdf_unreadable" in email.notes
    assert [a.filename for a in email.attachments] == ["truncated.pdf"]


# --- HTML ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "html",
    [
        '<div style="display: none !important">SECRET</div>',
        '<span style="visibility:hidden">SECRET</span>',
        '<p style="font-size:0">SECRET</p>',
        '<p style="font-size: 0px; line-height:0">SECRET</p>',
        '<p style="opacity:0">SECRET</p>',
        '<div style="max-height:0;overflow:hidden">SECRET</div>',
        "<p hidden>SECRET</p>",
        '<p style="color:#FFF">SECRET</p>',
        '<td bgcolor="#000000"><font color="black">SECRET</font></td>',
        '<div style="background:#123456"><span style="color:rgb(18, 52, 86)">SECRET</span></div>',
        "<script>SECRET</script>",
        "<style>SECRET</style>",
        "<template>SECRET</template>",
        # what a descendant cannot undo: opacity and display apply to the whole group, and a
        # size relative to a zero size is zero
        '<div style="opacity:0"><p style="opacity:1">SECRET</p></div>',
        '<div style="display:none"><p style="display:block">SECRET</p></div>',
        '<div style="font-size:0"><span style="font-size:1.2em">SECRET</span></div>',
        '<div style="visibility:hidden"><span style="font-size:14px">SECRET</span></div>',
        # colour equal to a known background, whatever the stylesheet paints elsewhere
        '<style>p{color:red}</style><p style="color:#ffffff">SECRET</p>',
        '<style>.x{background:#036}</style><div style="background:#fff">'
        '<p style="color:#fff">SECRET</p></div>',
        '<div style="background:#000">'
        '<p style="background:transparent;color:#000">SECRET</p></div>',
    ],
)
def test_hidden_html_is_dropped(html: str) -> None:
    result = html_to_text(f"<p>visible</p>{html}<p>after</p>")
    assert "SECRET" not in result.text
    assert "visible" in result.text and "after" in result.text


def test_white_text_on_dark_background_stays() -> None:
    result = html_to_text(
        '<td style="background-color:#003366"><p style="color:#fff">KEPT</p></td>'
    )
    assert "KEPT" in result.text and not result.hidden_found


@pytest.mark.parametrize(
    "html",
    [
        # an email template's zero-size wrapper (no gaps between inline blocks) around sized text
        '<div style="font-size:0"><div style="font-size:14px">KEPT</div></div>',
        '<table style="font-size:0px"><tr><td style="font-size:medium">KEPT</td></tr></table>',
        '<div style="font-size:0"><p style="font-size:1rem !important">KEPT</p></div>',
        '<td style="font-size:0"><font size="2">KEPT</font></td>',
        '<div style="visibility:hidden"><p style="visibility:visible">KEPT</p></div>',
        # white text on a background painted by a class, which inline styles do not show
        "<html><head><style>.banner{background-color:#003366}</style></head><body>"
        '<table><tr><td class="banner"><p style="color:#ffffff">KEPT</p></td></tr></table>',
        '<style>.dark{background:#036}</style><body style="background:#fff">'
        '<div class="dark"><span style="color:#fff">KEPT</span></div></body>',
        '<link rel="stylesheet" href="x.css"><td class="dark"><font color="white">KEPT</font></td>',
        # a background image is no colour to compare with
        '<div style="background:url(header.png) #ffffff"><p style="color:#fff">KEPT</p></div>',
    ],
)
def test_text_a_reader_sees_stays(html: str) -> None:
    result = html_to_text(f"<p>before</p>{html}<p>after</p>")
    assert "KEPT" in result.text and "KEPT" not in result.hidden_text
    assert "before" in result.text and "after" in result.text


def test_a_dispute_in_a_zero_size_template_wrapper_reaches_the_text() -> None:
    html = (
        '<div style="font-size:0"><div style="font-size:14px">I dispute this debt. '
        "Stop contacting me.</div></div>"
    )
    raw = (
        "From: d@example.org\r\nTo: c@example.com\r\nSubject: Case 4411\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n" + html
    )
    email = parse_email(raw.encode())
    assert email.text == "I dispute this debt. Stop contacting me."
    assert "hidden_html" not in email.signals


def test_html_structure_becomes_lines_and_blockquote_is_quoted() -> None:
    result = html_to_text(
        "<p>Hi</p><p>I paid &euro;10<br>today</p><blockquote>old <b>text</b></blockquote>"
        "<table><tr><td>a</td><td>b</td></tr></table>"
    )
    lines = [line for line in result.text.splitlines() if line]
    assert lines == ["Hi", "I paid €10", "today", "> old text", "a b"]
    assert "\n\n\n" not in result.text
    assert not result.hidden_found


@pytest.mark.parametrize(
    ("blockquote", "quoted"),
    [
        ('<blockquote style="margin:0 0 0 40px;border:none;padding:0px">', False),  # "indent"
        ('<blockquote style="margin: 0 0 0 40px; border: none; padding: 0px;">', False),
        ('<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid">',
         True),
        ('<blockquote type="cite" style="border:none">', True),  # Apple Mail's quote
        ("<blockquote>", True),
    ],
)  # fmt: skip
def test_a_blockquote_without_a_border_is_the_writers_indent(blockquote: str, quoted: bool) -> None:
    result = html_to_text(f"<div>Hello</div>{blockquote}<div>I have paid EUR 450.00.</div>")
    line = next(x for x in result.text.splitlines() if "450" in x)
    assert line.startswith(">") is quoted


def test_unclosed_paragraph_does_not_hide_what_follows() -> None:
    result = html_to_text('<p style="display:none">x<p>shown')
    assert result.text == "shown" and result.hidden_found


# --- quotes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "new", "quoted_start"),
    [
        ("ok\n\nOn Tue, 1 Jan 2026, Bob <b@x> wrote:\n> hi", "ok", "On Tue"),
        ("ok\nAm 01.01.2026 um 10:00 schrieb Bob <b@x>:\n> hallo", "ok", "Am 01"),
        ("ok\nLe 1 janv. 2026, Bob a écrit :\n> salut", "ok", "Le 1"),
        ("ok\n-----Original Message-----\nFrom: x", "ok", "-----Original"),
        ("ok\nBegin forwarded message:\nFrom: x", "ok", "Begin forwarded"),
        ("ok\n________________\nFrom: Bob\nSent: Monday\nTo: me\nSubject: s\nbody", "ok", "____"),
        ("> top quote\nanswer", "answer", "> top quote"),
    ],
)
def test_split_quoted(text: str, new: str, quoted_start: str) -> None:
    got_new, got_quoted = split_quoted(text)
    assert got_new == new and got_quoted.startswith(quoted_start)


def test_text_without_quotes_is_all_new() -> None:
    assert split_quoted("From: me\nhello") == ("From: me\nhello", "")


# How each language's mail clients introduce the earlier message: the Outlook header block
# (desktop and Mac/web labels), the Gmail / Apple Mail / Thunderbird attribution line, the
# separator lines and Apple Mail's forward line.
HEADERS_BY_LANGUAGE = {
    "en": [
        "From: Ann <a@x.com>\nSent: Monday, June 1, 2026 10:00 AM\nTo: c@x.com\nSubject: pay",
        "From: Ann <a@x.com>\nDate: Monday, June 1, 2026 at 10:00\nTo: c@x.com\nSubject: pay",
        "On Mon, Jun 1, 2026 at 10:00 AM Ann <a@x.com> wrote:",
        "-----Original Message-----",
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
    ],
    "de": [
        "Von: Anna <a@x.de>\nGesendet: Montag, 1. Juni 2026 10:00\nAn: i@x.de\nBetreff: Zahlung",
        "Von: Anna <a@x.de>\nDatum: Montag, 1. Juni 2026 um 10:00\nAn: i@x.de\nBetreff: Zahlung",
        "Am Mo., 1. Juni 2026 um 10:00 Uhr schrieb Anna <a@x.de>:",
        "-----Ursprüngliche Nachricht-----",
        "---------- Weitergeleitete Nachricht ---------",
        "Anfang der weitergeleiteten Nachricht:",
    ],
    "fr": [
        "De : Anne <a@x.fr>\nEnvoyé : lundi 1 juin 2026 10:00\nÀ : r@x.fr\nObjet : paiement",
        "De : Anne <a@x.fr>\nDate : lundi 1 juin 2026 à 10:00\nÀ : r@x.fr\nObjet : paiement",
        "Le lun. 1 juin 2026 à 10:00, Anne <a@x.fr> a écrit :",
        "-----Message d'origine-----",
        "---------- Message transféré ---------",
        "Début du message réexpédié :",
    ],
    "es": [
        "De: Ana <a@x.es>\nEnviado el: lunes, 1 de junio de 2026 10:00\nPara: c@x.es\nAsunto: pago",
        "De: Ana <a@x.es>\nEnviado: lunes, 1 de junio de 2026 10:00\nPara: c@x.es\nAsunto: pago",
        "De: Ana <a@x.es>\nFecha: lunes, 1 de junio de 2026, 10:00\nPara: c@x.es\nAsunto: pago",
        "El lun, 1 jun 2026 a las 10:00, Ana (<a@x.es>) escribió:",
        "-----Mensaje original-----",
        "---------- Mensaje reenviado ---------",
        "Inicio del mensaje reenviado:",
    ],
    "it": [
        "Da: Mario <m@x.it>\nInviato: lunedì 1 giugno 2026 10:00\nA: r@x.it\nOggetto: pagamento",
        "Da: Mario <m@x.it>\nData: lunedì 1 giugno 2026 10:00\nA: r@x.it\nOggetto: pagamento",
        "Il giorno lun 1 giu 2026 alle ore 10:00 Mario <m@x.it> ha scritto:",
        "Il 01/06/2026 10:00, Mario Rossi ha scritto:",
        "-----Messaggio originale-----",
        "---------- Messaggio inoltrato ---------",
        "Inizio messaggio inoltrato:",
    ],
    "nl": [
        "Van: Jan <j@x.nl>\nVerzonden: maandag 1 juni 2026 10:00\nAan: i@x.nl\nOnderwerp: betaling",
        "Van: Jan <j@x.nl>\nDatum: maandag 1 juni 2026 10:00\nAan: i@x.nl\nOnderwerp: betaling",
        "Op ma 1 jun 2026 om 10:00 schreef Jan de Vries <j@x.nl>:",
        "Op 1 jun. 2026 om 10:00 heeft Jan de Vries <j@x.nl> het volgende geschreven:",
        "-----Oorspronkelijk bericht-----",
        "---------- Doorgestuurd bericht ---------",
        "Begin doorgestuurd bericht:",
    ],
}
HEADER_CASES = [
    (lang, header) for lang, headers in HEADERS_BY_LANGUAGE.items() for header in headers
]


@pytest.mark.parametrize(("language", "header"), HEADER_CASES)
def test_every_languages_reply_and_forward_headers_start_the_history(
    language: str, header: str
) -> None:
    text = f"Did you get my payment?\n\n{header}\n\nI paid 450,00 EUR."
    new, quoted = split_quoted(text)
    assert new == "Did you get my payment?", language
    assert quoted.startswith(header.splitlines()[0]) and quoted.endswith("I paid 450,00 EUR.")


@pytest.mark.parametrize(
    "header",
    [
        "Il giorno lun 1 giu 2026 alle ore 10:00 Mario Rossi <m@x.it>\nha scritto:",
        "Op ma 1 jun 2026 om 10:00 schreef Jan de Vries\n<j@x.nl>:",
        "On Mon, Jun 1, 2026 at 10:00 AM Ann Example <a@x.com>\nwrote:",
    ],
)
def test_an_attribution_wrapped_over_two_lines_starts_the_history(header: str) -> None:
    new, quoted = split_quoted(f"Any news?\n{header}\n> I paid.")
    assert new == "Any news?" and quoted.startswith(header.splitlines()[0])


@pytest.mark.parametrize(
    ("line", "header"),
    [
        ("Il pagamento di 450,00 EUR è stato fatto.", "Il giorno 1 giu 2026 Mario ha scritto:"),
        ("Op 14 juni heb ik 450,00 EUR betaald.", "Op 1 jun 2026 om 10:00 schreef Jan <j@x.nl>:"),
        ("Le paiement est fait.", "Le 1 juin 2026 à 10:00, Anne <a@x.fr> a écrit :"),
    ],
)
def test_a_sentence_opening_like_an_attribution_stays_new_text(line: str, header: str) -> None:
    # the line before a one-line attribution is not read as the first half of a wrapped one
    new, quoted = split_quoted(f"{line}\n{header}\n> old text")
    assert new == line and quoted.startswith(header)


# --- caps and hostile input ------------------------------------------------------


def test_pdf_page_cap_and_size_cap() -> None:
    many_pages = with_pdf(text_pdf(["Page text CASE-2026-00001"], pages=8))
    email = parse_email(many_pages, limits=MimeLimits(max_pdf_pages=3))
    assert "pdf_pages_truncated" in email.notes
    assert email.attachments[0].text is not None
    assert email.attachments[0].text.count("CASE-2026-00001") == 3

    big = parse_email(with_pdf(text_pdf(["x" * 50])), limits=MimeLimits(max_pdf_bytes=100))
    assert big.attachments[0].text is None and "pdf_too_large" in big.notes


def test_pdf_decompression_bomb_is_refused_quickly() -> None:
    import time

    from pypdf import get_configuration

    bomb = with_pdf(flate_bomb_pdf(200_000_000))  # ~200 kB that inflates to 200 MB
    started = time.monotonic()
    email = parse_email(bomb)
    assert time.monotonic() - started < 2
    assert email.attachments[0].text is None and "pdf_unreadable" in email.notes
    assert email.scanned_pdfs == ()
    assert get_configuration().zlib_maximum_output_length == 75_000_000  # caps were scoped


def test_pdf_count_cap_and_scanned_cap() -> None:
    parts = "".join(
        "--b\nContent-Type: application/pdf\n"
        f'Content-Disposition: attachment; filename="s{i}.pdf"\n'
        f"Content-Transfer-Encoding: base64\n\n{base64.encodebytes(scanned_pdf()).decode()}\n"
        for i in range(4)
    )
    raw = f'Subject: s\nContent-Type: multipart/mixed; boundary="b"\n\n{parts}--b--\n'.encode()
    email = parse_email(raw, limits=MimeLimits(max_pdfs=3, max_scanned_pdfs=2))
    assert len(email.attachments) == 4 and len(email.scanned_pdfs) == 2
    assert {"pdf_limit", "scanned_pdf_limit"} <= set(email.notes)


def test_garbage_pdf_and_huge_text_part_are_contained() -> None:
    email = parse_email(with_pdf(b"%PDF-1.7\n" + b"\x00garbage" * 100))
    assert email.attachments[0].text is None and "pdf_unreadable" in email.notes

    huge = b"Subject: big\n\n" + b"A" * 5000
    capped = parse_email(huge, limits=MimeLimits(max_text_part_bytes=1000))
    assert len(capped.text) == 1000 and "part_truncated" in capped.notes


def test_deep_nesting_stops_at_the_depth_cap() -> None:
    raw = "Subject: deep\n"
    for i in range(30):
        raw += f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n'
    raw += "Content-Type: text/plain\n\ndeep text\n"
    email = parse_email(raw.encode(), limits=MimeLimits(max_depth=5))
    assert "mime_too_deep" in email.notes and "deep text" not in email.text


def test_non_bytes_and_empty_input() -> None:
    assert parse_email(b"").text == ""
    assert "not_bytes" in parse_email("text").notes  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert isinstance(parse_email(raw), ParsedEmail)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(p.name for p in EMAILS.glob("*.eml"))),
    st.integers(min_value=0, max_value=10_000),
    st.binary(min_size=1, max_size=40),
)
def test_corrupted_samples_never_raise(name: str, position: int, junk: bytes) -> None:
    raw = (EMAILS / name).read_bytes()
    position %= len(raw)
    assert isinstance(parse_email(raw[:position] + junk + raw[position + len(junk) :]), ParsedEmail)


def test_headers_parsed_once_per_message_give_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The per-message header cache changes nothing that parse_email returns."""
    from email import policy

    from shared.extraction import email_parser as mime

    files = sorted(EMAILS.iterdir())
    cached = [parse_email(path.read_bytes()) for path in files]
    monkeypatch.setattr(mime, "parse_policy", lambda: policy.default)
    assert [parse_email(path.read_bytes()) for path in files] == cached


def test_each_header_is_parsed_once_per_message() -> None:
    import email

    from shared.extraction.email_parser import parse_policy

    message = email.message_from_bytes(
        b"Content-Type: text/plain; charset=utf-8\nSubject: x\n\nbody\n", policy=parse_policy()
    )
    assert message.get("Content-Type") is message.get("Content-Type")
    assert message.get_content_charset() == "utf-8"
    other = email.message_from_bytes(
        b"Content-Type: text/plain; charset=latin-1\n\nbody\n", policy=parse_policy()
    )
    assert other.get_content_charset() == "latin-1"  # nothing carried over between messages


@pytest.mark.parametrize("header", ["From", "Message-ID", "Reply-To", "Date"])
def test_a_header_with_hundreds_of_nested_comments_is_unreadable_not_a_crash(header: str) -> None:
    # the stdlib's lazy header parse recurses once per "(" (a RecursionError) or overflows on
    # a huge date offset; the email is still read, that header left out
    values = {
        "From": "Jane <jane@example.org> " + "(" * 900,
        "Message-ID": "<a@b.c> " + "(" * 900,
        "Reply-To": "x@example.org " + "(" * 900,
        "Date": "Mon, 1 Jan 2024 00:00:00 +99999999999999999999 (" + "x" * 80 + ")",
    }
    headers = {"From": "Jane <jane@example.org>", "Subject": "Paid", header: values[header]}
    raw = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    email = parse_email((raw + "Content-Type: text/plain\r\n\r\nI paid 50 EUR.\r\n").encode())
    assert "I paid 50 EUR." in email.text
