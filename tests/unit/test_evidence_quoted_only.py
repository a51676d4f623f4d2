"""Evidence found only in the quoted history (review finding 2).

A follow-up ("did you get this?") quoting an earlier "I have paid 500.00 EUR" must not read as
a new payment: the intent (and, for a payment confirmation, the amount) is then warned
``evidence_quoted_only:<field>`` and its confidence is lowered like unfound evidence.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.accounts.mongo import validate_account
from shared.extraction.email_parser import parse_email
from shared.extraction.models import AttachmentInfo, Extraction, ParsedEmail
from shared.extraction.rules import RulesExtractor
from shared.extraction.validation import EvidenceIndex, validate_answer
from shared.processing.decision import Thresholds, decide
from shared.processing.matching import Candidate, Match
from tests.processing_fakes import account_document

TODAY = date(2025, 6, 20)
QUOTED_PAYMENT = "> On 1 June Jane wrote:\n> I have paid 500.00 EUR for case CASE-2024-0001"


def mail(
    text: str, quoted: str = "", subject: str = "Re: CASE-2024-0001", attachment: str | None = None
) -> ParsedEmail:
    attachments = ()
    if attachment is not None:
        attachments = (AttachmentInfo("receipt.pdf", "application/pdf", 100, attachment),)
    return ParsedEmail(
        message_id=None,
        subject=subject,
        sender="jane@example.org",
        sender_name=None,
        date=None,
        text=text,
        quoted_text=quoted,
        attachments=attachments,
    )


def f(value: Any, evidence: str, confidence: float = 0.95) -> dict[str, Any]:
    return {"value": value, "confidence": confidence, "evidence": evidence}


def payment_answer(intent_evidence: str = "I have paid 500.00 EUR", **extra: Any) -> dict[str, Any]:
    return {
        "intent": "payment_confirmation",
        "intent_confidence": 0.95,
        "intent_evidence": intent_evidence,
        "contains_instructions_to_ai": False,
        "case_number": f("CASE-2024-0001", "CASE-2024-0001"),
        "amount": f(500.0, "500.00 EUR"),
        "currency": f("EUR", "EUR"),
        **extra,
    }


def quoted_only(warnings: tuple[str, ...]) -> set[str]:
    return {w for w in warnings if w.startswith("evidence_quoted_only:")}


def test_reviewers_follow_up_quoting_an_old_payment_is_flagged_and_lowered() -> None:
    result = validate_answer(
        payment_answer(), mail("Hi, just checking you got this?", QUOTED_PAYMENT), today=TODAY
    )
    assert quoted_only(result.warnings) == {
        "evidence_quoted_only:intent",
        "evidence_quoted_only:amount",
    }
    # lowered like evidence_not_found: halved, capped at 0.5
    assert result.intent_confidence == 0.475
    assert result.fields["amount"].confidence == 0.475
    # references and currency in the quoted history are ordinary (replies quote them)
    assert result.fields["case_number"].confidence == 0.95
    assert result.fields["currency"].confidence == 0.95
    assert not any(
        w.startswith(("evidence_not_found", "evidence_mismatch")) for w in result.warnings
    )


def test_reply_stating_the_payment_and_quoting_older_text_is_not_flagged() -> None:
    result = validate_answer(
        payment_answer(),
        mail(
            "I have paid 500.00 EUR for case CASE-2024-0001 this morning.",
            "> On 1 June Collector wrote:\n> Please pay 500.00 EUR for case CASE-2024-0001",
        ),
        today=TODAY,
    )
    assert result.warnings == ()
    assert result.intent_confidence == 0.95
    assert result.fields["amount"].confidence == 0.95


def test_the_same_payment_quoted_under_a_new_statement_is_not_flagged() -> None:
    # the debtor repeats the statement in the new text and the old one is quoted below
    result = validate_answer(
        payment_answer(),
        mail("Sorry, resending: I have paid 500.00 EUR for case CASE-2024-0001.", QUOTED_PAYMENT),
        today=TODAY,
    )
    assert quoted_only(result.warnings) == set()


def test_a_reply_subject_is_history_but_a_new_subject_is_new_text() -> None:
    body = "Did this arrive?"
    answer = payment_answer()
    inherited = validate_answer(
        answer, mail(body, subject="RE: AW: I have paid 500.00 EUR for CASE-2024-0001"), today=TODAY
    )
    assert quoted_only(inherited.warnings) == {
        "evidence_quoted_only:intent",
        "evidence_quoted_only:amount",
    }
    fresh = validate_answer(
        answer, mail(body, subject="I have paid 500.00 EUR for CASE-2024-0001"), today=TODAY
    )
    assert quoted_only(fresh.warnings) == set() and fresh.intent_confidence == 0.95


def test_attachment_text_counts_as_new_text() -> None:
    result = validate_answer(
        payment_answer(intent_evidence="Payment executed"),
        mail("Receipt attached.", attachment="Payment executed: 500.00 EUR, CASE-2024-0001"),
        today=TODAY,
    )
    assert quoted_only(result.warnings) == set()


def test_amount_in_quoted_history_is_normal_when_no_payment_is_confirmed() -> None:
    answer = {
        **payment_answer(intent_evidence="I will pay next week"),
        "intent": "payment_promise",
    }
    result = validate_answer(
        answer,
        mail("I will pay next week.", "> Your balance is 500.00 EUR for CASE-2024-0001"),
        today=TODAY,
    )
    assert quoted_only(result.warnings) == set()


def test_any_intent_stated_only_in_the_quoted_history_is_flagged() -> None:
    answer = {
        "intent": "dispute",
        "intent_confidence": 0.9,
        "intent_evidence": "I dispute this debt",
        "contains_instructions_to_ai": False,
    }
    result = validate_answer(
        answer, mail("Any news?", "> I dispute this debt, CASE-2024-0001"), today=TODAY
    )
    assert quoted_only(result.warnings) == {"evidence_quoted_only:intent"}
    assert result.intent_confidence == 0.45


def test_evidence_index_tells_new_text_from_history() -> None:
    index = EvidenceIndex(
        mail("New words here.", "> old words there", subject="Fwd: subject words")
    )
    assert index.contains("old words there") and index.contains("subject words")
    assert index.in_new_text("new words here")
    assert not index.in_new_text("old words there")
    assert not index.in_new_text("subject words")
    assert not index.in_new_text("new words ... old words")


def test_reviewers_input_no_longer_auto_updates() -> None:
    email = mail("Hi, just checking you got this?", QUOTED_PAYMENT)
    validated = validate_answer(payment_answer(), email, today=TODAY)
    extraction = Extraction(
        validated.intent,
        validated.intent_confidence,
        validated.fields,
        "claude",
        False,
        "p",
        warnings=validated.warnings,
    )
    account = validate_account(account_document())
    match = Match("case_number", 1.0, (Candidate(account, 1.0),))
    decision = decide(extraction, match, Thresholds(0.9, 0.6))
    assert decision.decision != "AUTO_UPDATE"


def test_rules_extractor_flags_an_intent_read_from_the_quoted_history() -> None:
    extraction = RulesExtractor(degraded=True).extract(
        mail("Hi, just checking you got this?", QUOTED_PAYMENT)
    )
    assert extraction.intent == "payment_confirmation"
    assert "evidence_quoted_only:intent" in extraction.warnings
    new = RulesExtractor(degraded=True).extract(
        mail("I have paid 500.00 EUR for case CASE-2024-0001", QUOTED_PAYMENT)
    )
    assert "evidence_quoted_only:intent" not in new.warnings


@pytest.mark.parametrize(
    ("follow_up", "header", "old_statement"),
    [
        (
            "Hebben jullie mijn betaling ontvangen?",
            "Van: Jan de Vries <jan@example.nl>\nVerzonden: maandag 1 juni 2026 10:00\n"
            "Aan: incasso@example.com\nOnderwerp: CASE-2024-0001",
            "Ik heb 450,00 EUR betaald.",
        ),
        (
            "Hebben jullie mijn betaling ontvangen?",
            "Op ma 1 jun 2026 om 10:00 schreef Jan de Vries <jan@example.nl>:",
            "Ik heb 450,00 EUR betaald.",
        ),
        (
            "Avete ricevuto il mio pagamento?",
            "Da: Mario Rossi <mario@example.it>\nInviato: lunedì 1 giugno 2026 10:00\n"
            "A: recupero@example.com\nOggetto: CASE-2024-0001",
            "Ho pagato 450,00 EUR.",
        ),
        (
            "Avete ricevuto il mio pagamento?",
            "Il giorno lun 1 giu 2026 alle ore 10:00 Mario Rossi <mario@example.it> ha scritto:",
            "Ho pagato 450,00 EUR.",
        ),
    ],
    ids=["nl-outlook", "nl-gmail", "it-outlook", "it-gmail"],
)
def test_a_dutch_or_italian_follow_up_quoting_an_old_payment_is_flagged(
    follow_up: str, header: str, old_statement: str
) -> None:
    raw = (
        "From: Debtor <debtor@example.org>\nSubject: CASE-2024-0001\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"{follow_up}\n\n{header}\n\n{old_statement}\n"
    ).encode()
    email = parse_email(raw)
    assert email.text == follow_up and old_statement in email.quoted_text
    answer = payment_answer(
        intent_evidence=old_statement, amount=f(450.0, "450,00 EUR"), currency=f("EUR", "EUR")
    )
    result = validate_answer(answer, email, today=TODAY)
    assert quoted_only(result.warnings) == {
        "evidence_quoted_only:intent",
        "evidence_quoted_only:amount",
    }
    assert result.intent_confidence == 0.475


def test_inherited_subject_prefixes() -> None:
    from shared.extraction.quotes import inherited_subject

    for subject in ("Re: paid", "RE: AW: paid", "Fwd: x", "FW: x", "AW: x", "WG: x", "TR: x",
                    "RV: x", "SV: x", "Antw: x", "Re[2]: x", " re : x", "R: x", "I: x",
                    "RES: x", "Odp: x", "VS: x", "VB: x", "YNT: x", "Re(2): x", "Отв: x",
                    "回复：x", "[EXTERNAL] RE: x", "[SPAM] [EXT] Re: x", "EXT: RE: x",
                    "*External* FW: x"):  # fmt: skip
        assert inherited_subject(subject), subject
    for subject in ("Payment made", "Resume: paid", "Trade: x", "Aware: x", "Regarding CASE-1",
                    "[CASE-2024-0001] paid 200 EUR", "[EXTERNAL] Payment 200 EUR",
                    "Rif. pratica 1234", "Invoice: 123", "Res judicata", "Ire: x"):  # fmt: skip
        assert not inherited_subject(subject), subject


@pytest.mark.parametrize(
    "subject",
    [
        "R: Sollecito CASE-2024-0001: saldo 1.200,00 EUR",  # Italian Outlook's reply
        "[EXTERNAL] RE: Final demand - balance 1.200,00 EUR (CASE-2024-0001)",  # gateway tag
    ],
)
def test_an_amount_only_in_the_subject_of_a_reply_is_ours_not_the_debtors(subject: str) -> None:
    raw = (
        f"From: Debtor <debtor@example.org>\nSubject: {subject}\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\nHo pagato ieri.\n"
    ).encode()
    email = parse_email(raw)
    answer = payment_answer(
        intent_evidence="Ho pagato ieri", amount=f(1200.0, "1.200,00 EUR"), currency=f("EUR", "EUR")
    )
    result = validate_answer(answer, email, today=TODAY)
    assert "evidence_quoted_only:amount" in result.warnings


@pytest.mark.parametrize(
    ("follow_up", "history"),
    [
        ("Har ni fått min betalning?",
         "Från: Anna Svensson <anna@example.se>\nSkickat: den 10 november 2026 09:12\n"
         "Till: inkasso@example.com\nÄmne: CASE-2024-0001\n\nJeg har betalt 450,00 EUR."),
        ("Har I modtaget min betaling?",
         "Fra: Anne Jensen <anne@example.dk>\nSendt: 10. november 2026 09:12\n"
         "Til: inkasso@example.com\nEmne: CASE-2024-0001\n\nJeg har betalt 450,00 EUR."),
        ("Czy otrzymali Państwo moją wpłatę?",
         "W dniu 10.11.2026 o 09:12, Anna Kowalska <anna@example.pl> napisała:\n"
         "Zapłaciłam 450,00 EUR."),
        ("Czy dostali Państwo wpłatę?",
         "pon., 10 lis 2026 o 09:12 Anna Kowalska <anna@example.pl> napisał(a):\n"
         "Zapłaciłam 450,00 EUR."),
        ("Recebeu o meu pagamento?",
         "Em seg., 10 de nov. de 2026 às 09:12, Ana <ana@example.pt> escreveu:\n"
         "Paguei 450,00 EUR."),
        ("Onko maksuni tullut perille?",
         "-------- Alkuperäinen viesti --------\nLähettäjä: Anna <anna@example.fi>\n"
         "Maksoin 450,00 EUR."),
    ],
    ids=["sv-outlook", "da-outlook", "pl-thunderbird", "pl-gmail", "pt-gmail", "fi-separator"],
)  # fmt: skip
def test_a_follow_up_from_abroad_quoting_an_old_payment_is_flagged(
    follow_up: str, history: str
) -> None:
    raw = (
        "From: Debtor <debtor@example.org>\nSubject: CASE-2024-0001\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"{follow_up}\n\n{history}\n"
    ).encode()
    email = parse_email(raw)
    assert email.text == follow_up, email.text
    statement = history.splitlines()[-1]
    answer = payment_answer(
        intent_evidence=statement, amount=f(450.0, "450,00 EUR"), currency=f("EUR", "EUR")
    )
    result = validate_answer(answer, email, today=TODAY)
    assert "evidence_quoted_only:amount" in result.warnings


@pytest.mark.parametrize(
    "text",
    [
        "Hej,\nDen regning I skrev om er betalt, se her:\n200 kr. den 15. marts.\nHilsen",
        "Den 3. marts skrev I, at jeg skyldte 1.200 kr.\nJeg har betalt følgende:\n200 kr.",
        "Em resposta ao que escreveu:\nPaguei 200,00 EUR.",
    ],
)
def test_a_debtors_own_sentence_shaped_like_an_attribution_stays_new_text(text: str) -> None:
    from shared.extraction.quotes import split_quoted

    assert split_quoted(text) == (text, "")


def test_a_subject_of_gateway_tags_that_are_no_reply_is_decided_at_once() -> None:
    """A run of "***" can end one tag or open the next: tried every way, a failing subject of
    150 characters would take hours. Run apart, so a regression fails instead of hanging."""
    import subprocess
    import sys

    code = (
        "from shared.extraction.quotes import inherited_subject\n"
        "assert not inherited_subject('*a*' + '**a*' * 500 + 'x')\n"
        "assert inherited_subject('**EXT** [SPAM] *External* RE: x')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=20)


@pytest.mark.parametrize(
    "labels",
    [
        ("Od", "Odesláno", "Komu", "Předmět"),  # Czech
        ("От", "Отправлено", "Кому", "Тема"),  # Russian
        ("Kimden", "Gönderildi", "Kime", "Konu"),  # Turkish
        ("De la", "Trimis", "Către", "Subiect"),  # Romanian
    ],
)
def test_outlooks_block_in_a_language_of_its_own_starts_the_history(
    labels: tuple[str, str, str, str],
) -> None:
    from shared.extraction.quotes import split_quoted

    sender, sent, to, subject = labels
    text = (
        "I have paid EUR 200,00 today.\n\n________________________________\n"
        f"{sender}: Collector Ltd <c@collector.example>\n{sent}: 3.6.2024 10:00\n"
        f"{to}: anna@example.org\n{subject}: Your account\n\nIf you dispute this debt ..."
    )
    new, quoted = split_quoted(text)
    assert new == "I have paid EUR 200,00 today." and quoted.startswith("____")


@pytest.mark.parametrize(
    "text",
    [
        "Paid, receipt:\n__________\nFrom account: DE12 3456\nTo: Collector\nAmount: 200 EUR",
        "Hello, I paid today, the receipt is below.\n______________________________\n"
        "Paid to: payments@agency.example\nAmount: GBP 250.00\nDate: 3 June 2024\n"
        "Transaction ID: 8XY12345\n\nThe remaining 300 pounds are disputed.",
        "Contact form:\n__________________\nEmail: john@example.org\nName: John\n"
        "Account: 44710815\nMessage: stop contacting me",
    ],
)
def test_a_pasted_receipt_or_form_under_a_rule_is_the_writers_text(text: str) -> None:
    from shared.extraction.quotes import split_quoted

    assert split_quoted(text) == (text, "")
