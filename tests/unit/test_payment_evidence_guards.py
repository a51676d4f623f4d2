"""Guards on a payment confirmation's evidence that a true quote can still slip past: the
sentence denies the payment, the amount's quote names several sums, the "$" is another
country's dollar, and control characters in a quote."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.extraction.models import ParsedEmail
from shared.extraction.unpaid import sentence_around, unpaid_cue
from shared.extraction.validation import evidence_supports, several_amounts, validate_answer

TODAY = date(2026, 12, 4)


def _email(text: str) -> ParsedEmail:
    return ParsedEmail(
        message_id="<m@example.org>", subject="CASE-2024-0001", sender="jane@example.org",
        sender_name=None, date=None, text=text, quoted_text="",
    )  # fmt: skip


def _field(value: Any, evidence: str) -> dict[str, Any]:
    return {"value": value, "confidence": 0.95, "evidence": evidence}


def _payment(intent_evidence: str, amount: float, amount_evidence: str) -> dict[str, Any]:
    return {
        "intent": "payment_confirmation",
        "intent_confidence": 0.95,
        "intent_evidence": intent_evidence,
        "contains_instructions_to_ai": False,
        "case_number": _field("CASE-2024-0001", "CASE-2024-0001"),
        "amount": _field(amount, amount_evidence),
        "currency": _field("EUR", "EUR"),
    }


@pytest.mark.parametrize(
    "sentence",
    [
        "I have not paid the 1,200.00 EUR yet",
        "I haven't paid yet, sorry",
        "I will pay 200 EUR next week",
        "I am going to transfer the money on Friday",
        "If I pay 200 EUR now, will you stop the calls?",
        "Ich habe die 200 EUR noch nicht bezahlt",
        "Ich werde morgen 200 EUR überweisen",
        "Je n'ai pas encore payé",
        "Je paierai lundi",
        "No he pagado todavía",
        "Pagaré el lunes",
        "Non ho ancora pagato",
        "Pagherò domani",
        "Ik heb nog niet betaald",
        "Ik zal morgen betalen",
        "I'll pay on Monday",
        "I didn't pay",
        "Ich möchte die Rechnung bezahlen",
        "Ik ga het bedrag morgen overmaken",
        # a payment that came back
        "I paid 200 EUR but the payment was returned by my bank",
        "Die Überweisung über 200 EUR wurde zurückgebucht",
        "Il pagamento effettuato è stato respinto dalla banca",
        "La transferencia que hice fue rechazada",
        # our own letters' conditions and requests, pasted or forwarded
        "If the payment has been made, please ignore this letter",
        "Indien u reeds heeft betaald, kunt u deze brief als niet verzonden beschouwen",
        "Si le paiement a été effectué, merci de ne pas tenir compte de ce courrier",
        "Please confirm the amount has been paid",
    ],
)
def test_a_sentence_denying_or_promising_a_payment_is_recognised(sentence: str) -> None:
    assert unpaid_cue(sentence.casefold())


@pytest.mark.parametrize(
    "sentence",
    [
        "I paid 120.50 EUR today for case CASE-1",
        "Invoice no. 4711 paid today",
        "Could you confirm I paid 200 EUR?",
        "Ya se ha pagado la factura",
        "When I paid last week I used the reference",
        "You will see the payment on your account",
        "I paid 200 EUR, not 300",
        "Not sure you got it, but I paid 200 EUR",
        "Ich habe heute 200 EUR überwiesen",
        "J'ai payé 200 EUR hier",
        "He pagado 200 EUR hoy",
        "Ho pagato 200 EUR ieri",
        "Ik heb vandaag 200 EUR betaald",
        "I would like to confirm that I have paid 200 EUR",
        "I just want to confirm I have paid",
        "Ho appena pagato 200 EUR.",
        "Ho appena effettuato il bonifico di 200 EUR.",
        "Vorrei comunicarvi che ho pagato la fattura.",
        "Quiero confirmar que pagué 200 EUR.",
        "Va bene, ho pagato.",
        "Ancora una volta, ho pagato.",
        "Nunca recibí respuesta, pagué 200 EUR.",
        "Don't worry, I paid 200 EUR.",
        "Don't worry I paid 200 EUR.",
        "I don't owe anything, I paid 200 EUR.",
        "You will see that I paid 300 EUR on Monday.",
        "Hope this will help, I transferred 200 EUR.",
        "Keine Sorge, ich habe bezahlt.",
        "Please confirm the payment I made of 200 EUR last week.",
        "Can you confirm that the transfer we sent has arrived?",
        "Ich habe keine Schulden mehr, alles bezahlt.",
        "Si je comprends bien, j'ai payé 200 EUR.",
        "I'm not sure but I paid 200 EUR",
        "Ich möchte bestätigen dass ich bezahlt habe",
        "Ik wil bevestigen dat ik betaald heb",
        "Ga ervan uit dat ik betaald heb",
    ],
)
def test_a_sentence_about_a_payment_made_is_not_taken_for_a_denial(sentence: str) -> None:
    assert not unpaid_cue(sentence.casefold())


def test_the_sentence_around_a_quote_ends_at_its_full_stops_not_at_decimal_points() -> None:
    text = "hello. i have not paid the 1.200,00 eur yet. thanks"
    start = text.index("paid")
    assert sentence_around(text, start, start + 4) == " i have not paid the 1.200,00 eur yet"


def test_a_quote_that_starts_after_the_not_is_flagged() -> None:
    email = _email("Hello,\nI have not paid the 1,200.00 EUR yet, I will next month.\nJane")
    answer = _payment("paid the 1,200.00 EUR", 1200.0, "1,200.00 EUR")
    result = validate_answer(answer, email, today=TODAY)
    assert "evidence_negated:intent" in result.warnings
    assert result.intent_confidence < 0.5


def test_a_payment_made_is_not_flagged() -> None:
    email = _email("Hello,\nI have paid the 1,200.00 EUR today.\nJane")
    answer = _payment("I have paid the 1,200.00 EUR", 1200.0, "1,200.00 EUR")
    result = validate_answer(answer, email, today=TODAY)
    assert not [w for w in result.warnings if w.startswith("evidence_")], result.warnings


@pytest.mark.parametrize(
    ("quote", "several"),
    [
        ("I paid 200 EUR of the 1,200.00 EUR", True),
        ("paid €200, leaving €1.000", True),
        ("I paid 120.50 EUR today for case CASE-2024-00123", False),
        ("I paid 1.200,00 EUR (1,200.00 EUR)", False),  # the same sum written twice
        ("200 EUR", False),
    ],
)
def test_a_quote_naming_several_sums(quote: str, several: bool) -> None:
    assert several_amounts(quote) is several


def test_an_amount_quoted_beside_another_sum_does_not_move_money() -> None:
    email = _email("I paid 200 EUR of the 1,200.00 EUR today.")
    answer = _payment("I paid 200 EUR", 1200.0, "I paid 200 EUR of the 1,200.00 EUR")
    result = validate_answer(answer, email, today=TODAY)
    assert "evidence_ambiguous:amount" in result.warnings
    assert result.fields["amount"].confidence < 0.5


@pytest.mark.parametrize(
    ("quote", "usd"),
    [("$500.00", True), ("US$500", True), ("C$500.00", False), ("R$ 500", False),
     ("AU$500", False), ("500 USD", True), ("paid 500 dollars", True)],
)  # fmt: skip
def test_only_the_us_dollar_sign_supports_usd(quote: str, usd: bool) -> None:
    assert evidence_supports("currency", "USD", quote) is usd


def test_control_characters_in_a_quote_are_not_stored() -> None:
    email = _email("I have paid 1,200.00 EUR today.")
    answer = _payment("I have paid 1,200.00 EUR", 1200.0, "1,200.00\x00 EUR")
    result = validate_answer(answer, email, today=TODAY)
    evidence = result.fields["amount"].evidence
    assert evidence is not None and "\x00" not in evidence


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("Hello\nPlease do not worry\nI paid 200 EUR yesterday", False),  # short lines
        ("Thanks for your letter of last week about my account. I have not\npaid 200 EUR yet",
         True),  # a wrapped line goes on
    ],
)  # fmt: skip
def test_a_short_line_ends_its_sentence_and_a_wrapped_one_does_not(
    text: str, negated: bool
) -> None:
    quote = text.rsplit("\n", 1)[1]
    result = validate_answer(_payment(quote, 200.0, "200 EUR"), _email(text), today=TODAY)
    assert ("evidence_negated:intent" in result.warnings) is negated


def test_the_yen_sign_of_japanese_text_supports_jpy() -> None:
    assert evidence_supports("currency", "JPY", "12,000円")
