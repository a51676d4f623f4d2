"""Compliance wording that must hold where the email also says something that could read it
away: a dispute whose end is still to come ("until this is resolved"), a debtor's first-person
statement in a sentence using our notice's words, and the phrasings of solicitors, of a debt
the writer does not recognise, of identity fraud and of a death, in every language of the
tables. And what must stay quiet: ordinary payment mail, a dispute that is over, our own
letters quoted back."""

from __future__ import annotations

import pytest

from shared.extraction.models import AttachmentInfo, ParsedEmail
from shared.extraction.wording import LANGUAGES, Kind, compliance_hits, find_wording
from shared.processing.compliance_wording import compliance_hit, compliance_wording

SEGMENTS = ("new", "attachment", "quoted")


def _email(text: str, quoted: str = "", attachment: str | None = None) -> ParsedEmail:
    attachments = (
        (AttachmentInfo("letter.pdf", "application/pdf", 10, attachment),) if attachment else ()
    )
    return ParsedEmail(
        message_id=None, subject="", sender="a@example.com", sender_name=None, date=None,
        text=text, quoted_text=quoted, attachments=attachments,
    )  # fmt: skip


def _kinds(text: str, segment: str) -> set[Kind]:
    return {h.kind for h in find_wording(text, segment=segment)}


# -- a resolved cue whose end is still to come, or that speaks of something else ---------------

CONDITIONAL_RESOLUTIONS = [
    "I dispute the remaining balance and will not pay it until this is resolved.",
    "The remaining balance is disputed and will not be paid until this is resolved.",
    "I request validation of the debt before this is resolved.",
    "I will withdraw my dispute once you send the signed contract.",
    "The disputed charge stays open unless it has been resolved in writing.",
    "Den Widerspruch ziehe ich zurück, sobald Sie Belege schicken.",
    "Je conteste le solde et je ne paierai que lorsque le litige est réglé.",
    "No pagaré nada mientras la disputa no está resuelta.",
    "La contestazione resta aperta finché la pratica non è stata chiusa.",
    "De betwisting blijft staan totdat dit is opgelost.",
]


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("text", CONDITIONAL_RESOLUTIONS)
def test_a_resolution_still_to_come_does_not_cancel_the_dispute(text: str, segment: str) -> None:
    assert find_wording(text, segment=segment) != [], text


@pytest.mark.parametrize(
    "text",
    [
        "I dispute the rest, this account was settled with Northwind in 2023.",
        "The balance is disputed, the account was settled in 2023.",
        "Disputed: the account was settled in 2023.",
    ],
)
def test_a_resolved_cue_in_another_clause_is_the_disputes_reason(text: str) -> None:
    for segment in SEGMENTS:
        assert Kind.DISPUTE in _kinds(text, segment), (segment, text)


@pytest.mark.parametrize(
    "text",
    [
        "My dispute has been resolved and I will pay the rest next week.",
        "I withdraw my dispute, here is the payment.",
        "The dispute I raised in May was resolved, so here is the payment.",
        "Der Widerspruch ist erledigt, anbei die Zahlung.",
        "La contestation est réglée, voici le paiement.",
        "La disputa se resolvió, adjunto el pago.",
        "La contestazione è stata risolta, ecco il pagamento.",
        "De betwisting is afgehandeld, hierbij de betaling.",
    ],
)
def test_a_dispute_that_is_over_still_does_not_count(text: str) -> None:
    for segment in SEGMENTS:
        assert find_wording(text, segment=segment) == [], (segment, text)


def test_the_payment_with_a_dispute_until_resolved_holds() -> None:
    email = _email(
        "Hello,\ntoday I paid 200.00 EUR for CASE-2024-0001, the part I agree with.\n"
        "I dispute the remaining balance and will not pay it until this is resolved.\nJane"
    )
    assert compliance_wording(email) == "dispute"


# -- the writer's first-person statement next to a mark of our letter --------------------------

FIRST_PERSON_IN_MARKED_SENTENCES = [
    "I dispute all or part of the debt and request validation of the debt.",
    "I hereby formally dispute all or part of the debt.",
    "We dispute all or part of the debt.",
    "I am writing to dispute all or part of the debt.",
    "Your letter says this is an attempt to collect a debt I do not owe.",
    "Ihr Schreiben sagt „this is an attempt to collect a debt“, ich bestreite die Forderung.",
    "Votre lettre dit « this is an attempt to collect a debt » : je conteste cette dette.",
]


@pytest.mark.parametrize("segment", ["attachment", "quoted"])
@pytest.mark.parametrize("text", FIRST_PERSON_IN_MARKED_SENTENCES)
def test_a_first_person_statement_counts_next_to_a_letter_mark(text: str, segment: str) -> None:
    assert Kind.DISPUTE in _kinds(text, segment), text


def test_a_debtors_attached_letter_in_our_notices_words_holds_the_payment() -> None:
    letter = (
        "Jane Example, 1 Main St\nRe: CASE-2024-0001\n"
        "I dispute all or part of the debt and request validation of the debt.\nJane Example\n"
    )
    email = _email("I paid 200.00 EUR today for CASE-2024-0001. My letter is attached.",
                   attachment=letter)  # fmt: skip
    hit = compliance_hit(email)
    assert hit is not None and (hit.intent, hit.segment) == ("dispute", "attachment")


@pytest.mark.parametrize(
    "sentence",
    [
        "Call or write to us by 1 July to dispute all or part of the debt.",
        "We will assume that our information is correct unless you dispute it.",
        "To dispute all or part of the debt, we request that you write to us.",
        "This is an attempt to collect a debt and we will obtain verification of the debt.",
        "Unless you dispute all or part of the debt, we will obtain verification of the debt.",
    ],
)
def test_our_notices_marked_sentences_still_do_not_count(sentence: str) -> None:
    # our letters speak to "you" and of what "we will" do: no first-person statement of a debtor
    for segment in ("attachment", "quoted"):
        assert find_wording(sentence, segment=segment) == [], (segment, sentence)


# -- phrasings of solicitors, of an unknown debt, of identity fraud, of a death ---------------

PHRASINGS = [
    ("We act for Ms Jane Example in relation to the above account.", Kind.ATTORNEY),
    ("Our client paid 200.00 EUR today.", Kind.ATTORNEY),
    ("Ms Example is represented by this office.", Kind.ATTORNEY),
    ("Please correspond with this office only.", Kind.ATTORNEY),
    ("We have been instructed by Mr Smith in connection with your letter.", Kind.ATTORNEY),
    ("Please do not contact our client directly.", Kind.ATTORNEY),
    ("I do not recognise this debt.", Kind.DISPUTE),
    ("I don't recognize the alleged debt at all.", Kind.DISPUTE),
    ("I have never heard of your company.", Kind.DISPUTE),
    ("I was the victim of identity fraud.", Kind.IDENTITY_THEFT),
    ("Someone stole my identity last year.", Kind.IDENTITY_THEFT),
    ("Jane died on 3 December.", Kind.DECEASED),
    ("My husband died last month.", Kind.DECEASED),
    ("I am writing about my late father's account.", Kind.DECEASED),
    ("Wir zeigen an, dass wir Frau X vertreten.", Kind.ATTORNEY),
    ("Unsere Mandantin hat die Zahlung geleistet.", Kind.ATTORNEY),
    ("Ich erkenne die Forderung nicht an.", Kind.DISPUTE),
    ("Diese Forderung ist mir völlig unbekannt.", Kind.DISPUTE),
    ("Die Forderung wird von mir bestritten.", Kind.DISPUTE),
    ("Ich bin Opfer eines Identitätsbetrugs geworden.", Kind.IDENTITY_THEFT),
    ("Jemand hat unter meinem Namen bestellt.", Kind.IDENTITY_THEFT),
    ("Frau X ist am 3. Dezember gestorben.", Kind.DECEASED),
    ("Nach dem Tod meines Mannes kann ich nicht zahlen.", Kind.DECEASED),
    ("Ce n'est pas ma dette.", Kind.DISPUTE),
    ("Je ne reconnais pas cette créance.", Kind.DISPUTE),
    ("Nous intervenons pour le compte de Mme Martin.", Kind.ATTORNEY),
    ("Notre cliente a réglé la somme.", Kind.ATTORNEY),
    ("Quelqu'un a usurpé mon identité.", Kind.IDENTITY_THEFT),
    ("Mon mari, décédé le 3 décembre, avait ce crédit.", Kind.DECEASED),
    ("Actuamos en nombre de la Sra. García.", Kind.ATTORNEY),
    ("No reconozco en absoluto esta deuda.", Kind.DISPUTE),
    ("Suplantaron mi identidad.", Kind.IDENTITY_THEFT),
    ("Mi esposo, fallecido el 3 de diciembre, era el titular.", Kind.DECEASED),
    ("Il nostro assistito ha già pagato.", Kind.ATTORNEY),
    ("Scrivo nell'interesse della signora Rossi.", Kind.ATTORNEY),
    ("L'importo contestato è sbagliato.", Kind.DISPUTE),
    ("Hanno rubato la mia identità.", Kind.IDENTITY_THEFT),
    ("Mio marito è venuto a mancare il 3 dicembre.", Kind.DECEASED),
    ("Onze cliënt heeft het bedrag betaald.", Kind.ATTORNEY),
    ("Ik herken deze vordering niet.", Kind.DISPUTE),
    ("Er is misbruik van mijn identiteit gemaakt.", Kind.IDENTITY_THEFT),
    ("Na het overlijden van mijn man kan ik niet betalen.", Kind.DECEASED),
]


@pytest.mark.parametrize(("text", "kind"), PHRASINGS)
def test_the_phrasing_is_found_where_the_sender_writes(text: str, kind: Kind) -> None:
    for segment in ("new", "attachment"):
        assert kind in _kinds(text, segment), (segment, text)


def test_a_solicitors_letter_with_a_payment_holds_the_account() -> None:
    email = _email(
        "Dear Sirs,\nWe act for Ms Jane Example in relation to the above account. Our client "
        "paid\n200.00 EUR today. Please correspond with this office only.\nPriya Shah, Solicitor"
    )
    hit = compliance_hit(email)
    assert hit is not None and (hit.kind, hit.intent) == (Kind.ATTORNEY, "cease_and_desist")


def test_a_death_is_held_as_cease_and_desist() -> None:
    assert compliance_wording(_email("My husband died last month. I paid 50 EUR.")) == (
        "cease_and_desist"
    )


# -- what must stay quiet ----------------------------------------------------------------------

ORDINARY_PAYMENT_MAIL = [
    "Please log in to our client portal to download the receipt.",
    "Your client number is 44812, I paid 200 EUR today.",
    "We act on your instructions and have transferred 200 EUR.",
    "Our client services team confirmed the transfer.",
    "The payment went into our client account on Monday.",
    "I paid 200 EUR today, my phone died so I could not call.",
    "Sorry for the late payment, here is 200 EUR.",
    "I act for myself in this matter and paid 200 EUR today.",
    "I paid 200 EUR today, if you need the receipt let me know.",
    "Bitte nutzen Sie unser Kundenportal, die Zahlung ist erfolgt.",
    "Je règle 200 EUR, mon numéro client est 4471.",
    "He pagado 200 EUR, mi número de cliente es 4471.",
    "Ho pagato 200 EUR, il mio codice cliente è 4471.",
    "Ik heb 200 EUR betaald, mijn klantnummer is 4471.",
    "Können Sie mir einen Nachlass von 20 Prozent gewähren? Dann zahle ich sofort.",
    "I paid 200 EUR. -- Any dispute arising out of this e-mail is governed by German law.",
    "I paid 200 EUR. Disputes arising from this message are subject to the courts of London.",
]


@pytest.mark.parametrize("text", ORDINARY_PAYMENT_MAIL)
def test_ordinary_payment_mail_is_quiet(text: str) -> None:
    for segment in SEGMENTS:
        assert find_wording(text, segment=segment) == [], (segment, text)


OUR_LETTERS_NAMING_OUR_CLIENT = [
    "We act for our client Acme Bank. Our client has instructed us to collect 420.00 EUR. We "
    "have been instructed by Acme Bank to contact you about this balance.",
    "Unsere Mandantin, die Acme GmbH, hat uns mit dem Einzug beauftragt. Wir zeigen an, dass "
    "wir die Acme GmbH vertreten.",
    "Nous intervenons pour le compte de notre client Acme SA. En cas de contestation, "
    "écrivez-nous.",
    "Actuamos en nombre de nuestro cliente Acme SL.",
    "Il nostro cliente Acme Spa ci ha incaricato in nome e per conto.",
    "Wij treden op namens onze cliënt Acme BV.",
]


@pytest.mark.parametrize("letter", OUR_LETTERS_NAMING_OUR_CLIENT)
def test_our_letter_naming_our_client_quoted_back_does_not_hold(letter: str) -> None:
    email = _email("I will pay next week.", quoted="On Mon, 1 Jun 2026, Collections wrote:\n"
                   + letter)  # fmt: skip
    assert compliance_hits(email) == []


def test_a_forwarded_solicitors_letter_still_counts_in_the_quoted_history() -> None:
    quoted = (
        "---------- Forwarded message ----------\nFrom: Shah Legal <p@shahlegal.example>\n\n"
        "We act for Ms Jane Example. She is represented by this office. Please correspond with "
        "this office only."
    )
    hits = compliance_hits(_email("Please see below.", quoted=quoted))
    assert [(h.segment, h.kind) for h in hits][:1] == [("quoted", Kind.ATTORNEY)]


# -- the tables -------------------------------------------------------------------------------


def test_every_language_has_every_list() -> None:
    for language, module in LANGUAGES.items():
        for name in ("CONDITIONAL_CUES", "FIRST_PERSON", "FILLERS", "EXCEPTIONS"):
            assert isinstance(getattr(module, name), tuple), (language, name)
        assert set(module.NOT_IN_QUOTED) <= set(module.PHRASES), language
        assert module.CONDITIONAL_CUES and module.FIRST_PERSON, language


def test_the_grouped_cue_patterns_find_what_one_alternation_of_the_cues_finds() -> None:
    import random
    import re

    from shared.extraction import wording

    lists = ("NOTICE_CUES", "RESOLVED_CUES", "CONDITIONAL_CUES", "LETTER_MARKERS", "EXCEPTIONS")
    cue_lists = [tuple(c for m in LANGUAGES.values() for c in getattr(m, n)) for n in lists]
    cue_lists += [m.CONDITIONAL_CUES for m in LANGUAGES.values()]
    words = [w.rstrip("*") for cues in cue_lists for c in cues for w in c.split() if w != "…"]
    rng = random.Random(11)
    texts = [
        wording.normalise(" ".join(rng.choice(words) + rng.choice(["", "", "s", "'", ","])
                                   for _ in range(rng.randint(1, 30))))
        for _ in range(400)
    ]  # fmt: skip
    for cues in cue_lists:
        plain = re.compile("|".join(wording._phrase_pattern(c) for c in cues))
        grouped = wording._cues(cues)
        for text in texts:
            assert [m.span() for m in grouped.finditer(text)] == [
                m.span() for m in plain.finditer(text)
            ], text
