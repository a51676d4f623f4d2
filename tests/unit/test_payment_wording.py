"""How the rules read "I paid", "I will pay" and "I offer … to settle" in six languages.

Sentences written the way debtors write them (a date, an amount or an adverb between the
subject and the verb, pronouns, inverted order), and the sentences that look alike but say
something else: a negation, a question, a payment not yet made, "send" without money.
"""

from __future__ import annotations

import re

import pytest

from shared.config import load_settings
from shared.extraction.models import Extraction, ParsedEmail
from shared.extraction.payment_wording import (
    PAYMENT_CONFIRMATION,
    PAYMENT_PROMISE,
    SETTLEMENT_OFFER,
    first_confirmation,
)
from shared.extraction.rules import RulesExtractor


def extraction_of(text: str, subject: str = "") -> Extraction:
    email = ParsedEmail(
        message_id=None, subject=subject, sender="a@example.com", sender_name=None, date=None,
        text=text,
    )  # fmt: skip
    return RulesExtractor(load_settings({}), degraded=False).extract(email)


def intent_of(text: str, subject: str = "") -> str:
    return extraction_of(text, subject).intent


CONFIRMATIONS = [
    "I have now paid the agreed amount.",
    "We've just transferred 120 GBP to your account.",
    "I made a bank transfer of $80 this morning.",
    "I’ve sent you the payment via PayPal.",
    "The balance has been settled through my bank.",
    "My husband has paid the invoice last Friday.",
    "Ich habe am 3.11. die restlichen 80 € überwiesen.",
    "Wir haben den Betrag gestern beglichen.",
    "Die Überweisung wurde heute ausgeführt.",
    "Heute habe ich die Zahlung veranlasst.",
    "Der Betrag ist seit Montag überwiesen.",
    "J'ai bien réglé la somme de 90 € hier.",
    "Nous avons effectué le virement le 2 novembre.",
    "Le paiement a bien été effectué ce matin.",
    "Ayer hice el pago de 60 euros.",
    "Hemos abonado la cantidad pendiente.",
    "Le envío el comprobante de pago.",
    "Ieri ho fatto un bonifico di 100 euro.",
    "Abbiamo già saldato il debito.",
    "Il bonifico è stato eseguito stamattina.",
    "Wij hebben gisteren € 75,- overgemaakt.",
    "Het bedrag is vanochtend betaald.",
    "U heeft € 40,00 overgemaakt naar Incasso BV.",
    "Ich hab's gestern überwiesen.",
    "J'ai fait un virement de 50 € ce matin.",
    "Je vous ai réglé la somme hier.",
    "La facture est réglée.",
    "Ho provveduto al pagamento.",
    "Ho regolarmente pagato la rata.",
    "Il debito è stato saldato.",
    "Se ha realizado el pago.",
    "Ik heb het bedrag overgeschreven.",
    "De betaling is gedaan.",
    "I made payment yesterday.",
    "It's been paid.",
    "I sent 250 to your account.",
    "I paid on Monday - did you receive it?",
    "Adjunto justificante.",
    # a participle away from its subject, the payment named first, the past infinitive
    "Je vous informe que j'ai effectué ce jour un virement de 500,00 euros sur votre compte.",
    "Virement de 615,40 € fait vendredi dernier depuis mon compte.",
    "Je vous confirme avoir réglé la somme de 289,99 € par carte bancaire.",
    "Confirmo haber pagado 200 euros el lunes.",
    "Dichiaro di aver pagato 300 euro.",
    "Ich bestätige, die Rechnung bezahlt zu haben.",
    "Ik bevestig het bedrag betaald te hebben.",
    # a sentence that starts with the verb; a long object before the participle
    "Bonjour,\nVirement de 200 euros effectué hier.",
    "Ho pagato 200 euro e la pratica si è chiusa.",
    "Ich habe 200 EUR mehr bezahlt als verlangt, damit ist alles erledigt.",
    "Hello,\nPaid 80 euro this morning through the bank app.",
    "Ich habe vorgestern den offenen Betrag von 389,90 EUR an Sie überwiesen.",
    # the payment named first, made in a relative clause
    "Please confirm the payment I made of £200 last week.",
    "Pouvez-vous confirmer la réception du virement que j'ai effectué le 3 novembre.",
    "Por favor confirmen el pago que hice el lunes de 50 euros.",
    "Vi prego di confermare il bonifico che ho fatto ieri.",
    "Ist die Überweisung, die ich am Montag veranlasst habe, angekommen.",
    "Is de betaling die ik maandag heb gedaan aangekomen.",
    # a proof of payment sent
    "Please find attached proof of payment for £200.",
    "As you requested, here is the proof of payment.",
    "Anbei der Überweisungsbeleg über 200 EUR.",
    "Vous trouverez ci-joint le justificatif de paiement de 150 €.",
    "In allegato la contabile del bonifico di 80 euro.",
    "Hierbij het betalingsbewijs van 75 euro.",
]

PROMISES = [
    "I'll transfer the rest on Monday.",
    "We are going to pay 200 EUR by the 30th.",
    "I will definitely pay next Friday.",
    "I get paid on the 1st and will send £150 then.",
    "I have scheduled a transfer for 12 December.",
    "Ich werde Anfang Dezember 150 EUR überweisen.",
    "Wir werden den Restbetrag bis zum 15.12. begleichen.",
    "Ich zahle die 80 € bis Ende des Monats.",
    "Nächste Woche überweise ich den Betrag.",
    "Je vous paierai 100 € le 5 janvier.",
    "Nous allons régler le solde à la fin du mois.",
    "Je vais vous faire un virement lundi.",
    "Le pagaré 200 euros el viernes.",
    "Voy a hacer una transferencia mañana.",
    "Realizaremos el pago la semana que viene.",
    "Le verserò 50 euro entro venerdì.",
    "Farò il bonifico appena ricevo lo stipendio.",
    "Provvederò al pagamento entro fine mese.",
    "Ik ga het bedrag volgende week overmaken.",
    "Wij zullen op 1 december € 90 betalen.",
    "Ik betaal het restant uiterlijk vrijdag.",
    "Ik maak het bedrag vrijdag over.",
    "Volgende week maak ik het over.",
    "Je m'engage à régler le solde.",
    "Me comprometo a pagar el viernes.",
    "Mi impegno a pagare entro il 30.",
    "Die Überweisung erfolgt am Montag.",
    "I'll make payment on Friday.",
    "I will send 100 EUR on Friday.",
    # the present for the future, a sum before the time, the verb last in its own clause
    "I can put €500 towards this on the 27th when I get paid.",
    "Ich teile Ihnen mit, dass ich den Betrag von 200 EUR am Freitag zahlen werde.",
    "Hierbij laat ik u weten dat ik het volledige bedrag van € 764,30 op vrijdag zal betalen.",
    "I'll clear the full 560 by 1st December at the latest.",
    "el dia 27 cobro la nomina y ese mismo dia os hago una transferencia de 200 euros.",
    "Os ingreso 100 € el viernes que viene.",
    "Vi assicuro che entro il 30 novembre verso 500 euro.",
    "Pago 200 euro venerdì prossimo appena mi arriva lo stipendio.",
    "Ik betaal het volledige bedrag van € 1.710,00 uiterlijk vrijdag 27 november.",
    "Ik maak volgende week woensdag € 400,- over.",
]

SETTLEMENTS = [
    "I can offer 400 EUR to close this matter for good.",
    "Ich biete Ihnen 300 € an, um die Sache zu erledigen.",
    "Je vous propose 250 € pour solder ce dossier.",
    "Les ofrezco 500 euros para liquidar la deuda.",
    "Vi offro 350 euro per chiudere la pratica.",
    "Ik bied € 400 aan om de schuld af te kopen.",
]

# none of these says a payment was made
NOT_CONFIRMATIONS = [
    "I have not paid yet because I lost my job.",
    "We haven't transferred anything.",
    "Have you received my letter?",
    "I get paid on Friday.",
    "I will send you the documents tomorrow.",
    "Ich habe noch nicht bezahlt.",
    "Ich wurde angewiesen, Ihnen zu schreiben.",
    "Die Zahlung erfolgt am 15.12.",
    "Je n'ai pas payé cette facture.",
    "No he pagado nada.",
    "Non ho pagato perché l'importo è sbagliato.",
    "Ik heb niet betaald.",
    "Ik heb nooit iets overgemaakt.",
    # a denial the words in between do not show, or a question
    "Ich habe bisher nichts bezahlt.",
    "Ik heb niets betaald.",
    "I have paid nothing.",
    "No payment has been made.",
    "Aucun paiement effectué à ce jour.",
    "Nessun pagamento effettuato.",
    "No lo he pagado.",
    "Ist die Rechnung schon bezahlt?",
    "Heb ik al betaald?",
    "Have I paid this already?",
    # something else moved, or a payment to the writer, or one that could have been
    "My account has been transferred to your agency.",
    "The invoice was sent to my old address.",
    "I would have paid if you had sent the bill.",
    "Ich habe meine Bank angewiesen, die Zahlung zu stoppen.",
    "Mein Arbeitgeber hat mir das Gehalt zu spät überwiesen.",
    "Please send me proof of payment.",
    "Les adjunto el justificante de mis ingresos.",
    # a payment that came back
    "Il pagamento effettuato è stato respinto dalla banca.",
    "Ich habe überwiesen, aber die Zahlung wurde zurückgebucht.",
    # another bill paid, not the debt
    "I have paid my rent and have nothing left.",
    "Pagué el alquiler y no me queda dinero.",
    "Ho pagato l'affitto e le bollette.",
    "Ich habe die Miete bezahlt.",
    "Ik heb de huur betaald.",
    "Por favor, envíenme un comprobante de pago.",
    # a denial, or a proof or a past infinitive after a negation
    "There is no payment we made to you.",
    "No puedo confirmar haber pagado.",
    "I have no proof of payment.",
    # a proof of payment asked for, not sent
    "Necesito un justificante de pago de la cuota de 50 euros.",
    "Me pueden enviar el comprobante de pago, por favor.",
    "Bitte senden Sie mir eine Zahlungsbestätigung für die 200 EUR.",
    "Ich brauche einen Zahlungsnachweis für das Finanzamt.",
    "Merci de m'envoyer un justificatif de paiement.",
    "Vorrei la ricevuta del pagamento di 80 euro.",
    "Mi potete mandare la contabile del bonifico ricevuto.",
    "Ik wil graag een betalingsbewijs ontvangen.",
    "Kunt u mij een betaalbevestiging sturen.",
    "I am still waiting for the payment confirmation from my bank.",
    "I need proof of payment for my records.",
]

# none of these promises a payment
NOT_PROMISES = [
    "I will not pay this.",
    "I won't pay a penny.",
    "I will send you the documents tomorrow.",
    "Ich werde nicht zahlen.",
    "Ich werde keinen Cent überweisen.",
    "Je ne vais pas payer.",
    "No pagaré esta deuda.",
    "No le pagaré nada.",
    "Non pagherò mai questa somma.",
    "Ik ga niet betalen.",
    "Ik maak me zorgen over de rekening.",
    "Ich werde nichts zahlen.",
    "Je paierai pas.",
    "Nunca pagaré esta deuda.",
    "Non vi pagherò nulla.",
    "Hoe ga ik dit betalen?",
    "No payment will be made.",
    "I can pay 200 EUR by Friday, but I won't until you send the contract.",
    "Je vous enverrai les documents demain.",
]

# what our own letters say, pasted or forwarded: read as a payment's wording, held for a person
CONDITIONS = [
    "If the payment has been made, please ignore this letter.",
    "Indien u reeds heeft betaald, kunt u deze brief als niet verzonden beschouwen.",
    "Si le paiement a été effectué, merci de ne pas tenir compte de ce courrier.",
    "Se il pagamento è stato effettuato, si prega di ignorare questa comunicazione.",
    "Please confirm the amount has been paid.",
]

# the writer's wages are no payment of the debt
WAGES = [
    "I get paid on the 15th, I'll be in touch then.",
    "Once I'm paid I will call you.",
]

# a monthly sum to clear the debt is a plan, not a settlement
# a lump sum offered on the condition that it closes the matter
SUMS_IF_IT_CLOSES = [
    "Would you take 1,500 USD to close this out?",
    "Ich könnte Ihnen 1000€ auf einen Schlag zahlen, wenn damit alles erledigt ist.",
    "Je peux vous proposer 1 800 € en un seul versement pour clôturer le dossier.",
    "Si je vous envoie 1500 euros, est-ce que vous acceptez de clore le dossier ?",
    "Puedo pagar 300€ ahora mismo si con eso se cierra todo.",
    "Als ik nu in één keer 250 euro betaal, kan het dossier dan gesloten worden?",
]

PLANS = [
    "I can pay 50 EUR per month if that closes the account.",
    "Ich kann 50 EUR monatlich zahlen, wenn damit alles erledigt ist.",
    "Puedo pagar 50 euros cada mes si con eso se cierra todo.",
    "Would it be OK if I paid £60 a month?",
    "Serait-il possible d'étaler le paiement ?",
    "Je peux verser 100 € par mois à partir de janvier.",
    "I can realistically afford £85 a month towards the bill.",
    "Kann ich 100 euro pro monat zahlen?",
    "Podría pagar 65 euros cada mes, empezando el 5 de diciembre.",
    "Posso fare 4 rate da 153,20 € a partire dal 1° dicembre?",
    "Me gustaría fraccionar el pago.",
    "Wenn ich 50 € monatlich zahle, ist die Sache in zwei Jahren erledigt.",
]

ADDRESS_CHANGES = [
    "Les comunico que, a partir de hoy, mi domicilio a efectos de notificaciones es el siguiente:",
    "Hierbij deel ik u mee dat mijn adres per 1 november is gewijzigd.",
    "Bitte ändern Sie meine Anschrift.",
    "Cambio di residenza: via Roma 3, 20100 Milano.",
]

NOT_SETTLEMENTS = [
    "I propose to pay 50 EUR per month to clear the debt.",
    "Propongo pagar 100 euros al mes para saldar la deuda.",
    "I reject your offer to settle.",
    "I cannot offer 500 EUR to settle this.",
]


@pytest.mark.parametrize("text", CONFIRMATIONS)
def test_a_payment_made_is_a_confirmation(text: str) -> None:
    assert intent_of(text) == "payment_confirmation"


@pytest.mark.parametrize("text", PROMISES)
def test_a_payment_to_come_is_a_promise(text: str) -> None:
    assert intent_of(text) == "payment_promise"


@pytest.mark.parametrize("text", SETTLEMENTS)
def test_a_sum_offered_to_close_the_debt_is_a_settlement_offer(text: str) -> None:
    assert intent_of(text) == "settlement_offer"


@pytest.mark.parametrize("text", SUMS_IF_IT_CLOSES)
def test_a_lump_sum_offered_if_it_closes_the_matter_is_a_settlement_offer(text: str) -> None:
    assert intent_of(text) == "settlement_offer"


@pytest.mark.parametrize("text", PLANS)
def test_a_sum_each_month_is_a_payment_plan_request(text: str) -> None:
    assert intent_of(text) == "payment_plan_request"


@pytest.mark.parametrize("text", ADDRESS_CHANGES)
def test_a_new_address_announced_is_an_address_change(text: str) -> None:
    assert intent_of(text) == "address_change"


@pytest.mark.parametrize("text", WAGES)
def test_the_writers_wages_are_no_payment_confirmation(text: str) -> None:
    assert intent_of(text) != "payment_confirmation"


@pytest.mark.parametrize("text", NOT_CONFIRMATIONS)
def test_no_payment_made_is_no_confirmation(text: str) -> None:
    """Not the strong wording (a bare "paid" is still the weak keyword, below the notify
    threshold, and a denied payment is penalised by the evidence check)."""
    assert first_confirmation(re.compile(PAYMENT_CONFIRMATION, re.IGNORECASE), text) is None


@pytest.mark.parametrize("text", NOT_PROMISES)
def test_a_refusal_or_another_errand_is_no_promise(text: str) -> None:
    assert re.search(PAYMENT_PROMISE, text, re.IGNORECASE) is None
    assert intent_of(text) != "payment_promise"


@pytest.mark.parametrize("text", CONDITIONS)
def test_a_payment_only_supposed_stays_below_the_notify_threshold(text: str) -> None:
    assert extraction_of(text).intent_confidence < 0.6


@pytest.mark.parametrize("text", NOT_SETTLEMENTS)
def test_a_monthly_sum_or_our_offer_is_no_settlement_offer(text: str) -> None:
    assert re.search(SETTLEMENT_OFFER, text, re.IGNORECASE) is None


def test_an_inherited_subject_does_not_decide_the_intent() -> None:
    """A reply keeps our subject ("Re: Settlement offer"); what the writer says decides."""
    assert intent_of("I paid 50 EUR yesterday.", "Re: Settlement offer") == "payment_confirmation"
    assert intent_of("I paid 50 EUR yesterday.", "Settlement offer") == "settlement_offer"
