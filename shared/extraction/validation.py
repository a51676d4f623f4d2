"""Validation of every extracted value, whichever extractor produced it.

A value that fails its check is dropped (warning ``invalid:<field>``); a value whose evidence
quote is missing (``evidence_missing:<field>``), not found in the email
(``evidence_not_found:<field>``), does not support the value (``evidence_mismatch:<field>``,
e.g. the amount's digits are not in the quote) or, for the intent and the fields of
:data:`NEW_TEXT_FIELDS` (a payment confirmation's amount), is found only in the quoted history
or an inherited ``Re:`` subject (``evidence_quoted_only:<field>``) keeps its value but its
confidence is halved and capped at :data:`UNSUPPORTED_CONFIDENCE_CAP`. Evidence may leave words
out with an ellipsis, except where money moves (:data:`CONTIGUOUS_EVIDENCE_FIELDS`, and the
intent of :data:`CONTIGUOUS_EVIDENCE_INTENTS`): there it must be one contiguous span of the
email, and pieces stitched together are an ``evidence_mismatch``. Confidences are clamped to
[0, 1].

Checks: references 1–64 characters of letters, digits and ``-_/.# ``; names 2–200
characters without control characters; e-mail addresses by syntax; amounts positive, at most
two decimals, at most :data:`MAX_AMOUNT`; currencies from :data:`CURRENCIES` (ISO 4217); dates
ISO ``YYYY-MM-DD`` between :data:`MIN_DATE_YEARS_BACK` years ago and
:data:`MAX_DATE_YEARS_AHEAD` years ahead; addresses 5–500 characters; phone numbers 6–15 digits.
The email is also checked for prompt-injection phrases wherever the model reads it (warning
``injection_suspected`` plus ``injection_site:<kind>``, see :mod:`shared.extraction.injection`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.extraction import relative_dates
from shared.extraction.injection import injection_sites
from shared.extraction.models import FIELD_NAMES, INTENTS, ExtractedField, FieldValue, ParsedEmail
from shared.extraction.months import MONTHS
from shared.extraction.unpaid import sentence_around, unpaid_cue

MAX_AMOUNT = Decimal("100000000")  # 100 million: above this an amount is a misreading
MIN_DATE_YEARS_BACK = 10
MAX_DATE_YEARS_AHEAD = 5
UNSUPPORTED_CONFIDENCE_CAP = 0.5
MAX_EVIDENCE_CHARS = 1000

_CURRENCY_LIST = """AED ARS AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS
INR ISK JPY KRW MAD MXN MYR NGN NOK NZD PEN PHP PKR PLN RON RSD RUB SAR SEK SGD THB TRY TWD UAH
USD VND ZAR"""
CURRENCIES = frozenset(_CURRENCY_LIST.split())
_CURRENCY_WORDS = {
    "EUR": ("€", "eur", "euro"),
    "USD": ("$", "usd", "dollar"),
    "GBP": ("£", "gbp", "pound", "sterling"),
    "CHF": ("chf", "franc", "fr."),
    "JPY": ("¥", "jpy", "yen", "円"),
    "SEK": ("sek", "kr", "krona", "kronor"),
    "NOK": ("nok", "kr", "krone"),
    "DKK": ("dkk", "kr", "krone"),
    "PLN": ("pln", "zł", "zloty", "złoty"),
    "INR": ("₹", "inr", "rupee"),
}

_REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_/.# ]{0,63}$")
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_UNPRINTABLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and line ends stay
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{6,30}$")


class InvalidValue(ValueError):
    """A value failed its check (the message names the rule, never the value)."""


# --- value checks ------------------------------------------------------------


def _text(value: Any, min_len: int, max_len: int, rule: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"{rule}: not a string")
    cleaned = re.sub(r"\s+", " ", value).strip()
    if not min_len <= len(cleaned) <= max_len or _CONTROL_RE.search(cleaned):
        raise InvalidValue(f"{rule}: length or characters")
    return cleaned


def check_reference(value: Any) -> str:
    cleaned = _text(value, 1, 64, "reference")
    if not _REFERENCE_RE.match(cleaned):
        raise InvalidValue("reference: characters")
    return cleaned


def check_name(value: Any) -> str:
    cleaned = _text(value, 2, 200, "name")
    if "@" in cleaned or not any(c.isalpha() for c in cleaned):
        raise InvalidValue("name: not a name")
    return cleaned


def check_email(value: Any) -> str:
    cleaned = _text(value, 3, 254, "email").lower()
    if not _EMAIL_RE.match(cleaned):
        raise InvalidValue("email: syntax")
    return cleaned


def parse_amount(value: Any) -> Decimal:
    """A positive amount with at most two decimals, at most :data:`MAX_AMOUNT`."""
    if isinstance(value, bool):
        raise InvalidValue("amount: boolean")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue("amount: not finite")
        amount = Decimal(repr(value))
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{1,12}(?:\.\d{1,2})?\s*", value):
        amount = Decimal(value.strip())
    else:
        raise InvalidValue("amount: not a number")
    try:
        if amount <= 0 or amount > MAX_AMOUNT:
            raise InvalidValue("amount: out of range")
        if amount != amount.quantize(Decimal("0.01")):
            raise InvalidValue("amount: more than two decimals")
    except InvalidOperation as exc:
        raise InvalidValue("amount: not a number") from exc
    return amount.quantize(Decimal("0.01"))


def check_amount(value: Any) -> float:
    return float(parse_amount(value))


def check_currency(value: Any) -> str:
    if not isinstance(value, str) or value.strip().upper() not in CURRENCIES:
        raise InvalidValue("currency: not an accepted ISO 4217 code")
    return value.strip().upper()


def check_date(value: Any, today: date) -> str:
    if not isinstance(value, str) or not _DATE_RE.match(value.strip()):
        raise InvalidValue("date: not YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidValue("date: no such day") from exc
    earliest = date(today.year - MIN_DATE_YEARS_BACK, 1, 1)
    latest = date(today.year + MAX_DATE_YEARS_AHEAD, 12, 31)
    if not earliest <= parsed <= latest:
        raise InvalidValue("date: out of range")
    return parsed.isoformat()


def check_address(value: Any) -> str:
    cleaned = _text(value, 5, 500, "address")
    if not any(c.isalpha() for c in cleaned):
        raise InvalidValue("address: no letters")
    return cleaned


def check_phone(value: Any) -> str:
    cleaned = _text(value, 6, 30, "phone")
    digits = re.sub(r"\D", "", cleaned)
    if not _PHONE_RE.match(cleaned) or not 6 <= len(digits) <= 15:
        raise InvalidValue("phone: not a phone number")
    return cleaned


def _checker(name: str, today: date) -> Callable[[Any], FieldValue]:
    checkers: dict[str, Callable[[Any], FieldValue]] = {
        "case_number": check_reference,
        "account_reference": check_reference,
        "debtor_name": check_name,
        "creditor_name": check_name,
        "debtor_email": check_email,
        "amount": check_amount,
        "plan_installment_amount": check_amount,
        "currency": check_currency,
        "payment_date": lambda v: check_date(v, today),
        "plan_start_date": lambda v: check_date(v, today),
        "new_address": check_address,
        "new_phone": check_phone,
    }
    return checkers[name]


def clamp_confidence(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)  # an integer of hundreds of digits overflows
    except OverflowError:
        return None
    if not math.isfinite(number):
        return None
    return min(max(number, 0.0), 1.0)


# --- evidence -------------------------------------------------------------------

_QUOTE_MAP = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
     "–": "-", "—": "-", "‑": "-", "\u00a0": " "}
)  # fmt: skip


def normalise_for_search(text: str) -> str:
    """Case-, whitespace-, quote-style- and ``>``-prefix-insensitive form of ``text``."""
    text = _UNPRINTABLE_RE.sub(" ", unicodedata.normalize("NFKC", text).translate(_QUOTE_MAP))
    text = re.sub(r"(?m)^[ \t]*(?:>[ \t]?)+", "", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


WRAPPED_LINE_CHARS = 50  # mail programs wrap plain text at 72–78 characters


class EvidenceIndex:
    """The email's searchable text, normalised once, to look quotes up in.

    ``text`` is everything evidence may be quoted from (:meth:`ParsedEmail.searchable_text`);
    ``new_text`` only what this message itself says (:meth:`ParsedEmail.new_searchable_text`:
    no quoted history, no inherited ``Re:`` subject).
    """

    def __init__(self, email: ParsedEmail) -> None:
        self._email = email
        # the day the email was written, to read "yesterday" and "on Monday" from
        self.written = email.date.date() if email.date is not None else None
        self.text = normalise_for_search(email.searchable_text())
        self.new_text = normalise_for_search(email.new_searchable_text())

    @staticmethod
    def _pieces(quote: str, *, contiguous: bool) -> list[str]:
        quote = normalise_for_search(quote)
        pieces = [quote] if contiguous else re.split(r"\.\.\.|…", quote)
        return [p.strip() for p in pieces if p.strip()]

    def contains(self, quote: str, *, contiguous: bool = False) -> bool:
        """Whether ``quote`` is in the email: every piece between its ellipses, or with
        ``contiguous`` the whole quote as one span."""
        pieces = self._pieces(quote, contiguous=contiguous)
        return bool(pieces) and all(p in self.text for p in pieces)

    def in_new_text(self, quote: str, *, contiguous: bool = False) -> bool:
        """Whether ``quote`` is in the new text (not only in the history), as :meth:`contains`."""
        pieces = self._pieces(quote, contiguous=contiguous)
        return bool(pieces) and all(p in self.new_text for p in pieces)

    def denies_payment(self, quote: str) -> bool:
        """Whether the sentence of the new text that holds ``quote`` denies a payment, puts it
        in the future or makes it a condition (:mod:`shared.extraction.unpaid`): a true quote
        can start after the "not" of "I have not paid"."""
        quote = normalise_for_search(quote)
        lines = [
            line
            for line in map(normalise_for_search, self._email.new_searchable_text().splitlines())
            if line
        ]
        # A short line ends its sentence without a full stop ("Hello" / "Please do not worry" /
        # "I paid 200 EUR"); a long one is wrapped text going on on the next line.
        text = "".join(
            line + ("\n" if len(line) < WRAPPED_LINE_CHARS else " ") for line in lines
        ).rstrip()
        start = text.replace("\n", " ").find(quote) if quote else -1
        if start < 0:
            return False
        return unpaid_cue(sentence_around(text, start, start + len(quote)))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


_NUMBER_TOKEN_RE = re.compile(r"(?<![0-9])[0-9]+(?:[.,' ][0-9]+)*")
_GROUPED_RE = re.compile(r"[0-9]{1,3}(?:(?P<sep>[.,' ])[0-9]{3})(?:(?P=sep)[0-9]{3})*")


def _number_reading(token: str, decimal_mark: str) -> Decimal | None:
    """``token`` read with ``decimal_mark`` (``.`` or ``,``); the other one, a space or ``'``
    may group thousands (by threes, one separator throughout). None: not a number that way."""
    whole, fraction = token, ""
    if decimal_mark in token:
        whole, _, fraction = token.rpartition(decimal_mark)
        if not re.fullmatch(r"[0-9]{1,2}", fraction):
            return None
    if not whole.isdigit():
        grouped = _GROUPED_RE.fullmatch(whole)
        if grouped is None or grouped.group("sep") == decimal_mark:
            return None
        whole = re.sub(r"[.,' ]", "", whole)
    return Decimal(f"{whole}.{fraction or '0'}")


def _numbers_in(quote: str) -> set[Decimal]:
    """Every reading of every number in ``quote``: ``1,234.56`` and ``1.234,56`` styles, digits
    grouped by spaces or ``'``; a run that reads as no number is read piece by piece."""
    found: set[Decimal] = set()
    for token in _NUMBER_TOKEN_RE.findall(quote):
        readings = {_number_reading(token, mark) for mark in (".", ",")} - {None}
        if not readings:
            pieces = token.split(" ")
            readings = {_number_reading(p, m) for p in pieces for m in (".", ",")} - {None}
        found |= {r for r in readings if r is not None}
    return found


def _supports_amount(value: FieldValue, quote: str) -> bool:
    """The quote states exactly this amount (compared as Decimals, not as digit strings)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return False
    return amount.is_finite() and amount in _numbers_in(quote)


_MONEY_MARK = (
    r"[€$£¥₹]|zł|\b(?:eur|usd|gbp|chf|jpy|sek|nok|dkk|pln|inr|euros?|dollars?|pounds?"
    r"|francs?|kr)\b"
)
_MONEY_AMOUNT_RE = re.compile(
    rf"(?:{_MONEY_MARK})\s?(?P<after>[0-9]+(?:[.,' ][0-9]+)*)"
    rf"|(?<![0-9])(?P<before>[0-9]+(?:[.,' ][0-9]+)*)\s?(?:{_MONEY_MARK})"
)


def several_amounts(quote: str) -> bool:
    """``quote`` names more than one sum of money ("200 EUR of the 1,200.00 EUR"): any number
    in it could be the one the model took for the payment."""
    sums: list[set[Decimal]] = []
    for found in _MONEY_AMOUNT_RE.finditer(normalise_for_search(quote)):
        token = found.group("after") or found.group("before")
        readings = {_number_reading(token, mark) for mark in (".", ",")} - {None}
        sums.append({r for r in readings if r is not None})
    return any(a.isdisjoint(b) for i, a in enumerate(sums) for b in sums[i + 1 :] if a and b)


def _supports_date(value: FieldValue, quote: str) -> bool:
    _year, month, day = (int(x) for x in str(value).split("-"))
    if str(value) in quote:
        return True
    has_day = re.search(rf"(?<!\d)0?{day}(?!\d)", quote) is not None
    has_month = re.search(rf"(?<!\d)0?{month}(?!\d)", quote) is not None or any(
        re.search(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", quote)
        for word in MONTHS[month - 1]
    )
    return has_day and has_month


def _supports_reference(value: FieldValue, quote: str) -> bool:
    return re.sub(r"[\W_]", "", str(value).casefold()) in re.sub(r"[\W_]", "", quote)


# "$" after letters is another country's dollar (C$, A$, NZ$, HK$, R$ …); US$ is the one.
_USD_SIGN_RE = re.compile(r"(?<![^\W\d_])\$|\bus\$")


def _supports_currency(value: FieldValue, quote: str) -> bool:
    code = str(value)
    words = [w for w in _CURRENCY_WORDS.get(code, ()) if w != "$"]
    if code == "USD" and _USD_SIGN_RE.search(quote):
        return True
    return code.lower() in quote or any(w in quote for w in words)


def _supports_phone(value: FieldValue, quote: str) -> bool:
    return _digits(str(value))[-6:] in _digits(quote)


def _supports_email(value: FieldValue, quote: str) -> bool:
    return str(value).casefold() in quote


def _supports_words(value: FieldValue, quote: str) -> bool:
    tokens = [t for t in re.findall(r"\w+", str(value).casefold()) if len(t) > 1]
    found = sum(1 for t in tokens if t in quote)
    return bool(tokens) and found * 2 >= len(tokens)


_SUPPORTS: dict[str, Callable[[FieldValue, str], bool]] = {
    "amount": _supports_amount,
    "plan_installment_amount": _supports_amount,
    "payment_date": _supports_date,
    "plan_start_date": _supports_date,
    "case_number": _supports_reference,
    "account_reference": _supports_reference,
    "currency": _supports_currency,
    "new_phone": _supports_phone,
    "debtor_email": _supports_email,
}


def evidence_supports(name: str, value: FieldValue, evidence: str) -> bool:
    """Whether ``evidence`` plausibly states ``value`` (cheap, per-type heuristics)."""
    return _SUPPORTS.get(name, _supports_words)(value, normalise_for_search(evidence))


# --- the whole answer -----------------------------------------------------------


@dataclass(frozen=True)
class ValidatedAnswer:
    intent: str
    intent_confidence: float
    fields: dict[str, ExtractedField]
    warnings: tuple[str, ...]


def _penalise(confidence: float) -> float:
    return min(confidence * 0.5, UNSUPPORTED_CONFIDENCE_CAP)


# Fields whose evidence must be in the new text for an intent (else ``evidence_quoted_only``):
# a payment confirmation's amount quoted from an earlier message would credit it twice.
NEW_TEXT_FIELDS: Mapping[str, frozenset[str]] = {"payment_confirmation": frozenset({"amount"})}

# What money moves on must be quoted as one contiguous span of the email (else
# ``evidence_mismatch``): pieces joined by an ellipsis can pair "I paid" with a number or a
# currency written anywhere else, or drop the "not" of "I have not paid".
CONTIGUOUS_EVIDENCE_FIELDS = frozenset({"amount", "currency"})
CONTIGUOUS_EVIDENCE_INTENTS = frozenset({"payment_confirmation"})


def needs_new_text(intent: str, name: str) -> bool:
    """Whether ``name``'s evidence must be in the new text when the intent is ``intent``."""
    return name in NEW_TEXT_FIELDS.get(intent, frozenset())


def check_intent_evidence(
    intent: str, confidence: float, evidence: Any, index: EvidenceIndex, warnings: list[str]
) -> float:
    """The intent's confidence after checking its evidence (``other`` needs none): missing,
    not found, found only in the quoted history (``evidence_quoted_only:intent``), or for a
    payment confirmation in a sentence that denies the payment (``evidence_negated:intent``)
    halves it and caps it at :data:`UNSUPPORTED_CONFIDENCE_CAP`."""
    if intent == "other":
        return confidence
    problem = _intent_evidence_problem(intent, evidence, index)
    if problem is None:
        return confidence
    warnings.append(f"{problem}:intent")
    return _penalise(confidence)


def _intent_evidence_problem(intent: str, evidence: Any, index: EvidenceIndex) -> str | None:
    if not isinstance(evidence, str) or not evidence.strip():
        return "evidence_missing"
    evidence = evidence[:MAX_EVIDENCE_CHARS]
    contiguous = intent in CONTIGUOUS_EVIDENCE_INTENTS
    if not index.contains(evidence):
        return "evidence_not_found"
    if contiguous and not index.contains(evidence, contiguous=True):
        return "evidence_mismatch"
    if not index.in_new_text(evidence, contiguous=contiguous):
        return "evidence_quoted_only"
    if intent == "payment_confirmation" and index.denies_payment(evidence):
        return "evidence_negated"
    return None


# A date quoted only as "yesterday" or "on Monday" (not a blocking warning): the same words
# in a resent email name another day, so a payment dated this way is keyed as undated for the
# duplicate guard (a second one of the same amount within the window is held).
RELATIVE_DATE = "date_relative"


def _names_the_day(name: str, value: FieldValue, evidence: str, index: EvidenceIndex) -> bool:
    """A date quoted in the new text as "yesterday" or "on Monday", which the prompt asks the
    model to resolve from the email's date (:mod:`shared.extraction.relative_dates`)."""
    if name not in ("payment_date", "plan_start_date") or index.written is None:
        return False
    if not index.in_new_text(evidence, contiguous=True):  # a quoted "yesterday" is another day
        return False
    return relative_dates.supports(
        date.fromisoformat(str(value)), normalise_for_search(evidence), index.written
    )


def _stitched(name: str, evidence: str, index: EvidenceIndex) -> bool:
    """Money evidence found in the email only as pieces, not as one contiguous span."""
    return name in CONTIGUOUS_EVIDENCE_FIELDS and not index.contains(evidence, contiguous=True)


def validate_field(
    name: str,
    raw: Any,
    index: EvidenceIndex,
    today: date,
    warnings: list[str],
    *,
    new_text_only: bool = False,
) -> ExtractedField | None:
    """One field of an answer: ``{value, confidence, evidence}`` → a checked field or None.

    ``new_text_only``: evidence found only in the quoted history is penalised like unfound
    evidence (``evidence_quoted_only:<name>``), see :data:`NEW_TEXT_FIELDS`.
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or "value" not in raw:
        warnings.append(f"invalid:{name}")
        return None
    if raw["value"] is None or raw["value"] == "":
        return None
    try:
        value = _checker(name, today)(raw["value"])
    except InvalidValue:
        warnings.append(f"invalid:{name}")
        return None
    confidence = clamp_confidence(raw.get("confidence"))
    if confidence is None:
        warnings.append(f"invalid_confidence:{name}")
        confidence = 0.0
    evidence = raw.get("evidence")
    if not isinstance(evidence, str) or not evidence.strip():
        warnings.append(f"evidence_missing:{name}")
        return ExtractedField(value, _penalise(confidence), None)
    # stored in the report as written: no control character (Postgres refuses NUL in JSON)
    evidence = _UNPRINTABLE_RE.sub(" ", evidence.strip()[:MAX_EVIDENCE_CHARS])
    contiguous = name in CONTIGUOUS_EVIDENCE_FIELDS
    if not index.contains(evidence):
        warnings.append(f"evidence_not_found:{name}")
        confidence = _penalise(confidence)
    elif _stitched(name, evidence, index) or not evidence_supports(name, value, evidence):
        if _names_the_day(name, value, evidence, index):
            # supported, but the day is only as sure as the Date header: see RELATIVE_DATE
            warnings.append(f"{RELATIVE_DATE}:{name}")
        else:
            warnings.append(f"evidence_mismatch:{name}")
            confidence = _penalise(confidence)
    elif new_text_only and not index.in_new_text(evidence, contiguous=contiguous):
        warnings.append(f"evidence_quoted_only:{name}")
        confidence = _penalise(confidence)
    return ExtractedField(value, confidence, evidence)


INJECTION_WARNING = "injection_suspected"
INJECTION_SITE_PREFIX = "injection_site:"


def injection_suspected(email: ParsedEmail) -> bool:
    """Injection phrases anywhere the model reads (text, hidden HTML, attachments, names)."""
    return bool(injection_sites(email))


def injection_warnings(email: ParsedEmail, *, model_flagged: bool = False) -> list[str]:
    """``injection_suspected`` plus one ``injection_site:<kind>`` per place it was seen (kinds
    only, never the text); empty when neither the detector nor the model saw an attempt."""
    sites = injection_sites(email)
    if not sites and not model_flagged:
        return []
    return [INJECTION_WARNING, *(INJECTION_SITE_PREFIX + site for site in sites)]


def validate_answer(
    answer: Mapping[str, Any], email: ParsedEmail, *, today: date | None = None
) -> ValidatedAnswer:
    """Check a tool answer (already known to be a mapping) against the rules above."""
    today = today or date.today()
    warnings: list[str] = []
    index = EvidenceIndex(email)
    intent = answer.get("intent")
    intent_confidence = clamp_confidence(answer.get("intent_confidence"))
    if intent not in INTENTS:
        warnings.append("invalid:intent")
        intent, intent_confidence = "other", 0.0
    if intent_confidence is None:
        warnings.append("invalid_confidence:intent")
        intent_confidence = 0.0
    intent = str(intent)
    intent_confidence = check_intent_evidence(
        intent, intent_confidence, answer.get("intent_evidence"), index, warnings
    )
    fields: dict[str, ExtractedField] = {}
    for name in FIELD_NAMES:
        checked = validate_field(
            name,
            answer.get(name),
            index,
            today,
            warnings,
            new_text_only=needs_new_text(intent, name),
        )
        if checked is not None:
            fields[name] = checked
    amount = fields.get("amount")
    if (
        intent == "payment_confirmation"
        and amount is not None
        and amount.evidence
        and several_amounts(amount.evidence)
        and not _warned(warnings, "amount")
    ):
        warnings.append("evidence_ambiguous:amount")
        fields["amount"] = replace(amount, confidence=_penalise(amount.confidence))
    warnings += injection_warnings(
        email, model_flagged=answer.get("contains_instructions_to_ai") is True
    )
    return ValidatedAnswer(intent, intent_confidence, fields, tuple(warnings))


def _warned(warnings: list[str], name: str) -> bool:
    return any(w.endswith(f":{name}") for w in warnings)
