"""Raw MIME → :class:`ParsedEmail`, with the standard library's modern email API.

Robust by design: whatever bytes come in, :func:`parse_email` returns what could be read and
never raises. Malformed structure is recorded in ``ParsedEmail.notes`` (``mime_defects``,
``part_truncated``, ``pdf_unreadable`` …); content that may carry hidden instructions in
``ParsedEmail.signals`` (``hidden_html``, ``zero_width_chars``, ``bidi_control_chars``,
``unicode_tag_chars``, ``injection_in_hidden_text``).

What is read:

- headers: Message-ID, Subject, From (address lower-cased, display name), Date; and whether no
  person wrote it (auto-reply, bounce with its failed recipients, bulk mail:
  :mod:`shared.extraction.automated`);
- the body: ``text/plain`` parts when there is any text in them, else ``text/html`` converted
  to visible text (:mod:`shared.extraction.html_text`); charsets decoded by their declared
  name (ISO-8859-1 read as its superset windows-1252, as mail clients do), undecodable bytes
  replaced; the quoted history split off into ``quoted_text`` (:mod:`shared.extraction.quotes`);
- attached messages (``message/rfc822``, forwarded as attachment): their text is added to
  ``quoted_text`` under a ``Forwarded message`` line; one sent base64-encoded (which the
  stdlib cannot read as a message) is listed as an unread document instead;
- a bounce's report (a ``message/delivery-status`` part directly under the top level, or in a
  ``multipart/report`` one level down): its failed recipients, used only when the email is a
  bounce (:mod:`shared.extraction.automated`);
- attachments: listed (name, type, size); PDFs read with pypdf up to :class:`MimeLimits`
  (pages, bytes, characters); a PDF with no text layer is kept in ``scanned_pdfs`` so it can be
  sent to the model as a document; text files (``text/plain``, ``text/csv``,
  ``text/tab-separated-values``, or ``.txt``/``.csv``/``.tsv`` sent as octet-stream) decoded
  like body parts, and HTML files (``text/html`` attachments, ``.html``/``.htm`` sent as
  octet-stream) converted to visible text like an HTML body, up to :class:`MimeLimits` (files,
  bytes, characters); each marked whether it is a *document* sent to be read (a PDF, an HTML
  file with text, a word-processor file, a saved email such as ``.msg``/``.eml``, an image that
  is a page rather than an icon or a picture in the body, told by its pixels), so that a
  document nobody could read is not passed over (:meth:`ParsedEmail.unread_documents`).
"""

from __future__ import annotations

import codecs
import io
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import HeaderRegistry
from email.message import Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any, cast

from shared.errors import PermanentError
from shared.extraction.automated import (
    BOUNCE,
    classify,
    failed_recipients,
    header_recipients,
    text_recipients,
)
from shared.extraction.html_text import html_to_text
from shared.extraction.injection import looks_like_injection, strip_invisible, without_surrogates
from shared.extraction.models import AttachmentInfo, ParsedEmail
from shared.extraction.quotes import split_quoted
from shared.logs import log_event
from shared.mime_depth import MIME_PARSE_ERRORS, MimeTooDeep, parse_within_depth

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MimeLimits:
    """Caps that keep one hostile email from exhausting memory or CPU."""

    max_message_bytes: int = 40 * 1024 * 1024  # the raw message (webhook caps at 32 MiB)
    max_text_part_bytes: int = 2 * 1024 * 1024  # each text/plain or text/html part
    max_text_chars: int = 200_000  # body text and quoted text, each
    max_parts: int = 200  # MIME parts walked
    max_depth: int = 10  # nesting of multiparts and attached messages
    max_attachments: int = 50  # listed
    max_pdf_bytes: int = 10 * 1024 * 1024  # a PDF bigger than this is listed, not read
    max_pdf_pages: int = 30  # pages read per PDF
    max_pdf_text_chars: int = 100_000  # text kept per PDF
    max_pdfs: int = 5  # PDFs read per email
    max_scanned_pdfs: int = 3  # scanned PDFs kept for the model
    min_pdf_text_chars: int = 20  # fewer non-blank characters than this = no text layer
    max_pdf_stream_bytes: int = 16 * 1024 * 1024  # inflated size of any one PDF stream (bombs)
    max_text_files: int = 5  # text attachments (.txt, .csv, .tsv) read per email
    max_text_file_bytes: int = 1024 * 1024  # bytes read of each text attachment
    max_text_file_chars: int = 100_000  # text kept per text attachment


DEFAULT_LIMITS = MimeLimits()


class _OncePerMessage(EmailPolicy):
    """``policy.default`` that parses each header of one message once.

    With the modern API every ``message.get()`` builds a new header object with the full
    RFC 5322 parser, and the stdlib asks for ``Content-Type`` about seven times per part while
    parsing and walking (``get_content_type``, ``get_param``, ``get_filename`` …): that was
    three quarters of :func:`parse_email`'s CPU. Header objects are immutable, so the same one
    is handed out again. One instance per parsed message (the cache lives and dies with it,
    never shared between emails or threads).
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        object.__setattr__(self, "_parsed", {})

    def header_fetch_parse(self, name: str, value: str) -> Any:
        parsed: dict[tuple[str, str], Any] = self._parsed  # type: ignore[attr-defined]
        value = _eight_bit(value)
        key = (name, value)
        header = parsed.get(key)
        if header is None:
            header = super().header_fetch_parse(name, value)
            parsed[key] = header
        return header


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _eight_bit(value: str) -> str:
    """A header written with raw 8-bit bytes instead of encoded words, as text: the parser keeps
    those bytes as surrogate escapes, which the header classes would read as UTF-8 with
    replacement characters. Read as a body without a charset is (:func:`_utf8_or_cp1252`)."""
    if value.isascii() or _ESCAPED_BYTE.search(value) is None:
        return value
    return _utf8_or_cp1252(value.encode("utf-8", "surrogateescape"))


class _CachedHeaderRegistry(HeaderRegistry):
    """``policy.default``'s header registry, making each header class once per process.

    The stdlib's ``__getitem__`` creates a new class (``type(…)``) for every header it parses;
    the classes it makes for the same registered class are alike, so one is kept per registered
    class (a bounded set: the registry's classes and the default one)."""

    def __init__(self) -> None:
        default = cast(HeaderRegistry, policy.default.header_factory)
        super().__init__(default.base_class, default.default_class, use_default_map=False)
        self.registry.update(default.registry)
        self._classes: dict[type, type] = {}

    def __getitem__(self, name: str) -> type:
        cls = self.registry.get(name.lower(), self.default_class)
        made = self._classes.get(cls)
        if made is None:
            made = self._classes.setdefault(cls, super().__getitem__(name))
        return made


_HEADER_FACTORY = _CachedHeaderRegistry()


def parse_policy() -> EmailPolicy:
    """The policy every reader of a stored email parses it with (the console too)."""
    return _OncePerMessage(header_factory=_HEADER_FACTORY)


# Declared charsets mail clients read as a superset (WHATWG encoding standard).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "unicode-1-1-utf-7": "utf-7",
}

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Errors the stdlib email package and header parser raise on hostile input (the set the
# webhook's check of an original message uses too), plus what a header's lazy parse raises on
# hundreds of nested comments or a date offset too large: that header is unreadable, not the
# email (a transient error would redeliver the email until the dead-letter topic took it).
PARSE_ERRORS = (*MIME_PARSE_ERRORS, RecursionError, OverflowError)


@dataclass
class _Acc:
    limits: MimeLimits
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    attachments: list[AttachmentInfo] = field(default_factory=list)
    scanned: list[bytes] = field(default_factory=list)
    signals: set[str] = field(default_factory=set)
    notes: set[str] = field(default_factory=set)
    parts: int = 0
    pdfs: int = 0
    text_files: int = 0
    dsn_child: bool = False  # a message/delivery-status part directly under the top level
    bounced: list[str] = field(default_factory=list)  # its failed recipients


class MimeNestedTooDeep(PermanentError):
    """The stored message nests its parts deeper than the webhook accepts (stored before the
    limit, or by another way in): retrying cannot help."""

    stage = "parse"


def parse_email(raw: bytes, *, limits: MimeLimits = DEFAULT_LIMITS) -> ParsedEmail:
    """Parse a raw RFC 5322 message; a malformed message yields what was read. Raises only
    :class:`MimeNestedTooDeep` (permanent), for a message nested deeper than the webhook's
    limit (:mod:`shared.mime_depth`)."""
    acc = _Acc(limits)
    if not isinstance(raw, bytes | bytearray):
        raw = b""
        acc.notes.add("not_bytes")
    if len(raw) > limits.max_message_bytes:
        raw = raw[: limits.max_message_bytes]
        acc.notes.add("message_truncated")
    try:
        message = parse_within_depth(bytes(raw), parse_policy())
    except MimeTooDeep as too_deep:
        raise MimeNestedTooDeep(str(too_deep)) from None
    except PARSE_ERRORS:
        acc.notes.add("mime_unparseable")
        return _assemble(acc, None)
    try:
        _walk(message, acc, depth=0)
    except (*PARSE_ERRORS, RecursionError):
        acc.notes.add("mime_walk_failed")
    return _assemble(acc, message)


# --- headers -------------------------------------------------------------------


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except PARSE_ERRORS:
        return ""
    if value is None:
        return ""
    try:
        text = str(value)
    except PARSE_ERRORS:
        return ""
    return re.sub(r"\s+", " ", text).strip()[:2000]


def _sender(message: Message) -> tuple[str, str | None]:
    raw_from = _header(message, "From")
    try:
        pairs = getaddresses([raw_from])
    except PARSE_ERRORS:
        pairs = []
    for name, address in pairs:
        if "@" in address:
            return address.strip().lower(), (name.strip() or None)
    return "", None


def _date(message: Message) -> datetime | None:
    value = _header(message, "Date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (*PARSE_ERRORS, OverflowError):
        return None


# --- walking parts -------------------------------------------------------------


def _walk(part: Message, acc: _Acc, depth: int, parent: str = "") -> None:
    """Read ``part`` into ``acc``; ``parent``: the content type of the multipart holding it."""
    acc.parts += 1
    if acc.parts > acc.limits.max_parts:
        acc.notes.add("too_many_parts")
        return
    if depth > acc.limits.max_depth:
        acc.notes.add("mime_too_deep")
        return
    if getattr(part, "defects", None):
        acc.notes.add("mime_defects")
    content_type = part_content_type(part)
    if content_type in ("message/delivery-status", "message/rfc822") or (
        content_type.startswith("message/") and part.is_multipart()
    ):
        _message_part(part, acc, depth, content_type, parent)
        return
    if part.is_multipart():
        payload = part.get_payload()
        for child in payload if isinstance(payload, list) else []:
            if isinstance(child, Message):
                _walk(child, acc, depth + 1, content_type)
        return
    filename = part_filename(part)
    disposition = _disposition(part)
    if content_type in ("text/plain", "text/html") and not _attached_text(
        content_type, filename, disposition, parent
    ):
        text = _decode_text(part, acc)
        (acc.plain if content_type == "text/plain" else acc.html).append(text)
        return
    if content_type.startswith("multipart/"):
        return  # a multipart without parts: nothing to read
    _attachment(part, acc, content_type, filename)


def _attached_text(content_type: str, filename: str, disposition: str, parent: str) -> bool:
    """A text part that is an attachment, not the body: marked ``attachment``; or, for HTML,
    a named part of a ``multipart/mixed`` not marked ``inline``: mail clients show a
    ``letter.html`` sent without a disposition as an attachment, and read as the body it would
    be hidden by a plain-text body (the body's HTML, alone or in an alternative or related
    part, has no name)."""
    if disposition == "attachment":
        return True
    return (
        content_type == "text/html"
        and bool(filename)
        and disposition != "inline"
        and parent == "multipart/mixed"
    )


def part_content_type(part: Message) -> str:
    """A part's content type, lower case; one nobody can read is octet-stream."""
    try:
        return str(part.get_content_type()).lower()
    except PARSE_ERRORS:
        return "application/octet-stream"


def part_filename(part: Message) -> str:
    """A part's file name, cut to a safe length; "" when there is none or it cannot be read."""
    try:
        name = part.get_filename()
    except PARSE_ERRORS:
        return ""
    if not name:
        return ""
    clean, _ = strip_invisible(str(name))
    return re.sub(r"[\x00-\x1f\x7f]", "", clean).strip()[:255]


def _disposition(part: Message) -> str:
    try:
        return str(part.get_content_disposition() or "").lower()
    except PARSE_ERRORS:
        return ""


def part_bytes(part: Message) -> bytes:
    """A part's decoded bytes; b"" when they cannot be decoded."""
    try:
        payload = part.get_payload(decode=True)
    except PARSE_ERRORS:
        return b""
    return payload if isinstance(payload, bytes) else b""


def _decode_text(part: Message, acc: _Acc) -> str:
    data = part_bytes(part)
    if len(data) > acc.limits.max_text_part_bytes:
        data = data[: acc.limits.max_text_part_bytes]
        acc.notes.add("part_truncated")
    return decode_bytes(data, _charset_of(part, data))


def _charset_of(part: Message, data: bytes) -> str | None:
    """The part's declared charset: its Content-Type's, or for HTML without one the page's own
    ``<meta charset>`` (as a browser reads it); None when neither says."""
    try:
        declared = part.get_content_charset()
        html = part.get_content_type() == "text/html"
    except PARSE_ERRORS:
        return None
    if declared is None and html:
        meta = _META_CHARSET.search(data[:_META_SCAN_BYTES])
        declared = _meta_label(meta.group(1).decode("ascii").lower()) if meta else None
    return declared


def _meta_label(label: str) -> str | None:
    """A ``<meta>`` charset as the HTML standard takes it: a page found by reading ASCII cannot
    be UTF-16 or UTF-32 (read as UTF-8), and UTF-7 is not supported (ignored)."""
    if "utf-7" in label or "utf7" in label:
        return None
    if label.startswith(("utf-16", "utf-32", "utf16", "utf32", "ucs-2", "unicode")):
        return "utf-8"
    return label


# <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">, in
# the first kilobytes of the page (where the HTML standard looks for them).
_META_CHARSET = re.compile(
    rb"<meta\b[^>]{0,300}?\bcharset\s*=\s*[\"']?([A-Za-z0-9_.:-]{1,40})", re.I
)
_META_SCAN_BYTES = 4096


def decode_bytes(data: bytes, declared_charset: str | None) -> str:
    """Decode with the declared charset (or its usual superset); bad bytes are replaced.

    Without a declared charset, or with UTF-8 declared (:func:`_utf8_or_cp1252`): what is valid
    UTF-8 as UTF-8, each other byte as Windows-1252. 8-bit mail that names no charset is Latin-1
    or Windows-1252 in practice, and so is mail that names UTF-8 by a form's or a script's
    default while its text was typed in Latin-1: read as UTF-8 alone, every accented letter of
    it would be lost ("f\ufffdr" for "für")."""
    if declared_charset is None:
        return _utf8_or_cp1252(data)
    charset = declared_charset.strip().strip('"').lower()
    charset = _CHARSET_ALIASES.get(charset, charset)
    if charset in ("utf-8", "utf8"):
        return _utf8_or_cp1252(data)
    try:
        return data.decode(charset, errors="replace")
    except (LookupError, ValueError):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")


def _utf8_or_cp1252(data: bytes) -> str:
    """Every valid UTF-8 sequence as UTF-8 and every byte that is none as Windows-1252 (but for
    a character cut at the end, a part truncated to its limit): Latin-1 text keeps its letters,
    and so does UTF-8 text with a Latin-1 footer a mail gateway added."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            try:
                return data[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                pass
    return data.decode("utf-8", errors=_AS_CP1252)


def _bytes_as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return exc.object[exc.start : exc.end].decode("cp1252", errors="replace"), exc.end


_AS_CP1252 = "shared.utf8-else-cp1252"
codecs.register_error(_AS_CP1252, _bytes_as_cp1252)


def _message_part(part: Message, acc: _Acc, depth: int, content_type: str, parent: str) -> None:
    if content_type != "message/delivery-status":
        if _base64_message(part):
            _unread_message(part, acc)
        else:
            _attached_message(part, acc, depth)
        return
    # A bounce's report (RFC 3464): which recipients failed; no text of its own. Only where a
    # mail system puts it: directly under the top level, or in a report a gateway wrapped one
    # level down. Anywhere else it is a report someone attached to their own email; whether the
    # email is a bounce at all is decided by its headers (automated.py).
    if depth > 1 and not (depth == 2 and parent == "multipart/report"):
        return
    if parent != "multipart/report" and _disposition(part) == "attachment":
        return  # a report attached to an email (Gmail's forward re-attaches it as "noname")
    payload = part.get_payload()
    blocks = [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
    acc.dsn_child = True
    acc.bounced.extend(failed_recipients(blocks))


def _base64_message(part: Message) -> bool:
    """An attached message sent base64-encoded (RFC 2046 forbids it, some clients do it): the
    stdlib parses the encoded text as its headers and body, so nothing of it can be read."""
    return _header(part, "Content-Transfer-Encoding").lower() == "base64"


def _unread_message(part: Message, acc: _Acc) -> None:
    """An attached message that cannot be read: listed as a document nobody read."""
    if len(acc.attachments) >= acc.limits.max_attachments:
        acc.notes.add("too_many_attachments")
        return
    payload = part.get_payload()
    try:  # the encoded size: what the stdlib parsed the base64 text into, written out again
        size = sum(len(m.as_bytes()) for m in payload if isinstance(m, Message))
    except PARSE_ERRORS:
        size = 0
    acc.attachments.append(
        AttachmentInfo(
            filename=part_filename(part) or "(unnamed)",
            content_type="message/rfc822",
            size=size,
            document=True,
        )
    )


def _attached_message(part: Message, acc: _Acc, depth: int) -> None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return
    sub = _Acc(acc.limits, parts=acc.parts, pdfs=acc.pdfs, text_files=acc.text_files)
    _walk(inner, sub, depth + 1)
    body, quoted = _body(sub)
    acc.parts = sub.parts
    acc.signals |= sub.signals
    acc.notes |= sub.notes
    acc.attachments.extend(sub.attachments)
    acc.scanned.extend(sub.scanned)
    acc.pdfs = sub.pdfs
    acc.text_files = sub.text_files
    header_lines = [
        "---------- Forwarded message ----------",
        f"From: {_header(inner, 'From')}",
        f"Date: {_header(inner, 'Date')}",
        f"Subject: {_header(inner, 'Subject')}",
    ]
    acc.forwarded.append("\n".join([*header_lines, "", body, quoted, *sub.forwarded]).strip())


# --- attachments ---------------------------------------------------------------


def _attachment(part: Message, acc: _Acc, content_type: str, filename: str) -> None:
    if len(acc.attachments) >= acc.limits.max_attachments:
        acc.notes.add("too_many_attachments")
        return
    data = part_bytes(part)
    is_pdf = (
        content_type == "application/pdf"
        or filename.lower().endswith(".pdf")
        or data[:1024].lstrip().startswith(b"%PDF-")
    )
    text: str | None = None
    scanned = len(acc.scanned)
    document = is_pdf or _is_document(part, content_type, filename, data)
    if is_pdf:
        text = _read_pdf(data, acc)
    elif _is_text_file(content_type, filename):
        text = _read_text_file(part, data, acc) if _text_file_slot(acc) else None
    elif _is_html_file(content_type, filename):
        read = _text_file_slot(acc)
        text = _read_text_file(part, data, acc, html=True) if read else None
        # a letter saved as a web page: one left unread (over the limit) is a document nobody
        # saw; one read and blank (an empty fragment Outlook splits off) is none
        document = text is not None or not read
    acc.attachments.append(
        AttachmentInfo(
            filename=filename or "(unnamed)",
            content_type="application/pdf" if is_pdf else content_type,
            size=len(data),
            text=text,
            document=document,
            scanned=len(acc.scanned) > scanned,
        )
    )


# Documents never read here: word-processor files, saved emails (an attorney's letter
# forwarded from Outlook arrives as a .msg, from other clients as an .eml sent as octet-stream)
# and S/MIME-wrapped messages.
_DOCUMENT_TYPES = frozenset(
    {
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-word.document.macroenabled.12",
        "application/vnd.oasis.opendocument.text",
        "application/rtf",
        "application/x-rtf",
        "text/rtf",
        "application/vnd.apple.pages",
        "application/x-iwork-pages-sffpages",
        "application/vnd.wordperfect",
        "application/wordperfect",
        "application/vnd.ms-xpsdocument",
        "application/oxps",
        "application/vnd.ms-outlook",
        "application/x-ms-outlook-msg",
        # an encrypted or opaque-signed S/MIME message: its text is inside, unreadable here (a
        # detached signature, application/pkcs7-signature, holds no text and is no document)
        "application/pkcs7-mime",
        "application/x-pkcs7-mime",
    }
)
_DOCUMENT_SUFFIXES = (
    ".doc", ".docx", ".docm", ".odt", ".rtf", ".pages", ".wpd", ".xps", ".oxps", ".msg", ".eml",
    ".p7m",
)  # fmt: skip
# Outlook's own wrapping (winmail.dat, MS-OXTNEF): it often holds only the formatted body, but
# the files a sender attached travel inside it too, unreadable here.
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
_TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
_TNEF_ATTACHMENT_LEVEL = 0x02
_TNEF_MAX_ATTRIBUTES = 10_000


def _tnef_carries_files(data: bytes) -> bool:
    """Whether a TNEF stream holds an attachment's attributes (level 2), not only the message's:
    each attribute is a level byte, a 4-byte id, a 4-byte length, the data and a checksum."""
    if not data.startswith(_TNEF_SIGNATURE):
        return False
    at = 6  # the signature and the legacy key
    for _ in range(_TNEF_MAX_ATTRIBUTES):
        if at + 9 > len(data):
            return False
        if data[at] == _TNEF_ATTACHMENT_LEVEL:
            return True
        at += 9 + int.from_bytes(data[at + 5 : at + 9], "little") + 2
    return False


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".tif", ".tiff", ".gif", ".webp")
# Drawn, not photographed: a vector image is a logo or an illustration, never a page.
_VECTOR_IMAGE = ("image/svg+xml", ".svg")
# When an image's pixels are known (its header, :func:`_pixels`): a page shown in the body is
# at least 450 × 590 and no more than 2.5 times as long as it is wide (an A4 or Letter page
# rendered at 72 dpi is 595 × 842 or 612 × 792, Apple Mail's "medium" photo 480 × 640, a
# phone screenshot about 1 : 2.2), where a signature banner is long and thin (1400 × 280) and a
# logo small (400 × 400); an attached image is a page unless icon-sized or a thin divider.
_PAGE_SHORT_SIDE = 450
_PAGE_LONG_SIDE = 590
_PAGE_MAX_ASPECT = 2.5
_ICON_LONG_SIDE = 300
_ICON_SHORT_SIDE = 150
# When they are not: below this an image is an icon or a tracking pixel; an image embedded in
# the body is taken for a picture of the body (a signature logo) up to the second size, and
# for a page above it.
_MIN_DOCUMENT_IMAGE_BYTES = 2 * 1024
_MAX_EMBEDDED_PICTURE_BYTES = 48 * 1024
# Where an image's size must be found: JPEG's frame header follows its EXIF, thumbnail and
# colour profile, well inside this in photographs; the bound keeps a crafted file of endless
# tiny segments to milliseconds (and past it the size is unknown: the byte rules decide).
_PIXELS_WITHIN_BYTES = 128 * 1024
# The raster formats whose header is read, by their first bytes (an SVG is text whatever its
# label says, and is left unread: its declared size says nothing of a page).
_RASTER_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")


def _raster(data: bytes) -> bool:
    return (
        data.startswith(_RASTER_SIGNATURES)
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
        or data[4:8] == b"ftyp"
    )  # HEIC, HEIF, AVIF


def _is_svg(data: bytes) -> bool:
    """An SVG by its content, whatever its label says."""
    head = data[:4096].lstrip().lower()
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head)


def _pixels(data: bytes) -> tuple[int, int] | None:
    """Width and height from a raster image's header (PNG, JPEG, GIF, WebP, TIFF, BMP, HEIC,
    AVIF), or None when it does not say."""
    if not _raster(data):
        return None
    import imagesize

    # A stream, never a path or a URL (which imagesize would open or fetch). No EXIF
    # rotation: the sides are compared sorted, and reading it walks a HEIC's item locations,
    # which a crafted file can make take minutes.
    stream = io.BytesIO(data[:_PIXELS_WITHIN_BYTES])
    width, height = imagesize.get(stream, exif_rotation=False)
    return (width, height) if width > 0 and height > 0 else None


def _is_document(part: Message, content_type: str, filename: str, data: bytes) -> bool:
    """Sent to be read (besides PDFs and HTML files): a word-processor file, a saved email, or
    an image that is a page rather than an icon or a picture of the body."""
    name = filename.lower()
    if content_type in _DOCUMENT_TYPES or name.endswith(_DOCUMENT_SUFFIXES):
        return not _certificates_only(part)
    if content_type in _TNEF_TYPES or name == "winmail.dat":
        return _tnef_carries_files(data)
    if content_type == _VECTOR_IMAGE[0] or name.endswith(_VECTOR_IMAGE[1]) or _is_svg(data):
        return False
    if not (content_type.startswith("image/") or name.endswith(_IMAGE_SUFFIXES)):
        return False
    return _is_page(part, data)


def _certificates_only(part: Message) -> bool:
    """An S/MIME part that carries certificates, no message (``smime-type=certs-only``)."""
    try:
        kind = part.get_param("smime-type")
    except PARSE_ERRORS:
        return False
    return isinstance(kind, str) and kind.strip().lower() == "certs-only"


def _is_page(part: Message, data: bytes) -> bool:
    disposition = _disposition(part)
    # a Content-ID alone does not embed: Gmail gives one to every attachment
    embedded = disposition == "inline" or (
        bool(_header(part, "Content-ID")) and disposition != "attachment"
    )
    pixels = _pixels(data)
    if pixels is None:
        if len(data) < _MIN_DOCUMENT_IMAGE_BYTES:
            return False
        return not embedded or len(data) > _MAX_EMBEDDED_PICTURE_BYTES
    short, long = sorted(pixels)
    if embedded:
        return (
            short >= _PAGE_SHORT_SIDE
            and long >= _PAGE_LONG_SIDE
            and long <= _PAGE_MAX_ASPECT * short
        )
    return long >= _ICON_LONG_SIDE and short >= _ICON_SHORT_SIDE


_TEXT_FILE_TYPES = frozenset({"text/plain", "text/csv", "text/tab-separated-values"})
_TEXT_FILE_SUFFIXES = (".txt", ".csv", ".tsv")
_HTML_FILE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HTML_FILE_SUFFIXES = (".html", ".htm", ".xhtml")


def _is_text_file(content_type: str, filename: str) -> bool:
    if content_type in _TEXT_FILE_TYPES:
        return True
    return content_type == "application/octet-stream" and filename.lower().endswith(
        _TEXT_FILE_SUFFIXES
    )


def _is_html_file(content_type: str, filename: str) -> bool:
    if content_type in _HTML_FILE_TYPES:
        return True
    return content_type == "application/octet-stream" and filename.lower().endswith(
        _HTML_FILE_SUFFIXES
    )


def _text_file_slot(acc: _Acc) -> bool:
    """Whether one more text or HTML attachment may be read (``max_text_files``)."""
    if acc.text_files >= acc.limits.max_text_files:
        acc.notes.add("text_file_limit")
        return False
    acc.text_files += 1
    return True


def _read_text_file(part: Message, data: bytes, acc: _Acc, *, html: bool = False) -> str | None:
    """A text attachment decoded like a body part (declared charset), an HTML one converted
    to its visible text like an HTML body (hidden text flagged), capped; None if empty."""
    limits = acc.limits
    if len(data) > limits.max_text_file_bytes:
        data = data[: limits.max_text_file_bytes]
        acc.notes.add("text_file_truncated")
    text = decode_bytes(data, _charset_of(part, data))
    if html:
        converted = html_to_text(text)
        _flag_hidden(acc, converted.hidden_found, converted.hidden_text)
        text = converted.text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text, found = strip_invisible(_CONTROL_CHARS.sub("", text))
    acc.signals |= found
    if len(text) > limits.max_text_file_chars:
        text = text[: limits.max_text_file_chars]
        acc.notes.add("text_file_truncated")
    return text if text.strip() else None


def _read_pdf(data: bytes, acc: _Acc) -> str | None:
    limits = acc.limits
    if acc.pdfs >= limits.max_pdfs:
        acc.notes.add("pdf_limit")
        return None
    acc.pdfs += 1
    if len(data) > limits.max_pdf_bytes:
        acc.notes.add("pdf_too_large")
        return None
    if b"%PDF-" not in data[:1024]:
        acc.notes.add("pdf_unreadable")
        return None
    text = extract_pdf_text(data, limits, acc.notes)
    if text is None:
        return None
    text, found = strip_invisible(text)
    acc.signals |= found
    if len(re.sub(r"\s", "", text)) < limits.min_pdf_text_chars:
        if len(acc.scanned) < limits.max_scanned_pdfs:
            acc.scanned.append(data)
        else:
            acc.notes.add("scanned_pdf_limit")
        return None
    return text


def extract_pdf_text(data: bytes, limits: MimeLimits, notes: set[str]) -> str | None:
    """Text of the first ``max_pdf_pages`` pages, capped; None when pypdf cannot read it."""
    from pypdf import apply_configuration

    stream_cap = limits.max_pdf_stream_bytes
    try:
        with apply_configuration(  # pypdf's own resource caps, for this context only
            zlib_maximum_output_length=stream_cap,
            lzw_maximum_output_length=stream_cap,
            run_length_maximum_output_length=stream_cap,
            brotli_maximum_output_length=stream_cap,
            jbig2_maximum_output_length=stream_cap,
            array_based_stream_maximum_output_length=stream_cap,
            maximum_declared_stream_length=stream_cap,
            image_maximum_buffer_size=stream_cap,
            stream_decoding_work_maximum_length=4 * stream_cap,
            page_tree_maximum_entries=10_000,
            xform_maximum_invocations_per_extraction=500,
        ):
            return _read_pages(data, limits, notes)
    # pypdf raises many exception types (PdfReadError, LimitReachedError, KeyError, zlib.error,
    # RecursionError …) on hostile files; an unreadable PDF must never fail the email.
    except Exception as exc:
        notes.add("pdf_unreadable")
        log_event(logger, "pdf_unreadable", error_type=type(exc).__name__)
        return None


def _read_pages(data: bytes, limits: MimeLimits, notes: set[str]) -> str | None:
    from pypdf import PasswordType, PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        # An owner password alone (printing or copying restricted, as on many court and
        # attorney documents) leaves the empty user password valid: anyone may read the text.
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        # Without pypdf's optional AES package (DependencyError), or with a hostile encryption
        # dictionary, the PDF stays unread; only the error's type is logged, as its message
        # may quote the file.
        except Exception as exc:
            log_event(logger, "pdf_decrypt_failed", error_type=type(exc).__name__)
            opened = False
        if not opened:
            notes.add("pdf_encrypted")
            return None
    pages = reader.pages
    if len(pages) > limits.max_pdf_pages:
        notes.add("pdf_pages_truncated")
    chunks: list[str] = []
    total = 0
    for index in range(min(len(pages), limits.max_pdf_pages)):
        page_text = pages[index].extract_text() or ""
        chunks.append(page_text)
        total += len(page_text)
        if total >= limits.max_pdf_text_chars:
            notes.add("pdf_text_truncated")
            break
    return without_surrogates("\n".join(chunks)[: limits.max_pdf_text_chars])


# --- assembling ----------------------------------------------------------------


def _body(acc: _Acc) -> tuple[str, str]:
    plain = "\n\n".join(t for t in acc.plain if t.strip())
    hidden_found = False
    hidden_text = ""
    if acc.html:
        converted = [html_to_text(h) for h in acc.html]
        hidden_found = any(c.hidden_found for c in converted)
        hidden_text = " ".join(c.hidden_text for c in converted)
        if not plain.strip():
            plain = "\n\n".join(c.text for c in converted if c.text)
            if plain:
                acc.notes.add("html_only")
    _flag_hidden(acc, hidden_found, hidden_text)
    plain = plain.replace("\r\n", "\n").replace("\r", "\n")
    plain = _CONTROL_CHARS.sub("", plain)
    plain, found = strip_invisible(plain)
    acc.signals |= found
    text, quoted = split_quoted(plain)
    return text, quoted


def _flag_hidden(acc: _Acc, hidden_found: bool, hidden_text: str) -> None:
    if hidden_found:
        acc.signals.add("hidden_html")
        if looks_like_injection(hidden_text):
            acc.signals.add("injection_in_hidden_text")


def _cap(text: str, limit: int, acc: _Acc) -> str:
    if len(text) <= limit:
        return text
    acc.notes.add("text_truncated")
    return text[:limit]


def _assemble(acc: _Acc, message: Message | None) -> ParsedEmail:
    text, quoted = _body(acc)
    quoted = "\n\n".join(q for q in (quoted, *acc.forwarded) if q.strip())
    subject = message_id = ""
    sender, sender_name = "", None
    date = None
    automated: str | None = None
    bounced: list[str] = []
    if message is not None:
        subject, found = strip_invisible(_header(message, "Subject"))
        acc.signals |= found
        message_id = _header(message, "Message-ID")
        sender, sender_name = _sender(message)
        if sender_name:
            sender_name, found = strip_invisible(sender_name)
            acc.signals |= found
        date = _date(message)
        automated = classify(message, lambda name: _header(message, name), dsn_child=acc.dsn_child)
        if automated == BOUNCE:  # the report's recipients count only in a bounce
            bounced = (
                acc.bounced
                or header_recipients(_header(message, "X-Failed-Recipients"))
                or text_recipients(text)
            )
    return ParsedEmail(
        message_id=message_id or None,
        subject=subject,
        sender=sender,
        sender_name=sender_name,
        date=date,
        text=_cap(text, acc.limits.max_text_chars, acc),
        quoted_text=_cap(quoted, acc.limits.max_text_chars, acc),
        attachments=tuple(acc.attachments),
        scanned_pdfs=tuple(acc.scanned),
        signals=tuple(sorted(acc.signals)),
        notes=tuple(sorted(acc.notes)),
        automated=automated,
        bounced_recipients=tuple(dict.fromkeys(bounced)),
    )
