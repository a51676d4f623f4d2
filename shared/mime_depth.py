"""How deeply a stored or received message may nest its MIME parts: one limit for the webhook
and the processor.

The stdlib's parser recurses once per level (multiparts and attached messages) and raises
``RecursionError`` somewhere between 600 and 1,000 levels, depending on how deep the calling
stack already is. Real mail nests a handful of levels (a forward of a forward with a signed
part is about 6), so :data:`MAX_MIME_DEPTH` sits far above it and far below the stdlib's
limit: a message nested deeper is refused by the webhook (4xx, body kept under ``rejected/``
when authenticated) and, if one is already stored, fails permanently in the processor with a
report.
"""

from __future__ import annotations

import email
from email.message import Message
from email.policy import Policy

MAX_MIME_DEPTH = 100


class MimeTooDeep(Exception):
    """The message nests its parts deeper than :data:`MAX_MIME_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(f"MIME parts nested more than {MAX_MIME_DEPTH} levels deep")


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
    """Parse ``raw`` with ``policy``; :class:`MimeTooDeep` when it nests too deeply (also when
    the stdlib's parser itself runs out of recursion on it)."""
    try:
        message = email.message_from_bytes(raw, policy=policy)
    except RecursionError:
        raise MimeTooDeep() from None
    if nesting_depth(message) > MAX_MIME_DEPTH:
        raise MimeTooDeep()
    return message
