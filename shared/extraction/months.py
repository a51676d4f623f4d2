"""Month names as mail writes them, in the languages the extractors read: one table for the
rules' date pattern and for the check that a quoted date states the month it is read as."""

from __future__ import annotations

# month n is MONTHS[n - 1]: English, German, French, Spanish, Italian, Dutch, and abbreviations
MONTHS: tuple[tuple[str, ...], ...] = (
    ("january", "jan", "januar", "janvier", "enero", "gennaio", "januari"),
    ("february", "feb", "februar", "février", "fevrier", "febrero", "febbraio", "februari"),
    ("march", "mar", "märz", "maerz", "mars", "marzo", "maart", "mrt"),
    ("april", "apr", "avril", "abril", "aprile"),
    ("may", "mai", "mayo", "maggio", "mei"),
    ("june", "jun", "juni", "juin", "junio", "giugno"),
    ("july", "jul", "juli", "juillet", "julio", "luglio"),
    ("august", "aug", "août", "aout", "agosto", "augustus"),
    ("september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre"),
    ("october", "oct", "okt", "oktober", "octobre", "octubre", "ottobre"),
    ("november", "nov", "novembre", "noviembre"),
    ("december", "dec", "dez", "dezember", "décembre", "decembre", "diciembre", "dicembre"),
)
MONTH_NUMBERS: dict[str, int] = {
    name: number for number, names in enumerate(MONTHS, start=1) for name in names
}
