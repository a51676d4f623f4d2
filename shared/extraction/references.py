"""Account references of any format: the tokens of an email that may be one, normalised.

A creditor's case numbers and account references come in every shape (``2024/00118``,
``KD 4471-22``, ``ab.1234.x``, ``00012345``); nothing here knows them. :func:`normalise_reference`
folds a reference to one key (letter case, spaces, dashes, slashes, dots and other punctuation
gone: ``KD 4471-22`` and ``kd4471/22`` are both ``kd447122``); the account repository stores the
same keys for every identifying field of an account (``ref_keys``) and looks all of an email's
tokens up in one indexed query.

:func:`reference_tokens` collects, in this order (the budget ``limit`` keeps the first):

1. the references the extractor found (``case_number``, ``account_reference``);
2. values after a reference label (``case no.``, ``Aktenzeichen``, ``dossier n°``, ``rif.``,
   ``kenmerk`` …), and tokens matching the operator's ``MATCH_REFERENCE_PATTERN`` (it ranks,
   it is never required);
3. every other token of the subject, the new text, attachment text, attachment file names and
   the quoted history (replies quote the collector's letter, which carries the reference).

A token is a run of letters, digits and ``- / . _``; two or three runs of digits separated by
single spaces are also tried joined (``4471 0815``), and a short letter prefix joined to the
digits after it (``CASE 2024/00123``). What is never a reference, unless it follows a label:
a token without a digit, all-digit tokens shorter than :data:`MIN_BARE_DIGITS` (house numbers,
postcodes, years), dates, amounts (``1.234,56``, ``€ 40``), phone numbers (after ``tel``/
``phone``/…, or after ``+``), parts of e-mail addresses and URLs, and keys shorter than
:data:`MIN_KEY_LENGTH` or longer than :data:`MAX_KEY_LENGTH`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from shared.extraction.models import ParsedEmail

MIN_KEY_LENGTH = 4
MAX_KEY_LENGTH = 40
MIN_BARE_DIGITS = 6  # an unlabelled all-digit token shorter than this is a postcode, a year …
MIN_LABELLED_KEY_LENGTH = 3
DEFAULT_LIMIT = 100
MAX_SCANNED_CHARS = 100_000  # per text part


def normalise_reference(value: object) -> str:
    """The lookup key of a reference: NFKC, case-folded, only letters and digits kept."""
    text = unicodedata.normalize("NFKC", str(value)).casefold()
    return re.sub(r"[\W_]+", "", text)


_TOKEN_RE = re.compile(r"[^\W_](?:[\w./-]*[^\W_])?")
_LABEL_RE = re.compile(
    r"(?:\b(?:case|file|claim|account|acct|customer|client|contract|invoice|loan|policy|member"
    r"|debtor|our|your)\s*(?:number|no\.?|nr\.?|num\.?|#|id|ref(?:erence)?)"
    r"|\bref(?:erence)?\b(?:\s*(?:number|no\.?|nr\.?|#))?"
    r"|\b(?:aktenzeichen|az\.|kundennummer|vertragsnummer|rechnungsnummer|kontonummer"
    r"|geschäftszeichen|unser\s+zeichen|ihr\s+zeichen|vorgangsnummer|forderungsnummer)"
    r"|\b(?:dossier|référence|numéro\s+de\s+(?:dossier|compte|client|contrat|facture))(?:\s*n[°o]\.?)?"
    r"|\b(?:expediente|referencia|número\s+de\s+(?:caso|cuenta|cliente|contrato|factura))"
    r"|\b(?:pratica|riferimento|rif\.|numero\s+(?:di\s+)?(?:pratica|conto|cliente|contratto|fattura))"
    r"|\b(?:dossiernummer|kenmerk|klantnummer|referentie|zaaknummer|factuurnummer|ons\s+kenmerk)"
    r")\s*(?:n[°oº]\.?)?\s*[:#.]?\s*",
    re.IGNORECASE,
)
_DATE_RE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_AMOUNT_RE = re.compile(r"^\d{1,3}(?:[.,' ]\d{3})*[.,]\d{1,2}$|^\d+[.,]\d{1,2}$")
# A phone label, and the number's earlier digit groups ("Tel: 030 1234567", "T: 020 7946 0958")
_PHONE_LABEL_RE = re.compile(
    r"(?<![^\W\d_])(?:(?:phone|tel|mobile|cell|fax|telefon|handy|téléphone|teléfono|móvil"
    r"|telefono|cellulare|telefoon|mobiel)\w*\.?[ \t]*(?:number|no\.?|nr\.?|nummer|numéro"
    r"|número|numero)?[ \t]*[:.]?"
    r"|[tmf][ \t]*:)"  # a signature's "T:", "M:", "F:"
    r"[ \t]*(?:[+(]?\d[\d()./-]*[ \t]+){0,4}$",  # the number's earlier groups, same line
    re.IGNORECASE,
)
_CURRENCY_BEFORE_RE = re.compile(r"(?:€|\$|£|¥|\b(?:eur|usd|gbp|chf))\s?$", re.IGNORECASE)
_PREFIX_RE = re.compile(r"^[^\W\d_]{1,6}$")


_ASCII_DIGIT = re.compile(r"[0-9]")

# Scripts often written without a space before or after a reference (Han, kana, Hangul, Thai):
# "案件番号AB-12345について", "계좌번호CASE-2026-00123입니다". A run of them next to a letter
# or digit is cut off by a line break (a break joins nothing, unlike a space); one to three
# Hangul letters between two digit groups stay, as part of the reference ("2024가단12345", a
# Korean court case number).
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
_UNSPACED = (
    f"{_HANGUL}\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
)
_UNSPACED_RUN = re.compile(f"[{_UNSPACED}]+")
_CASE_CODE = re.compile(f"[{_HANGUL}]{{1,3}}")  # 가단, 가합, 나, 드 …: between two digit groups


def _apart_from_unspaced_scripts(text: str) -> str:
    if text.isascii():
        return text

    def cut(run: re.Match[str]) -> str:
        before = text[run.start() - 1] if run.start() > 0 else ""
        after = text[run.end()] if run.end() < len(text) else ""
        joined_before, joined_after = before.isalnum(), after.isalnum()
        if before.isdigit() and after.isdigit() and _CASE_CODE.fullmatch(run.group()):
            return run.group()
        return ("\n" if joined_before else "") + run.group() + ("\n" if joined_after else "")

    return _UNSPACED_RUN.sub(cut, text)


def _has_digit(value: str) -> bool:
    """``any(ch.isdigit() for ch in value)``, without a Python loop for ASCII text."""
    if value.isascii():
        return _ASCII_DIGIT.search(value) is not None
    return any(ch.isdigit() for ch in value)


class _Token(NamedTuple):
    text: str
    start: int
    end: int
    digit: bool  # holds a digit as written or once normalised (``½`` is ``1⁄2``)


def _tokens(text: str) -> list[_Token]:
    if text.isascii():  # most mail: a digit is 0-9, and NFKC changes nothing
        return [
            _Token(m.group(), m.start(), m.end(), _ASCII_DIGIT.search(m.group()) is not None)
            for m in _TOKEN_RE.finditer(text)
        ]
    return [
        _Token(
            value, m.start(), m.end(), _has_digit(value) or _has_digit(normalise_reference(value))
        )
        for m in _TOKEN_RE.finditer(text)
        for value in (m.group(),)
    ]


def _in_the_clear(text: str, token: _Token) -> bool:
    """Not part of an e-mail address, a URL, an amount or a phone number."""
    before = text[max(token.start - 40, 0) : token.start]
    if (
        before.endswith(("+", "://", "www."))
        or "@" in text[max(token.start - 1, 0) : token.end + 1]
    ):
        return False
    if re.search(r"https?://\S*$", before) or re.search(r"\+[\d ()/-]*$", before):
        return False
    return not (_CURRENCY_BEFORE_RE.search(before) or _PHONE_LABEL_RE.search(before))


def _looks_like_reference(text: str, token: _Token) -> bool:
    if not token.digit:  # most words: neither the value nor its key holds a digit
        return False
    value = token.text.rstrip("./-")
    key = normalise_reference(value)
    if not (_has_digit(key) and MIN_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH):
        return False
    if key.isdigit() and len(key) < MIN_BARE_DIGITS:
        return False
    if _DATE_RE.match(value) or _AMOUNT_RE.match(value):
        return False
    return _in_the_clear(text, token)


# Short words that come before numbers in ordinary sentences (never a reference prefix).
_NOT_PREFIX_WORDS = (
    "a am an and as at by call en for from in is it me my no nr of on or our per sent the to "
    "tel was we year your about also date den der die das dem des ein eine im ist mit und "
    "vom zum au de du el et la le les los las op het een van voor il lo di da del al "
    "number nummer numero número numéro jahr année año anno jaar"
)
_NOT_PREFIXES = frozenset(_NOT_PREFIX_WORDS.split(" "))


def _joinable_digits(text: str, token: _Token) -> bool:
    value = token.text.rstrip("./-")
    return (
        _has_digit(value)
        and not _DATE_RE.match(value)
        and not _AMOUNT_RE.match(value)
        and _in_the_clear(text, token)
    )


def _joined(text: str, tokens: list[_Token]) -> Iterable[str]:
    """Digit groups written with single spaces (``4471 0815 22``) and a short letter prefix
    before digits (``CASE 2024/00123``), joined.

    Only a pair one space apart whose second token holds a digit can start a group, so the
    dearer checks run for those pairs alone."""
    joinable: dict[int, bool] = {}

    def can_join(index: int) -> bool:
        if index not in joinable:
            joinable[index] = _joinable_digits(text, tokens[index])
        return joinable[index]

    def spaced(index: int) -> bool:  # token ``index + 1`` follows one space after ``index``
        after = tokens[index].end
        return tokens[index + 1].start == after + 1 and text[after] == " "

    last = len(tokens) - 1
    for index in range(last):
        first, second = tokens[index], tokens[index + 1]
        if not (second.digit and spaced(index) and can_join(index + 1)):
            continue
        prefixed = bool(_PREFIX_RE.match(first.text)) and first.text.casefold() not in _NOT_PREFIXES
        if not (prefixed or can_join(index)):
            continue
        yield f"{first.text} {second.text}"
        if (
            index + 2 <= last
            and tokens[index + 2].digit
            and spaced(index + 1)
            and can_join(index + 2)
        ):
            yield f"{first.text} {second.text} {tokens[index + 2].text}"


_LABELLED_RE = re.compile(r"[^\W_][\w./-]*(?: [^\W_][\w./-]*){0,3}")


def _labelled_values(text: str) -> Iterable[str]:
    """The value after each label, also as written in spaced parts (``Az. 12 O 345/24``: the
    first one to four words; the lookup tells which one is the reference)."""
    for label in _LABEL_RE.finditer(text):
        match = _LABELLED_RE.match(text, label.end(), label.end() + 60)
        if match is None:
            continue
        words = match.group().split(" ")
        for count in range(1, len(words) + 1):
            value = " ".join(words[:count]).rstrip("./-")
            key = normalise_reference(value)
            if any(ch.isdigit() for ch in key) and (
                MIN_LABELLED_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH
            ):
                yield value


def _free_tokens(text: str) -> Iterable[str]:
    tokens = _tokens(text)
    for token in tokens:
        if _looks_like_reference(text, token):
            yield token.text
    for joined in _joined(text, tokens):
        key = normalise_reference(joined)
        if MIN_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH and not key.isalpha():
            yield joined


def reference_spellings(
    email: ParsedEmail,
    *,
    extracted: Iterable[str] = (),
    pattern: re.Pattern[str] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, list[str]]:
    """The email's reference keys (normalised, distinct, best first, at most ``limit``), each
    with the spellings it was written in (what an account stored without keys is found by)."""
    parts = [email.subject, email.text]
    parts += [a.text for a in email.attachments if a.text]
    parts += [a.filename.rsplit(".", 1)[0] for a in email.attachments if a.filename]
    parts.append(email.quoted_text)
    texts = [_apart_from_unspaced_scripts(part[:MAX_SCANNED_CHARS]) for part in parts if part]

    keys: dict[str, list[str]] = {}

    def add(values: Iterable[str]) -> None:
        for value in values:
            key = normalise_reference(value)
            if MIN_LABELLED_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH:
                spellings = keys.setdefault(key, [])
                spelling = value.strip().rstrip("./-")
                if spelling not in spellings and len(spellings) < 3:
                    spellings.append(spelling)

    add(extracted)
    for text in texts:
        add(_labelled_values(text))
    if pattern is not None:
        for text in texts:
            add(m.group() for m in pattern.finditer(text))
    for text in texts:
        add(_free_tokens(text))
        if len(keys) >= limit:
            break
    return dict(list(keys.items())[:limit])


def reference_tokens(
    email: ParsedEmail,
    *,
    extracted: Iterable[str] = (),
    pattern: re.Pattern[str] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[str]:
    """The email's reference keys (normalised, distinct), best first, at most ``limit``."""
    return list(reference_spellings(email, extracted=extracted, pattern=pattern, limit=limit))
