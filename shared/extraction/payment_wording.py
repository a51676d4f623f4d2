"""How debtors say they paid, or that they will, in the six languages of the wording tables.

The rules extractor's strong wording for ``payment_confirmation`` and ``payment_promise``
(:mod:`shared.extraction.rules`). Each language is a small grammar rather than a list of
sentences: a subject (or a verb form that carries it), an auxiliary, up to a few words of the
same sentence in between (a date, an amount, "already", an object), and a verb of paying. So
"ich werde am 02.12.2026 250,00 EUR zahlen", "Ik heb op 20-11-2026 250,00 euro overgemaakt"
and "Je vous réglerai 250 €" are read like their plainest forms.

The words in between never include a negation ("I have not paid", "ich werde nicht zahlen",
"je ne paierai pas" do not match) and never cross a sentence's end; a negation in front of a
future ("no pagaré", "non pagherò") is refused by a look-behind. The confirmation's quote is
also read in its whole sentence by the validation (:mod:`shared.extraction.unpaid`), which
catches a denial this grammar lets through.

Verbs that say little alone ("made", "hecho", "fatto", "effectué") count only with the
payment they made ("made a payment", "hice una transferencia", "ho fatto un bonifico").
A scheduled transfer ("ho programmato un bonifico per il 30") promises a payment: the money
has not left yet.
"""

from __future__ import annotations

# negations a gap may not hold, any of the six languages (a word of its own)
_NEGATION = (
    r"(?:\w*n['’]t|not|never|no|none|nothing|cannot"
    r"|nicht|nie|niemals|kein\w*|jamais|nunca|jamás|nada|non|niente"
    r"|niet|nooit|geen)\b"
)
# a word of the same sentence: no negation, and not ending a sentence (a date's or an amount's
# inner dots and commas are fine, and so is the dot of "am 3.11." or of "ca.")
_WORD = rf"(?!{_NEGATION})(?:[^\s!?;]*[^\s.!?;:]|\d[\d.]*\.|[^\W\d_]{{1,3}}\.)"


def _gap(words: int) -> str:
    return rf"(?:{_WORD}\s+){{0,{words}}}?"


_PAYMENT_EN = r"(?:payment|transfer|bank\s+transfer|wire|remittance|deposit)"
_ADVERB_EN = (
    r"(?:(?:already|just|now|finally|also|today|yesterday|recently|successfully|then|since"
    r"|this\s+morning|earlier\s+today|definitely|certainly|be\s+able\s+to|try\s+to)\s+){0,2}"
)
# "send" alone is too little ("I will send the documents"): sent or sent what pays
_SEND_EN = (
    r"(?:send|sent)\s+(?:you\s+)?(?:the\s+|a\s+|my\s+|our\s+)?(?:payment|money|funds|transfer"
    r"|amount|balance|rest|remaining|[$€£]|usd|eur|gbp|chf|\d)"
)

_CONFIRMATION_EN = (
    rf"\b(?:i|we)(?:['’]ve|['’]d|\s+have|\s+had)?\s+{_ADVERB_EN}"
    rf"(?:paid|transferred|wired|remitted|settled|{_SEND_EN}"
    rf"|made\s+(?:a|the|my|our)\s+{_gap(2)}{_PAYMENT_EN})\b"
    rf"|\b(?:has|have|just)\s+(?:been\s+)?{_ADVERB_EN}(?:paid|transferred|wired|sent\s+the\s+payment)"
    r"|(?:payment|transfer|amount|balance|invoice|money|funds|it)\s+(?:was|has\s+been|have\s+been)"
    rf"\s+{_ADVERB_EN}(?:made|sent|paid|transferred|completed|processed|wired|settled)\b"
    r"|(?:transfer|payment|money)\s+(?:went\s+out|has\s+gone(?:\s+out)?)"
    r"|(?:proof|confirmation)\s+of\s+(?:payment|transfer)|payment\s+(?:confirmation|advice)"
    r"|remittance|paid\s+(?:in\s+full|the\s+(?:balance|amount|invoice|debt))"
)
_PROMISE_EN = (
    r"\b(?:i|we)(?:['’]ll|\s+will|\s+shall|['’]m\s+going\s+to|\s+am\s+going\s+to"
    r"|['’]re\s+going\s+to|\s+are\s+going\s+to|\s+intend\s+to|\s+plan\s+to|\s+promise\s+to)\s+"
    rf"{_ADVERB_EN}(?:pay|transfer|wire|settle|{_SEND_EN}|make\s+(?:a|the|my|our)\s+{_gap(2)}"
    rf"{_PAYMENT_EN})\b"
    rf"|\band\s+will\s+(?:pay|transfer|wire|{_SEND_EN})\b|promise\s+to\s+pay"
    r"|payment\s+will\s+be\s+made"
    rf"|\b(?:i|we)(?:['’]ve|\s+have)\s+scheduled\s+(?:a|the|my)\s+{_gap(1)}{_PAYMENT_EN}"
)

_PAID_DE = r"(?:überwiesen|bezahlt|gezahlt|beglichen|eingezahlt|ausgeglichen|getilgt|zurückgezahlt)"
_PAY_DE = r"(?:zahlen|bezahlen|überweisen|begleichen|einzahlen|anweisen|ausgleichen|tilgen)"
# done with a payment named before them: "habe die Überweisung veranlasst"
_DONE_DE = r"(?:veranlasst|getätigt|ausgeführt|erfolgt|raus(?:gegangen)?)"
_CONFIRMATION_DE = (
    rf"\b(?:habe|haben|hat)\s+{_gap(6)}(?:{_PAID_DE}|angewiesen)\b"
    rf"|\b(?:ist|sind|wurde|wurden)\s+{_gap(4)}{_PAID_DE}\b"
    rf"|\b(?:zahlung|überweisung|betrag|rate)\s+{_gap(3)}(?:ist|wurde)\s+{_gap(2)}{_DONE_DE}\b"
    rf"|\b(?:habe|haben|hat)\s+{_gap(3)}(?:zahlung|überweisung)\s+{_gap(2)}{_DONE_DE}\b"
    r"|überweisung\s+ist\s+raus"
    r"|zahlungsbestätigung|zahlungsnachweis|überweisungsbeleg|zahlungsavis"
    r"|überweisung\s+ausgeführt"
)
_PROMISE_DE = (
    rf"\b(?:ich|wir)\s+werden?\s+{_gap(6)}{_PAY_DE}\b"
    rf"|\bwerden?\s+(?:ich|wir)\s+{_gap(6)}{_PAY_DE}\b"
    r"|\b(?:ich|wir)\s+(?:zahle|zahlen|überweise|überweisen|begleiche|begleichen)\s+"
    rf"{_gap(5)}(?:bis|am|zum|ab|nächste\w*|morgen|übermorgen|spätestens|anfang|ende|mitte)\b"
    r"|\b(?:überweise|zahle|begleiche)\s+ich\b"
    r"|dauerauftrag\s+(?:\S+\s+){0,2}?eingerichtet"
)

_PAID_FR = r"(?:payée?s?|réglée?s?|virée?s?|versée?s?|remboursée?s?|soldée?s?|acquittée?s?)"
_CONFIRMATION_FR = (
    rf"\b(?:j['’]|nous\s+)(?:ai|avons)\s+{_gap(4)}(?:{_PAID_FR}"
    r"|effectué\s+(?:un|le|mon|notre)\s+(?:virement|paiement|versement|règlement))\b"
    r"|(?:paiement|virement|versement|règlement|somme|montant|facture|solde)\s+(?:\S+\s+){0,3}?"
    rf"(?:a|ont)\s+(?:bien\s+)?été\s+(?:{_PAID_FR}|effectuée?s?|envoyée?s?|émise?s?)"
    r"|virement\s+(?:a\s+été\s+)?effectué|paiement\s+effectué"
    r"|(?:preuve|justificatif|avis)\s+de\s+(?:paiement|virement)"
)
_PROMISE_FR = (
    r"\b(?:je|nous)\s+(?:vous\s+|le\s+|la\s+|les\s+|vous\s+les?\s+)?"
    r"(?:réglerai|règlerai|paierai|payerai|verserai|virerai|rembourserai|solderai|enverrai"
    r"|réglerons|règlerons|paierons|payerons|verserons|virerons|rembourserons)\b"
    r"|\b(?:je|nous)\s+(?:vous\s+)?(?:ferai|effectuerai|ferons|effectuerons)\s+"
    r"(?:un|le|mon|notre)\s+(?:virement|paiement|versement)"
    r"|\b(?:je|nous)\s+(?:vais|allons)\s+(?:vous\s+)?"
    rf"{_gap(2)}(?:payer|régler|verser|virer|rembourser|solder|effectuer|faire\s+(?:un|le)"
    r"\s+(?:virement|paiement|versement))\b"
    r"|\bj['’]ai\s+programmé\s+(?:un|le)\s+(?:virement|paiement)"
)

_PAYMENT_ES = r"(?:pago|transferencia|ingreso|abono|depósito|bizum)"
_CONFIRMATION_ES = (
    r"(?<!no\s)\b(?:he|hemos)\s+(?:ya\s+)?"
    r"(?:pagado|abonado|transferido|ingresado|saldado|liquidado|depositado|cancelado\s+la\s+deuda)\b"
    r"|(?<!no\s)\b(?:he|hemos)\s+(?:ya\s+)?(?:realizado|hecho|efectuado|enviado)\s+"
    rf"{_gap(2)}{_PAYMENT_ES}"
    r"|(?<!no\s)\b(?:pagué|aboné|transferí|ingresé|deposité|liquidé|saldé)\b"
    r"|(?<!no\s)\b(?:hice|realicé|efectué|envié|hicimos|realizamos|efectuamos)\s+"
    rf"{_gap(2)}{_PAYMENT_ES}"
    rf"|\b{_PAYMENT_ES}\s+(?:realizad[oa]|efectuad[oa]|enviad[oa]|hech[oa]|emitid[oa])"
    r"|\bya\s+(?:está|quedó|esta)\s+(?:pagad[oa]|saldad[oa]|abonad[oa])"
    r"|justificante|comprobante\s+de\s+(?:pago|transferencia)|aviso\s+de\s+(?:pago|transferencia)"
)
_NOT_ES = r"(?<!no\s)(?<!no\sle\s)(?<!no\sles\s)(?<!no\slo\s)(?<!no\sla\s)"
_PROMISE_ES = (
    rf"{_NOT_ES}\b(?:pagaré|abonaré|transferiré|ingresaré|liquidaré|saldaré"
    r"|depositaré|pagaremos|abonaremos|transferiremos|ingresaremos)\b"
    rf"|{_NOT_ES}\b(?:realizaré|haré|efectuaré|enviaré|realizaremos|haremos|efectuaremos)\s+"
    rf"{_gap(2)}{_PAYMENT_ES}"
    r"|(?<!no\s)\b(?:voy|vamos)\s+a\s+(?:\S+\s+)?(?:pagar|abonar|transferir|ingresar|liquidar"
    r"|saldar|depositar|hacer\s+(?:el|un|una|la)\s+(?:pago|transferencia|ingreso))\b"
    rf"|\b(?:he|hemos)\s+programado\s+(?:un|una|el|la)\s+{_PAYMENT_ES}"
)

_PAYMENT_IT = r"(?:bonifico|pagamento|versamento|saldo)"
_NOT_IT = r"(?<!non\s)(?<!non\sle\s)(?<!non\sgli\s)(?<!non\slo\s)(?<!non\sla\s)"
_CONFIRMATION_IT = (
    rf"{_NOT_IT}\b(?:ho|abbiamo)\s+(?:già\s+|appena\s+|oggi\s+|ieri\s+)?"
    r"(?:pagato|versato|saldato|bonificato|estinto|rimborsato|accreditato)\b"
    rf"|{_NOT_IT}\b(?:ho|abbiamo)\s+(?:già\s+|appena\s+|oggi\s+|ieri\s+)?"
    rf"(?:effettuato|fatto|disposto|inviato|eseguito)\s+{_gap(2)}{_PAYMENT_IT}"
    rf"|\b{_PAYMENT_IT}\s+(?:è\s+stato\s+)?(?:effettuato|eseguito|disposto|inviato|accreditato)\b"
    r"|contabile\s+(?:del\s+)?bonifico|ricevuta\s+di\s+(?:pagamento|bonifico)"
)
_PROMISE_IT = (
    rf"{_NOT_IT}\b(?:pagherò|verserò|salderò|bonificherò|rimborserò|pagheremo|verseremo"
    r"|salderemo|rimborseremo)\b"
    rf"|{_NOT_IT}\b(?:effettuerò|farò|invierò|disporrò|effettueremo|faremo|invieremo)\s+"
    rf"{_gap(2)}{_PAYMENT_IT}"
    r"|\bprovvederò\s+(?:al\s+(?:pagamento|saldo|bonifico|versamento)|a\s+(?:pagare|saldare))"
    rf"|\b(?:programmato|pianificato|impostato)\s+(?:un|il)\s+{_PAYMENT_IT}"
    rf"|\b{_PAYMENT_IT}\s+programmato"
)

_PAID_NL = r"(?:betaald|overgemaakt|overgeboekt|voldaan|gestort|afgelost|terugbetaald)"
_PAY_NL = r"(?:betalen|overmaken|overboeken|voldoen|storten|aflossen|terugbetalen)"
_CONFIRMATION_NL = (
    rf"\b(?:heb|hebben|heeft)\s+{_gap(6)}{_PAID_NL}\b"
    rf"|\b(?:is|zijn|werd|werden)\s+{_gap(4)}{_PAID_NL}\b"
    r"|betalingsbewijs|betaalbevestiging|bewijs\s+van\s+betaling"
)
_PROMISE_NL = (
    rf"\b(?:ik|wij|we)\s+(?:zal|zullen|ga|gaan)\s+{_gap(6)}{_PAY_NL}\b"
    rf"|\b(?:zal|zullen|ga|gaan)\s+(?:ik|wij|we)\s+{_gap(6)}{_PAY_NL}\b"
    r"|\b(?:ik|wij|we)\s+(?:betaal|betalen)\s+"
    rf"{_gap(5)}(?:op|voor|vóór|uiterlijk|volgende|morgen|overmorgen|eind|begin|half)\b"
    r"|\bbetaal\s+ik\b|\b(?:heb|hebben)\s+(?:een\s+)?(?:betaling|overboeking)\s+ingepland"
)

_JAPANESE_CONFIRMATION = r"支払いました|振り込みました|振込みました|入金しました"
_JAPANESE_PROMISE = r"お支払いします|支払います"

PAYMENT_CONFIRMATION = "|".join(
    (
        _CONFIRMATION_EN,
        _CONFIRMATION_DE,
        _CONFIRMATION_FR,
        _CONFIRMATION_ES,
        _CONFIRMATION_IT,
        _CONFIRMATION_NL,
        _JAPANESE_CONFIRMATION,
    )
)
PAYMENT_PROMISE = "|".join(
    (
        _PROMISE_EN,
        _PROMISE_DE,
        _PROMISE_FR,
        _PROMISE_ES,
        _PROMISE_IT,
        _PROMISE_NL,
        _JAPANESE_PROMISE,
    )
)

_OFFER = (
    r"(?:offer|propose|ofrezco|ofrecemos|propongo|proponemos|offro|offriamo|proponiamo|biete"
    r"|bieten|schlage|propose|proposons|bied|bieden)"
)
_SETTLE = (
    r"(?:settle|clear|close|resolve|saldar|liquidar|cancelar|saldare|chiudere|estinguere"
    r"|definire|erledigen|begleichen|abzuschließen|abschließen|solder|régler|clôturer|afwikkelen"
    r"|afkopen|voldoen|afsluiten|af\s+te\s+(?:kopen|lossen|sluiten|wikkelen))"
)
# an offered sum that closes the debt: "Les ofrezco 1.445 € … para saldar la deuda"
SETTLEMENT_OFFER = (
    rf"\b{_OFFER}\s+{_gap(10)}(?:to|para|per|pour|zur|zum|um|om)\s+{_gap(3)}{_SETTLE}\b"
)
