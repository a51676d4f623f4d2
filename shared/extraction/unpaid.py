"""Sentences that speak of a payment not made: denied, still to come, or only a condition.

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
)
# What, a few words before a verb of paying, makes the sentence not a payment made. Words that
# also open ordinary sentences about a payment made ("Invoice no. 4711 paid", "could you
# confirm I paid", "ya se ha pagado", "when I paid") are left out.
_CUES = (
    # English
    r"not|never|\w+n't|yet\s+to|unable\s+to|cannot|will|shall|going\s+to|gonna|plan\s+to"
    r"|planning\s+to|intend\s+to|about\s+to|would|promise\s+to|if\s+i|if\s+we|until\s+i"
    r"|as\s+soon\s+as"
    # German
    r"|nicht|nie|kein\w*|werde|werden|würde|möchte|wollen|wenn\s+ich|sobald|bevor"
    # French
    r"|pas|jamais|vais|allons|va|voudrais|si\s+je|dès\s+que|avant\s+de"
    # Spanish: "no" only before a verb ("no he pagado", "no pagué"), not as "número"
    r"|no(?=\s+(?:he|hemos|ha|han|puedo|pude|podemos|pudimos|pag\w*|voy|vamos))|nunca"
    r"|todavía\s+no|aún\s+no|voy\s+a|vamos\s+a|quiero|antes\s+de"
    # Italian
    r"|non|mai|ancora|vorrei|voglio|appena|prima\s+di"
    # Dutch
    r"|niet|nooit|geen|ga|gaan|zal|zullen|wil|als\s+ik|zodra|voordat"
)
_CUE_BEFORE_PAY_RE = re.compile(rf"\b(?:{_CUES})\b(?:\s+\S+){{0,3}}?\s+(?:{_PAY})\b", re.IGNORECASE)
# A cue after the verb where the language puts it there: German and Dutch put the verb last
# ("noch nicht bezahlt" is caught above, "bezahle ich nicht" is not), and English tags a
# denial on ("paid? no").
_PAY_BEFORE_CUE_RE = re.compile(
    rf"\b(?:{_PAY})\b(?:\s+\S+){{0,2}}?\s+(?:nicht|niet|noch\s+nicht|nog\s+niet)\b", re.IGNORECASE
)
# Future tenses written as one word.
_FUTURE_RE = re.compile(
    r"\b(?:paierai|paierons|payerai|payerons|réglerai|réglerons|virerai|pagaré|pagaremos"
    r"|abonaré|transferiré|pagherò|pagheremo|verserò|i'll|we'll)\b",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"[.!?;](?=\s|$)|\n")


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` holding ``text[start:end]`` (one that may span several)."""
    before = [m.end() for m in _SENTENCE_END_RE.finditer(text, 0, start)]
    after = _SENTENCE_END_RE.search(text, end)
    return text[(before[-1] if before else 0) : (after.start() if after else len(text))]


def unpaid_cue(sentence: str) -> bool:
    """Whether ``sentence`` denies a payment, puts it in the future or makes it a condition."""
    return bool(
        _CUE_BEFORE_PAY_RE.search(sentence)
        or _PAY_BEFORE_CUE_RE.search(sentence)
        or _FUTURE_RE.search(sentence)
    )
