"""Splitting the new text of a message from its quoted history.

The quoted part is kept (payment dates and references often live there), only separated.
Recognised, in order of appearance:

- lines starting with ``>`` (any depth), wherever they are;
- a reply header: ``On <date>, <name> wrote:`` (also wrapped over two lines) and its German
  (``Am … schrieb …:``), French (``Le … a écrit :``), Spanish (``El … escribió:``) forms;
- ``-----Original Message-----`` (and ``Ursprüngliche Nachricht``, ``Message d'origine``,
  ``Mensaje original``), ``---------- Forwarded message ---------``, ``Begin forwarded
  message:``, ``Weitergeleitete Nachricht``;
- an Outlook header block: a ``From:`` line followed within four lines by ``Sent:``/``Date:``
  and ``To:``/``Subject:`` (optionally preceded by a line of underscores).

Everything from the first header on is quoted; ``>`` lines before it are quoted as well.

A subject starting with a reply or forward prefix (``Re:``, ``Fwd:``, ``Fw:``, ``AW:``,
``WG:``, ``TR:``, ``RV:``, ``SV:``, ``Antw:``, ``Enc:``, also ``Re[2]:``) is inherited from the
earlier message: :func:`inherited_subject` tells, and evidence found only there counts as history.
"""

from __future__ import annotations

import re

_REPLY_HEADERS = [
    r"on\b.{0,300}\bwrote\s*:",
    r"am\b.{0,300}\bschrieb\b.{0,200}:",
    r"le\b.{0,300}\ba\s+écrit\s*:",
    r"el\b.{0,300}\bescribió\s*:",
]
_SEPARATORS = [
    r"-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original)"
    r"\s*-{2,}",
    r"-{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré|"
    r"mensaje reenviado)\s*-{2,}",
    r"begin forwarded message\s*:",
]
_REPLY_RE = re.compile(r"^\s*(?:" + "|".join(_REPLY_HEADERS) + r")\s*$", re.IGNORECASE)
_SEPARATOR_RE = re.compile(r"^\s*(?:" + "|".join(_SEPARATORS) + r")", re.IGNORECASE)
_FROM_RE = re.compile(r"^\s*\*?(?:from|von|de)\s*:\*?\s", re.IGNORECASE)
_SENT_RE = re.compile(r"^\s*\*?(?:sent|date|gesendet|datum|envoyé|enviado)\s*:", re.IGNORECASE)
_TO_RE = re.compile(r"^\s*\*?(?:to|subject|an|betreff|à|objet|para|asunto)\s*:", re.IGNORECASE)
_UNDERSCORES_RE = re.compile(r"^\s*_{10,}\s*$")
_INHERITED_SUBJECT_RE = re.compile(
    r"^\W{0,3}(?:re|fwd?|aw|wg|tr|rv|sv|antw|enc)\s*(?:\[\d+\])?\s*:", re.IGNORECASE
)


def _is_outlook_header(lines: list[str], index: int) -> bool:
    if not _FROM_RE.match(lines[index]):
        return False
    window = lines[index + 1 : index + 5]
    return any(_SENT_RE.match(line) for line in window) and any(
        _TO_RE.match(line) for line in window
    )


def _header_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            continue
        joined = line
        if index + 1 < len(lines) and not lines[index + 1].lstrip().startswith(">"):
            joined = f"{line} {lines[index + 1]}"
        if _REPLY_RE.match(line) or _SEPARATOR_RE.match(line):
            return index
        if line.strip() and _REPLY_RE.match(joined) and len(line) < 300:
            return index
        if _is_outlook_header(lines, index):
            previous = index - 1
            if previous >= 0 and _UNDERSCORES_RE.match(lines[previous]):
                return previous
            return index
    return None


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history) of a plain-text body; either may be empty."""
    lines = text.splitlines()
    start = _header_start(lines)
    head, tail = (lines, []) if start is None else (lines[:start], lines[start:])
    new_lines: list[str] = []
    quoted_lines: list[str] = []
    for line in head:
        (quoted_lines if line.lstrip().startswith(">") else new_lines).append(line)
    quoted_lines.extend(tail)
    return "\n".join(new_lines).strip(), "\n".join(quoted_lines).strip()


def inherited_subject(subject: str) -> bool:
    """Whether ``subject`` is a reply's or forward's (``Re: …``, ``Fwd: …``, ``AW: …``)."""
    return _INHERITED_SUBJECT_RE.match(subject) is not None
