"""Header values that stay one header line after RFC 2047 decoding.

Removing CR/LF from a value is not enough: an encoded word (``=?utf-8?q?a=0D=0AX:_y?=``) is
plain printable ASCII, and whoever sets it as a header with the stdlib (the MIME we rebuild,
the mail we send) decodes it and folds the decoded CR LF as it is, which writes a header of
its own. :func:`settle_encoded_words` decodes every encoded word the way the stdlib's header
parsers would, and when one of them hides a line break or another control character the value
is replaced by its decoded text, cleaned; that text may itself contain encoded words (an
encoded encoded word), so this repeats until nothing dangerous is left.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Callable

# Anything the stdlib (or a mail client) could read as a line break or a control: the C0
# controls, DEL, NEL, LINE and PARAGRAPH SEPARATOR.
UNSAFE = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
# Lenient on purpose: the stdlib decodes encoded words inside quoted strings and without the
# surrounding whitespace RFC 2047 asks for, so any such sequence counts.
_ENCODED_WORD = re.compile(r"=\?([^?\s]*)\?([qQbB])\?([^?]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_MAX_ROUNDS = 4


def _word_bytes(encoding: str, text: str) -> bytes:
    try:
        raw = text.encode("utf-8", "surrogateescape")  # non-ASCII does not belong; kept
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    if encoding in "qQ":
        raw = raw.replace(b"_", b" ")
        return _QP_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    padded = raw + b"=" * (-len(raw) % 4)
    try:
        return base64.b64decode(padded)
    except (binascii.Error, ValueError):
        return raw


def _decode_word(match: re.Match[str]) -> str:
    charset = match.group(1).split("*", 1)[0] or "ascii"  # RFC 2231 language suffix
    data = _word_bytes(match.group(2), match.group(3))
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "latin-1"  # every byte a character: a control byte stays visible
    try:
        return data.decode(charset, "replace")
    except (UnicodeError, ValueError, TypeError):
        return data.decode("latin-1")


def _word_unsafe(match: re.Match[str]) -> bool:
    # Checked in the declared charset, as UTF-8 (what readers fall back to for a charset they
    # do not know) and byte by byte: a control that is not a single byte in the charset
    # (UTF-16) shows in the first, one a lenient decoder would keep in the others.
    data = _word_bytes(match.group(2), match.group(3))
    readings = (_decode_word(match), data.decode("utf-8", "replace"), data.decode("latin-1"))
    return any(UNSAFE.search(text) for text in readings)


def decode_encoded_words(value: str) -> str:
    """``value`` with every encoded word replaced by its decoded text."""
    return _ENCODED_WORD.sub(_decode_word, value)


def hides_control(value: str) -> bool:
    """True when decoding an encoded word of ``value`` gives a line break or a control, at any
    depth: an encoded word whose text is itself an encoded word is written back as that text
    when the value is folded, and decoded by the next reader."""
    for _ in range(_MAX_ROUNDS):
        if "=?" not in value:
            return False
        if any(_word_unsafe(m) for m in _ENCODED_WORD.finditer(value)):
            return True
        decoded = decode_encoded_words(value)
        if decoded == value:
            return False
        value = decoded
    return True  # more layers than any sender needs: treated as hiding one


def settle_encoded_words(value: str, clean: Callable[[str], str]) -> str | None:
    """``value`` as it is when no encoded word in it decodes to a control character; else its
    decoded text passed through ``clean`` (repeated for encoded encoded words); ``None`` when
    it still hides one after a few rounds (the caller drops the header)."""
    for _ in range(_MAX_ROUNDS):
        if not hides_control(value):
            return value
        value = clean(decode_encoded_words(value))
    return None if hides_control(value) else value
