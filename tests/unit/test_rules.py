"""The deterministic fallback extractor on the sample corpus and on the formats it documents."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from shared.config import load_settings
from shared.extraction.email_parser import parse_email
from shared.extraction.factory import build_extractors
from shared.extraction.models import ParsedEmail
from shared.extraction.rules import RulesExtractor, parse_number

EMAILS = Path(__file__).resolve().parents[1] / "fixtures" / "emails"


def rules(**env: str) -> RulesExtractor:
    return RulesExtractor(load_settings(env), degraded=False)


def extract_file(name: str) -> dict[str, object]:
    result = rules().extract(parse_email((EMAILS / name).read_bytes()))
    values: dict[str, object] = {k: f.value for k, f in result.fields.items()}
    values["intent"] = result.intent
    return values


def extract_text(text: str, subject: str = "") -> dict[str, object]:
    email = ParsedEmail(
        message_id=None, subject=subject, sender="a@example.com", sender_name=None, date=None,
        text=text,
    )  # fmt: skip
    result = rules().extract(email)
    values: dict[str, object] = {k: f.value for k, f in result.fields.items()}
    values["intent"] = result.intent
    return values


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "payment_confirmation_plain.eml",
            {
                "intent": "payment_confirmation",
                "case_number": "CASE-2026-00123",
                "account_reference": "ACC-100234",
                "amount": 450.0,
                "currency": "EUR",
                "payment_date": "2026-11-14",
            },
        ),
        (
            "payment_promise_plain.eml",
            {"intent": "payment_promise", "amount": 1280.5, "payment_date": "2026-12-05"},
        ),
        (
            "payment_plan_request.eml",
            {
                "intent": "payment_plan_request",
                "plan_installment_amount": 200.0,
                "plan_start_date": "2027-01-01",
                "currency": "GBP",
            },
        ),
        ("dispute.eml", {"intent": "dispute", "account_reference": "ACC-100477"}),
        ("cease_and_desist_lawyer.eml", {"intent": "cease_and_desist"}),
        (
            "bankruptcy_notice.eml",
            {"intent": "bankruptcy_notice", "creditor_name": "Brightside Energy Ltd"},
        ),
        (
            "address_change.eml",
            {
                "intent": "address_change",
                "new_address": "Via Roma 12, 20121 Milano, Italy",
                "new_phone": "+39 02 1234 5678",
            },
        ),
        (
            "settlement_offer.eml",
            {"intent": "settlement_offer", "amount": 3000.0, "currency": "USD"},
        ),
        (
            "latin1_payment_confirmation_de.eml",
            {"intent": "payment_confirmation", "amount": 1234.56, "payment_date": "2026-11-26"},
        ),
        ("iso2022jp_payment_promise.eml", {"intent": "payment_promise", "currency": "JPY"}),
        ("windows1252_settlement_offer_fr.eml", {"intent": "settlement_offer", "amount": 800.0}),
        (
            "reply_with_quoted_history.eml",
            {"case_number": "CASE-2026-00234", "amount": 780.0, "payment_date": "2026-11-27"},
        ),
        ("forwarded_message_inline.eml", {"payment_date": "2026-11-25", "amount": 640.0}),
        # the forwarded message both asks to stop writing (its subject) and disputes; cease-
        # and-desist is checked before dispute (both compliance: hold + alert either way)
        ("forwarded_message_attached_rfc822.eml", {"intent": "cease_and_desist"}),
        ("pdf_attachment_remittance.eml", {"account_reference": "ACC-101178", "amount": 2050.0}),
        ("scanned_pdf_attachment.eml", {"intent": "other"}),
        (
            "html_reply_gmail_quote_de.eml",
            {
                "intent": "payment_plan_request",
                "case_number": "CASE-2026-01012",
                "plan_installment_amount": 150.0,
                "plan_start_date": "2027-01-01",
            },
        ),
    ],
)
def test_corpus(name: str, expected: dict[str, object]) -> None:
    got = extract_file(name)
    assert {k: got.get(k) for k in expected} == expected


def test_confidence_never_reaches_auto_update() -> None:
    extractor = rules(DECISION_AUTO_UPDATE_THRESHOLD="0.5", DECISION_NOTIFY_THRESHOLD="0.3")
    for path in EMAILS.glob("*.eml"):
        result = extractor.extract(parse_email(path.read_bytes()))
        assert result.intent_confidence < 0.5
        assert all(f.confidence < 0.5 for f in result.fields.values())
    default = rules()
    result = default.extract(parse_email((EMAILS / "payment_confirmation_plain.eml").read_bytes()))
    assert max(f.confidence for f in result.fields.values()) < 0.9
    assert result.overall_confidence < 0.9


def test_a_clear_non_money_email_reaches_the_notify_threshold() -> None:
    # offline, a clear address change or payment promise is applied and notified, not queued
    for name in ("address_change.eml", "payment_promise_plain.eml"):
        result = rules().extract(parse_email((EMAILS / name).read_bytes()))
        assert result.intent_confidence >= 0.6, name


def test_evidence_is_the_matched_text_and_is_in_the_email() -> None:
    email = parse_email((EMAILS / "latin1_payment_confirmation_de.eml").read_bytes())
    result = rules().extract(email)
    assert result.fields["amount"].evidence == "1.234,56 EUR"
    assert result.fields["payment_date"].evidence == "26.11.2026"
    assert result.warnings == ()
    assert result.extractor == "rules" and result.model is None
    assert result.prompt_version.startswith("rules-")


def test_injection_email_is_flagged() -> None:
    for name in ("prompt_injection_plain.eml", "html_only_hidden_injection.eml"):
        result = rules().extract(parse_email((EMAILS / name).read_bytes()))
        assert "injection_suspected" in result.warnings


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("Case number: AB/2026/771", "case_number", "AB/2026/771"),
        ("Aktenzeichen: 4711-2026", "case_number", "4711-2026"),
        ("CASE 2026/00123", "case_number", "CASE-2026-00123"),
        ("account no. 55-1234", "account_reference", "55-1234"),
        ("Kundennummer 99887766", "account_reference", "99887766"),
        ("ACC 123456", "account_reference", "ACC-123456"),
        ("I paid €1.234,56", "amount", 1234.56),
        ("I paid $1,234.56", "amount", 1234.56),
        ("I paid 1234.56 EUR", "amount", 1234.56),
        ("I paid GBP 99", "amount", 99.0),
        ("I paid 250 euros", "amount", 250.0),
        ("I paid £40", "currency", "GBP"),
        ("I have paid on 2026-03-04", "payment_date", "2026-03-04"),
        ("I have paid on 04.03.2026", "payment_date", "2026-03-04"),
        ("I have paid on 03/25/2026", "payment_date", "2026-03-25"),
        ("I have paid on 4 March 2026", "payment_date", "2026-03-04"),
        ("I have paid on March 4th, 2026", "payment_date", "2026-03-04"),
        ("I have paid on the 4th of March 2026", "payment_date", "2026-03-04"),
        ("Ich habe am 4. März 2026 bezahlt", "payment_date", "2026-03-04"),
        ("J'ai payé le 4 mars 2026", "payment_date", "2026-03-04"),
        ("He pagado el 4 de marzo de 2026", "payment_date", "2026-03-04"),
        ("My new address: 5 High St, Leeds LS1 4AB", "new_address", "5 High St, Leeds LS1 4AB"),
        ("New address:\n12 Rue X\n75002 Paris\n\nThanks", "new_address", "12 Rue X, 75002 Paris"),
        ("I moved. My e-mail address is Me@New.example", "debtor_email", "me@new.example"),
        # day-month-year with dashes, and the Italian and Dutch month names
        ("Ik heb op 20-11-2026 betaald", "payment_date", "2026-11-20"),
        ("pagherò 60,00 euro il 7 dicembre 2026", "payment_date", "2026-12-07"),
        ("Ho pagato il 3 settembre 2026", "payment_date", "2026-09-03"),
        ("Ik heb op 5 mei 2026 betaald", "payment_date", "2026-05-05"),
        ("Ik heb op 14 maart 2026 betaald", "payment_date", "2026-03-14"),
        # the address ends where a line of other contact details starts
        ("I have moved.\nMy new address is:\n1 Elm Rd, Bath BA1 1AA\nNew mobile: (555) 013-4478",
         "new_address", "1 Elm Rd, Bath BA1 1AA"),
        ("J'ai déménagé.\nMa nouvelle adresse :\n3 rue Haute, 69002 Lyon\nTél. : 06 55 50 12 34",
         "new_address", "3 rue Haute, 69002 Lyon"),
        ("Ik ben verhuisd.\nMijn nieuwe adres:\nDam 1, 1012 JS Amsterdam\nE-mail: a@b.example",
         "new_address", "Dam 1, 1012 JS Amsterdam"),
        # a town whose name starts like a label is still the address
        ("New address:\n100 Main Street\nMobile, AL 36602", "new_address",
         "100 Main Street, Mobile, AL 36602"),
        ("New address:\n12 Herzl Street\nTel Aviv 6100000", "new_address",
         "12 Herzl Street, Tel Aviv 6100000"),
        # a phone after the labels mail writes before it
        ("I have moved.\nNew mobile: (555) 013-4478", "new_phone", "(555) 013-4478"),
        ("J'ai déménagé.\nTél. : 06 55 50 12 34", "new_phone", "06 55 50 12 34"),
        ("Mi sono trasferito.\nCell. 333 555 0123", "new_phone", "333 555 0123"),
        # an address announced with its notice, its copula, or after "update my address to"
        ("I've moved, please update my address to:\nFlat 4, 27 Mortimer Road, Leicester LE3 0AB\n"
         "And my new mobile number is 07700 900461.", "new_address",
         "Flat 4, 27 Mortimer Road, Leicester LE3 0AB"),
        ("I've moved.\nAnd my new mobile number is 07700 900461.", "new_phone", "07700 900461"),
        ("Please note my change of address with effect from 1 December:\n14 Cranbrook Close, "
         "Swindon SN3 4LP\nHome phone 01793 555210", "new_address",
         "14 Cranbrook Close, Swindon SN3 4LP"),
        ("Merci de noter mon changement d'adresse à compter du 1er décembre :\n15 avenue Jean "
         "Jaurès\n13010 Marseille\nTél : 07 81 55 42 10", "new_address",
         "15 avenue Jean Jaurès, 13010 Marseille"),
        ("Mi domicilio a efectos de notificaciones es el siguiente:\nAvenida de la Constitución "
         "88\n41001 Sevilla", "new_address", "Avenida de la Constitución 88, 41001 Sevilla"),
        ("Ich wohne ab sofort hier:\n\nLindenweg 12, 34117 Kassel\n\nNeue Handynummer: 0152 "
         "5558 3127", "new_address", "Lindenweg 12, 34117 Kassel"),
        ("Ich bin umgezogen.\nNeue Handynummer: 0152 5558 3127", "new_phone", "0152 5558 3127"),
        ("Il nuovo indirizzo è Via dei Mille 8, 70122 Bari. Il nuovo numero è 328 4471 903.",
         "new_address", "Via dei Mille 8, 70122 Bari"),
        ("Mi sono trasferito. Il nuovo numero è 328 4471 903.", "new_phone", "328 4471 903"),
        ("Me he mudado:\nC/ Doctor Fleming 14\n46010 Valencia\nMi teléfono nuevo es el 612 44 87 "
         "09.", "new_phone", "612 44 87 09"),
        ("la nueva direccion es calle Mayor 5, 28770 Colmenar Viejo (Madrid). el movil sigue",
         "new_address", "calle Mayor 5, 28770 Colmenar Viejo (Madrid)"),
        # the sum nearest the words that say it was paid or will be
        ("Die 1.045,00 EUR kann ich nicht auf einmal zahlen. Ich überweise Ihnen aber am 1.12. "
         "schon mal 300 EUR.", "amount", 300.0),
        ("Den verbleibenden Betrag von 412,80 Euro habe ich gestern an Sie überwiesen, die "
         "strittigen 200 Euro hat Fjordline gutgeschrieben.", "amount", 412.8),
        ("habe am Dienstag 200,- Euro überwiesen.", "amount", 200.0),
        # the instalment: the sum nearest a word of one, in every language
        ("I can't pay all 742,10 pounds now. Is it possible to pay 40 pounds every month?",
         "plan_installment_amount", 40.0),
        ("Non riesco a pagare 612,80 € tutti insieme, posso fare 4 rate da 153,20 €?",
         "plan_installment_amount", 153.2),
        ("Ik kan € 2.350,70 niet ineens betalen: een betalingsregeling van € 100 per maand?",
         "plan_installment_amount", 100.0),
        ("Zou ik in termijnen van € 75 mogen betalen?", "plan_installment_amount", 75.0),
        ("Podría pagar 65 euros cada mes.", "plan_installment_amount", 65.0),
    ],
)  # fmt: skip
def test_documented_formats(text: str, field: str, value: object) -> None:
    assert extract_text(text).get(field) == value


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("We have filed for bankruptcy.", "bankruptcy_notice"),
        ("Insolvenzverfahren eröffnet", "bankruptcy_notice"),
        ("Please cease and desist.", "cease_and_desist"),
        ("Stop contacting me.", "cease_and_desist"),
        ("I do not owe this money.", "dispute"),
        ("Je conteste cette dette.", "dispute"),
        ("I can offer to pay half as a full and final settlement.", "settlement_offer"),
        ("Can I get a payment plan?", "payment_plan_request"),
        ("Ich möchte in Raten zahlen, Ratenzahlung bitte.", "payment_plan_request"),
        ("Propongo un plan de pagos.", "payment_plan_request"),
        ("I have paid yesterday.", "payment_confirmation"),
        ("Ich habe gestern überwiesen.", "payment_confirmation"),
        ("He pagado la factura.", "payment_confirmation"),
        ("I will pay next Friday.", "payment_promise"),
        ("Je vais payer demain.", "payment_promise"),
        ("I have moved, new address below.", "address_change"),
        ("What are your opening hours?", "other"),
    ],
)
def test_intent_keywords(text: str, intent: str) -> None:
    assert extract_text(text)["intent"] == intent


def test_compliance_intents_win_over_payment_words() -> None:
    assert extract_text("I paid nothing and I dispute this debt.")["intent"] == "dispute"
    assert extract_text("I will pay, but we are insolvent.")["intent"] == "bankruptcy_notice"


# Review finding 8: common stop-contacting wording read as a payment; a weak compliance match
# must beat a strong match of another intent (a missed cease-and-desist costs more than a
# payment email held for staff, and rules results are always looked at by staff anyway).
@pytest.mark.parametrize(
    ("text", "intent", "confidence"),
    [
        ("Don't contact me again. I already paid 200 EUR on case CASE-2024-00001.",
         "cease_and_desist", 0.75),
        ("Don\u2019t contact me again. I already paid 200 EUR.", "cease_and_desist", 0.75),
        ("Stop emailing me, I have paid.", "cease_and_desist", 0.75),
        ("Please stop writing to me. I have paid 200 EUR.", "cease_and_desist", 0.75),
        ("Leave me alone. I paid 200 EUR.", "cease_and_desist", 0.75),
        ("I refuse to pay and I want all communication to stop.", "cease_and_desist", 0.75),
        ("My lawyer says I don't have to pay. I will pay 20 EUR next week",
         "cease_and_desist", 0.4),
        ("I have paid 200 EUR, but your letter shows the wrong amount.", "dispute", 0.4),
    ],
)  # fmt: skip
def test_compliance_wording_and_weak_compliance_before_strong_other(
    text: str, intent: str, confidence: float
) -> None:
    email = ParsedEmail(
        message_id=None, subject="", sender="a@example.com", sender_name=None, date=None,
        text=text,
    )  # fmt: skip
    result = rules().extract(email)
    assert (result.intent, result.intent_confidence) == (intent, confidence)


@pytest.mark.parametrize(
    "text",
    [
        # Asking to stop the *reminders* because the debt is paid is a payment confirmation,
        # not a request to stop all contact: read as cease-and-desist it would put a paid
        # account on hold and send a compliance alert. Staff still see it (rules results
        # always notify), so a real stop-contact request phrased this way is not lost.
        "Please stop the reminder, I paid yesterday.",
        "I paid 200 EUR yesterday, please stop the reminders.",
        "I have paid, please update your records so the reminders stop.",
        # contacting without a refusal
        "Do not hesitate to contact me if anything is missing. I have paid 200 EUR.",
        "Please contact me when the payment arrives, I transferred 200 EUR today.",
    ],
)
def test_benign_payment_emails_are_not_compliance(text: str) -> None:
    assert extract_text(text)["intent"] == "payment_confirmation"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        ("1 234", Decimal("1234")),
        ("1.234", Decimal("1234")),
        ("12,5", Decimal("12.5")),
        ("1'000.00", Decimal("1000.00")),
    ],
)
def test_parse_number(raw: str, value: Decimal) -> None:
    assert parse_number(raw) == value


def test_factory_degraded_flag_follows_the_api_key() -> None:
    claude, fallback = build_extractors(load_settings({}))
    assert claude is None and fallback.degraded is False
    claude, fallback = build_extractors(load_settings({"ANTHROPIC_API_KEY": "k"}))
    assert claude is not None and claude.name == "claude" and fallback.degraded is True
    assert claude._client is None  # nothing created before the first call


def test_the_factorys_rules_extractor_reads_like_the_rules_extractor() -> None:
    for env, degraded in (({}, False), ({"ANTHROPIC_API_KEY": "k"}, True)):
        _, fallback = build_extractors(load_settings(env))
        for path in sorted(EMAILS.glob("*.eml")):
            email = parse_email(path.read_bytes())
            expected = RulesExtractor(load_settings(env), degraded=degraded).extract(email)
            assert fallback.extract(email) == expected, path.name
        assert fallback.name == "rules" and fallback.degraded is degraded


def test_the_rules_module_is_imported_on_the_first_extraction_only() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from shared.config import load_settings\n"
        "from shared.extraction.factory import build_extractors\n"
        "import shared.processing.bootstrap, shared.processing.pipeline\n"
        "_, rules = build_extractors(load_settings({'ANTHROPIC_API_KEY': 'k'}))\n"
        "print('shared.extraction.rules' in sys.modules)\n"
        "from shared.extraction.models import ParsedEmail\n"
        "email = ParsedEmail(None, 'Payment', 'a@b.example', None, None, 'I paid 10.00 today')\n"
        "rules.extract(email)\n"
        "print('shared.extraction.rules' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "True"]


@pytest.mark.parametrize(
    ("subject", "text", "amount", "currency"),
    [
        ("Invoice 88412", "£250 paid today.", 250.0, "GBP"),  # never across a line break
        ("", "Invoice 4471203\n€250,00 paid today.", 250.0, "EUR"),
        ("", "J'ai payé 1\u202f234,56 € hier.", 1234.56, "EUR"),  # narrow no-break space
        ("", "I paid €\u00a01\u00a0234,56 today.", 1234.56, "EUR"),
        ("", "I paid €250¹ today (¹ by bank transfer).", 250.0, "EUR"),  # a footnote mark
    ],
)
def test_an_amount_is_read_within_its_line_with_any_thousands_space(
    subject: str, text: str, amount: float, currency: str
) -> None:
    values = extract_text(text, subject=subject)
    assert (values.get("amount"), values.get("currency")) == (amount, currency)


@pytest.mark.parametrize(
    ("text", "written", "field", "value"),
    [
        # our letter's date is not the payment's
        (
            "Further to your letter dated 2nd November 2026, I paid £200 on 10 November 2026.",
            "2026-11-12",
            "payment_date",
            "2026-11-10",
        ),
        (
            "Bezugnehmend auf Ihr Schreiben vom 05.11.2026 habe ich am 10.11.2026 200 EUR "
            "überwiesen.",
            "2026-11-12",
            "payment_date",
            "2026-11-10",
        ),
        # a date without its year: the next one for what is to come, the last one for what was
        ("Ich werde am 15.12. 200 EUR überweisen.", "2026-11-20", "payment_date", "2026-12-15"),
        ("Je vous paierai 100 € le 1er décembre.", "2026-11-20", "payment_date", "2026-12-01"),
        ("I will pay £50 on 10 January.", "2026-12-20", "payment_date", "2027-01-10"),
        ("I paid £50 on 28 December.", "2027-01-03", "payment_date", "2026-12-28"),
        ("I paid £50 on December 28th.", "2027-01-03", "payment_date", "2026-12-28"),
        (
            "Podría pagar 65 euros cada mes, empezando el 5 de diciembre.",
            "2026-11-20",
            "plan_start_date",
            "2026-12-05",
        ),
        # a day of the month alone, after any date that names its month
        ("I can put €500 towards this on the 27th.", "2026-11-20", "payment_date", "2026-11-27"),
        ("I can put €500 towards this on the 2nd.", "2026-11-20", "payment_date", "2026-12-02"),
        ("Os ingreso 100 € el día 3.", "2026-11-20", "payment_date", "2026-12-03"),
        ("I paid £50 on the 18th.", "2026-11-20", "payment_date", "2026-11-18"),
        (
            "I get paid on the 15th and will send £250 on November 22.",
            "2026-11-10",
            "payment_date",
            "2026-11-22",
        ),
        (
            "Les haré un ingreso de 1.000 € el próximo día 30.",
            "2026-11-20",
            "payment_date",
            "2026-11-30",
        ),
        (
            "Vi comunico che in data 12/11 ho pagato 200 € tramite bonifico.",
            "2026-11-20",
            "payment_date",
            "2026-11-12",
        ),
        # 29 February in a leap year, a day the month before does not have
        ("I will pay £50 on 29 February.", "2028-02-20", "payment_date", "2028-02-29"),
        ("I paid £50 on the 30th.", "2027-03-02", "payment_date", "2027-01-30"),
        ("I paid £50 on 2 January.", "2026-12-30", "payment_date", "2026-01-02"),
        # a payment made is not dated after the email, one to come not before it
        (
            "I will pay 100 EUR on 30 November 2026, as I said on 2 November 2026.",
            "2026-11-20",
            "payment_date",
            "2026-11-30",
        ),
    ],
)
def test_payment_dates_are_read_against_the_day_the_email_was_written(
    text: str, written: str, field: str, value: str
) -> None:
    email = ParsedEmail(
        message_id=None, subject="", sender="a@example.com", sender_name=None,
        date=datetime.fromisoformat(f"{written}T10:00:00+00:00"), text=text,
    )  # fmt: skip
    extraction = rules().extract(email)
    assert extraction.fields[field].value == value


_OUR_LETTER = (
    "On Mon, 2 Nov 2026 at 08:45, Collections <inbox@collections.example.com> wrote:\n"
    "> Please pay the balance within 14 days. If you cannot pay in full, we can agree a payment "
    "plan of monthly instalments."
)


def test_a_question_above_our_letter_is_not_read_from_the_letter() -> None:
    """The writer asked something of their own: the payment plan our letter offers is ours."""
    email = ParsedEmail(
        message_id=None, subject="Re: Your account", sender="a@example.com", sender_name=None,
        date=None, quoted_text=_OUR_LETTER,
        text="Hi, your last letter said I owed $720.00 and this one says $780.00. As far as I "
        "know nothing has changed since then. Can you tell me where the extra $60 came from? Is "
        "it a late fee or interest?",
    )  # fmt: skip
    assert rules().extract(email).intent == "other"


def test_a_short_forward_is_read_from_what_it_forwards() -> None:
    email = ParsedEmail(
        message_id=None, subject="Fwd: payment", sender="a@example.com", sender_name=None,
        date=None, text="See below.",
        quoted_text="---------- Forwarded message ---------\nFrom: Jo <jo@example.com>\n\n"
        "I have paid 200 EUR today for case CASE-1.",
    )  # fmt: skip
    assert rules().extract(email).intent == "payment_confirmation"
