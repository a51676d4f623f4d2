"""Compliance wording: one table per language, read by the rules extractor and the backstop.

Each language module (:mod:`.en`, :mod:`.de`, :mod:`.fr`, :mod:`.es`, :mod:`.it`, :mod:`.nl`)
holds ``PHRASES``, a table *phrase → kind* (:class:`~.kinds.Kind`) a compliance officer can read
and extend, and short word lists. The word lists of every language apply to every phrase (a
stem such as ``disput*`` serves several languages, and mail mixes them). How a phrase is read:

- its words match whole words, in any letter case, with any spacing, quote style or ``>`` quote
  prefix; a word ending in ``*`` matches any word starting so (``disput*``: dispute, disputing,
  disputed); ``…`` stands for up to three words;
- ``NEGATIONS_BEFORE``: a word right before the phrase that reverses it ("I am *not* disputing
  the debt"); a cue ending in ``*`` / starting with ``*`` matches words starting / ending so
  (``*n't``: don't, isn't); ``NEGATIONS_AFTER``: the same up to three words after it (German
  "ich bestreite die Forderung *nicht*");
- ``NOTICE_CUES``: what a collector's own letter says when it explains the debtor's rights ("*if
  you* dispute this debt …", "*you may* request verification"); a phrase in a sentence holding
  one is the collector speaking, not the debtor. They are read only in the quoted history,
  where the collector's letters are: the same words are a debtor's polite forms ("I dispute
  this, *if you* think I owe it send proof"), so in what the debtor sends (the new text, the
  attachments) they cancel nothing; our notice pasted there unquoted holds and a person reads
  it, which costs a review, where ignoring a dispute breaks the law;
- ``RESOLVED_CUES``: what says a dispute is over ("the dispute I raised *was sorted out*, here
  is the payment"); a dispute-kind phrase in a sentence holding one does not count;
- ``LETTER_MARKERS``: marks of the collector's own notice (the "mini-Miranda"); in a quoted
  message or an attachment, a phrase in the sentence of one is the collector's letter and does
  not count. Only that sentence: a debtor's letter that quotes or encloses ours still counts
  (the sentence, not the paragraph, as a PDF's text layer keeps no paragraph breaks).

Negations and notice cues never cancel the ``cease`` and ``attorney`` kinds: a request to stop,
or a lawyer's appearance, is honoured however it is worded ("if you do not stop calling me …").

Where it looks (:func:`compliance_hits`): the new text (the subject unless inherited, the body),
each quoted or forwarded message separately (cut by
:func:`~shared.extraction.quotes.quoted_messages`, with the header grammar that splits the history
off; a forwarded cease from the debtor's attorney counts), and every attachment's text. Each kind
makes the email one compliance intent (:data:`~.kinds.KIND_INTENT`). Bulk mail and auto-replies
reach the decision's compliance step only when a reference names an account, and then only their
body and attachments are read; bounces never do (:mod:`shared.processing.decision`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from types import ModuleType

from shared.extraction.models import ParsedEmail
from shared.extraction.quotes import inherited_subject, quoted_messages
from shared.extraction.wording import de, en, es, fr, it, nl
from shared.extraction.wording.kinds import ALWAYS_COUNTS, KIND_INTENT, Kind

LANGUAGES: dict[str, ModuleType] = {"en": en, "de": de, "fr": fr, "es": es, "it": it, "nl": nl}
MAX_SEGMENT_CHARS = 50_000  # scanned per text segment (a long PDF is read from its start)
# Intents in the order a hit decides when an email has several (bankruptcy first: the stay).
INTENT_ORDER = ("bankruptcy_notice", "cease_and_desist", "dispute")
SEGMENT_ORDER = ("new", "attachment", "quoted")
# Whose text a segment may be: the quoted history holds the collector's letters (read with the
# rights-notice cues); a quoted message or an attachment may quote or enclose one (its marked
# sentences left out). The new text is the debtor's own, read with neither.
_NOTICE_SEGMENTS = frozenset({"quoted"})
_MARKED_SEGMENTS = frozenset({"quoted", "attachment"})

__all__ = ["KIND_INTENT", "LANGUAGES", "Kind", "WordingHit", "compliance_hits", "find_wording"]


@dataclass(frozen=True)
class WordingHit:
    kind: Kind
    language: str
    phrase: str  # the table's phrase
    evidence: str  # the text it matched (normalised: lower case, single spaces)
    segment: str = "new"  # "new", "quoted" or "attachment"

    @property
    def intent(self) -> str:
        return KIND_INTENT[self.kind]


_QUOTE_MAP = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "`": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
     "–": "-", "—": "-", "‑": "-", "\u00a0": " "}
)  # fmt: skip


def normalise(text: str) -> str:
    """Lower case (casefold), NFKC, one quote style, ``>`` prefixes gone; line breaks kept."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_MAP)
    text = re.sub(r"(?m)^[ \t]*(?:>[ \t]?)+", "", text)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return text.casefold()


_WORD_START = r"(?<![\w'-])"  # what a phrase's first word may not follow
_WORD_END = r"(?![\w-])"  # what its last word may not precede


def _phrase_body(phrase: str) -> str:
    parts: list[str] = []
    for word in normalise(phrase).split():
        if word in ("…", "..."):  # NFKC spells the ellipsis as three dots
            parts.append(r"(?:\S+\s+){0,3}")
            continue
        body = re.escape(word.rstrip("*")) + (r"\w*" if word.endswith("*") else "")
        parts.append(body + r"\s+")
    pattern = "".join(parts)
    return pattern[: -len(r"\s+")] if pattern.endswith(r"\s+") else pattern


def _phrase_pattern(phrase: str) -> str:
    return f"{_WORD_START}{_phrase_body(phrase)}{_WORD_END}"


def _first_letter(phrase: str) -> str | None:
    """The character every match of ``phrase`` starts with (None when it starts with a gap)."""
    first = normalise(phrase).split()[0]
    literal = first.rstrip("*")
    return None if first in ("…", "...") or not literal else literal[0]


@dataclass(frozen=True)
class _Entry:
    phrase: str
    kind: Kind
    language: str


def _compile() -> tuple[re.Pattern[str], list[_Entry]]:
    entries: list[_Entry] = []
    for language, module in LANGUAGES.items():
        for phrase, kind in module.PHRASES.items():
            entries.append(_Entry(phrase, Kind(kind), language))
    # longer phrases first, so "stop contacting" is not cut short by a shorter neighbour; of
    # equal length, exact words before stems ("disputo" before "disput*")
    order = sorted(
        range(len(entries)),
        key=lambda i: (-len(entries[i].phrase), "*" in entries[i].phrase),
    )
    # One alternation with the word boundaries checked once per position, not once per phrase,
    # and the phrases grouped by their first letter behind a lookahead: a position tries only
    # the phrases that can start there instead of all of them (every email is searched, and the
    # pattern is compiled at each cold start). Within a group the order above holds, and a
    # phrase of another group cannot match where this one does, so the phrase found at a
    # position is the one the plain ordered alternation of bounded phrases finds.
    letters = {i: _first_letter(entries[i].phrase) for i in order}
    if None in letters.values():  # a phrase opening with a gap may start anywhere: no groups
        letters = dict.fromkeys(order)
    groups: dict[str | None, list[str]] = {}
    for i in order:
        groups.setdefault(letters[i], []).append(f"(?P<p{i}>{_phrase_body(entries[i].phrase)})")
    alternatives = [
        ("" if letter is None else f"(?={re.escape(letter)})") + f"(?:{'|'.join(group)})"
        for letter, group in groups.items()
    ]
    pattern = f"{_WORD_START}(?:{'|'.join(alternatives)}){_WORD_END}"
    return re.compile(pattern), entries


_PATTERN, _ENTRIES = _compile()


def _cues(cues: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(_phrase_pattern(cue) for cue in cues) or r"(?!)")


# Cues of every language, like the negations (a stem such as "disput*" serves several).
_NOTICE = _cues(tuple(c for m in LANGUAGES.values() for c in m.NOTICE_CUES))
_RESOLVED = _cues(tuple(c for m in LANGUAGES.values() for c in m.RESOLVED_CUES))
_MARKERS = _cues(tuple(c for m in LANGUAGES.values() for c in m.LETTER_MARKERS))
# Negations in any of the languages: stems such as "disput*" serve several of them.
_NEGATIONS_BEFORE = tuple({c for m in LANGUAGES.values() for c in m.NEGATIONS_BEFORE})
_NEGATIONS_AFTER = tuple({c for m in LANGUAGES.values() for c in m.NEGATIONS_AFTER})
_SENTENCE_END = re.compile(r"[.!?;\n]")
_WORD = re.compile(r"[\w'*-]+")


def _cue_matches(cue: str, word: str) -> bool:
    if cue.startswith("*"):
        return word.endswith(cue[1:])
    if cue.endswith("*"):
        return word.startswith(cue[:-1])
    return word == cue


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the sentence holding ``text[start:end]`` begins and ends."""
    left = max(
        (m.end() for m in _SENTENCE_END.finditer(text, max(start - 400, 0), start)),
        default=max(start - 400, 0),
    )
    right_match = _SENTENCE_END.search(text, end, end + 400)
    right = right_match.start() if right_match else min(end + 400, len(text))
    return left, right


@dataclass(frozen=True)
class _Reading:
    """How one segment is read: whether the rights-notice cues apply, where its marks are."""

    notice_cues: bool
    markers: tuple[tuple[int, int], ...]  # spans of the collector's letter marks

    def in_letter(self, left: int, right: int) -> bool:
        # a mark may wrap over a line break (PDF text): any overlap puts it in the sentence
        return any(start < right and end > left for start, end in self.markers)


def _reading(normalised: str, segment: str) -> _Reading:
    markers: tuple[tuple[int, int], ...] = ()
    if segment in _MARKED_SEGMENTS:
        markers = tuple(m.span() for m in _MARKERS.finditer(normalised))
    return _Reading(notice_cues=segment in _NOTICE_SEGMENTS, markers=markers)


def _counts(entry: _Entry, text: str, start: int, end: int, reading: _Reading) -> bool:
    left, right = _sentence(text, start, end)
    if reading.in_letter(left, right):
        return False
    if entry.kind in ALWAYS_COUNTS:
        return True
    words_before = _WORD.findall(text[left:start])
    if words_before and any(_cue_matches(c, words_before[-1]) for c in _NEGATIONS_BEFORE):
        return False
    words_after = _WORD.findall(text[end:right])[:3]
    if any(_cue_matches(c, w) for c in _NEGATIONS_AFTER for w in words_after):
        return False
    sentence = text[left:right]
    if reading.notice_cues and _NOTICE.search(sentence):
        return False
    return not (KIND_INTENT[entry.kind] == "dispute" and _RESOLVED.search(sentence))


def find_wording(text: str, *, segment: str = "new") -> list[WordingHit]:
    """Every compliance phrase in ``text`` that counts: not negated, and, by whose text the
    ``segment`` may be ("new", "quoted", "attachment"), not the collector's rights notice."""
    normalised = normalise(text[:MAX_SEGMENT_CHARS])
    reading = _reading(normalised, segment)
    hits: list[WordingHit] = []
    for match in _PATTERN.finditer(normalised):
        name = match.lastgroup
        if name is None:
            continue
        entry = _ENTRIES[int(name[1:])]
        if _counts(entry, normalised, match.start(), match.end(), reading):
            evidence = " ".join(match.group().split())
            hits.append(WordingHit(entry.kind, entry.language, entry.phrase, evidence, segment))
    return hits


def compliance_hits(email: ParsedEmail) -> list[WordingHit]:
    """The compliance wording of ``email`` wherever it is, the decisive hit first."""
    new_parts = [email.text] if inherited_subject(email.subject) else [email.subject, email.text]
    hits = find_wording("\n".join(new_parts), segment="new")
    for attachment in email.attachments:
        if attachment.text:
            hits += find_wording(attachment.text, segment="attachment")
    for message in quoted_messages(email.quoted_text):
        hits += find_wording(message, segment="quoted")
    return sorted(
        hits, key=lambda h: (INTENT_ORDER.index(h.intent), SEGMENT_ORDER.index(h.segment))
    )
