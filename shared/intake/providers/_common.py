"""Helpers the provider modules share."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared.intake.errors import MalformedPayload

_DIGITS = re.compile(r"^[0-9]{1,4}$")
MAX_ATTACHMENTS = 500


def attachment_count(value: str | None, field_name: str) -> int | None:
    """A small non-negative count, or ``None`` when the field is absent."""
    if value is None or value == "":
        return None
    if not _DIGITS.match(value.strip()) or int(value) > MAX_ATTACHMENTS:
        raise MalformedPayload(f"field {field_name!r} is not a valid count")
    return int(value)


def numbered(names: Iterable[str], prefix: str) -> list[tuple[int, str]]:
    """``[(1, "attachment-1"), …]`` for names ``prefix<N>``, sorted by N."""
    found = []
    for name in names:
        suffix = name[len(prefix) :] if name.startswith(prefix) else ""
        if suffix.isascii() and suffix.isdigit() and len(suffix) <= 4:
            found.append((int(suffix), name))
    return sorted(found)


def merge_headers(
    primary: list[tuple[str, str]], fallback: Iterable[tuple[str, str | None]]
) -> list[tuple[str, str]]:
    """``primary`` plus each ``fallback`` header whose name ``primary`` lacks."""
    present = {name.lower() for name, _ in primary}
    merged = list(primary)
    for name, value in fallback:
        if value and name.lower() not in present:
            merged.append((name, value))
            present.add(name.lower())
    return merged
