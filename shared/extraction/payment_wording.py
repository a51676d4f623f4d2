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

Whatever the language, a match does not count in a clause that is a question ("Ist die
Rechnung schon bezahlt?"), that says the payment came back ("… è stato respinto"), or whose
payment is another bill ("I paid my rent").
"""

from __future__ import annotations

import re

from shared.extraction.unpaid import REVERSED

# negations a gap may not hold, any of the six languages (a word of its own)
_NEGATION = (
    r"(?:\w*n['’]t|not|never|no|none|nothing|cannot"
    r"|nicht|nie|niemals|kein\w*|jamais|nunca|jamás|nada|non|niente"
    r"|niet|nooit|geen|nichts|nix|niets|niks|rien|nulla|nessun\w*|aucune?|ningún|ninguna?)\b"
)
# what a debtor pays that is not the debt: "I paid my rent and have nothing left"
_OTHER_BILLS = (
    r"(?:rent|bills?|electricity|gas|mortgage|groceries|alquiler|luz|agua|hipoteca|affitto"
    r"|bollett\w*|mutuo|loyer|électricité|courses|miete|strom\w*|nebenkosten|huur|energie\w*"
    r"|hypotheek|boodschappen)\b"
)
# a word of the same sentence: no negation, not another bill, and not ending a sentence (a
# date's or an amount's inner dots and commas are fine, and so is the dot of "am 3.11." or
# of "ca.")
_WORD = (
    rf"(?!{_NEGATION}|{_OTHER_BILLS})"
    r"(?:[^\s!?;]*[^\s.!?;:]|\d[\d.]*\.|[^\W\d_]{1,3}\.)"
)
# right after the verb: the thing paid is another bill ("Pagué el alquiler", "ho pagato
# l'affitto")
_NOT_A_BILL = (
    r"(?!\s+(?:(?:my|our|the|his|her|el|la|los|las|mi|mis|il|i|le|les|l['’]|mon|ma|mes|notre"
    rf"|nos|de|het|mijn|onze|die|den|meine?n?|unsere?)\s*)?{_OTHER_BILLS})"
)


def _gap(words: int, refuse: str = "") -> str:
    return rf"(?:{refuse}{_WORD}\s+){{0,{words}}}?"


# a negation or an empty object right after the verb: "I have paid nothing", "je paierai pas"
_NOT_AFTER = (
    r"(?!\s+(?:nothing|none|zero|nichts|nix|niets|niks|rien|pas|jamais|plus\s+rien|nulla"
    r"|niente|nada)\b)"
)
# the payment came back later in the clause: "Il pagamento effettuato è stato respinto"
_NOT_REVERSED = rf"(?![^.!?\n;]{{0,120}}\b{REVERSED}\b)"
# the clause is a question: "Ist die Rechnung schon bezahlt?", "Hoe ga ik dit betalen?"
# (bounded: an unbounded scan to each "?" would make the search quadratic on hostile text)
_NOT_QUESTION = r"(?!(?:(?!\s[-–—]\s)[^.!?\n,;]){0,200}\?)"


_PAYMENT_EN = r"(?:payment|transfer|bank\s+transfer|wire|remittance|deposit)"
_ADVERB_EN = (
    r"(?:(?:already|just|now|finally|also|today|yesterday|recently|successfully|then|since"
    r"|this\s+morning|earlier\s+today|definitely|certainly|be\s+able\s+to|try\s+to)\s+){0,2}"
)
# "send" alone is too little ("I will send the documents"): sent or sent what pays
_SEND_EN = (
    r"(?:send|sent)\s+(?:you\s+)?(?:the\s+|a\s+|my\s+|our\s+)?(?:payment|money|funds|transfer"
    r"|amount|balance|rest|remaining|[$€£]|usd|eur|gbp|chf|\d[\d.,]*)"
)

_CONFIRMATION_EN = (
    rf"(?<!\bhave\s)(?<!\bhad\s)(?<!\bwish\s)(?<!\bthought\s)\b(?:i|we)(?:['’]ve|['’]d|\s+have|\s+had)?\s+{_ADVERB_EN}"
    rf"(?:paid|transferred|wired|remitted|settled|{_SEND_EN}"
    r"|cleared\s+(?:the|my|this|our)\s+(?:balance|debt|account|invoice|bill)"
    rf"|made\s+(?:(?:a|the|my|our)\s+)?{_gap(2)}{_PAYMENT_EN})\b{_NOT_AFTER}"
    r"|(?<!\byou\s)(?<!\bwould\s)(?<!\bcould\s)(?<!\bshould\s)(?<!\bmight\s)(?<![’']d\s)"
    rf"\b(?:has|have|just)\s+{_ADVERB_EN}(?:paid|transferred|wired|sent\s+the\s+payment)\b{_NOT_AFTER}"
    rf"|(?<!\bi\s)(?<!\bwe\s)(?<!\byou\s)\bhas\s+been\s+{_ADVERB_EN}paid\b"
    r"|(?<!\bno\s)(?:payment|transfer|amount|money|funds)\s+(?:was|has\s+been|have\s+been)"
    rf"\s+{_ADVERB_EN}(?:made|sent|paid|transferred|completed|processed|wired|settled)\b"
    rf"|(?:balance|invoice|bill|debt|account|it)\s+(?:was|has\s+been)\s+{_ADVERB_EN}"
    r"(?:paid|settled)\b"
    r"|(?:transfer|payment|money)\s+(?:went\s+out|has\s+gone(?:\s+out)?)"
    r"|\bit['’]s\s+(?:already\s+|now\s+|been\s+)*(?:paid|settled)\b"
    r"|(?<!\bno\s)(?<!\bany\s)(?<!\byour\s)\b(?:payment|transfer)\s+(?:sent|made|done|completed)\b"
    r"|paid\s+(?:in\s+full|the\s+(?:balance|amount|invoice|debt))"
    # the payment named first, made in a relative clause: "confirm the payment I made"
    r"|(?<!\bno\s)(?<!\bany\s)(?<!\bwhich\s)(?<!\bwhat\s)"
    r"(?:payment|transfer|deposit|money|amount|sum)\s+(?:that\s+|which\s+)?(?:i|we)"
    r"(?:['’]ve|\s+have|\s+had)?\s+(?:already\s+|just\s+)?(?:made|sent|paid|transferred|wired)\b"
    r"|(?:\A|(?<=\n)|(?<=[.!?]\s))\s*(?:just\s+|already\s+)?paid\s+(?:you\s+)?(?:[£$€]\s?)?\d"
)
_PROMISE_EN = (
    r"\b(?:i|we)(?:['’]ll|\s+will|\s+shall|['’]m\s+going\s+to|\s+am\s+going\s+to"
    r"|['’]re\s+going\s+to|\s+are\s+going\s+to|\s+intend\s+to|\s+plan\s+to|\s+promise\s+to)\s+"
    rf"{_ADVERB_EN}(?:pay|transfer|wire|settle|be\s+paying|{_SEND_EN}"
    r"|clear\s+(?:it|this|that|(?:the|my|this|our)\s+(?:\S+\s+)?(?:balance|debt|account|amount"
    r"|bill|arrears|[£$€]?\d[\d.,]*))|get\s+(?:the|this)\s+money\s+to"
    r"|do\s+the\s+(?:transfer|payment)"
    rf"|make\s+(?:(?:a|the|my|our)\s+)?{_gap(2)}"
    rf"{_PAYMENT_EN})\b{_NOT_AFTER}"
    rf"|\band\s+will\s+(?:pay|transfer|wire|{_SEND_EN})\b|promise\s+to\s+pay"
    r"|(?<!\bno\s)payment\s+will\s+be\s+made"
    rf"|\b(?:i|we)(?:['’]ve|\s+have)\s+scheduled\s+(?:a|the|my)\s+{_gap(1)}{_PAYMENT_EN}"
    r"|\b(?:i|we)\s+can\s+(?:\w+ly\s+)?(?:put|send|pay|transfer|wire)\s+"
    r"(?:you\s+)?(?:[£$€]\s?\d|\d[\d.,]*\s?(?:£|€|\$|eur\b|euros?\b|pounds?\b|gbp\b|usd\b|dollars?\b))"
    r"(?=[^.!?\n]{0,60}\b(?:on|by|next|tomorrow|monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday|this\s+week|end\s+of)\b)"
    r"(?![^.!?\n]{0,80}\b(?:but|unless|until|won['’]t|will\s+not)\b)"
)

_PAID_DE = r"(?:überwiesen|bezahlt|gezahlt|beglichen|eingezahlt|ausgeglichen|getilgt|zurückgezahlt)"
_PAY_DE = (
    r"(?:zahlen|bezahlen|überweisen|begleichen|einzahlen|anweisen|ausgleichen|tilgen"
    r"|veranlassen|leisten)"
)
# done with a payment named before them: "habe die Überweisung veranlasst"
_DONE_DE = r"(?:veranlasst|getätigt|ausgeführt|erfolgt|vorgenommen|geleistet|raus(?:gegangen)?)"
# when a payment is to happen: "bis Freitag", "am 3.12.", "nächste Woche"
_WHEN_DE = r"(?:bis|am|zum|ab|nächste\w*|morgen|übermorgen|spätestens|anfang|ende|mitte|in)"
_CONFIRMATION_DE = (
    rf"\b(?:habe?|haben|hat|hab['’]s)\s+(?!mir\b|uns\b){_gap(10)}(?:{_PAID_DE}|angewiesen(?!\s*,))\b"
    rf"|\b(?:ist|sind|wurde|wurden)\s+{_gap(4)}{_PAID_DE}\b"
    rf"|(?<!kein\s)(?<!keine\s)\b(?:zahlung|überweisung|betrag|rate)\s+{_gap(3)}(?:ist|wurde)\s+{_gap(2)}{_DONE_DE}\b"
    rf"|\b(?:habe|haben|hat)\s+{_gap(3)}(?:zahlung|überweisung)\s+{_gap(2)}{_DONE_DE}\b"
    r"|überweisung\s+ist\s+raus"
    r"|überweisung\s+ausgeführt"
    r"|(?:zahlung|überweisung|betrag)\s*,?\s+(?:die|den)\s+(?:ich|wir)\s+"
    rf"{_gap(3)}(?:gemacht|getätigt|veranlasst|geleistet|{_PAID_DE})\s+(?:habe|haben)\b"
)
_PROMISE_DE = (
    rf"\b(?:ich|wir)\s+werden?\s+{_gap(6)}{_PAY_DE}\b"
    rf"|\bwerden?\s+(?:ich|wir)\s+{_gap(6)}{_PAY_DE}\b"
    r"|\b(?:ich|wir)\s+(?:zahle|zahlen|überweise|überweisen|begleiche|begleichen)\s+"
    rf"{_gap(5)}{_WHEN_DE}\b"
    r"(?![^.!?\n,;]{0,80}\b(?:nicht|nichts|nie|niemals|kein\w*)\b)"
    r"|\b(?:überweise|zahle|begleiche)\s+ich\b"
    r"|dauerauftrag\s+(?:\S+\s+){0,2}?eingerichtet"
    # the present for the future: "Die Überweisung erfolgt am Montag"
    rf"|(?<!kein\s)(?<!keine\s)\b(?:zahlung|überweisung)\s+(?:erfolgt|folgt)\s+{_gap(2)}{_WHEN_DE}\b"
    rf"|\b(?:ich|wir)\s+{_gap(10)}{_PAY_DE}\s+werden?\b"
)

_NOT_PAS = r"(?!pas\b|plus\b)"  # French without its "ne"
_PAID_FR = r"(?:payée?s?|réglée?s?|virée?s?|versée?s?|remboursée?s?|soldée?s?|acquittée?s?)"
_CONFIRMATION_FR = (
    r"\b(?:j['’]|je\s+(?:vous\s+|lui\s+|leur\s+)?(?:l['’]\s*)?|nous\s+(?:vous\s+)?(?:l['’]\s*)?)"
    rf"(?:ai|avons)\s+(?!été\b){_gap(4, _NOT_PAS)}(?:{_PAID_FR}"
    rf"|(?:effectué|fait|envoyé|émis)\s+{_gap(2)}(?:un|le|mon|notre|ce)\s+"
    r"(?:virement|paiement|versement|règlement|chèque)"
    r"|procédé\s+(?:au|à\s+un)\s+(?:paiement|virement|versement|règlement))\b"
    rf"|\b(?:facture|dette|somme|montant|solde|c['’]|tout)\s+est\s+(?:bien\s+|déjà\s+)?{_PAID_FR}"
    r"|(?:paiement|virement|versement|règlement|somme|montant|facture|solde)\s+(?:\S+\s+){0,3}?"
    rf"(?:a|ont)\s+(?:bien\s+)?été\s+(?:{_PAID_FR}|effectuée?s?|envoyée?s?|émise?s?|faite?s?)"
    r"|(?<!aucun\s)(?:virement\s+(?:a\s+été\s+)?effectué|paiement\s+effectué)"
    r"|(?:paiement|virement|versement|règlement)\s+que\s+(?:j['’]ai|nous\s+avons)\s+"
    rf"{_gap(3)}(?:effectué|fait|envoyé|émis|{_PAID_FR})"
    r"|(?:\A|(?<=\n)|(?<=[.!?]\s))[ \t]*(?:virement|paiement|versement|règlement)\s+(?:de\s+)?"
    r"[\d.,\s]{0,20}\d\s*(?:€|euros?|eur)?\s+"
    rf"{_gap(2)}(?:fait|effectué|envoyé|émis|parti)\b"
)
_PROMISE_FR = (
    r"\b(?:je|nous)\s+(?:vous\s+|le\s+|la\s+|les\s+|vous\s+les?\s+)?"
    r"(?:réglerai|règlerai|paierai|payerai|verserai|virerai|rembourserai|solderai"
    r"|réglerons|règlerons|paierons|payerons|verserons|virerons|rembourserons)\b(?!\s+(?:pas|rien|jamais|plus)\b)"
    r"|\b(?:je|nous)\s+(?:vous\s+)?(?:ferai|effectuerai|ferons|effectuerons)\s+"
    r"(?:un|le|mon|notre)\s+(?:virement|paiement|versement)"
    r"|\b(?:je|nous)\s+(?:vais|allons)\s+(?:vous\s+)?"
    rf"{_gap(2, _NOT_PAS)}(?:payer|régler|verser|virer|rembourser|solder|effectuer"
    r"|faire\s+(?:un|le)\s+(?:virement|paiement|versement))\b"
    r"|\bj['’]ai\s+programmé\s+(?:un|le)\s+(?:virement|paiement)"
    r"|\bje\s+m['’]engage\s+à\s+(?:vous\s+)?(?:payer|régler|verser|rembourser)"
    r"|\bje\s+compte\s+(?:vous\s+)?(?:payer|régler|verser)"
    r"|\b(?:je|nous)\s+procéder(?:ai|ons)\s+(?:au|à\s+un)\s+(?:paiement|virement|règlement)"
    r"|\b(?:le|un)\s+(?:virement|paiement)\s+sera\s+(?:fait|effectué|envoyé)"
    r"|\b(?:je|nous)\s+(?:vous\s+)?(?:envoie|enverrai|envoyons|enverrons)\s+(?:un|le)\s+chèque"
)

_PAYMENT_ES = r"(?:pago|transferencia|ingreso|abono|depósito|bizum)"
_NOT_ES = (
    r"(?<!no\s)(?<!no\sle\s)(?<!no\sles\s)(?<!no\slo\s)(?<!no\sla\s)(?<!no\slos\s)(?<!no\slas\s)"
    r"(?<!no\ste\s)(?<!no\sos\s)(?<!no\sse\s)(?<!nunca\s)(?<!jamás\s)"
)
_CONFIRMATION_ES = (
    rf"{_NOT_ES}\b(?:he|hemos)\s+(?:ya\s+)?"
    r"(?:pagado|abonado|transferido|ingresado|saldado|liquidado|depositado|cancelado\s+la\s+deuda)\b"
    rf"|{_NOT_ES}\b(?:he|hemos)\s+(?:ya\s+)?(?:realizado|hecho|efectuado|enviado)\s+"
    rf"{_gap(2)}{_PAYMENT_ES}"
    rf"|{_NOT_ES}\b(?:pagué|aboné|transferí|ingresé|deposité|liquidé|saldé)\b"
    r"|(?<!no\s)\b(?:hice|realicé|efectué|envié|hicimos|realizamos|efectuamos)\s+"
    rf"{_gap(2)}{_PAYMENT_ES}"
    rf"|\b{_PAYMENT_ES}\s+(?:realizad[oa]|efectuad[oa]|enviad[oa]|hech[oa]|emitid[oa])"
    r"|\bya\s+(?:está|quedó|esta)\s+(?:pagad[oa]|saldad[oa]|abonad[oa])"
    r"|\b(?:deuda|factura|cuenta|importe|cantidad)\s+(?:ya\s+)?(?:está|quedó)\s+"
    r"(?:pagad|saldad|liquidad|abonad)[oa]"
    rf"|{_NOT_ES}\bse\s+(?:ha|han)\s+(?:pagado|abonado|transferido|realizado\s+el\s+pago)"
    r"|\bel\s+pago\s+se\s+(?:realizó|efectuó|hizo)"
    rf"|{_NOT_ES}\b(?:he|hemos)\s+procedido\s+al\s+(?:pago|abono|ingreso)"
    rf"|{_NOT_ES}\b(?:les\s+|le\s+)?(?:mandé|envié|mandamos|enviamos)\s+{_gap(2)}(?:dinero|\d)"
    rf"|{_PAYMENT_ES}\s+que\s+(?:ya\s+)?(?:hice|hicimos|realicé|realizamos|efectué|efectuamos"
    r"|envié|enviamos|(?:he|hemos)\s+(?:realizado|hecho|efectuado|enviado))\b"
)
_PROMISE_ES = (
    rf"{_NOT_ES}\b(?:pagaré|abonaré|transferiré|ingresaré|liquidaré|saldaré"
    r"|depositaré|pagaremos|abonaremos|transferiremos|ingresaremos)\b"
    rf"|{_NOT_ES}\b(?:realizaré|haré|efectuaré|enviaré|realizaremos|haremos|efectuaremos)\s+"
    rf"{_gap(2)}{_PAYMENT_ES}"
    r"|(?<!no\s)(?<!\bsi\s)\b(?:voy|vamos)\s+a\s+(?:\S+\s+)?(?:pagar|abonar|transferir|ingresar|liquidar"
    r"|saldar|depositar|hacer\s+(?:el|un|una|la)\s+(?:pago|transferencia|ingreso))\b"
    rf"|\b(?:he|hemos)\s+programado\s+(?:un|una|el|la)\s+{_PAYMENT_ES}"
    r"|\bme\s+comprometo\s+a\s+(?:pagar|abonar|saldar|liquidar)"
    rf"|{_NOT_ES}\bprocederé\s+al\s+(?:pago|abono|ingreso)"
    r"|\bel\s+pago\s+se\s+(?:realizará|efectuará|hará)"
    rf"|{_NOT_ES}\b(?:os|les?)\s+(?:hago|mando|envío|ingreso|pago|transfiero|abono)\s+"
    r"(?=[^.!?\n]{0,60}\b(?:el\s+(?:día\s+)?\d|el\s+(?:lunes|martes|miércoles|jueves|viernes"
    r"|sábado|domingo)|mañana|pasado\s+mañana|la\s+semana\s+que\s+viene|la\s+próxima"
    r"|este\s+mes|fin\s+de\s+mes|antes\s+del?)\b)"
    r"|\b(?:el\s+(?:d[ií]a\s+)?\d+|ese\s+(?:mismo\s+)?d[ií]a|mañana|el\s+(?:lunes|martes|miércoles"
    r"|jueves|viernes|sábado|domingo))(?:(?!\b(?:no|nunca|jamás)\b)[^.!?\n]){0,60}?"
    r"\b(?:os|les?)\s+(?:hago|mando|envío|ingreso|pago|transfiero|abono)\b"
)

_PAYMENT_IT = r"(?:bonifico|pagamento|versamento)"
_ADVERB_IT = r"(?:(?:già|appena|oggi|ieri|regolarmente|anche|finalmente|stamattina)\s+){0,2}"
_NOT_IT = (
    r"(?<!non\s)(?<!non\sle\s)(?<!non\sgli\s)(?<!non\slo\s)(?<!non\sla\s)(?<!non\sl['’])"
    r"(?<!non\svi\s)(?<!non\sti\s)(?<!non\sci\s)(?<!mai\s)"
)
_CONFIRMATION_IT = (
    rf"{_NOT_IT}\b(?:ho|abbiamo)\s+{_ADVERB_IT}"
    r"(?:pagato|versato|saldato|bonificato|estinto|rimborsato|accreditato)\b"
    rf"|{_NOT_IT}\b(?:ho|abbiamo)\s+{_ADVERB_IT}"
    rf"(?:effettuato|fatto|disposto|inviato|eseguito)\s+{_gap(4)}{_PAYMENT_IT}"
    rf"|{_NOT_IT}\b(?:ho|abbiamo)\s+{_ADVERB_IT}provveduto\s+"
    r"(?:al\s+(?:pagamento|saldo|bonifico|versamento)|a\s+(?:pagare|saldare|versare))"
    rf"|{_NOT_IT}\b(?:è|sono)\s+(?:stat[oaie]\s+)?(?:già\s+)?(?:pagat|saldat|versat|estint)[oaie]\b"
    rf"|(?<!nessun\s)(?<!alcun\s)\b{_PAYMENT_IT}\s+(?:è\s+stato\s+)?(?:effettuato|eseguito|disposto|inviato|accreditato)\b"
    rf"|{_PAYMENT_IT}\s+che\s+(?:ho|abbiamo)\s+(?:già\s+)?"
    r"(?:fatto|effettuato|eseguito|inviato|disposto)\b"
)
_PROMISE_IT = (
    rf"{_NOT_IT}\b(?:pagherò|verserò|salderò|bonificherò|rimborserò|pagheremo|verseremo"
    r"|salderemo|rimborseremo)\b"
    rf"|{_NOT_IT}\b(?:effettuerò|farò|invierò|disporrò|effettueremo|faremo|invieremo)\s+"
    rf"{_gap(2)}{_PAYMENT_IT}"
    r"|\bprovvederò\s+(?:al\s+(?:pagamento|saldo|bonifico|versamento)|a\s+(?:pagare|saldare))"
    rf"|\b(?:programmato|pianificato|impostato)\s+(?:un|il)\s+{_PAYMENT_IT}"
    rf"|\b{_PAYMENT_IT}\s+programmato"
    r"|\bmi\s+impegno\s+a\s+(?:pagare|saldare|versare)"
    rf"|(?<!nessun\s)\b{_PAYMENT_IT}\s+(?:sarà|verrà)\s+(?:effettuato|eseguito|disposto|fatto)"
    rf"|{_NOT_IT}\b(?:faccio|facciamo)\s+(?:il|un)\s+(?:bonifico|pagamento|versamento)"
    rf"|{_NOT_IT}\b(?:vi\s+)?(?:verso|pago|saldo|bonifico|mando|invio)\s+"
    r"(?:(?:€\s*)?\d[\d.,]*\s*(?:€|euro)?|il\s+(?:saldo|dovuto|resto|tutto)|tutto)"
    r"(?=[^.!?\n]{0,60}\b(?:entro|prossim\w*|domani|dopodomani|il\s+\d|lunedì|martedì|mercoledì"
    r"|giovedì|venerdì|venerdi|sabato|fine\s+mese|a\s+fine)\b)"
    r"|\bentro\s+(?:il\s+)?\d(?:(?!\b(?:non|mai)\b)[^.!?\n]){0,40}?\b(?:verso|pago|saldo|vi\s+mando)\b"
)

_PAID_NL = (
    r"(?:betaald|overgemaakt|overgeboekt|overgeschreven|voldaan|gestort|afgelost|afbetaald"
    r"|ingelost|terugbetaald)"
)
_PAYMENT_NL = r"(?:betaling|overboeking|overschrijving|storting)"
_PAY_NL = r"(?:betalen|overmaken|overboeken|voldoen|storten|aflossen|terugbetalen)"
_CONFIRMATION_NL = (
    rf"\b(?:heb|hebben|heeft)\s+(?!mij\b|ons\b){_gap(10)}{_PAID_NL}\b"
    rf"|\b(?:is|zijn|werd|werden)\s+{_gap(4)}{_PAID_NL}\b"
    rf"|\b(?:heb|hebben|heeft)\s+{_gap(3)}{_PAYMENT_NL}\s+{_gap(2)}(?:gedaan|verricht|uitgevoerd)\b"
    rf"|\b{_PAYMENT_NL}\s+(?:is|werd)\s+{_gap(2)}(?:gedaan|verricht|uitgevoerd)\b"
    rf"|{_PAYMENT_NL}\s+die\s+(?:ik|wij|we)\s+{_gap(3)}(?:heb|hebben)\s+"
    r"(?:gedaan|verricht|uitgevoerd|gemaakt)\b"
    rf"|{_PAYMENT_NL}\s+die\s+(?:ik|wij|we)\s+{_gap(3)}(?:gedaan|verricht|uitgevoerd|gemaakt)"
    r"\s+(?:heb|hebben)\b"
)
_PROMISE_NL = (
    rf"\b(?:ik|wij|we)\s+(?:zal|zullen|ga|gaan)\s+{_gap(6)}{_PAY_NL}\b"
    rf"|\b(?:zal|zullen|ga|gaan)\s+(?:ik|wij|we)\s+{_gap(6)}{_PAY_NL}\b"
    # "overmaken" split: "Ik maak het bedrag vrijdag over" (the sum named before "over")
    r"|\b(?:(?:ik|wij|we)\s+(?:maak|maken|schrijf|schrijven)|(?:maak|maken|schrijf)\s+(?:ik|wij|we))"
    rf"\s+{_gap(4)}(?:het|bedrag|geld|€\s*[\d.,]+-?|[\d.,]+-?)\s+{_gap(3)}over\b"
    r"|\b(?:ik|wij|we)\s+(?:betaal|betalen|stort|storten)\s+"
    rf"{_gap(7)}(?:op|voor|vóór|uiterlijk|volgende|morgen|overmorgen|eind|begin|half)\b"
    r"(?![^.!?\n,;]{0,80}\b(?:niet|niets|niks|nooit|geen)\b)"
    r"|\bbetaal\s+ik\b|\b(?:heb|hebben)\s+(?:een\s+)?(?:betaling|overboeking)\s+ingepland"
    rf"|\b(?:ik|wij|we)\s+{_gap(10)}(?:zal|zullen|ga|gaan)\s+{_PAY_NL}\b"
)

# A payment stated in the past infinitive after a verb of saying: "je vous confirme avoir
# réglé", "confirmo haber pagado", "dichiaro di aver versato", "bezahlt zu haben", "betaald
# te hebben", "confirm having paid"
_PAST_INFINITIVE = (
    r"(?<!sans\s)(?<!pas\s)(?<!sin\s)(?<!senza\s)(?<!ohne\s)(?<!zonder\s)"
    r"(?:avoir\s+(?:bien\s+|déjà\s+)?(?:payé|réglé|viré|versé|soldé|effectué\s+(?:le|un)\s+"
    r"(?:virement|paiement|versement))"
    r"|haber\s+(?:ya\s+)?(?:pagado|abonado|transferido|ingresado|realizado\s+(?:el|la|una?)\s+"
    r"(?:pago|transferencia|ingreso))"
    r"|(?:di\s+)?aver(?:e)?\s+(?:già\s+)?(?:pagato|versato|saldato|effettuato\s+(?:il|un)\s+"
    r"(?:bonifico|pagamento|versamento))"
    r"|(?:bezahlt|überwiesen|beglichen|gezahlt)\s+zu\s+haben"
    r"|(?:betaald|overgemaakt|voldaan)\s+te\s+hebben"
    r"|(?:confirm|state|declare)\s+(?:having|that\s+i\s+have)\s+(?:already\s+)?paid)\b"
)
# A proof of payment: the writer's bank's record of a payment made, sent with the email ("please
# find attached the payment confirmation", "anbei der Überweisungsbeleg", "allego la
# contabile") — unless the writer asks for one (:func:`first_confirmation`).
_PROOF = (
    r"(?:proof|confirmation)\s+of\s+(?:payment|transfer)"
    r"|payment\s+(?:confirmation|advice)(?!\s+(?:pending|from))|remittance\s+advice"
    r"|zahlungsbestätigung|zahlungsnachweis|zahlungsbeleg|überweisungsbeleg|zahlungsavis"
    r"|(?:preuve|justificatif|avis)\s+de\s+(?:paiement|virement)"
    # not a proof of something else ("el justificante de mis ingresos")
    r"|(?:justificante|comprobante)"
    r"(?!\s+del?\s+(?!pago|transferencia|ingreso\b|abono|bizum|la\s+transferencia))"
    r"|aviso\s+de\s+(?:pago|transferencia)"
    r"|(?:allego|allegata?|in\s+allegato)\s+(?:la\s+)?(?:contabile|ricevuta)"
    r"|ricevuta\s+d(?:el|i)\s+(?:bonifico|pagamento)|contabile\s+(?:del\s+)?bonifico"
    r"|betalingsbewijs|betaalbevestiging|bewijs\s+van\s+(?:betaling|overschrijving)"
)
_PROOF_RE = re.compile(_PROOF, re.IGNORECASE)
_PAST_INFINITIVE_RE = re.compile(_PAST_INFINITIVE, re.IGNORECASE)
# a negation earlier in the clause of a past infinitive or a proof: "No puedo confirmar haber
# pagado", "Ich kann nicht sagen, bezahlt zu haben", "I have no proof of payment"
_NEGATED = re.compile(
    r"\b(?:not|no|never|cannot|\w+n['’]t|nicht|nie|kein\w*|pas|jamais|nunca|non|mai|niet|nooit"
    r"|geen)\b[^.!?\n;]{0,50}$",
    re.IGNORECASE,
)
# Asking for a proof, earlier in the same clause: "Necesito un justificante de pago", "Bitte
# senden Sie mir eine Zahlungsbestätigung", "merci de m'envoyer un justificatif de paiement",
# "I am still waiting for the payment confirmation". (A question is refused by every match.)
_ASKED = re.compile(
    r"\b(?:need|want|would\s+like|(?<!you\s)request\w*|ask\w*\s+for|send\s+me|give\s+me"
    r"|provide\s+(?:me|us)|e-?mail\s+me|waiting\s+for|where\s+is|(?:not|never|n['’]t)\s+"
    r"(?:had|got|received|have|get|receive)"
    r"|brauche\w*|benötige\w*|bitte\s+(?:um|senden|schicken|übermitteln)|hätte\s+gerne?"
    r"|möchte\w*|erbitte\w*|fordere|warte\w*\s+auf|(?:senden|schicken|geben|übermitteln)"
    r"\s+sie\s+mir|keine?n?\s+(?:\w+\s+)?erhalten"
    r"|besoin|voudrais|souhaite\w*|demande\w*|m['’]envoyer|me\s+(?:faire\s+parvenir"
    r"|transmettre|fournir|envoyer|communiquer)|pourrie[zr]|attends|pas\s+(?:encore\s+)?reçu"
    r"|necesit\w*|quisiera|quiero|querría|solicit\w*|pido|ped[ií]\w*|me\s+(?:env[ií]\w*"
    r"|mand\w*|pued\w*|podr\w*|den|d[eé]|facilit\w*|remit\w*|hag\w*\s+llegar)|envíenme"
    r"|mándenme|enviarme|mandarme|facilitarme|espero|no\s+(?:he|hemos)\s+recibido"
    r"|bisogno|mi\s+serve|vorrei|(?:ri)?chiedo|mi\s+(?:mandate|inviate|potete|potreste|può"
    r"|potrebbe|invii|mandi)|inviarmi|mandarmi|inviatemi|mandatemi|attendo|aspetto"
    r"|non\s+ho\s+(?:ancora\s+)?ricevuto"
    r"|nodig|wil\s+graag|zou\s+graag|graag\s+(?:een|de|het|ontvangen)|vraag|verzoek"
    r"|stuur\s+(?:mij|me)|stuurt\s+u\s+(?:mij|me)|(?:kunt|kan)\s+u\s+(?:mij|me)"
    r"|kunnen\s+jullie\s+(?:mij|me)|wacht\w*\s+op|niet\s+ontvangen|nog\s+geen)\b"
    r"[^.!?\n;,]{0,60}$",
    re.IGNORECASE,
)


def first_confirmation(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of ``pattern`` (:data:`PAYMENT_CONFIRMATION`, compiled) in ``text``
    that states a payment: not a proof of payment or a past infinitive after a negation in its
    clause ("I have no proof of payment", "No puedo confirmar haber pagado"), nor a proof the
    writer asks for rather than sends."""
    for match in pattern.finditer(text):
        proof = _PROOF_RE.match(match.group()) is not None
        if not proof and not _PAST_INFINITIVE_RE.match(match.group()):
            return match
        before = max(match.start() - 80, 0)
        if _NEGATED.search(text, before, match.start()):
            continue
        if proof and _ASKED.search(text, before, match.start()):
            continue
        return match
    return None


_JAPANESE_CONFIRMATION = r"支払いました|振り込みました|振込みました|入金しました"
_JAPANESE_PROMISE = r"お支払いします|支払います"


def _one_clause(grammars: tuple[str, ...], japanese: str) -> str:
    """Any of ``grammars``, starting at a word, or the Japanese (written without spaces), in a
    clause that is no question, and not of another bill. The word start is tested once, not
    by each grammar: most positions of a text are inside a word, and this makes the search
    several times faster."""
    chosen = r"(?:\b(?:" + "|".join(grammars) + ")|" + japanese + ")"
    return chosen + _NOT_A_BILL + _NOT_REVERSED + _NOT_QUESTION


PAYMENT_CONFIRMATION = _one_clause(
    (
        _CONFIRMATION_EN,
        _CONFIRMATION_DE,
        _CONFIRMATION_FR,
        _CONFIRMATION_ES,
        _CONFIRMATION_IT,
        _CONFIRMATION_NL,
        _PAST_INFINITIVE,
        _PROOF,
    ),
    _JAPANESE_CONFIRMATION,
)
PAYMENT_PROMISE = _one_clause(
    (_PROMISE_EN, _PROMISE_DE, _PROMISE_FR, _PROMISE_ES, _PROMISE_IT, _PROMISE_NL),
    _JAPANESE_PROMISE,
)

_OFFER = (
    r"(?:offer|proposer|(?:would|will|could)\s+you\s+(?:take|accept)|ofrezco|ofrecemos|propongo|proponemos|offro|offriamo|proponiamo|biete"
    r"|bieten|schlage|propose|proposons|bied|bieden)"
)
_SETTLE = (
    r"(?:settle|clear|close|resolve|saldar|liquidar|cancelar|saldare|chiudere|estinguere"
    r"|definire|erledigen|begleichen|abzuschließen|abschließen|solder|régler|clôturer|afwikkelen"
    r"|afkopen|voldoen|afsluiten|af\s+te\s+(?:kopen|lossen|sluiten|wikkelen))"
)
# the words of an instalment, which make the offer a payment plan ("50 EUR per month to clear")
_NOT_MONTHLY = r"(?!(?:month\w*|monatlich\w*|monat|mois|mes|mese|maand|per|par|al|pro)\b)"
# an offered sum that closes the debt: "Les ofrezco 1.445 € … para saldar la deuda" (a number
# within the clause; "your offer", "the offer" are ours, not the writer's)
SETTLEMENT_OFFER = (
    r"(?<!\byour\s)(?<!\ban\s)(?<!\bthe\s)(?<!\byou\scan\s)(?<!\bnot\s)(?<!n't\s)(?<!never\s)"
    r"(?<!\bcannot\s)(?<!\bnicht\s)(?<!\bpas\s)(?<!\bno\s)(?<!\bnon\s)(?<!\bniet\s)"
    rf"\b{_OFFER}\s+"
    r"(?=[^.!?\n]{0,80}?\d)"
    rf"{_gap(10, _NOT_MONTHLY)}(?:to|para|per|pour|zur|zum|um|om)\s+{_gap(3, _NOT_MONTHLY)}"
    rf"{_SETTLE}\b"
)
