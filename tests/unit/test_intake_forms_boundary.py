"""Multipart bodies decode as werkzeug's decoder alone decodes them (with part header lines that
are not UTF-8 read as Latin-1), faster: the :class:`~shared.intake.forms.BoundarySearch` gives
the same match as the pattern's full search on any data, the canonical path (bodies in the shape
providers send) gives the same form, and anything else goes to werkzeug; the form or the refusal
is the same on any body, well formed or not."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.sansio.multipart import MultipartDecoder

from shared.intake import forms
from shared.intake.errors import IntakeRejection

BOUNDARY = b"b0und"


def plain_form(body: bytes, boundary: bytes, max_bytes: int) -> forms.Form:
    """The reference: werkzeug's decoder with its own search, part headers read leniently."""
    decoder = forms.LenientMultipartDecoder(boundary, max_bytes, max_parts=forms.MAX_FORM_PARTS)
    return forms.decode_form(decoder, body)


def werkzeug_form(body: bytes, boundary: bytes, max_bytes: int) -> forms.Form:
    """werkzeug's own decoder, as it is."""
    decoder = MultipartDecoder(boundary, max_bytes, max_parts=forms.MAX_FORM_PARTS)
    return forms.decode_form(decoder, body)


def outcome(parse: object, body: bytes, max_bytes: int = 10**7) -> object:
    try:
        form = parse(body, BOUNDARY, max_bytes)  # type: ignore[operator]
    except IntakeRejection as rejection:
        return (type(rejection).__name__, rejection.status, rejection.code, rejection.message)
    return (form.fields, form.files)


def canonical_outcome(body: bytes, max_bytes: int = 10**7) -> object:
    """What the canonical path alone gives: ``None`` when it leaves the body to werkzeug."""

    def canonical_or_none(body: bytes, boundary: bytes, max_bytes: int) -> object:
        form = forms._parse_canonical_multipart(body, boundary, max_bytes)
        if form is None:
            raise LookupError
        return form

    try:
        return outcome(canonical_or_none, body, max_bytes)
    except LookupError:
        return None


line_breaks = st.sampled_from([b"\r\n", b"\n", b"\r"])
# data that looks like the framing: boundaries with and without line breaks, partial ones
pieces = st.sampled_from(
    [
        b"--b0und",
        b"\r\n--b0und",
        b"\n--b0und--",
        b"\r\n--b0un",
        b"--b0und--\r\n",
        b"\r",
        b"\n",
        b"\r\n\r\n",
        b"-",
        b"x",
        b'Content-Disposition: form-data; name="z"',
    ]
)
data = st.lists(st.one_of(pieces, st.binary(max_size=40)), max_size=12).map(b"".join)


@st.composite
def multipart_bodies(draw: st.DrawFn, newlines: st.SearchStrategy[bytes] = line_breaks) -> bytes:
    newline = draw(newlines)
    out = [draw(st.sampled_from([b"", b"preamble" + newline]))]
    for index in range(draw(st.integers(0, 5))):
        out.append(b"--" + BOUNDARY + draw(st.sampled_from([b"", b" "])) + newline)
        disposition = b'Content-Disposition: form-data; name="f%d"' % index
        if draw(st.booleans()):
            disposition += b'; filename="a%d.bin"' % index
        if draw(st.integers(0, 9)) > 0:
            out.append(disposition + newline)
        if draw(st.booleans()):
            out.append(b"Content-Type: application/pdf" + newline)
        out.append(newline + draw(data) + newline)
    if draw(st.integers(0, 9)) > 0:
        out.append(b"--" + BOUNDARY + b"--" + newline)
    out.append(draw(st.sampled_from([b"", b"epilogue", b"--b0und\r\n"])))
    body = b"".join(out)
    if draw(st.integers(0, 4)) == 0 and body:  # cut or spliced anywhere
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.sampled_from([b"", b"\r", b"--b0und", b"\xff\xfe"]))
    return body


def spans(match: re.Match[bytes] | None) -> object:
    return None if match is None else (match.span(), match.groups())


def test_the_decoder_uses_the_fast_search() -> None:
    """werkzeug keeps the part-end pattern in ``boundary_re`` (3.1): if an upgrade renames it,
    parsing stays right but slow, and this test says so."""
    decoder = forms.multipart_decoder(BOUNDARY, 10**6)
    assert isinstance(decoder.boundary_re, forms.BoundarySearch)


@settings(max_examples=400, deadline=None, database=None)
@given(
    boundary=st.sampled_from([b"b0und", b"-", b"--", b"a", b"----x"]),
    data=st.lists(st.one_of(pieces, st.binary(max_size=8), line_breaks), max_size=30).map(b"".join),
    pos=st.integers(0, 12),
    tries=st.sampled_from([0, 1, 2, 16]),
)
def test_the_search_finds_what_the_pattern_finds(
    boundary: bytes, data: bytes, pos: int, tries: int
) -> None:
    pattern = MultipartDecoder(boundary).boundary_re
    assert isinstance(pattern, re.Pattern)
    search = forms.BoundarySearch(pattern, boundary)
    search.FIND_TRIES = tries  # type: ignore[misc]
    for variant in (data.replace(b"b0und", boundary), data):
        for buffer in (variant, bytearray(variant)):
            assert spans(search.search(buffer, pos)) == spans(pattern.search(buffer, pos))
            assert spans(search.search(buffer)) == spans(pattern.search(buffer))


@settings(max_examples=300, deadline=None, database=None)
@given(body=multipart_bodies())
def test_any_body_decodes_as_with_werkzeugs_own_search(body: bytes) -> None:
    assert outcome(forms._parse_multipart, body) == outcome(plain_form, body)


def test_many_false_boundaries_fall_back_to_the_pattern() -> None:
    """A part full of ``--boundary`` text that is no boundary (no line break before it): the
    search tries a few, then lets the pattern scan; the result is the same."""
    data = b"x--b0und" * 5_000 + b"\r\n--b0und--\r\n"
    body = b'--b0und\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + data
    form = forms._parse_multipart(body, BOUNDARY, 10**7)
    assert form.fields == {"a": b"x--b0und" * 5_000}
    assert outcome(forms._parse_multipart, body) == outcome(plain_form, body)


def test_large_parts_and_line_break_styles_decode_as_before() -> None:
    big = bytes(range(256)) * 1000 + b"\r\n--b0un" + b"\r" * 5
    for newline in (b"\r\n", b"\n", b"\r"):
        body = newline.join(
            [
                b"--b0und",
                b'Content-Disposition: form-data; name="a"',
                b"",
                big,
                b"--b0und ",
                b'Content-Disposition: form-data; name="f"; filename="x"',
                b"Content-Type: application/pdf",
                b"",
                big[::-1],
                b"--b0und--",
                b"",
            ]
        )
        assert outcome(forms._parse_multipart, body) == outcome(plain_form, body)


def test_too_many_parts_and_too_large_are_refused_as_before() -> None:
    part = b'--b0und\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n'
    many = part * (forms.MAX_FORM_PARTS + 1) + b"--b0und--\r\n"
    assert outcome(forms._parse_multipart, many) == outcome(plain_form, many)
    assert outcome(forms._parse_multipart, many)[0] == "PayloadTooLarge"  # type: ignore[index]
    small = part + b"--b0und--\r\n"
    assert outcome(forms._parse_multipart, small, max_bytes=len(small) - 1) == outcome(
        plain_form, small, max_bytes=len(small) - 1
    )


@settings(max_examples=400, deadline=None, database=None)
@given(body=multipart_bodies(st.just(b"\r\n")))
def test_crlf_bodies_decode_as_with_werkzeug_alone(body: bytes) -> None:
    """CRLF bodies are the ones the canonical path takes (when nothing else is odd)."""
    expected = outcome(plain_form, body)
    assert outcome(forms._parse_multipart, body) == expected
    canonical = canonical_outcome(body)
    assert canonical is None or canonical == expected


canonical_data = st.lists(
    st.one_of(
        st.sampled_from(
            [b"\r\n", b"\r", b"\n", b"\r\n\r\n", b"--", b"b0und", b"\r\n--b0un", b"-b0und", b" "]
        ),
        st.binary(max_size=30),
    ),
    max_size=10,
).map(b"".join)
disposition_lines = st.sampled_from(
    [
        b'Content-Disposition: form-data; name="{n}"',
        b'content-disposition: form-data; name="{n}"; filename="a b.pdf"',
        b"Content-Disposition:form-data;name={n};filename=x",
        b"CONTENT-DISPOSITION: form-data; name=\"{n}\"; filename*=UTF-8''%C3%A9.pdf",
        b'Content-Disposition: form-data; name="q\\"{n}"',
        b"Content-Disposition: form-data",
        b'Content-Disposition: form-data; filename="only-{n}"',
        b'Content-Disposition: form-data; name="{n}" ',
        'Content-Disposition: form-data; name="\u00e9{n}"'.encode(),
    ]
)
other_lines = st.sampled_from(
    [b"", b"Content-Type: application/pdf", b"X-Any: thing", b"  ", b"NoColon", b":empty"]
)


@st.composite
def canonical_bodies(draw: st.DrawFn) -> bytes:
    """Bodies in the shape providers send, with data and headers that come close to the
    framing (and now and then a real delimiter inside a part's data)."""
    out = b""
    for index in range(draw(st.integers(1, 5))):
        lines = [
            draw(disposition_lines).replace(b"{n}", b"%d" % index),
            *draw(st.lists(other_lines, max_size=2)),
        ]
        lines = draw(st.permutations(lines))
        out += b"--b0und\r\n" + b"\r\n".join(lines) + b"\r\n\r\n" + draw(canonical_data)
        out += draw(st.sampled_from([b"\r\n", b"\r\n", b"\r\n--b0und\r\n"]))
    return out + draw(st.sampled_from([b"--b0und--\r\n", b"--b0und--", b"--b0und--tail"]))


@settings(max_examples=500, deadline=None, database=None)
@given(body=canonical_bodies())
def test_canonical_bodies_decode_as_with_werkzeug_alone(body: bytes) -> None:
    expected = outcome(plain_form, body)
    assert outcome(forms._parse_multipart, body) == expected
    canonical = canonical_outcome(body)
    assert canonical is None or canonical == expected


def _provider_body(fields: list[tuple[str, bytes]], files: list[tuple[str, bytes]]) -> bytes:
    out = b""
    for name, value in fields:
        out += b'--b0und\r\nContent-Disposition: form-data; name="%s"\r\n\r\n' % name.encode()
        out += value + b"\r\n"
    for name, value in files:
        out += (
            b'--b0und\r\nContent-Disposition: form-data; name="%s"; filename="s.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n" % name.encode()
        )
        out += value + b"\r\n"
    return out + b"--b0und--\r\n"


def test_provider_shaped_bodies_take_the_canonical_path() -> None:
    from infra.sign_request import encode_multipart

    pdf = bytes(range(256)) * 800 + b"\r\n--b0un\r\n-- b0und\r\n"
    bodies = [
        _provider_body(
            [("body-plain", b"line\r\n" * 5000), ("empty", b"")], [("attachment-1", pdf)]
        ),
        _provider_body([("a", b"\r\n"), ("b", b"\r\n\r\n--")], [("f", b""), ("g", b"\n\r")]),
    ]
    for body in bodies:
        canonical = forms._parse_canonical_multipart(body, BOUNDARY, 10**7)
        assert canonical is not None
        assert (canonical.fields, canonical.files) == outcome(plain_form, body)
    body, content_type = encode_multipart([("from", b"a@b.c"), ("body-plain", b"hi")], [])
    boundary = forms.media_type(content_type)[1]["boundary"].encode()
    assert forms._parse_canonical_multipart(body, boundary, 10**7) is not None


@pytest.mark.parametrize(
    "body",
    [
        b"preamble\r\n" + _provider_body([("a", b"x")], []),  # a preamble
        _provider_body([("a", b"x")], []).replace(b"\r\n", b"\n"),  # LF line breaks
        _provider_body([("a", b"x")], []).replace(b'"a"', b'"a"\r\n\tcontinued'),  # folded
        _provider_body([("a", b"x")], []).replace(b'"a"', b'"a"\rX: y'),  # a lone CR
        _provider_body([("a", b"x"), ("b", b"y")], []).replace(b"b0und\r\nC", b"b0und \r\nC"),
        _provider_body([("a", b"x--b0und"), ("b", b"y")], []),  # the delimiter inside data
        _provider_body([("a", b"x")], []).replace(b"Content-Disposition", b"X-Other"),
        _provider_body([("a", b"x")], [])[:-12],  # no closing delimiter
        _provider_body([("a", b"x")] * (forms.MAX_FORM_PARTS + 1), []),  # too many parts
        _provider_body([("a", b"x")], []).replace(b'"a"', b'"a"' + b"\r\nX: y" * 16),  # long
        _provider_body([("a", b"x")], []).replace(b'"a"', b'"a"\r\nX: ' + b"y" * 4096),
    ],
)
def test_anything_else_is_left_to_werkzeug(body: bytes) -> None:
    assert forms._parse_canonical_multipart(body, BOUNDARY, 10**7) is None
    assert outcome(forms._parse_multipart, body) == outcome(plain_form, body)


def test_a_body_over_the_limit_is_left_to_werkzeug() -> None:
    body = _provider_body([("a", b"x")], [])
    assert forms._parse_canonical_multipart(body, BOUNDARY, len(body) - 1) is None
    refused = outcome(forms._parse_multipart, body, max_bytes=len(body) - 1)
    assert refused == outcome(plain_form, body, max_bytes=len(body) - 1)
    assert refused[0] == "PayloadTooLarge"  # type: ignore[index]


def test_a_part_without_a_name_is_refused_as_before() -> None:
    body = _provider_body([("a", b"x")], []).replace(b'; name="a"', b"")
    assert outcome(forms._parse_multipart, body) == outcome(plain_form, body)
    assert outcome(forms._parse_multipart, body)[0] == "MalformedPayload"  # type: ignore[index]


def _latin1_filename_body(newline: bytes) -> bytes:
    return newline.join(
        [
            b"--b0und",
            b'Content-Disposition: form-data; name="a"',
            b"",
            b"x",
            b'--b0und\r\nContent-Disposition: form-data; name="f"; filename="caf\xe9.pdf"',
            b"Content-Type: application/pdf",
            b"",
            b"%PDF",
            b"--b0und--",
            b"",
        ]
    )


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"], ids=["canonical", "werkzeug"])
def test_a_part_header_that_is_not_utf8_is_read_as_latin1(newline: bytes) -> None:
    """werkzeug refuses the whole form for one raw Latin-1 byte in a filename; both paths read
    the line as Latin-1 instead, so the email and its attachment are kept."""
    body = _latin1_filename_body(newline)
    assert outcome(werkzeug_form, body)[0] == "MalformedPayload"  # type: ignore[index]
    form = forms._parse_multipart(body, BOUNDARY, 10**7)
    assert form.fields == {"a": b"x"}
    assert form.files["f"] == forms.Part("f", b"%PDF", "caf\u00e9.pdf", "application/pdf")
    canonical = forms._parse_canonical_multipart(body, BOUNDARY, 10**7)
    assert (canonical is not None) is (newline == b"\r\n")
    assert outcome(forms._parse_multipart, body) == outcome(plain_form, body)


def test_utf8_part_headers_are_read_as_utf8() -> None:
    body = _latin1_filename_body(b"\r\n").replace(b"caf\xe9", "caf\u00e9 \u4e2d".encode())
    for parse in (forms._parse_multipart, plain_form):
        form = parse(body, BOUNDARY, 10**7)
        assert form.files["f"].filename == "caf\u00e9 \u4e2d.pdf"


def test_the_decoder_reads_part_headers_leniently() -> None:
    """The leniency overrides werkzeug's ``_parse_headers`` (3.1): if an upgrade renames it,
    a Latin-1 filename would refuse the form again, and this test says so."""
    assert callable(getattr(MultipartDecoder, "_parse_headers", None))
    body = _latin1_filename_body(b"\n")
    decoder = forms.multipart_decoder(BOUNDARY, 10**7)
    assert forms.decode_form(decoder, body).files["f"].filename == "caf\u00e9.pdf"


# -- credentials read from a body the parser refused -----------------------------------------

CREDENTIALS = ("timestamp", "token", "signature")


def _credentials_body(newline: bytes = b"\r\n") -> bytes:
    return newline.join(
        [
            b"--b0und",
            b'Content-Disposition: form-data; name="timestamp"',
            b"",
            b"1700000000",
            b"--b0und",
            b"X-No-Disposition: here",
            b"",
            b"odd part",
            b"--b0und",
            b'Content-Disposition: form-data; name="token"',
            b"",
            b"tok-1",
            b"--b0und",
            b'Content-Disposition: form-data; name="signature"',
            b"",
            b"ab" * 32,
            b"--b0und",
            b'Content-Disposition: form-data; name="token"',
            b"",
            b"second-token-ignored",
        ]
    )


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=b0und", "multipart/form-data", "text/csv", None]
)
def test_credentials_are_salvaged_from_a_refused_multipart_body(
    newline: bytes, content_type: str | None
) -> None:
    body = _credentials_body(newline)
    assert outcome(forms._parse_multipart, body)[0] == "MalformedPayload"  # type: ignore[index]
    assert forms.salvage_fields(body, content_type, CREDENTIALS) == {
        "timestamp": "1700000000",
        "token": "tok-1",
        "signature": "ab" * 32,
    }


def test_salvaged_values_are_short_printable_ascii_only() -> None:
    body = (
        _credentials_body()
        .replace(b"tok-1", "t\u00f6k".encode())
        .replace(b"1700000000", b"17\x00")
        .replace(b"ab" * 32, b"ab" * 600)
    )
    assert forms.salvage_fields(body, "multipart/form-data; boundary=b0und", CREDENTIALS) == {
        "token": "second-token-ignored"
    }


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            b"token=t%2D1&timestamp=17&signature=ab&x=\xff",
            "application/x-www-form-urlencoded",
            {"token": "t-1", "timestamp": "17", "signature": "ab"},
        ),
        (b"a=b&token=t+1&token=t2", None, {"token": "t 1"}),
        (b"token=%C3%A9", "application/x-www-form-urlencoded", {}),
        (b"", "multipart/form-data; boundary=b0und", {}),
        (b"--b0und", "multipart/form-data; boundary=b0und", {}),
        (b"{}", "application/json", {}),
    ],
)
def test_salvage_reads_urlencoded_bodies_and_odd_ones_without_raising(
    body: bytes, content_type: str | None, expected: dict[str, str]
) -> None:
    assert forms.salvage_fields(body, content_type, CREDENTIALS) == expected


@settings(max_examples=300, deadline=None, database=None)
@given(
    body=multipart_bodies(),
    content_type=st.sampled_from(
        [None, "multipart/form-data; boundary=b0und", "application/x-www-form-urlencoded"]
    ),
)
def test_salvage_never_raises(body: bytes, content_type: str | None) -> None:
    found = forms.salvage_fields(body, content_type, ("f0", "f1", "f2"))
    assert all(value.isascii() and value.isprintable() for value in found.values())
