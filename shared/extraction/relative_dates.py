"""Days said relative to when the email was written: "yesterday", "heute", "lundi dernier".

Debtors date a payment this way more often than with a calendar date ("I paid yesterday").
The model is asked to resolve such words from the email's date (:mod:`shared.extraction
.prompt`), so the check that its quote supports the date it gives must resolve them too, or a
plain "I paid 200 EUR yesterday" could never be recorded; the rules extractor reads them the
same way when the email names no calendar date.

Only what is unambiguous given the day the email was written: a day word (today, yesterday,
the day before, tomorrow, the day after) and a weekday name within a week of that day. "Last
week" or "at the end of the month" name no day and are left alone.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from shared.extraction.months import MONTH_NUMBERS

# offset in days from the day the email was written → how the six languages say it; longer
# phrases are read first ("day before yesterday" is not also "yesterday")
_DAY_WORDS: dict[int, tuple[str, ...]] = {
    0: (
        "today", "this morning", "this afternoon", "heute", "heute morgen", "heute früh",
        "aujourd'hui", "ce matin", "hoy", "esta mañana", "oggi", "stamattina",
        "stamane", "questa mattina", "vandaag", "vanochtend", "vanmorgen", "vanmiddag",
    ),
    -1: (
        "yesterday", "gestern", "gestern morgen", "hier", "hier matin", "ayer", "ieri",
        "ieri mattina", "gisteren", "gisterochtend", "gistermiddag",
    ),
    -2: (
        "the day before yesterday", "day before yesterday", "vorgestern", "avant-hier",
        "anteayer", "antes de ayer", "l'altro ieri", "altroieri",
        "ieri l'altro", "eergisteren",
    ),
    1: ("tomorrow", "morgen", "demain", "mañana", "domani"),
    2: (
        "the day after tomorrow", "day after tomorrow", "übermorgen", "après-demain",
        "pasado mañana", "dopodomani", "overmorgen",
    ),
}  # fmt: skip
# Monday first, as date.weekday()
_WEEKDAYS: tuple[tuple[str, ...], ...] = (
    ("monday", "montag", "lundi", "lunes", "lunedì", "lunedi", "maandag"),
    ("tuesday", "dienstag", "mardi", "martes", "martedì", "martedi", "dinsdag"),
    ("wednesday", "mittwoch", "mercredi", "miércoles", "miercoles", "mercoledì", "mercoledi",
     "woensdag"),
    ("thursday", "donnerstag", "jeudi", "jueves", "giovedì", "giovedi", "donderdag"),
    ("friday", "freitag", "vendredi", "viernes", "venerdì", "venerdi", "vrijdag"),
    ("saturday", "samstag", "sonnabend", "samedi", "sábado", "sabato", "zaterdag"),
    ("sunday", "sonntag", "dimanche", "domingo", "domenica", "zondag"),
)  # fmt: skip

_PHRASES = sorted(
    [(p, ("day", offset)) for offset, phrases in _DAY_WORDS.items() for p in phrases]
    + [(p, ("weekday", n)) for n, names in enumerate(_WEEKDAYS) for p in names],
    key=lambda item: len(item[0]),
    reverse=True,
)
_KINDS = dict(_PHRASES)
# Words of two languages: German "hier" is "here" ("hier ist der Beleg"), German "Morgen" is
# also the morning ("Guten Morgen", "am Morgen"); read as a day only where they cannot be that.
_GUARDED = {
    "hier": r"hier(?!\s+(?:ist|sind|die|der|das|den|dem|mein\w*|noch|finden|anbei|im|in|unter"
    r"|eine?n?|zu|bei|nochmal|nun|also|wie|sehen|erhalten)\b)",
    "morgen": r"(?<!guten\s)(?<!jeden\s)(?<!am\s)(?<!früh\s)(?<!goede\s)(?<!goeie\s)morgen",
    # Spanish "la mañana" is the morning ("por la mañana", "esta mañana" is read as today)
    "mañana": r"(?<!la\s)mañana",
}


def _alternative(phrase: str) -> str:
    if phrase in _GUARDED:
        return _GUARDED[phrase]
    return re.escape(phrase).replace("'", "['’]").replace(r"\ ", r"\s+")


_PATTERN = re.compile(
    r"(?<![^\W\d_])(?:" + "|".join(_alternative(p) for p, _ in _PHRASES) + r")(?![^\W\d_])",
    re.IGNORECASE,
)


def _key(phrase: str) -> str:
    return re.sub(r"\s+", " ", phrase.lower().replace("’", "'"))


def _mentions(text: str) -> list[tuple[str, int]]:
    """(kind, number) of each day word or weekday in ``text``, in order."""
    return [kind for kind in (_kind(m.group()) for m in _PATTERN.finditer(text)) if kind]


def _kind(words: str) -> tuple[str, int] | None:
    # None: matched only by case folding the table does not list ("yeſterday", "Frıday")
    return _KINDS.get(_key(words))


# A quote that writes a calendar date is read by that date, not by a day word beside it
# ("Today I can tell you I paid on 2 November")
_MONTH = "|".join(sorted(map(re.escape, MONTH_NUMBERS), key=len, reverse=True))
_CALENDAR_DATE = re.compile(
    r"\b\d{1,4}\s*[./-]\s*\d{1,2}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th|\.)?\s+(?:of\s+|de\s+)?(?:{_MONTH})(?![^\W\d_])"
    rf"|(?<![^\W\d_])(?:{_MONTH})\.?\s+\d{{1,2}}\b",
    re.IGNORECASE,
)


def supports(value: date, quote: str, written: date) -> bool:
    """Whether ``quote`` names ``value`` relative to ``written`` (the day the email was
    written): a day word for exactly that day, or that weekday within a week either way."""
    if _CALENDAR_DATE.search(quote):
        return False
    offset = (value - written).days
    for kind, number in _mentions(quote):
        if kind == "day" and number == offset:
            return True
        if kind == "weekday" and number == value.weekday() and 0 < abs(offset) <= 7:
            return True
    return False


def first_day(text: str, written: date, *, ahead: bool) -> tuple[date, str] | None:
    """The first day ``text`` names relative to ``written``, with the words that name it: a
    weekday is the nearest one before the day written (``ahead``: after it)."""
    for match in _PATTERN.finditer(text):
        found = _kind(match.group())
        if found is None:
            continue
        kind, number = found
        if kind == "day":
            return written + timedelta(days=number), match.group()
        step = (number - written.weekday()) % 7 if ahead else (written.weekday() - number) % 7
        if step:  # the weekday of the day written itself is ambiguous: this one or a week off
            return written + timedelta(days=step if ahead else -step), match.group()
    return None
