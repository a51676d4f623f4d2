"""Compliance wording: one table per language, read by the rules extractor and the backstop.

Each language module (:mod:`.en`, :mod:`.de`, :mod:`.fr`, :mod:`.es`, :mod:`.it`, :mod:`.nl`)
holds ``PHRASES``, a table *phrase → kind* (:class:`~.kinds.Kind`) a compliance officer can read
and extend, and short word lists. The word lists of every language apply to every phrase (a
stem such as ``disput*`` serves several languages, and mail mixes them), but for the
conditions below. How a phrase is read:

- its words match whole words, in any letter case, with any spacing, quote style or ``>`` quote
  prefix; a word ending in ``*`` matches any word starting so (``disput*``: dispute, disputing,
  disputed); ``…`` stands for up to three words;
- ``EXCEPTIONS``: wording that holds a phrase and means something else ("our *client portal*",
  "*client number*"); a phrase overlapping one does not count, whatever its kind;
- ``NEGATIONS_BEFORE``: a word right before the phrase that reverses it ("I am *not* disputing
  the debt"); a cue ending in ``*`` / starting with ``*`` matches words starting / ending so
  (``*n't``: don't, isn't); ``NEGATIONS_AFTER``: the same up to three words after it (German
  "ich bestreite die Forderung *nicht*");
- ``FIRST_PERSON``: the writer stating the act now ("*I dispute*", "*I hereby request*",
  "*ich bestreite*", "*je conteste*", "*disputo*"); between its words may stand up to three
  ``FILLERS`` ("hereby", "formally", "hiermit", "le" …). A phrase inside one, or at most three
  words after it in the same clause, is the writer's own statement: the rights-notice cues, the
  letter marks and the resolved cues below do not cancel it (our letters speak to "you"; a
  debtor who writes "I dispute all or part of the debt" disputes it);
- ``NOTICE_CUES``: what a collector's own letter says when it explains the debtor's rights ("*if
  you* dispute this debt …", "*you may* request verification"); a phrase in a sentence holding
  one is the collector speaking, not the debtor. They are read only in the quoted history,
  where the collector's letters are: the same words are a debtor's polite forms ("I dispute
  this, *if you* think I owe it send proof"), so in what the debtor sends (the new text, the
  attachments) they cancel nothing; our notice pasted there unquoted holds and a person reads
  it, which costs a review, where ignoring a dispute breaks the law;
- ``RESOLVED_CUES``: what says a dispute is over ("the dispute I raised *was sorted out*, here
  is the payment"); a dispute-kind phrase does not count when one stands in the same clause
  (no ``,`` ``:`` ``(`` or spaced dash between them: "I dispute the rest, the account *was
  settled* in 2023" is a dispute with its reason) and the sentence holds no
  ``CONDITIONAL_CUES`` word of the cue's language, before or after it ("I will not pay *until*
  this *is resolved*", "den Widerspruch ziehe ich zurück, *sobald* …": the end is still to
  come; short words such as Italian "se" mean other things elsewhere, so only here does a
  language's list not apply to every phrase);
- ``LETTER_MARKERS``: marks of the collector's own notice (the "mini-Miranda"); in a quoted
  message or an attachment, a phrase in the sentence of one is the collector's letter and does
  not count, unless it is the writer's first-person statement. Only that sentence: a debtor's
  letter that quotes or encloses ours still counts (the sentence, not the paragraph, as a
  PDF's text layer keeps no paragraph breaks). A mark does not cancel only its own words: the
  rest of our notice's sentence ("… to dispute all or part of the debt; we will obtain
  verification of the debt") is ours too;
- ``NOT_IN_QUOTED``: phrases of ``PHRASES`` that count where the sender speaks (the new text,
  the attachments) and not in the quoted history, because our own letters use the same words
  of the creditor we collect for ("*our client*", "*we act for*", "*unsere Mandantin*") or to
  explain a right ("en cas de *contestation*").

Negations and notice cues never cancel the ``cease`` and ``attorney`` kinds: a request to stop,
or a lawyer's appearance, is honoured however it is worded ("if you do not stop calling me …").

Where it looks (:func:`compliance_hits`): the new text (the subject unless inherited, the body),
each quoted or forwarded message separately (cut by
:func:`~shared.extraction.quotes.quoted_messages`, with the header grammar that splits the history
off; a forwarded cease from the debtor's attorney counts), and every attachment's text. Each kind
makes the email one compliance intent (:data:`~.kinds.KIND_INTENT`). Bulk mail and auto-replies
reach the decision's compliance step only when a reference or the sender's address names an
account, and then only their body and attachments are read; bounces never do
(:mod:`shared.processing.decision`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
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
# rights-notice cues, without the phrases our letters share, NOT_IN_QUOTED); a quoted message
# or an attachment may quote or enclose one (its marked sentences left out). The new text is
# the debtor's own, read with neither.
_HISTORY_SEGMENTS = frozenset({"quoted"})
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


def _lowered(text: str) -> str:
    """Lower case (casefold), NFKC, one quote style, ``>`` prefixes gone; line breaks kept."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_MAP)
    text = re.sub(r"(?m)^[ \t]*(?:>[ \t]?)+", "", text)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return text.casefold()


class _Unaccented(dict[int, str]):
    """``str.translate`` table: a letter without its accents, one character for one (so a
    match in the folded text has the same span in the text before folding)."""

    def __missing__(self, code: int) -> str:
        bare = "".join(
            c for c in unicodedata.normalize("NFD", chr(code)) if not unicodedata.combining(c)
        )
        self[code] = folded = bare if len(bare) == 1 else chr(code)
        return folded


_UNACCENTED = _Unaccented()


def _fold(text: str) -> str:
    """Accents dropped: a phone typed "mon mari est decede" reads as "décédé" does."""
    return text if text.isascii() else text.translate(_UNACCENTED)


def normalise(text: str) -> str:
    """:func:`_lowered`, then accents dropped (the tables and the text alike)."""
    return _fold(_lowered(text))


# What a phrase's first word may not follow: a letter, a hyphen, or an apostrophe, except the
# apostrophe of an elided article or pronoun ("l'esdebitazione", "dall'avvocato", "j'ai")
_WORD_START = r"(?:(?<![\w'-])|(?<=\b[ldjmnstc]')|(?<=\bqu')|(?<=ll')|(?<=\bun'))"
_WORD_END = r"(?![\w-])"  # what its last word may not precede


def _phrase_body(phrase: str, *, elided: bool = False) -> str:
    """The pattern of ``phrase``'s words; with ``elided`` (the phrase tables) an apostrophe
    inside a word may be left out, as phones and hurried writers do ("dont", "jai"), while one
    that ends the literal ("m'*") is all that marks the elision. Cues and first-person
    statements keep theirs: "we're" without it is "were"."""
    parts: list[str] = []
    for word in normalise(phrase).split():
        if word in ("…", "..."):  # NFKC spells the ellipsis as three dots
            parts.append(r"(?:\S+\s+){0,3}")
            continue
        literal = re.escape(word.rstrip("*"))
        if elided:
            literal = re.sub(r"'(?=.)", "'?", literal)
        body = literal + (r"\w*" if word.endswith("*") else "")
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


class _PhraseSearch:
    """Finds in a text what one alternation of every phrase (in the table's order, each bounded
    as a whole word) finds: the same matches, the same phrase for each.

    Every email is searched, so it is not that alternation: tried at every character, it costs
    about 2 µs per character with some 1,250 phrases. A phrase can start only where a word does, and
    only where the text's first two characters are its own (a one-letter first word such as
    "i" or "e": that letter and a space), so the word starts are found with one small pattern
    and each is tried against the phrases of its two characters alone, in the table's order.
    A phrase opening with a gap (``…``) may start anywhere: then the whole alternation is used.
    Each two characters' pattern is compiled when a text first needs it (most never occur in
    the first emails an instance reads: its cold start compiles only theirs).
    """

    def __init__(self, entries: list[_Entry], order: list[int]) -> None:
        keys = {i: _start_keys(entries[i].phrase) for i in order}
        named = {i: f"(?P<p{i}>{_phrase_body(entries[i].phrase, elided=True)})" for i in order}
        self._everywhere: re.Pattern[str] | None = None
        self._sources: dict[str, str] = {}
        self._compiled: dict[str, re.Pattern[str]] = {}
        if None in keys.values():
            self._everywhere = re.compile(_bounded(named[i] for i in order))
            self._starts = _NOTHING
            return
        # a key of one letter (a one-letter stem, a one-letter phrase) is tried at every
        # position of that letter, so it joins each two-letter key of the letter too
        for key in sorted({k for ks in keys.values() for k in ks or ()}):
            members = [i for i in order if key in (keys[i] or ()) or key[0] in (keys[i] or ())]
            self._sources[key] = _bounded(named[i] for i in members)
        firsts = sorted({key[0] for key in self._sources})
        self._starts = re.compile(rf"(?<!\w)[{''.join(re.escape(c) for c in firsts)}]")

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self._everywhere is not None:
            yield from self._everywhere.finditer(text)
            return
        sources, compiled = self._sources, self._compiled
        end = 0
        for start in self._starts.finditer(text):
            at = start.start()
            if at < end:  # inside the phrase found last: matches do not overlap
                continue
            second = text[at + 1 : at + 2]
            key = text[at] + (" " if second.isspace() else second)
            if key not in sources:
                key = text[at]
            pattern = compiled.get(key)
            if pattern is None:
                # two threads may both compile it: the same pattern, either one kept
                pattern = compiled[key] = re.compile(sources.get(key, "(?!)"))
            match = pattern.match(text, at)
            if match is not None:
                end = match.end()
                yield match


_NOTHING = re.compile(r"(?!)")


def _bounded(alternatives: Iterable[str]) -> str:
    return f"{_WORD_START}(?:{'|'.join(alternatives)}){_WORD_END}"


def _start_keys(phrase: str) -> tuple[str, ...] | None:
    """The two characters a match of ``phrase`` may start with (a one-letter first word: the
    letter and a space, any space read as one; one character when only that is known), for its
    first word as written and, when its second character is an apostrophe, without it; None
    when the phrase may start anywhere (it opens with a gap, or with an apostrophe)."""
    words = normalise(phrase).split()
    first = words[0]
    literal = first.rstrip("*")
    if first in ("…", "...") or not literal or literal.startswith("'"):
        return None
    elided = literal[1:2] == "'" and len(literal) > 2  # "j'ai" is also written "jai"
    spellings = [literal] + ([literal[0] + literal[2:]] if elided else [])
    keys: list[str] = []
    for spelling in spellings:
        if len(spelling) >= 2:
            keys.append(spelling[:2])
        elif first == literal and len(words) > 1:
            keys.append(spelling + " ")
        else:
            keys.append(spelling)
    return tuple(keys)


def _compile() -> tuple[_PhraseSearch, list[_Entry]]:
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
    return _PhraseSearch(entries, order), entries


_PHRASES, _ENTRIES = _compile()


def _cues(cues: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern finding what the plain alternation of ``cues`` finds, its cues grouped by
    first letter behind a lookahead: the cue lists are searched around every phrase found."""
    letters = [_first_letter(cue) for cue in cues]
    if not cues or None in letters:
        return re.compile("|".join(_phrase_pattern(cue) for cue in cues) or r"(?!)")
    groups: dict[str | None, list[str]] = {}
    for cue, letter in zip(cues, letters, strict=True):
        groups.setdefault(letter, []).append(_phrase_body(cue))
    alternatives = [f"(?={re.escape(str(c))})(?:{'|'.join(g)})" for c, g in groups.items()]
    return re.compile(f"{_WORD_START}(?:{'|'.join(alternatives)}){_WORD_END}")


# Cues of every language, like the negations (a stem such as "disput*" serves several).
_NOTICE = _cues(tuple(c for m in LANGUAGES.values() for c in m.NOTICE_CUES))
# A resolved cue with the conditions of its own language: these are short function words that
# mean other things elsewhere (Italian "se", if; Spanish "se resolvió"; Dutch "pas", French "pas").
_RESOLVED = tuple((_cues(m.RESOLVED_CUES), _cues(m.CONDITIONAL_CUES)) for m in LANGUAGES.values())
_ANY_RESOLVED = _cues(tuple(c for m in LANGUAGES.values() for c in m.RESOLVED_CUES))
_MARKERS = _cues(tuple(c for m in LANGUAGES.values() for c in m.LETTER_MARKERS))
_EXCEPTIONS = _cues(tuple(c for m in LANGUAGES.values() for c in m.EXCEPTIONS))
# Negations in any of the languages: stems such as "disput*" serve several of them.
_NEGATIONS_BEFORE = tuple({c for m in LANGUAGES.values() for c in m.NEGATIONS_BEFORE})
_NEGATIONS_AFTER = tuple({c for m in LANGUAGES.values() for c in m.NEGATIONS_AFTER})
# A phrase that opens with a negative word is the second half of the language's own negation
# ("ce montant n'a aucun fondement", "no tiene ningún fundamento"): the "ne" before it makes
# one negation with it, it does not reverse it.
_NEGATIVE_STARTS = ("aucun*", "rien", "jamais", "nessun*", "alcun*", "ningun*", "nada", "nunca")
# (language, phrase) of the phrases our own letters use too: not read in the quoted history.
_NOT_IN_QUOTED = frozenset((lang, p) for lang, m in LANGUAGES.items() for p in m.NOT_IN_QUOTED)
_SENTENCE_END = re.compile(r"[.!?;\n]")
# A line break ends a sentence after a short line ("Hello", a greeting, a subject) or before a
# blank line; after a long one it is a mail program wrapping the sentence, which goes on ("…
# Please pay it by 30 June. If you" / "dispute this balance, write to us").
WRAPPED_LINE_CHARS = 50
# Where a clause ends inside a sentence: a comma or colon before a space ("1,000" and "10:30"
# are not), a bracket, a dash between spaces.
_CLAUSE_END = re.compile(r"[,:](?=\s|$)|[()]|\s-\s")
_WORD = re.compile(r"[\w'*-]+")
STATEMENT_REACH = 3  # words from a first-person statement to the phrase it makes the writer's


def _statement_body(statement: str, fillers: str) -> str:
    """``statement``'s words with up to three filler words between any two of them."""
    gap = rf"\s+(?:(?:{fillers})\s+){{0,3}}"
    return gap.join(_phrase_body(word) for word in normalise(statement).split())


@functools.cache
def _statements() -> re.Pattern[str]:
    """Every language's first-person statements, grouped by first letter like the cues;
    compiled on first use, not at import (a cold start): few emails need it."""
    fillers = sorted({normalise(f) for m in LANGUAGES.values() for f in m.FILLERS}, key=len)
    filler = "|".join(re.escape(f) for f in reversed(fillers)) or r"(?!)"
    statements = sorted({s for m in LANGUAGES.values() for s in m.FIRST_PERSON}, key=len)
    groups: dict[str, list[str]] = {}
    for statement in reversed(statements):  # longest first
        first = normalise(statement)[0]
        groups.setdefault(first, []).append(_statement_body(statement, filler))
    alternatives = [f"(?={re.escape(c)})(?:{'|'.join(g)})" for c, g in groups.items()]
    return re.compile(f"{_WORD_START}(?:{'|'.join(alternatives) or '(?!)'}){_WORD_END}")


def _cue_matches(cue: str, word: str) -> bool:
    if cue.startswith("*"):
        return word.endswith(cue[1:])
    if cue.endswith("*"):
        return word.startswith(cue[:-1])
    return word == cue


def _ends_sentence(text: str, match: re.Match[str], *, wrapped: bool) -> bool:
    at = match.start()
    if not wrapped or match.group() != "\n" or text.startswith("\n", at + 1):
        return True
    return at - (text.rfind("\n", 0, at) + 1) < WRAPPED_LINE_CHARS


def _sentence(text: str, start: int, end: int, *, wrapped: bool = False) -> tuple[int, int]:
    """Where the sentence holding ``text[start:end]`` begins and ends; every line break ends
    one, or with ``wrapped`` only one after a short line or before a blank line (our letters'
    wording, wrapped by the debtor's mail program, is read whole)."""
    ends = (
        m
        for m in _SENTENCE_END.finditer(text, max(start - 400, 0), start)
        if _ends_sentence(text, m, wrapped=wrapped)
    )
    left = max((m.end() for m in ends), default=max(start - 400, 0))
    rights = (
        m
        for m in _SENTENCE_END.finditer(text, end, end + 400)
        if _ends_sentence(text, m, wrapped=wrapped)
    )
    right_match = next(rights, None)
    right = right_match.start() if right_match else min(end + 400, len(text))
    return left, right


@dataclass(frozen=True)
class _Reading:
    """How one segment is read: whether it is the quoted history (rights-notice cues apply, the
    phrases our letters share do not count), where its letter marks are."""

    history: bool
    markers: tuple[tuple[int, int], ...]  # spans of the collector's letter marks

    def in_letter(self, left: int, right: int) -> bool:
        # a mark may wrap over a line break (PDF text): any overlap puts it in the sentence
        return any(start < right and end > left for start, end in self.markers)


def _reading(normalised: str, segment: str) -> _Reading:
    markers: tuple[tuple[int, int], ...] = ()
    if segment in _MARKED_SEGMENTS:
        markers = tuple(m.span() for m in _MARKERS.finditer(normalised))
    return _Reading(segment in _HISTORY_SEGMENTS, markers)


_EXCEPTION_REACH = 100  # characters around a phrase an exception holding it may span


def _excepted(text: str, start: int, end: int) -> bool:
    """Whether the phrase at ``text[start:end]`` is part of an exception ("our client portal");
    looked up around the phrase only, as few emails hold any phrase."""
    window = _EXCEPTIONS.finditer(
        text, max(start - _EXCEPTION_REACH, 0), min(end + _EXCEPTION_REACH, len(text))
    )
    return any(m.start() < end and m.end() > start for m in window)


def _first_person(text: str, left: int, right: int, start: int) -> bool:
    """Whether the phrase at ``start`` is the writer's own statement: inside a first-person
    statement of its sentence, or at most ``STATEMENT_REACH`` words after one in its clause."""
    for statement in _statements().finditer(text, left, right):
        if statement.start() > start:
            return False
        if start <= statement.end():
            return True
        between = text[statement.end() : start]
        if not _CLAUSE_END.search(between) and len(_WORD.findall(between)) <= STATEMENT_REACH:
            return True
    return False


def _resolved(text: str, left: int, right: int, start: int, end: int) -> bool:
    """Whether the sentence says the dispute at ``text[start:end]`` is over: a resolved cue in
    the phrase's clause, in a sentence that sets no condition or time still to come, before or
    after the cue ("until this is resolved", "ziehe ich zurück, sobald …")."""
    if not _ANY_RESOLVED.search(text, left, right):
        return False
    for resolved, conditional in _RESOLVED:
        for cue in resolved.finditer(text, left, right):
            if cue.start() >= end:
                between = text[end : cue.start()]
            elif cue.end() <= start:
                between = text[cue.end() : start]
            else:  # the cue holds the phrase ("withdraw my dispute")
                between = ""
            if _CLAUSE_END.search(between):
                continue
            pending = conditional.search(text, left, cue.start()) or conditional.search(
                text, cue.end(), right
            )
            if not pending:
                return True
    return False


def _negated(text: str, left: int, right: int, start: int, end: int) -> bool:
    words_before = list(_WORD.finditer(text, left, start))
    concord = any(_cue_matches(c, _WORD.findall(text[start:end])[0]) for c in _NEGATIVE_STARTS)
    # the sentence's first word alone before a comma is an answer: "No, no la debo" denies the
    # debt, where "no no la debo" or "I do not dispute" is read as negated
    answer = len(words_before) == 1 and _CLAUSE_END.search(text, words_before[0].end(), start)
    if (
        words_before
        and not concord
        and not answer
        and any(_cue_matches(c, words_before[-1].group()) for c in _NEGATIONS_BEFORE)
    ):
        return True
    after = text[end:right]
    # within its clause: "Ich widerspreche, das stimmt nicht" is no "widerspreche nicht"
    cut = _CLAUSE_END.search(after)
    words_after = _WORD.findall(after[: cut.start()] if cut else after)[:3]
    return any(_cue_matches(c, w) for c in _NEGATIONS_AFTER for w in words_after)


def _counts(entry: _Entry, text: str, start: int, end: int, reading: _Reading) -> bool:
    shared = reading.history and (entry.language, entry.phrase) in _NOT_IN_QUOTED
    if shared or _excepted(text, start, end):
        return False
    # Our letter's marks and notice cues are read over lines the mail program wrapped; the
    # writer's own negations and resolutions only within the line they wrote.
    wide_left, wide_right = _sentence(text, start, end, wrapped=True)
    left, right = _sentence(text, start, end)
    mine = _first_person(text, wide_left, wide_right, start)
    if reading.in_letter(wide_left, wide_right) and not mine:
        return False
    if entry.kind in ALWAYS_COUNTS:
        return True
    if _negated(text, left, right, start, end):
        return False
    notice = reading.history and _NOTICE.search(text, wide_left, wide_right) is not None
    resolved = KIND_INTENT[entry.kind] == "dispute" and _resolved(text, left, right, start, end)
    # the writer's own statement: no notice cue or resolved cue reads it away
    return not ((notice or resolved) and not mine)


def find_wording(text: str, *, segment: str = "new") -> list[WordingHit]:
    """Every compliance phrase in ``text`` that counts: not negated, and, by whose text the
    ``segment`` may be ("new", "quoted", "attachment"), not the collector's rights notice."""
    lowered = _lowered(text[:MAX_SEGMENT_CHARS])
    normalised = _fold(lowered)  # the same length: a span in one is the span in the other
    reading = _reading(normalised, segment)
    hits: list[WordingHit] = []
    for match in _PHRASES.finditer(normalised):
        name = match.lastgroup
        if name is None:
            continue
        entry = _ENTRIES[int(name[1:])]
        if _counts(entry, normalised, match.start(), match.end(), reading):
            # as written (accents kept), so the quote is found in the email
            evidence = " ".join(lowered[match.start() : match.end()].split())
            hits.append(WordingHit(entry.kind, entry.language, entry.phrase, evidence, segment))
    return hits


def compliance_hits(email: ParsedEmail) -> list[WordingHit]:
    """The compliance wording of ``email`` wherever it is, the decisive hit first."""
    new_parts = [email.text] if inherited_subject(email.subject) else [email.subject, email.text]
    hits = find_wording("\n\n".join(new_parts), segment="new")  # the subject is a sentence
    for attachment in email.attachments:
        if attachment.text:
            hits += find_wording(attachment.text, segment="attachment")
    for message in quoted_messages(email.quoted_text):
        hits += find_wording(message, segment="quoted")
    return sorted(
        hits, key=lambda h: (INTENT_ORDER.index(h.intent), SEGMENT_ORDER.index(h.segment))
    )
