"""Request bodies as bytes: the Content-Type, multipart/form-data and urlencoded forms.

Form fields are kept as bytes, because providers send them in the charset of the email
(SendGrid names it per field in ``charsets``); decoding is the provider module's decision.
Multipart is decoded with werkzeug's sans-IO decoder, bounded in parts and size; a part's header
line that is not UTF-8 is read as Latin-1 (:func:`header_line_text`) where werkzeug refuses the
whole form.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from shared.intake.errors import MalformedPayload, PayloadTooLarge, UnsupportedMediaType

MAX_FORM_PARTS = 1000


@dataclass(frozen=True)
class Part:
    """One form field or uploaded file, with its raw bytes."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass
class Form:
    """Fields by name (first wins), files by name, in order of arrival."""

    fields: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, Part] = field(default_factory=dict)

    def text(
        self, name: str, *, charset: str | None = "utf-8", required: bool = False
    ) -> str | None:
        """The field decoded as ``charset``; bad bytes in a body never reject the email."""
        raw = self.fields.get(name)
        if raw is None:
            if required:
                raise MalformedPayload(f"missing required field {name!r}")
            return None
        return decode_text(raw, charset)

    def strict_text(self, name: str, *, required: bool = False) -> str | None:
        """The field as strict UTF-8 (for structured fields: JSON, signatures, ids)."""
        raw = self.fields.get(name)
        if raw is None:
            if required:
                raise MalformedPayload(f"missing required field {name!r}")
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPayload(f"field {name!r} is not valid UTF-8") from None

    def json(self, name: str) -> Any:
        value = self.strict_text(name)
        if value is None:
            return None
        return strict_json(value, what=f"field {name!r}")


def strict_json(text: str, *, what: str) -> Any:
    """RFC 8259 JSON, strictly: ``NaN``, ``Infinity``, numbers out of a double's range and
    duplicate keys are refused. Parsers disagree on them (which duplicate wins, what an
    infinite amount means), so a body that depends on them is not trusted."""
    try:
        return json.loads(
            text,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except _StrictJsonError as problem:
        raise MalformedPayload(f"{what} is not valid JSON: {problem}") from None
    except (ValueError, RecursionError):
        raise MalformedPayload(f"{what} is not valid JSON") from None


class _StrictJsonError(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _StrictJsonError("NaN and Infinity are not JSON numbers")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _StrictJsonError("a number is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _StrictJsonError("an object has a duplicate key")
        result[key] = value
    return result


_SURROGATE = re.compile("[\ud800-\udfff]")


def decode_text(raw: bytes, charset: str | None) -> str:
    """Decode with the declared charset (UTF-8 when unknown or unusable), replacing undecodable
    bytes, and the lone surrogates a UTF-7 or unicode-escape text can decode to (no encoder
    takes them: the rebuilt message could not be written)."""
    try:
        text = raw.decode(charset or "utf-8", "replace")
        return _SURROGATE.sub("\ufffd", text)
    # LookupError: no such codec, or not a text one (base64); UnicodeError: a codec that fails
    # whatever the error handler (idna, punycode, undefined); ValueError: a name with a NUL.
    except (LookupError, UnicodeError, ValueError):
        return raw.decode("utf-8", "replace")


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """``("multipart/form-data", {"boundary": …})`` from a Content-Type header."""
    mimetype, options = parse_options_header(content_type or "")
    return mimetype.lower(), options


def parse_form(body: bytes, content_type: str | None, *, max_bytes: int) -> Form:
    """Parse a multipart or urlencoded body; anything else is a 415."""
    mimetype, options = media_type(content_type)
    if mimetype == "multipart/form-data":
        boundary = _usable_boundary(options.get("boundary", ""))
        if boundary is None:
            raise MalformedPayload("multipart body without a usable boundary")
        return _parse_multipart(body, boundary, max_bytes)
    if mimetype == "application/x-www-form-urlencoded":
        return _parse_urlencoded(body)
    raise UnsupportedMediaType("expected multipart/form-data or application/x-www-form-urlencoded")


def _usable_boundary(boundary: str) -> bytes | None:
    if not boundary or len(boundary) > _MAX_BOUNDARY:
        return None
    return boundary.encode("latin-1", "replace")


_MAX_BOUNDARY = 200


def header_line_text(line: bytes) -> str:
    """A part's header line as text: UTF-8, or Latin-1 when it is not valid UTF-8.

    Providers send part headers in UTF-8, but a filename can arrive as the sender's raw bytes
    (``filename="caf\xe9.pdf"``); werkzeug decodes header lines as strict UTF-8 and refuses the
    whole form for one such byte, losing the email over an attachment's name. Latin-1 gives
    every byte a character (HTTP's own reading of header bytes), so the line still parses and
    the name is kept as close as it can be; the rebuild cleans it like any filename."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


class LenientMultipartDecoder(MultipartDecoder):
    """werkzeug's decoder, reading each part header line with :func:`header_line_text`."""

    def _parse_headers(self, data: bytes | bytearray) -> Headers:
        block = bytes(data)
        if not block.isascii():
            lines = block.splitlines(keepends=True)  # the same line breaks werkzeug splits on
            block = b"".join(header_line_text(line).encode("utf-8") for line in lines)
        return super()._parse_headers(block)


def _parse_multipart(body: bytes, boundary: bytes, max_bytes: int) -> Form:
    canonical = _parse_canonical_multipart(body, boundary, max_bytes)
    if canonical is not None:
        return canonical
    return decode_form(multipart_decoder(boundary, max_bytes), body)


def decode_form(decoder: MultipartDecoder, body: bytes) -> Form:
    """The form ``decoder`` reads from the whole ``body``, or the intake's refusal."""
    form = Form()
    current: Field | File | None = None
    chunks: list[bytes] = []
    try:
        decoder.receive_data(body)
        decoder.receive_data(None)
        while True:
            event = decoder.next_event()
            if isinstance(event, (Field, File)):
                current, chunks = event, []
            elif isinstance(event, Data):
                chunks.append(event.data)
                if not event.more_data and current is not None:
                    _add_part(form, current, b"".join(chunks))
                    current = None
            elif isinstance(event, Epilogue):
                break
            elif isinstance(event, NeedData):
                raise MalformedPayload("multipart body ends before its closing boundary")
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"multipart body has more than {MAX_FORM_PARTS} parts") from None
    except ValueError:  # werkzeug: missing Content-Disposition, truncated body, bad bytes
        raise MalformedPayload("multipart body is malformed") from None
    return form


def _parse_canonical_multipart(body: bytes, boundary: bytes, max_bytes: int) -> Form | None:
    """The form werkzeug's decoder gives, for a body in the shape providers send: CRLF line
    breaks, no preamble, each ``--boundary`` directly after a CRLF and directly followed by
    CRLF or by the closing ``--``, header blocks without folded lines or lone CR/LF, at most
    :data:`MAX_FORM_PARTS` parts, the whole within ``max_bytes``. ``None`` for anything else:
    werkzeug then decodes the body, and refuses what it refuses.

    On such a body werkzeug's decoder reaches exactly these parts (its patterns can only match
    where this finds the delimiter), but it copies the body into its own buffer and each part
    out of it twice; here each part is one slice of the body. Headers are read as werkzeug
    reads them (its ``Headers``, ``parse_options_header`` and event classes), and each part
    goes through :func:`_add_part` in the same order."""
    delimiter = b"--" + boundary
    if len(body) > max_bytes or not body.startswith(delimiter + b"\r\n"):
        return None
    form = Form()
    position = len(delimiter) + 2
    for _ in range(MAX_FORM_PARTS):
        blank = body.find(b"\r\n\r\n", position)
        event = None if blank == -1 else _canonical_part_headers(body[position:blank])
        if event is None:
            return None
        # the part's data starts after the blank line; it ends at the first delimiter (a
        # match of werkzeug's pattern needs one), which must follow a CRLF: the CRLF belongs
        # to the delimiter, as it does for werkzeug (an empty part's is the blank line's)
        found = body.find(delimiter, blank + 2)
        after = found + len(delimiter)
        closing = body[after : after + 2]
        if found == -1 or body[found - 2 : found] != b"\r\n" or closing not in (b"--", b"\r\n"):
            return None
        _add_part(form, event, body[blank + 4 : max(blank + 4, found - 2)])
        if closing == b"--":
            return form  # what follows is the epilogue, which werkzeug ignores too
        position = after + 2
    return None  # more parts than allowed: werkzeug refuses the body


_CANONICAL_HEADER_BYTES = 4096
_CANONICAL_HEADER_LINES = 16


def _canonical_part_headers(block: bytes) -> Field | File | None:
    """A part's header block as werkzeug's decoder reads it, when it has only CRLF line breaks,
    no folded line and the size of a provider's (a few lines; a block past
    :data:`_CANONICAL_HEADER_BYTES` or :data:`_CANONICAL_HEADER_LINES` is left to werkzeug, so
    a hostile body is never read line by line twice); ``None`` otherwise, and when werkzeug
    would refuse it."""
    if len(block) > _CANONICAL_HEADER_BYTES or block.count(b"\n") >= _CANONICAL_HEADER_LINES:
        return None
    headers: list[tuple[str, str]] = []
    for raw in block.split(b"\r\n"):
        if b"\r" in raw or b"\n" in raw or raw[:1] in (b" ", b"\t"):
            return None
        line = raw.strip(b" \t")
        if line:
            key, _, value = header_line_text(line).partition(":")
            headers.append((key.strip(" \t"), value.strip(" \t")))
    parsed = Headers(headers)
    if "content-disposition" not in parsed:
        return None
    _, options = parse_options_header(parsed["content-disposition"])
    name = options.get("name")  # may be absent: _add_part refuses the part, as werkzeug's does
    filename = options.get("filename")
    if filename is not None:
        return File(filename=filename, headers=parsed, name=name)  # type: ignore[arg-type]
    return Field(headers=parsed, name=name)  # type: ignore[arg-type]


def multipart_decoder(boundary: bytes, max_bytes: int) -> MultipartDecoder:
    """werkzeug's decoder with lenient part headers, bounded in parts and size, finding each
    part's end with :class:`BoundarySearch` (the same match, found by ``find`` instead of a full
    regex scan)."""
    decoder = LenientMultipartDecoder(boundary, max_bytes, max_parts=MAX_FORM_PARTS)
    pattern = getattr(decoder, "boundary_re", None)
    if isinstance(pattern, re.Pattern):  # werkzeug 3.1's attribute; without it, its own search
        decoder.boundary_re = BoundarySearch(pattern, boundary)  # type: ignore[assignment]
    return decoder


class BoundarySearch:
    """``pattern.search(data)`` for werkzeug's part-end pattern, without scanning the part.

    The pattern is a line break (CR LF, LF or CR), ``--``, the boundary and what may follow it.
    It begins with an alternation, so the regex engine cannot skip ahead to a literal and tries
    every position of the part (about 1 ms for a 250 KB form). Every match has ``--boundary``
    one or two bytes after its start, so the leftmost match is found by looking for that literal
    with ``bytes.find`` (C speed) and trying the pattern only one and two bytes before each
    occurrence, in order: the same :class:`re.Match` the full search returns. After
    :data:`FIND_TRIES` occurrences that are not a match (a hostile body full of
    ``--boundary`` text) it hands the rest of the search to the pattern itself, so the Python
    work per search stays bounded."""

    FIND_TRIES = 16

    def __init__(self, pattern: re.Pattern[bytes], boundary: bytes) -> None:
        self.pattern = pattern
        self.delimiter = b"--" + boundary

    def search(self, data: bytes | bytearray, pos: int = 0) -> re.Match[bytes] | None:
        match_at = self.pattern.match
        at = data.find(self.delimiter, pos)
        for _ in range(self.FIND_TRIES):
            if at == -1:
                return None
            for start in (at - 2, at - 1):
                if start >= pos:
                    match = match_at(data, start)
                    if match is not None:
                        return match
            at = data.find(self.delimiter, at + 1)
        # every start before at - 2 was tried: the pattern searches on from there
        return None if at == -1 else self.pattern.search(data, max(pos, at - 2))


def _add_part(form: Form, event: Field | File, data: bytes) -> None:
    if not isinstance(event.name, str) or not event.name:
        raise MalformedPayload("multipart part without a name")
    if isinstance(event, File):
        part = Part(event.name, data, event.filename, event.headers.get("content-type"))
        form.files.setdefault(event.name, part)
    else:
        form.fields.setdefault(event.name, data)


def _parse_urlencoded(body: bytes) -> Form:
    try:
        text = body.decode("ascii")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_PARTS,
        )
    except UnicodeDecodeError:
        raise MalformedPayload("urlencoded body is not valid (non-ASCII or bad UTF-8)") from None
    except ValueError:
        raise PayloadTooLarge(f"urlencoded body has more than {MAX_FORM_PARTS} fields") from None
    form = Form()
    for name, value in pairs:
        form.fields.setdefault(name, value.encode("utf-8"))
    return form


def salvage_fields(body: bytes, content_type: str | None, names: Collection[str]) -> dict[str, str]:
    """The first value of each of ``names``, read without refusing anything from a body that
    :func:`parse_form` refused; only short printable ASCII values are kept.

    For credentials a provider sends as plain form fields (Mailgun's ``timestamp``, ``token``
    and ``signature``): they can still be checked when some other part of the form is odd, so
    an authentic request is known as one and its body kept. The body is read as multipart when
    the Content-Type gives a boundary, or when it starts with ``--`` (its first line is then the
    delimiter), else as urlencoded. Nothing found here is trusted: the caller verifies it."""
    mimetype, options = media_type(content_type)
    boundary = _usable_boundary(options.get("boundary", ""))
    if mimetype == "application/x-www-form-urlencoded" or (
        boundary is None and not body.startswith(b"--")
    ):
        found = _urlencoded_fields(body)
    else:
        found = _multipart_fields(body, boundary or _first_line_boundary(body))
    values: dict[str, str] = {}
    for name, text in found:
        value = text.strip()
        if name in names and name not in values and _plain(value):
            values[name] = value
            if len(values) == len(names):
                break
    return values


_MAX_SALVAGED = 1024
_SALVAGE_HEAD = 4096  # how far into a part its header block is looked for
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_URLENCODED_FIELD = re.compile(rb"[^&]+")


def _plain(value: str) -> bool:
    return 0 < len(value) <= _MAX_SALVAGED and value.isascii() and value.isprintable()


def _first_line_boundary(body: bytes) -> bytes:
    first = body[2 : 2 + _MAX_BOUNDARY + 2].split(b"\n", 1)[0]
    return first.rstrip(b"\r \t") or b"-"


def _multipart_fields(body: bytes, boundary: bytes) -> Iterator[tuple[str, str]]:
    """``(name, data)`` of each short part between two delimiters (or the last delimiter and
    the end of the body), in the first :data:`MAX_FORM_PARTS` parts, as many as a form may
    have (a body of delimiters costs no more); a part whose header block or name cannot be
    read is skipped."""
    delimiter = b"--" + boundary
    at = body.find(delimiter)
    for _ in range(MAX_FORM_PARTS):
        if at == -1:
            return
        start = at + len(delimiter)
        at = body.find(delimiter, start)
        end = len(body) if at == -1 else at
        blank = _BLANK_LINE.search(body, start, min(end, start + _SALVAGE_HEAD))
        if blank is None or end - blank.end() > _MAX_SALVAGED + 4:
            continue
        name = _part_name(body[start : blank.start()])
        if name is not None:
            yield name, body[blank.end() : end].decode("ascii", "replace")


def _part_name(block: bytes) -> str | None:
    for line in block.splitlines():
        key, _, value = header_line_text(line).partition(":")
        if key.strip(" \t").lower() == "content-disposition":
            name = parse_options_header(value.strip(" \t"))[1].get("name")
            return name if isinstance(name, str) else None
    return None


def _urlencoded_fields(body: bytes) -> Iterator[tuple[str, str]]:
    """``(name, value)`` of the first :data:`MAX_FORM_PARTS` fields, as many as a form may have."""
    for match in itertools.islice(_URLENCODED_FIELD.finditer(body), MAX_FORM_PARTS):
        if match.end() - match.start() <= 4 * _MAX_SALVAGED:  # a field of ours is short
            name, _, value = match.group().decode("ascii", "replace").partition("=")
            yield unquote_plus(name), unquote_plus(value)
