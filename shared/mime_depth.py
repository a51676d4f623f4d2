"""How deeply a stored or received message may nest its MIME parts, and how many it may have:
one pair of limits for the webhook and the processor, enforced while the message is parsed.

The stdlib's parser costs more than recursion at depth: every line of a part is matched
against the boundary of every multipart still open around it, so its CPU time grows with
lines × open boundaries (600 KB of short lines nested 100 levels deep took seconds), and it
recurses once per level, raising ``RecursionError`` somewhere between 600 and 1,000 levels.
:func:`parse_within_depth` therefore counts the parts open while the parser runs and stops
it the moment one more would pass :data:`MAX_MIME_DEPTH`: a message nested deeper costs no
more than the lines read before that point, and the lines of an accepted message are matched
against at most ``MAX_MIME_DEPTH`` boundaries.

:data:`MAX_MIME_DEPTH` is 30. Real mail nests a handful of levels: a signed message with text,
HTML and inline images is about 4, and each forward as an attachment adds 2 or 3
(``multipart/mixed``, ``message/rfc822``, the forwarded message's own alternative), so ten
forwards inside one another still fit. A message nested deeper is refused by the webhook (4xx,
body kept under ``rejected/`` when authenticated) and, if one is already stored, fails
permanently in the processor with a report.

Width costs too: the parser builds one message object per part, about 70 µs each, so 700 KB of
empty parts (100,000 of them) took 7 s of CPU. The same count stops the parser once the message
holds more than :data:`MAX_MIME_PARTS` parts, with :class:`MimeTooManyParts`, refused and failed
exactly like a message nested too deep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.feedparser import BufferedSubFile, BytesFeedParser  # type: ignore[attr-defined]
from email.message import Message
from email.policy import Policy
from typing import Any

MAX_MIME_DEPTH = 30
# Parts of one message, itself included. Real mail has a few dozen at most and the webhook takes
# at most 500 attachments from a provider's fields, so this leaves wide room while bounding the
# parse to about 0.15 s of CPU.
MAX_MIME_PARTS = 2_000

# What the stdlib's parser and header parsers raise on hostile input (an IndexError for a
# parameter named ``filename*0*``), besides recursion, which callers handle on their own.
MIME_PARSE_ERRORS = (ValueError, TypeError, LookupError, AttributeError, AssertionError, IndexError)


class MimeTooDeep(Exception):
    """The message nests its parts deeper than :data:`MAX_MIME_DEPTH`."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or f"MIME parts nested more than {MAX_MIME_DEPTH} levels deep")


class MimeTooManyParts(MimeTooDeep):
    """The message has more than :data:`MAX_MIME_PARTS` parts. A kind of :class:`MimeTooDeep`
    so that every caller refusing a message too deep refuses this one the same way."""

    def __init__(self) -> None:
        super().__init__(f"MIME message has more than {MAX_MIME_PARTS} parts")


# How the stdlib's parser writes the pattern of an open multipart's boundary line (Python
# 3.8 to 3.13): the escaped separator between these two.
_SEP_START = "(?P<sep>"
_SEP_END = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


class _BoundaryLines(BufferedSubFile):  # type: ignore[misc]  # no stub
    """The parser's line buffer, with a short cut in front of the boundary check. The stdlib
    matches every line against the pattern of every open multipart in turn; here the
    separators of the open multiparts are also kept in a set, and a line that cannot be one
    of them (``--separator``, an optional ``--``, blanks and the line break) is returned
    without that loop. Should the stdlib ever write its patterns differently, the short cut
    turns itself off and every line takes the stdlib's own path."""

    def __init__(self) -> None:
        super().__init__()
        self._separators: list[str | None] = []
        self._unknown = 0  # open multiparts whose separator could not be read

    def push_eof_matcher(self, pred: Any) -> None:
        source = getattr(getattr(pred, "__self__", None), "pattern", None)
        separator = None
        if isinstance(source, str) and source.startswith(_SEP_START) and source.endswith(_SEP_END):
            separator = _UNESCAPE.sub(r"\1", source[len(_SEP_START) : -len(_SEP_END)])
        self._separators.append(separator)
        self._unknown += separator is None
        super().push_eof_matcher(pred)

    def pop_eof_matcher(self) -> Any:
        self._unknown -= self._separators.pop() is None
        return super().pop_eof_matcher()

    def readline(self) -> Any:
        lines = self._lines
        if lines and not self._unknown:
            line = lines[0]
            if not line.startswith("--"):
                return lines.popleft()
            candidate = line.rstrip("\r\n").rstrip(" \t")
            if candidate not in self._separators and (
                not candidate.endswith("--") or candidate[:-2] not in self._separators
            ):
                return lines.popleft()
        return super().readline()


class _DepthBoundedParser(BytesFeedParser):
    """The stdlib's feed parser, stopped when a part would open below :data:`MAX_MIME_DEPTH`
    levels or past :data:`MAX_MIME_PARTS` parts. The parser opens one ``_parsegen`` generator
    per part (multipart, attached message or leaf) and nests them as the parts nest, so
    counting the open ones counts the current depth, and counting every one opened counts the
    parts; the top-level message is the first."""

    def __init__(self, policy: Policy) -> None:
        self._open_parts = 0
        self._parts = 0
        super().__init__(policy=policy)
        self._input = _BoundaryLines()  # before anything is fed

    def _parsegen(self) -> Iterator[Any]:
        self._open_parts += 1
        self._parts += 1
        try:
            if self._open_parts > MAX_MIME_DEPTH + 1:
                raise MimeTooDeep()
            if self._parts > MAX_MIME_PARTS:
                raise MimeTooManyParts()
            yield from super()._parsegen()  # type: ignore[misc]
        finally:
            self._open_parts -= 1


def nesting_depth(message: Message) -> int:
    """Levels of multiparts and attached messages below ``message`` (0 for a single part);
    walked without recursion."""
    deepest = 0
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend((child, depth + 1) for child in payload if isinstance(child, Message))
    return deepest


def parse_within_depth(raw: bytes, policy: Policy) -> Message:
    """Parse ``raw`` with ``policy``; :class:`MimeTooDeep` as soon as a part opens deeper
    than the limit (also when the stdlib's parser itself runs out of recursion on it), and
    :class:`MimeTooManyParts` as soon as one part too many opens. Anything else the stdlib
    raises on hostile input (:data:`MIME_PARSE_ERRORS`) is the caller's to handle."""
    parser = _DepthBoundedParser(policy)
    try:
        parser.feed(raw)
        message: Message = parser.close()
    except RecursionError:
        raise MimeTooDeep() from None
    if nesting_depth(message) > MAX_MIME_DEPTH:  # what the count above cannot see, if any
        raise MimeTooDeep()
    return message
