"""The deterministic fallback extractor: regular expressions and keywords, no network.

Used when no API key is configured (``make run`` out of the box) and whenever the Claude
breaker is open. Its confidences never reach ``DECISION_AUTO_UPDATE_THRESHOLD`` (and the
decision caps its results at ``UPDATE_AND_NOTIFY`` and never lets them move money), but a clear
email in the new text (strong wording: 0.75) matched to a single account reaches the default
``DECISION_NOTIFY_THRESHOLD`` (0.60): applied and staff notified, not queued for review.

Intent: compliance wording anywhere in the email first (the per-language tables of
:mod:`shared.extraction.wording`, the same the decision's backstop reads: 0.75 in the new text,
0.6 only in a quoted message or an attachment), then the weak compliance keywords (0.4), then the
other intents' strong (0.75) and weak (0.5) keywords in the new text (the subject unless a
reply or forward inherited it, and the new body), then in the whole email (at most 0.5);
nothing: ``other`` (0.3). Payments made or promised and sums offered to settle are read by the
small grammars of :mod:`shared.extraction.payment_wording`.

``degraded`` tells whether it stands in for Claude: :func:`shared.extraction.factory
.build_extractors` builds it with ``degraded=True`` when an API key is configured (then it only
runs as a fallback after Claude failed or its breaker is open) and ``degraded=False`` when it
is the configured extractor (no key: offline, not degraded).

Accepted formats (case-insensitive):

- case numbers: ``CASE-2024-00123`` (also ``CASE 2024/00123``, ``CASE2024-123``), or a value
  with at least one digit after a label: ``case number:``, ``case no.``, ``case #``, ``case
  ref``, ``file number``, ``claim number``, ``Aktenzeichen``, ``Az.``, ``dossier n°``,
  ``référence dossier``, ``expediente``, ``número de caso``;
- account references: ``ACC-123456`` (4–10 digits), or a labelled value with a digit:
  ``account number/no./#/ref/reference``, ``customer number``, ``reference:``, ``invoice
  number``, ``Kundennummer``, ``Vertragsnummer``, ``Rechnungsnummer``, ``numéro de compte``,
  ``número de cuenta``;
- amounts with a currency before or after: ``€1.234,56``, ``$1,234.56``, ``1234.56 EUR``,
  ``GBP 99``, ``250 euros``, ``£40``; the last of ``.``/``,`` followed by two digits is the
  decimal separator; an amount next to ``per month``/``monthly``/``instalment``/``Rate``/
  ``mensualité``/``cuota`` is the plan instalment;
- dates: ``2024-06-15``, ``15.06.2024``, ``15/06/2024``, ``15-06-2024`` (day first unless
  impossible), ``15 June 2024``, ``June 15, 2024``, ``15th of June 2024``, ``15. Juni 2024``,
  ``15 juin 2024``, ``15 de junio de 2024``, ``15 giugno 2024``, ``15 juni 2024``
  (:mod:`shared.extraction.months`);
- phone numbers after ``phone``/``tel``/``Tél.``/``mobile``/``cell``/``Telefon``/``téléphone``/
  ``teléfono``/``telefoon`` …, also ``(555) 013-4478``;
- a new address after ``new address``/``neue Adresse``/``nouvelle adresse``/``nueva
  dirección``/``nuovo indirizzo``/``nieuwe adres`` (the rest of the line, or the next lines up
  to three, up to a blank line or a line of other contact details such as ``Tel.:``);
- e-mail addresses after ``email:``/``e-mail address is``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared.config import Settings, get_settings
from shared.extraction import relative_dates
from shared.extraction.models import COMPLIANCE_INTENTS, Extraction, ParsedEmail
from shared.extraction.months import MONTH_NUMBERS
from shared.extraction.payment_wording import (
    PAYMENT_CONFIRMATION,
    PAYMENT_PROMISE,
    SETTLEMENT_OFFER,
    first_confirmation,
)
from shared.extraction.validation import (
    EvidenceIndex,
    check_intent_evidence,
    injection_warnings,
    needs_new_text,
    validate_field,
)
from shared.extraction.wording import compliance_hits

RULES_VERSION = "rules-2025-06-v1"

_I = re.IGNORECASE

# --- references ------------------------------------------------------------------

_CASE_RE = re.compile(r"\bCASE[-_ /]?\d{4}[-_ /]?\d{3,8}\b", _I)
_CASE_LABEL_RE = re.compile(
    r"\b(?:case|file|claim)\s*(?:number|no\.?|nr\.?|#|id|ref(?:erence)?)\s*[:#]?\s*"
    r"|\baktenzeichen\s*:?\s*|\baz\.\s*:?\s*|\bdossier\s*n[°o]\.?\s*:?\s*"
    r"|\bréférence\s+(?:du\s+)?dossier\s*:?\s*|\bexpediente\s*(?:n[°oº]\.?)?\s*:?\s*"
    r"|\bnúmero\s+de\s+caso\s*:?\s*",
    _I,
)
_ACCOUNT_RE = re.compile(r"\bACC[-_ ]?\d{4,10}\b", _I)
_ACCOUNT_LABEL_RE = re.compile(
    r"\b(?:account|acct|customer|client|invoice|contract)\s*"
    r"(?:number|no\.?|nr\.?|#|id|ref(?:erence)?)\s*[:#]?\s*"
    r"|\b(?:your\s+|our\s+)?reference\s*(?:number|no\.?)?\s*:\s*"
    r"|\b(?:kunden|vertrags|rechnungs|konto)nummer\s*:?\s*"
    r"|\bnuméro\s+de\s+(?:compte|client|facture)\s*:?\s*"
    r"|\bnúmero\s+de\s+(?:cuenta|cliente|factura)\s*:?\s*",
    _I,
)
_LABELLED_VALUE_RE = re.compile(r"[A-Z0-9][A-Z0-9\-/.]{2,40}", _I)

# --- amounts -----------------------------------------------------------------------

_CURRENCY_TOKENS = {
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
    "$": "USD", "usd": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD",
    "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP",
    "chf": "CHF",
    "¥": "JPY", "jpy": "JPY", "円": "JPY", "yen": "JPY",
}  # fmt: skip
_NUMBER = r"\d{1,3}(?:[.,' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CUR_BEFORE = r"€|\$|£|¥|\bUS\$|\b(?:EUR|USD|GBP|CHF|JPY)\b"
_CUR_AFTER = r"€|\$|£|円|\b(?:EUR|USD|GBP|CHF|JPY|euros?|dollars?|pounds?|yen)\b"
# A space, not a line break, between a sum and its currency: "Invoice 88412" / "£250 paid" is
# no amount of 88,412 pounds.
_AMOUNT_RE = re.compile(
    rf"(?P<c1>{_CUR_BEFORE})[ \t]?(?P<n1>{_NUMBER})(?!\d)"
    rf"|(?<![\d.,])(?P<n2>{_NUMBER})(?:[.,]-{{1,2}})?[ \t]?(?P<c2>{_CUR_AFTER})",
    _I,
)
_OFFER_RE = re.compile(r"offer|propos|settle|pay|anbiete|biete|propone|ofrezco", _I)
_INSTALMENT_RE = re.compile(
    r"per\s+month|a\s+month|monthly|instal+ments?|/\s*month|pro\s+monat|monatlich|\braten?\b"
    r"|par\s+mois|mensualités?|por\s+mes|al\s+mes|mensual(?:es|idad)?|cuotas?"
    r"|every\s+month|each\s+month|im\s+monat|chaque\s+mois|cada\s+mes|al\s+mese|ogni\s+mese"
    r"|\brat[ae]\b|mensil\w*|per\s+maand|elke\s+maand|iedere\s+maand|termijn\w*|maandelijks",
    _I,
)

# --- dates -------------------------------------------------------------------------

_MONTH_ALT = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
_DATE_RE = re.compile(
    r"(?P<iso>\b(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})\b)"
    r"|(?P<num>\b(?P<na>\d{1,2})(?P<ns>[./-])(?P<nb>\d{1,2})(?P=ns)(?P<ny>\d{4})\b)"
    rf"|(?P<dmy>\b(?P<dd>\d{{1,2}})(?:st|nd|rd|th|er|°|º|\.)?\s+(?:of\s+|de\s+)?(?P<dm>{_MONTH_ALT})\.?"
    r",?\s+(?:de\s+)?(?P<dy>\d{4})\b)"
    rf"|(?P<mdy>\b(?P<mm>{_MONTH_ALT})\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<my>\d{{4}})\b)"
    # without a year ("15 December", "le 1er décembre", "December 15th", "am 15.12."): the year
    # is the one that puts the date nearest the day the email was written (see _year_for)
    rf"|(?P<dm0>\b(?P<d0>\d{{1,2}})(?:st|nd|rd|th|er|°|º|\.)?\s+(?:of\s+|de\s+)?(?P<m0>{_MONTH_ALT})\b\.?)"
    rf"|(?P<md0>\b(?P<m1>{_MONTH_ALT})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\b(?![.,:/]?\d))"
    r"|(?P<dn0>\b(?:am|bis|zum|vom|ab|den|dem|le|el|il|op|per|on|by|until|before|vor|tot|voor)"
    r"\s+(?P<d2>\d{1,2})\.(?P<n2>\d{1,2})\.(?!\d)"
    # day/month where only a European writer puts it: "in data 12/11", "el 12/11", "le 12/11"
    r"|\b(?:in\s+data|il|el|le|am|op|del|dal|vom|du)\s+(?P<d8>\d{1,2})/(?P<n8>\d{1,2})\b(?!/\d))"
    # a day of the month alone, where its words say so ("on the 27th", "el día 27", "am 27.",
    # "il giorno 27", "de 27e"): the month is the one that fits the day the email was written
    r"|(?P<dd0>\b(?:the\s+(?P<d3>\d{1,2})(?:st|nd|rd|th)|el\s+(?:próximo\s+)?d[ií]a\s+(?P<d4>\d{1,2})"
    r"|il\s+giorno\s+(?P<d5>\d{1,2})|de\s+(?P<d6>\d{1,2})e|am\s+(?P<d7>\d{1,2})\.(?!\s*\d))"
    rf"(?!\w)(?!\s+(?:of\s+|de\s+|del\s+)?(?:{_MONTH_ALT})\b))",
    _I,
)
# where a date names our letter or an earlier message, not a payment: "your letter dated 2nd
# November", "Ihr Schreiben vom 05.11.2026", "votre courrier du 3 novembre"
_LETTER_DATE_RE = re.compile(
    r"(?:letter|notice|reminder|e-?mail|message|statement|text|sms|schreiben|brief|mahnung"
    r"|nachricht|courrier|lettre|relance|courriel|carta|correo|mensaje|lettera|sollecito"
    r"|comunicazione|bericht|herinnering|aanmaning)\s+(?:\S+\s+){0,2}?"
    r"(?:dated|of|from|on|vom|du|del|de|van|d\.d\.)\s*$",
    _I,
)
_PLAN_START_RE = re.compile(
    r"start(?:ing)?|beginn?(?:ing|end)?|from|first|ab\s+dem|à\s+partir|a\s+partir|desde", _I
)

# --- contact changes ------------------------------------------------------------------

# a phone's label, as it starts a line of contact details too ("Tél. :", "Cell.", "Mobile:")
_PHONE_LABEL = (
    r"\b(?:phone|tel(?:ephone)?|tél(?:éphone)?|mobile|cell(?:ulare)?|telefon(?:nummer)?"
    r"|handy(?:nummer)?|mobilnummer|rufnummer|teléfono|móvil|movil|telefono"
    r"|telefoon(?:nummer)?|mobiel|gsm|portable"
    r"|(?:nouveau|new|nuevo|nuovo|neue|nieuwe?)\s+(?:numéro|number|número|numero|nummer))"
    r"(?:\s+(?:number|no\.?|nummer|numéro))?\.?"
)
# between a label and its number: "Mi teléfono nuevo es el 612…", "Il nuovo numero è 328…"
_PHONE_COPULA = (
    r"(?:\s+(?:nuevo|nueva|new|nouveau|nuovo|neue?|nieuwe?))?"
    r"(?:\s+(?:is|ist|est|es|è|lautet|luidt)(?:\s+(?:el|le|il|de))?)?"
)
# (the words, colon and spaces between label and number are one atomic run: adjacent optional
# spaces that may give way to each other are quadratic on a label followed by a long blank)
_PHONE_RE = re.compile(
    rf"{_PHONE_LABEL}(?>{_PHONE_COPULA}\s*:?\s*)(?P<phone>\+?[\d(][\d ()./-]{{5,25}}\d)",
    _I,
)
# a line that starts another detail, not the address's next line: a label followed by a colon
# or the number itself ("Tel.: 0176…", "Cell. 333…"), so "Mobile, AL 36602" or "Tel Aviv 61000"
# stays part of the address
_DETAIL_LINE_RE = re.compile(
    r"^\s*(?:(?:and|und|et|y|e|en|also)\s+)?"
    r"(?:(?:my|mein|meine|mon|ma|mes|mi|mio|mijn|il|el|le|la|de|het)\s+)?"
    r"(?:(?:home|work|private|privat|fixe|fijo|fisso|vaste)\s+)?"
    r"(?:(?:new|neue?|nouveau|nouvelle|nuevo|nueva|nuovo|nuova|nieuwe?)\s+)?"
    rf"(?:{_PHONE_LABEL[2:]}|e-?mail|fax)\b\.?{_PHONE_COPULA}\s*(?::|[+\d(])",
    _I,
)
_ADDRESS_RE = re.compile(
    r"\b(?:new\s+(?:postal\s+|home\s+|mailing\s+)?address|update\s+my\s+address\s+to"
    r"|neue\s+(?:wohn)?(?:anschrift|adresse)|nouvelle\s+adresse"
    r"|nueva\s+direcci[oó]n|nuevo\s+domicilio|nuovo\s+indirizzo|nuova\s+residenza|nieuwe?\s+adres"
    # a notice of the change, its address on the lines after the colon
    r"|(?:change\s+of\s+address|changement\s+d['’]adresse|cambio\s+de\s+(?:direcci[oó]n|domicilio)"
    r"|adress(?:änderung|wijziging)|cambio\s+(?:di\s+)?(?:indirizzo|residenza)"
    r"|domicilio\s+(?:\S+\s+){0,5}?es\s+el\s+siguiente|wohne\s+(?:\S+\s+){0,3}?hier)"
    r"[^\n:]{0,80}(?=\s*:[ \t]*(?:\n|$)))"
    r"(?:\s+is|\s+ist|\s+est|\s+es|\s+è|\s+lautet|\s+luidt)?\s*:?[ \t]*(?P<rest>[^\n]*)",
    _I,
)
_CREDITOR_RE = re.compile(
    r"\b(?:original\s+)?(?:creditor|gläubiger|créancier|acreedor)\s*:[ \t]*(?P<name>[^\n]{2,80})",
    _I,
)
_EMAIL_RE = re.compile(
    r"\be-?mail(?:\s+address)?\s*(?:is|:)\s*(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)", _I
)

# --- intent ---------------------------------------------------------------------------

# each month, in the six languages
_MONTHLY = (
    r"(?:monatlich|pro\s+monat|im\s+monat|par\s+mois|chaque\s+mois|al\s+mese?|cada\s+mes"
    r"|ogni\s+mese|per\s+maand|elke\s+maand|per\s+month|a\s+month|each\s+month|every\s+month)\b"
)
# any sum paid in parts: monthly, weekly, or in instalments (a plan, not a lump sum)
_IN_PARTS = (
    rf"(?:{_MONTHLY}|(?:a|per|each|every(?:\s+two)?)\s+weeks?\b|weekly|wöchentlich|par\s+semaine"
    r"|a\s+la\s+semana|a\s+settimana|per\s+week|instal+ments?|raten\b|\brat[ae]\b|mensualit"
    r"|échéanc|cuotas?\b|plazos\b|termijn)"
)
# a verb of paying, in the six languages
_PAY_VERB = (
    r"(?:zahlen|abzahlen|überweisen|payer|verser|régler|rembourser|pagar|abonar|pagare|versare"
    r"|betalen|overmaken|afbetalen|\bpa(?:y|id)|afford|send|put)\b"
)
# what closes the matter: "to close this out", "wenn damit alles erledigt ist", "si con eso se
# cierra todo", "kan het dossier dan gesloten worden"
_CLOSES = (
    r"(?:close[sd]?|closing|settle[sd]?|clore|clôtur\w*|cierr\w*|cerrar\w*|chiud\w*|chius[oa]"
    r"|gesloten|afgesloten|afgerond|erledigt|abgeschlossen)\b"
)
_IF = r"(?:if|si|wenn|falls|als|se)\b"
# a lump sum offered on the condition that it closes the matter, in one sentence and not paid
# in parts (that is a plan): "I can pay 300 EUR now if that closes it", "Si je vous envoie
# 1500 euros, est-ce que vous acceptez de clore le dossier ?". Read after the payments made and
# promised (a second settlement entry below): "als" and "si" are also "than" and Italian's
# reflexive ("Ho pagato 200 euro e la pratica si è chiusa" is a payment made).
# (This is tried at every position of every email: every part is bounded, the first sum or
# condition found is kept (atomic groups, no retrying each later one), and the check for parts
# runs from the sentence's first sum or condition. An unbounded look-ahead made it quadratic.)
_NOT_IN_PARTS_AHEAD = rf"(?![^.!?\n]{{0,150}}?{_IN_PARTS})"
_SUM_IF_IT_CLOSES = (
    rf"(?:\b{_IF}{_NOT_IN_PARTS_AHEAD}(?>[^.!?\n]{{0,60}}?\d)[^.!?\n]{{0,80}}?\b{_CLOSES}"
    rf"|(?<!\d)\d{_NOT_IN_PARTS_AHEAD}(?>[^.!?\n]{{0,60}}?\b{_IF})[^.!?\n]{{0,60}}?\b{_CLOSES})"
)
# (intent, strong keywords, weak keywords). Checked: the compliance intents' strong keywords,
# then their weak ones, then the other intents' strong keywords, then their weak ones; within
# each pass in this order, the first hit wins. A weak compliance hit ("my lawyer", "leave me
# alone") beats a strong hit of another intent ("I will pay"): missing a cease-and-desist costs
# more than holding a payment email for staff.
_INTENT_KEYWORDS: tuple[tuple[str, str, str], ...] = (
    # the compliance intents' strong wording is the tables of shared.extraction.wording
    (
        "bankruptcy_notice",
        "",
        r"administrator\s+appointed",
    ),
    (
        "cease_and_desist",
        "",
        r"harass|no\s+further\s+contact|my\s+(?:attorney|lawyer|solicitor)|leave\s+(?:me|us)\s+alone",
    ),
    (
        "dispute",
        "",
        r"incorrect\s+amount|wrong\s+amount|already\s+paid\s+in\s+full|not\s+correct",
    ),
    (
        "settlement_offer",
        r"settle(?:ment)?\s+(?:offer|for|the\s+(?:debt|account|balance))|full\s+and\s+final"
        r"|offer\s+(?:to\s+pay|of)\s|vergleich(?:sangebot)?|abfindung|règlement\s+forfaitaire"
        r"|propuesta\s+de\s+(?:acuerdo|liquidación)|règlement\s+définitif"
        r"|pour\s+solde\s+de\s+tout\s+compte|saldo\s+y\s+finiquito|pago\s+único\s+y\s+definitivo"
        r"|saldo\s+e\s+stralcio|(?:als\s+)?finale\s+(?:kwijting|regeling)|schikking|einmalzahlung"
        r"|gesamterledigung|zur\s+erledigung|einmalig|" + SETTLEMENT_OFFER,
        r"\bsettle\b|lump\s+sum|reduced\s+amount",
    ),
    (
        "payment_plan_request",
        r"payment\s+plan|instal+ments?|pay\s+in\s+(?:parts|monthly)|monthly\s+payments?"
        r"|ratenzahlung|in\s+raten|échéancier|paiement\s+échelonné|plan\s+de\s+pagos"
        r"|pago\s+a\s+plazos|(?:set\s+up|arrange|agree)\s+(?:a\s+)?(?:payment\s+)?(?:plan|arrangement)"
        r"|payment\s+arrangement|plan\s+of\s"
        r"|(?:can|could)\s+(?:\w+ly\s+)?(?:manage|afford|pay|do)\s+\S+(?:\s+\S+)?\s+(?:a|per|each)\s+month"
        r"|afford\s+\S+\s+(?:a|per|each)\s+month|fraccionar|aplazar\s+el\s+pago|pago\s+aplazado"
        r"|(?<!\d)\d+\s+rate\b|\brate\s+da\b|échelonner"
        r"|ratenplan|monatliche\s+raten?|mensualités|en\s+plusieurs\s+fois|plan\s+de\s+pago"
        r"|cuotas\s+mensuales|rateizza\w*|a\s+rate\b|rate\s+mensili|betalingsregeling"
        r"|in\s+termijnen|termijnbedrag"
        rf"|{_MONTHLY}.{{0,60}}?{_PAY_VERB}"
        rf"|{_PAY_VERB}.{{0,40}}?{_MONTHLY}|étaler\s+(?:le|mon|ce)\s+(?:paiement|règlement)",
        r"per\s+month|each\s+month|monatlich|par\s+mois|al\s+mes|al\s+mese|per\s+maand",
    ),
    (
        "payment_confirmation",
        PAYMENT_CONFIRMATION,
        # not the writer's wages: "when I get paid"
        r"(?<!\bget\s)(?<!\bgets\s)(?<!\bgot\s)(?<!\bgetting\s)(?<!\bbe\s)(?<!\bam\s)(?<!['’]m\s)"
        r"\bpaid\b|receipt|bezahlt|überwiesen|payé|pagado",
    ),
    (
        "payment_promise",
        PAYMENT_PROMISE,
        r"will\s+(?:transfer|wire)|by\s+the\s+end\s+of|next\s+week",
    ),
    ("settlement_offer", _SUM_IF_IT_CLOSES, r"(?!)"),
    (
        "address_change",
        r"new\s+(?:postal\s+)?address|(?:i|we)\s+(?:have\s+)?moved|change\s+of\s+address"
        r"|address\s+change|neue\s+(?:anschrift|adresse)|umgezogen|nouvelle\s+adresse"
        r"|déménag|nueva\s+dirección|me\s+he\s+mudado|mi\s+sono\s+trasferit[oa]"
        r"|nuovo\s+indirizzo|nieuwe?\s+adres|(?:ik\s+ben|wij\s+zijn)\s+verhuisd|nueva\s+direccion"
        r"|cambio\s+de\s+(?:domicilio|dirección|direccion)|nuevo\s+domicilio"
        r"|mi\s+domicilio\s+(?:\S+\s+){0,5}?es\b|adreswijziging|adres\s+(?:\S+\s+){0,5}?gewijzigd"
        r"|adressänderung|(?:adresse|anschrift)\s+(?:\S+\s+){0,2}?geändert"
        r"|ändern\s+sie\s+meine\s+(?:anschrift|adresse)|changement\s+d['’]adresse"
        r"|cambio\s+(?:di\s+)?(?:indirizzo|residenza)|nuova\s+residenza|nuovo\s+domicilio",
        r"new\s+phone|new\s+(?:mobile|number)|neue\s+telefonnummer",
    ),
)
_INTENT_RES = tuple(
    (intent, re.compile(strong or r"(?!)", _I), re.compile(weak, _I))
    for intent, strong, weak in _INTENT_KEYWORDS
)


@dataclass(frozen=True)
class _Hit:
    value: str
    evidence: str
    start: int


def _labelled(label_re: re.Pattern[str], text: str) -> _Hit | None:
    for match in label_re.finditer(text):
        candidate = _LABELLED_VALUE_RE.match(text, match.end())
        if candidate and any(c.isdigit() for c in candidate.group()):
            value = candidate.group().rstrip(".-/")
            evidence = text[match.start() : candidate.start() + len(value)]
            return _Hit(value, evidence, match.start())
    return None


def _reference(pattern: re.Pattern[str], label_re: re.Pattern[str], text: str) -> _Hit | None:
    match = pattern.search(text)
    if match:
        value = re.sub(r"[_ /]", "-", match.group().upper())
        return _Hit(
            value if value != match.group() else match.group(), match.group(), match.start()
        )
    return _labelled(label_re, text)


def parse_number(raw: str) -> Decimal | None:
    """``1.234,56`` / ``1,234.56`` / ``1 234`` / ``1234.5`` → Decimal (None when unclear)."""
    cleaned = raw.replace(" ", "").replace("'", "")
    last_sep = max(cleaned.rfind("."), cleaned.rfind(","))
    if last_sep >= 0 and len(cleaned) - last_sep - 1 in (1, 2):
        whole, fraction = cleaned[:last_sep], cleaned[last_sep + 1 :]
        whole = whole.replace(".", "").replace(",", "")
        return Decimal(f"{whole}.{fraction}") if whole.isdigit() else None
    digits = cleaned.replace(".", "").replace(",", "")
    return Decimal(digits) if digits.isdigit() else None


@dataclass(frozen=True)
class _Amount:
    value: Decimal
    currency: str
    evidence: str
    start: int
    instalment: bool
    instalment_gap: int  # characters to the nearest instalment word


# The spaces that group thousands ("1 234,56 €": no-break, narrow no-break, thin, figure) and
# full-width digits and marks, folded to what the pattern reads; nothing else (NFKC would also
# make the footnote mark of "€250¹" a digit).
_NUMBER_FOLD = str.maketrans(
    {
        "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " ",
        "，": ",", "．": ".",
        **{chr(0xFF10 + d): str(d) for d in range(10)},
    }
)  # fmt: skip


def _amounts(text: str) -> list[_Amount]:
    text = text.translate(_NUMBER_FOLD)
    found = []
    for match in _AMOUNT_RE.finditer(text):
        number = match.group("n1") or match.group("n2")
        currency_token = (match.group("c1") or match.group("c2") or "").lower()
        value = parse_number(number)
        currency = _CURRENCY_TOKENS.get(currency_token)
        if value is None or value <= 0 or currency is None:
            continue
        # how far the nearest word of an instalment stands ("4 rate da 153,20 €" after "612,80 €
        # tutti insieme"): the nearest sum is the instalment
        gaps = [
            min(abs(word.start() - match.start()), abs(word.end() - match.end()))
            for word in _INSTALMENT_RE.finditer(text, max(match.start() - 40, 0), match.end() + 40)
        ]
        found.append(
            _Amount(value, currency, match.group(), match.start(), bool(gaps), min(gaps, default=0))
        )
    return found


def _date_value(match: re.Match[str], written: date | None, ahead: bool | None) -> str | None:
    try:
        if match.group("dd0"):
            if written is None:
                return None
            day = int(next(d for d in match.group("d3", "d4", "d5", "d6", "d7") if d))
            found = _month_for(day, written, ahead)
            return found.isoformat() if found else None
        if match.group("dm0") or match.group("md0") or match.group("dn0"):
            if written is None:
                return None
            if match.group("dn0"):
                day = int(match["d2"] or match["d8"])
                month = int(match["n2"] or match["n8"])
            else:
                day = int(match["d0"] or match["d1"])
                month = MONTH_NUMBERS[(match["m0"] or match["m1"]).lower()]
            found = _year_for(day, month, written, ahead)
            return found.isoformat() if found else None
        if match.group("iso"):
            year, month, day = int(match["iy"]), int(match["im"]), int(match["id"])
        elif match.group("num"):
            first, second, year = int(match["na"]), int(match["nb"]), int(match["ny"])
            day, month = (first, second) if second <= 12 else (second, first)
        elif match.group("dmy"):
            day, year = int(match["dd"]), int(match["dy"])
            month = MONTH_NUMBERS[match["dm"].lower()]
        else:
            day, year = int(match["md"]), int(match["my"])
            month = MONTH_NUMBERS[match["mm"].lower()]
        return date(year, month, day).isoformat()
    except (ValueError, KeyError):
        return None


_HEADER_LINE_RE = re.compile(
    r"^[ \t>]*(?:\*?(?:date|sent|datum|gesendet|envoyé|enviado|fecha)\s*:.*"
    # bounded: a quoted header is one short line, and unbounded ".*" pairs are quadratic in a
    # long one
    r"|(?:on|am|le|el)\s[^\n]{0,200}?\d{4}[^\n]{0,200}?(?:wrote|schrieb|écrit|escribió|@)[^\n]{0,200})$",
    re.IGNORECASE | re.MULTILINE,
)


def _nearest(days: list[date], written: date, ahead: bool | None) -> date | None:
    """The one of ``days`` nearest ``written``: on or after it for what is to come (``ahead``),
    on or before it for what was done (not ``ahead``), either otherwise; a day's slack either
    way, for the time zones between the writer and the ``Date`` header."""
    slack = timedelta(days=1)
    if ahead is True:
        days = [d for d in days if d >= written - slack]
    elif ahead is False:
        days = [d for d in days if d <= written + slack]
    return min(days, key=lambda d: abs(d - written), default=None)


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February of a common year, the 31st of a shorter month
        return None


def _year_for(day: int, month: int, written: date, ahead: bool | None) -> date | None:
    """``day``.``month`` in the year that puts it nearest ``written`` (:func:`_nearest`)."""
    years = range(written.year - 4, written.year + 5)  # 29 February: the nearest leap year
    return _nearest([d for y in years if (d := _valid(y, month, day))], written, ahead)


def _month_for(day: int, written: date, ahead: bool | None) -> date | None:
    """The ``day`` of the month that puts it nearest ``written`` (:func:`_nearest`)."""
    months = (written.year * 12 + written.month - 1 + step for step in range(-2, 3))
    return _nearest([d for m in months if (d := _valid(m // 12, m % 12 + 1, day))], written, ahead)


def _dates(text: str, written: date | None = None, ahead: bool | None = None) -> list[_Hit]:
    """Dates in ``text``, ignoring the dates of quoted headers ("Date:", "On … wrote:") and of
    letters ("your letter dated …"); dates without a year only with ``written``, and a day of
    the month alone after every date that names its month ("I get paid on the 15th and will
    send 250 GBP on November 22")."""
    text = _HEADER_LINE_RE.sub(lambda m: " " * len(m.group()), text)
    hits: list[_Hit] = []
    days_alone: list[_Hit] = []
    for match in _DATE_RE.finditer(text):
        if _LETTER_DATE_RE.search(text, max(match.start() - 40, 0), match.start()):
            continue
        value = _date_value(match, written, ahead)
        if value:
            (days_alone if match.group("dd0") else hits).append(
                _Hit(value, match.group(), match.start())
            )
    return hits + days_alone


STRONG = 0.75  # a compliance phrase or an intent's strong wording in the new text
ELSEWHERE = 0.6  # a compliance phrase only in the quoted history or an attachment
WEAK = 0.5  # an intent's weak wording
WEAK_COMPLIANCE = 0.4  # "my lawyer", "wrong amount": compliance, but too loose for the backstop
OTHER = 0.3

_COMPLIANCE_RES = tuple(r for r in _INTENT_RES if r[0] in COMPLIANCE_INTENTS)
_OTHER_RES = tuple(r for r in _INTENT_RES if r[0] not in COMPLIANCE_INTENTS)
_INTENT_PASSES = (
    tuple((intent, weak, WEAK_COMPLIANCE) for intent, _, weak in _COMPLIANCE_RES)
    + tuple((intent, strong, STRONG) for intent, strong, _ in _OTHER_RES)
    + tuple((intent, weak, WEAK) for intent, _, weak in _OTHER_RES)
)


def _intent(email: ParsedEmail, new_text: str) -> tuple[str, float, str | None]:
    """Compliance wording anywhere first (:mod:`shared.extraction.wording`: missing a
    cease-and-desist costs more than holding a payment email for staff), then the keywords."""
    hits = compliance_hits(email)
    if hits:
        confidence = STRONG if hits[0].segment == "new" else ELSEWHERE
        return hits[0].intent, confidence, hits[0].evidence
    for intent, pattern, confidence in _INTENT_PASSES:
        match = _said(intent, pattern, new_text)
        if match:
            return intent, confidence, match.group()
    return "other", OTHER, None


def _other_intent(text: str) -> tuple[str, float, str | None]:
    for intent, pattern, confidence in _INTENT_PASSES[len(_COMPLIANCE_RES) :]:
        match = _said(intent, pattern, text)
        if match:
            return intent, min(confidence, WEAK), match.group()
    return "other", OTHER, None


# A new text this short hands the reading to what it forwards or answers ("See below", "FYI").
SHORT_NEW_TEXT_WORDS = 25


def _the_rest(email: ParsedEmail, new_text: str) -> str:
    """Where the intent is read when the new text has none: the attachments, and the quoted
    history only under a short new text. A writer who wrote more asked something of their own,
    and the letter they answer is usually ours ("… if you cannot pay in full, ask us for a
    payment plan")."""
    parts = [a.text for a in email.attachments if a.text]
    if len(new_text.split()) <= SHORT_NEW_TEXT_WORDS:
        parts = [email.subject, email.quoted_text, *parts]
    return "\n".join(p for p in parts if p)


def _said(intent: str, pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of ``intent``'s wording that says it (a proof of payment asked for
    says no payment was made)."""
    if intent == "payment_confirmation":
        return first_confirmation(pattern, text)
    return pattern.search(text)


class RulesExtractor:
    """:class:`~shared.extraction.models.Extractor` from regular expressions and keywords."""

    name = "rules"

    def __init__(self, settings: Settings | None = None, *, degraded: bool = True) -> None:
        settings = settings or get_settings()
        self.degraded = degraded
        self.confidence_cap = settings.decision_auto_update_threshold - 0.01

    def extract(self, email: ParsedEmail) -> Extraction:
        # the subject only when this message wrote it: a reply's "Re: Vergleichsangebot" is ours
        new_text = email.new_text()
        everything = email.searchable_text()
        intent, intent_confidence, intent_evidence = _intent(email, new_text)
        if intent == "other":  # the new text said nothing recognisable: look at the rest
            intent, intent_confidence, intent_evidence = _other_intent(_the_rest(email, new_text))

        candidates: _Candidates = {}
        candidates.update(_reference_candidates(everything))
        said_at = new_text.find(intent_evidence) if intent_evidence else -1
        candidates.update(_amount_candidates(intent, new_text, everything, said_at))
        written = email.date.date() if email.date is not None else None
        candidates.update(_date_candidates(intent, new_text, everything, written))
        candidates.update(_contact_candidates(intent, new_text, email.text))

        index = EvidenceIndex(email)
        warnings: list[str] = []
        intent_confidence = check_intent_evidence(
            intent, intent_confidence, intent_evidence, index, warnings
        )
        today = date.today()
        fields = {}
        for name, (value, evidence, confidence) in candidates.items():
            raw = {
                "value": value,
                "confidence": min(confidence, self.confidence_cap),
                "evidence": evidence,
            }
            checked = validate_field(
                name, raw, index, today, warnings, new_text_only=needs_new_text(intent, name)
            )
            if checked is not None:
                fields[name] = checked
        warnings += injection_warnings(email)
        return Extraction(
            intent=intent,
            intent_confidence=min(intent_confidence, self.confidence_cap),
            fields=fields,
            extractor="rules",
            degraded=self.degraded,
            prompt_version=RULES_VERSION,
            model=None,
            warnings=tuple(warnings),
        )


_Candidates = dict[str, tuple[str, str, float]]  # field → (value, evidence, confidence)


def _reference_candidates(text: str) -> _Candidates:
    found: _Candidates = {}
    case = _reference(_CASE_RE, _CASE_LABEL_RE, text)
    if case:
        found["case_number"] = (case.value, case.evidence, 0.6)
    account = _reference(_ACCOUNT_RE, _ACCOUNT_LABEL_RE, text)
    if account and (not case or account.value != case.value):
        found["account_reference"] = (account.value, account.evidence, 0.6)
    return found


def _amount_candidates(
    intent: str, new_text: str, everything: str, said_at: int = -1
) -> _Candidates:
    """The amounts of ``intent``; for a payment made or promised, the sum nearest the words that
    say so (``said_at`` in ``new_text``): "die 1.045,00 EUR kann ich nicht … Ich überweise aber
    am 1.12. 300 EUR" promises 300."""
    found: _Candidates = {}
    amounts = _amounts(new_text)
    if said_at >= 0 and intent in ("payment_confirmation", "payment_promise"):
        amounts.sort(key=lambda a: abs(a.start - said_at))
    amounts = amounts or _amounts(everything)
    instalments = [a for a in amounts if a.instalment]
    others = [a for a in amounts if not a.instalment]
    planning = intent == "payment_plan_request"
    if planning and instalments:
        first = min(instalments, key=lambda a: a.instalment_gap)
        found["plan_installment_amount"] = (str(first.value), first.evidence, 0.5)
    if intent == "settlement_offer":  # the offered sum, not the balance it settles
        others.sort(key=lambda a: not _OFFER_RE.search(new_text[max(a.start - 40, 0) : a.start]))
    main = others[0] if others else (amounts[0] if amounts and not planning else None)
    if main:
        found["amount"] = (str(main.value), main.evidence, 0.5)
    chosen = main or (instalments[0] if instalments else None)
    if chosen:
        found["currency"] = (chosen.currency, chosen.evidence, 0.5)
    return found


# which way from the day written an intent's date lies: forwards for what is to come
_AHEAD = {"payment_confirmation": False, "payment_promise": True, "payment_plan_request": True}


def _date_candidates(
    intent: str, new_text: str, everything: str, written: date | None
) -> _Candidates:
    ahead = _AHEAD.get(intent)
    dates = _dates(new_text, written, ahead)
    if written is not None and ahead is not None:
        # a payment made is dated on or before the email, one to come on or after it
        iso = written.isoformat()
        fitting = [d for d in dates if (d.value >= iso) == ahead or d.value == iso]
        dates = fitting or dates
    if not dates and written is not None and intent in ("payment_confirmation", "payment_promise"):
        # "I paid yesterday", "je paierai lundi": read from the day the email was written
        found = relative_dates.first_day(new_text, written, ahead=intent == "payment_promise")
        if found is not None:
            day, words = found
            return {"payment_date": (day.isoformat(), words, 0.45)}
    dates = dates or _dates(everything, written, ahead)
    if not dates:
        return {}
    if intent == "payment_plan_request":
        start = next(
            (d for d in dates if _PLAN_START_RE.search(new_text[max(d.start - 30, 0) : d.start])),
            dates[0],
        )
        return {"plan_start_date": (start.value, start.evidence, 0.45)}
    if intent in ("payment_confirmation", "payment_promise", "settlement_offer"):
        return {"payment_date": (dates[0].value, dates[0].evidence, 0.45)}
    return {}


def _new_address(body: str) -> _Hit | None:
    """The rest of the line after "new address:", or the (up to 3) lines below it."""
    match = _ADDRESS_RE.search(body)
    if not match:
        return None
    rest = match["rest"].strip()
    if len(rest) >= 8 and any(c.isdigit() for c in rest):
        value = re.split(r"(?<=[a-z)])\.\s", rest, maxsplit=1)[0].strip(" .,")
        return _Hit(value, body[match.start() : match.start("rest") + len(value)], match.start())
    lines: list[str] = []
    for line in body[match.end() :].lstrip("\n").splitlines():
        if not line.strip() or len(lines) == 3 or _DETAIL_LINE_RE.match(line):
            break
        lines.append(line.strip())
    if not lines:
        return None
    end = body.find(lines[-1], match.end()) + len(lines[-1])
    return _Hit(", ".join(lines).strip(" .,"), body[match.start() : end], match.start())


def _contact_candidates(intent: str, text: str, body: str) -> _Candidates:
    found: _Candidates = {}
    phone = _PHONE_RE.search(text)
    if phone and intent == "address_change":
        found["new_phone"] = (phone["phone"].strip(), phone.group(), 0.5)
    address = _new_address(body)
    if address:
        found["new_address"] = (address.value, address.evidence, 0.45)
    creditor = _CREDITOR_RE.search(body)
    if creditor:
        name = creditor["name"].strip(" .,")
        found["creditor_name"] = (name, creditor.group().strip(" .,"), 0.45)
    mail = _EMAIL_RE.search(text)
    if mail:
        found["debtor_email"] = (mail["email"], mail.group(), 0.5)
    return found
