"""Header values that stay one header line after RFC 2047 decoding.

Removing CR/LF from a value is not enough: an encoded word (``=?utf-8?q?a=0D=0AX:_y?=``) is
plain printable ASCII, and whoever sets it as a header with the stdlib (the MIME we rebuild,
the mail we send) decodes it and folds the decoded CR LF as it is, which writes a header of
its own. :func:`settle_encoded_words` decodes every encoded word the way the stdlib's header
parsers would, and when one of them hides a line break or another control character the value
is replaced by its decoded text, cleaned; that text may itself contain encoded words (an
encoded encoded word), so this repeats until nothing dangerous is left. Encoded words are
decoded with the stdlib's own transfer decoders (``email._encoded_words``), so a word the
stdlib reads leniently (base64 with a stray character) is read the same way here.

That decision looks at the value before the stdlib parses it; :func:`stored_header` is the
guard after it: it takes the header object the policy itself would store and refuses it when
its decoded text or its folded lines hold a line break or a control character, whatever the
reason (an encoded-word form this module does not know, a stdlib change).
"""

from __future__ import annotations

import codecs
import email.errors
import re
from collections.abc import Callable
from email import _encoded_words  # type: ignore[attr-defined]  # no stub; stdlib since 3.3
from email.policy import Policy
from typing import Any

# Anything the stdlib (or a mail client) could read as a line break or a control: the C0
# controls, DEL, NEL, LINE and PARAGRAPH SEPARATOR.
UNSAFE = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
# Lenient on purpose: the stdlib decodes encoded words inside quoted strings, without the
# surrounding whitespace RFC 2047 asks for and with whitespace in the charset (its parser
# splits the word on "?", not on spaces), so any such sequence counts. A "?" inside the
# encoded text makes the stdlib's parser refuse the word, so the text stops at one (which
# also keeps the search linear on long values).
_ENCODED_WORD = re.compile(r"=\?([^?]*)\?([qQbB])\?([^?]*)\?=")
_MAX_ROUNDS = 4
# A fold is a line break followed by whitespace; any other CR, LF or NUL in the written lines
# starts a header line of its own (or ends the header block).
_BREAK_BYTES = re.compile(rb"[\r\n\x00]")
# What the stdlib's header parser and folder are known to raise on odd input; RecursionError:
# it recurses once per nested comment, so a few hundred unclosed "(" exhaust the stack;
# OverflowError: a Date whose zone offset has twenty digits.
HEADER_ERRORS = (
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    RecursionError,
    OverflowError,
    email.errors.MessageError,
)


def _word_bytes(encoding: str, text: str) -> bytes:
    """The encoded text's bytes as the stdlib's header parser decodes them (its own q and b
    decoders: base64 with a character outside the alphabet is retried leniently there, so a
    strict decode here would miss what the stdlib then writes)."""
    try:
        raw = text.encode("utf-8", "surrogateescape")  # non-ASCII does not belong; kept
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    decode = _encoded_words.decode_q if encoding in "qQ" else _encoded_words.decode_b
    data: bytes = decode(raw)[0]
    return data


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


def breaks_line(policy: Policy, name: str, header: Any) -> bool:
    """True when ``header`` (as the policy stores it) decodes to a line break or a control
    character, when its folded lines hold a CR, LF or NUL that is not a fold, or when those
    lines, read back as the policy's parser reads a received header, decode to one."""
    return _written(policy, name, header) is None


def _written(policy: Policy, name: str, header: Any) -> bytes | None:
    """``header``'s folded lines as the policy writes them, or ``None`` when they or what
    they decode to would break the line (see :func:`breaks_line`)."""
    if _unsafe_text(header):
        return None
    folded: bytes = policy.fold_binary(name, header)
    return folded if reads_as_one_line(policy, name, folded) else None


def reads_as_one_line(policy: Policy, name: str, folded: bytes) -> bool:
    """True when ``folded`` (a header's lines as written, ending with the policy's line
    separator) holds no CR, LF or NUL but its folds, and those lines, read back as the policy's
    parser reads a received header, decode to no line break or control. Raises what the
    stdlib's header parser raises (:data:`HEADER_ERRORS`) on a value it cannot read."""
    linesep = policy.linesep.encode("ascii")
    unfolded = folded.removesuffix(linesep)
    for fold in (linesep + b" ", linesep + b"\t"):
        unfolded = unfolded.replace(fold, b" ")
    if _BREAK_BYTES.search(unfolded):
        return False
    written = unfolded.partition(b":")[2].lstrip(b" \t").decode("ascii", "surrogateescape")
    return not _unsafe_text(policy.header_fetch_parse(name, written))


def _unsafe_text(header: Any) -> bool:
    texts = [str(header)]
    params = getattr(header, "params", None)
    if params:
        texts += [str(value) for value in params.values()]
    return any(UNSAFE.search(text) for text in texts)


def stored_header(
    policy: Policy, name: str, value: str, flatten: Callable[[str], str]
) -> tuple[Any, bytes] | None:
    """``(the header object policy stores for value, its folded lines)``, checked as it will
    be written: when its decoded text or its folded form would break the line, the decoded
    text is passed through ``flatten`` and stored again; ``None`` when even that breaks it or
    cannot be stored (the caller drops the header)."""
    for _ in range(2):
        try:
            header = policy.header_store_parse(name, value)[1]
            folded = _written(policy, name, header)
            if folded is not None:
                return header, folded
            value = flatten(str(header))
        except HEADER_ERRORS:
            return None
    return None
