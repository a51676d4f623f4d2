"""Sentences that speak of a payment not made: denied, still to come, only a condition, or
made and then returned by the bank.

A payment confirmation's intent evidence may be a true quote and still not a statement that
money was paid: the model can start its quote after the "not" of "I have not paid the 1,200.00
EUR yet", or quote "pay 200 EUR" out of "I will pay 200 EUR next week". :func:`unpaid_cue`
looks at the whole sentence the quote stands in, in the languages the rest of the extraction
reads (English, German, French, Spanish, Italian, Dutch), for a negation, a future or a
condition bound to a verb of paying, or a future tense of one.

It is a guard on the money path only: a cue found means the payment is reported to a person,
never recorded, so the patterns prefer a sentence wrongly held ("I could not pay in full, so I
paid 200 EUR") to a denial let through.
"""

from __future__ import annotations

import re

# Verbs of paying (and the nouns that only a payment's denial puts them after), any tense, per
# language. Not "payment" in English: "you will see the payment" is a payment made.
_PAY = (
    r"pa(?:y|id|ying)|settl(?:e|ed|ing)|transferr?(?:ed|ing)?|remit(?:ted)?|wired?"
    r"|\w*zahl\w*|überw\w*|begleich\w*|beglich\w*"
    r"|pay[eé]\w*|pai[eé]\w*|régl\w*|vir(?:é|ée|ement|er)\w*|rembours\w*|versé\w*"
    r"|pag(?:o|ado|ada|ué|ar|aré|ando|ato|ata|are|herò|herei)|abon\w*|transfer\w*"
    r"|versat\w*|versare|bonific\w*|saldat\w*"
    r"|betaal\w*|betaald|betalen|overgemaakt|overmaken|voldaan"
    r"|made|sent|effectu\w*|effettuat\w*|accreditat\w*|realizad\w*|erfolgt|ausgeführt|gestort"
)
# What, before a verb of paying in the same clause, makes the sentence not a payment made.
# Between the cue and the verb only words of that clause count: no punctuation and no "but"
# ("Don't worry, I paid", "Keine Sorge, ich habe bezahlt", "I'm not sure but I paid" are
# payments made). Each kind reaches its own number of words (a negative one as many, but not
# across the writer as the subject of a clause of its own):
_CUES = (
    # negations ("I have not yet paid", "noch nicht bezahlt", "n'ai pas encore payé", "non ho
    # ancora pagato", "nog niet betaald"); Spanish "no" only before a verb, not as "número"
    (
        r"not|never|nicht|nie|kein\w*|pas|jamais|nunca|todavía\s+no|aún\s+no|non|niet|nooit"
        r"|geen|no(?=\s+(?:he|hemos|ha|han|puedo|pude|podemos|pudimos|pag\w*))",
        2,
    ),
    (r"\w+n't", 1),  # "haven't yet paid", not "don't worry I paid"
    # a future or an intention ("I will pay", "I'll be paying", "je vais payer", "voy a pagar",
    # "vorrei pagare", "ik wil graag betalen")
    (
        r"will|\w+'ll|shall|going\s+to|gonna|plan\s+to|planning\s+to|intend\s+to|about\s+to"
        r"|would\s+like\s+to|promise\s+to|yet\s+to|unable\s+to|cannot|vais|allons|va|voudrais"
        r"|voy\s+a|vamos\s+a|quiero|vorrei|voglio|wil",
        1,
    ),
    # German and Dutch put the verb last ("ich möchte die Rechnung bezahlen", "ich werde
    # morgen 200 EUR überweisen", "ik ga het bedrag morgen overmaken")
    (r"möchte|wollen|würde", 2),
    (r"werde|werden|zal|zullen|ga|gaan", 3),
    # conditions ("if I pay", "sobald ich zahle", "dès que je paie")
    (
        r"if\s+i|if\s+we|until\s+i|as\s+soon\s+as|wenn\s+ich|sobald|bevor|si\s+je|dès\s+que"
        r"|avant\s+de|antes\s+de|prima\s+di|als\s+ik|zodra|voordat",
        2,
    ),
    # conditions, and requests to confirm a payment of a third person, as our own letters word
    # them ("If the payment has been made, please ignore", "Indien u reeds heeft betaald");
    # "I want to confirm that I paid" stays a payment made
    (
        r"if\s+(?:the|your|you|it|this)|once|whether|ob|falls|sollten|indien|mocht|als\s+u"
        r"|of\s+(?:het|de|u)|si\s+(?:le|la|vous|el|ya)|se\s+(?:il|la)|qualora"
        r"|en\s+caso\s+de\s+que|gefragt|demandé\s+(?:à\s+\w+\s+)?si",
        4,
    ),
    # ... and requests to confirm, unless the writer made the payment named ("please confirm
    # the payment I made", "can you confirm that the transfer we sent arrived")
    (
        r"confirm\w*\s+(?:that\s+)?(?:the|your|it|this)"
        r"|(?:confirmer|confirmar|confermare|bestätigen|bevestigen)\s*,?\s+(?:que|che|dass|dat)"
        r"\s+(?:le|la|el|il|der|die|das|het|de)",
        -4,
    ),
)
# A word of the same clause: no punctuation, not a conjunction opening another one.
_WORD = r"(?!(?:but|aber|mais|pero|ma|maar|however|doch)\b)[^\s.,;:!?()]+"
# the writer as the subject of a clause of its own (for the cues of negative reach)
_NOT_MINE = r"(?!\s+(?:i|we|ich|wir|je|j['’]ai|nous|yo|io|ik|wij)\b)"
_CUE_BEFORE_PAY_RE = re.compile(
    "|".join(
        rf"\b(?:{cues})\b(?:{_NOT_MINE if reach < 0 else ''}\s+{_WORD}){{0,{abs(reach)}}}?"
        rf"\s+(?:{_PAY})\b{_NOT_MINE if reach < 0 else ''}"
        for cues, reach in _CUES
    ),
    re.IGNORECASE,
)
# A negation after the verb where the language puts it there: German and Dutch ("bezahle ich
# nicht", "betaal ik niet").
_PAY_BEFORE_CUE_RE = re.compile(
    rf"\b(?:{_PAY})\b(?:\s+{_WORD}){{0,2}}?\s+(?:nicht|niet)\b", re.IGNORECASE
)
# Future tenses written as one word.
_FUTURE_RE = re.compile(
    r"\b(?:paierai|paierons|payerai|payerons|réglerai|réglerons|virerai|pagaré|pagaremos"
    r"|abonaré|transferiré|pagherò|pagheremo|verserò)\b",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"[.!?;](?=\s|$)|\n")


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` holding ``text[start:end]`` (one that may span several)."""
    before = [m.end() for m in _SENTENCE_END_RE.finditer(text, 0, start)]
    after = _SENTENCE_END_RE.search(text, end)
    return text[(before[-1] if before else 0) : (after.start() if after else len(text))]


# Our own letters' "if you have already paid, please disregard this letter", pasted or forwarded
_BOILERPLATE_RE = re.compile(
    r"\b(?:disregard|ignore|negeren|niet\s+verzonden|gegenstandslos|tenir\s+compte|caso\s+omiso"
    r"|ignorare|tenere\s+conto)\b",
    re.IGNORECASE,
)

# A payment that came back: made, then returned, refused or cancelled by a bank
REVERSED = (
    r"(?:returned|rejected|declined|bounced|reversed|recalled|cancell?ed|charged\s+back"
    r"|zurückgebucht|zurückgekommen|zurückgegangen|storniert|abgelehnt|zurückgewiesen"
    r"|rejetée?s?|retournée?s?|refusée?s?|annulée?s?"
    r"|rechazad[oa]s?|devuelt[oa]s?|anulad[oa]s?|cancelad[oa]s?"
    r"|respint[oa]|stornat[oa]|rifiutat[oa]|annullat[oa]|tornat[oa]\s+indietro"
    r"|teruggeboekt|teruggestort|geweigerd|geannuleerd|gestorneerd)"
)
_REVERSED_RE = re.compile(rf"\b{REVERSED}\b", re.IGNORECASE)


def unpaid_cue(sentence: str) -> bool:
    """Whether ``sentence`` denies a payment, puts it in the future, makes it a condition or
    says it came back."""
    return bool(
        _CUE_BEFORE_PAY_RE.search(sentence)
        or _PAY_BEFORE_CUE_RE.search(sentence)
        or _FUTURE_RE.search(sentence)
        or _BOILERPLATE_RE.search(sentence)
        or _REVERSED_RE.search(sentence)
    )
