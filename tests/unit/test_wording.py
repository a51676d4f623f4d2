"""The compliance wording tables: every phrase of every language is found, in real sentences
too, and what must not hold (negated, the collector's own notice, its letter quoted back) does
not."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from shared.extraction.models import AttachmentInfo, ParsedEmail
from shared.extraction.wording import LANGUAGES, Kind, compliance_hits, find_wording
from shared.processing.compliance_wording import compliance_wording

TABLE = [
    (language, phrase, kind)
    for language, module in LANGUAGES.items()
    for phrase, kind in module.PHRASES.items()
]


def example(phrase: str) -> str:
    """A sentence using ``phrase`` as a writer would (stems completed, gaps filled)."""
    words = []
    for word in phrase.split():
        if word == "…":
            words.append("of the")
        elif word.endswith("*"):
            words.append(word[:-1] + "en")
        else:
            words.append(word)
    return f"Hello. {' '.join(words).capitalize()} today."


@pytest.mark.parametrize(("language", "phrase", "kind"), TABLE)
def test_every_phrase_is_found(language: str, phrase: str, kind: Kind) -> None:
    hits = find_wording(example(phrase))
    assert (kind, language) in {(h.kind, h.language) for h in hits}, phrase


def test_every_language_has_every_kind() -> None:
    for language, module in LANGUAGES.items():
        assert set(module.PHRASES.values()) == set(Kind), language


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Under the FDCPA I request validation of this debt.", Kind.VALIDATION_REQUEST),
        ("Please prove this debt is mine before writing again.", Kind.VALIDATION_REQUEST),
        ("Stop collection until you send me the paperwork.", Kind.STOP_COLLECTION),
        ("We represent Ms. Doe in this matter.", Kind.ATTORNEY),
        ("I have a lawyer now, talk to him.", Kind.ATTORNEY),
        ("Please direct all communication to my attorney.", Kind.ATTORNEY),
        ("Someone used my name, this is identity theft.", Kind.IDENTITY_THEFT),
        ("My father passed away in March.", Kind.DECEASED),
        ("I filed for Chapter 13 last week.", Kind.BANKRUPTCY),
        ("Hiermit bestreite ich die Forderung.", Kind.DISPUTE),
        ("Ich habe jetzt einen Anwalt, mein Anwalt meldet sich.", Kind.ATTORNEY),
        ("Mein Vater ist verstorben.", Kind.DECEASED),
        ("Über mein Vermögen wurde das Insolvenzverfahren eröffnet.", Kind.BANKRUPTCY),
        ("Je conteste formellement cette créance.", Kind.DISPUTE),
        ("Cessez de me contacter, merci.", Kind.CEASE),
        ("Mon mari est décédé le mois dernier.", Kind.DECEASED),
        ("Exijo la validación de la deuda.", Kind.VALIDATION_REQUEST),
        ("Dejen de llamarme por favor.", Kind.CEASE),
        ("Fui víctima de robo de identidad.", Kind.IDENTITY_THEFT),
        ("Contesto il debito indicato.", Kind.DISPUTE),
        ("Il mio avvocato vi contatterà.", Kind.ATTORNEY),
        ("Ik betwist deze vordering.", Kind.DISPUTE),
        ("Mijn moeder is vorige maand overleden.", Kind.DECEASED),
        ("Ik zit in de schuldsanering (WSNP).", Kind.BANKRUPTCY),
        ("Ich untersage Ihnen hiermit jede weitere Kontaktaufnahme.", Kind.CEASE),
        ("Je vous demande de cesser immédiatement tout contact avec moi.", Kind.CEASE),
        ("Ik wil niet langer door u gebeld worden. Stop met het benaderen van mij.", Kind.CEASE),
        # cease and attorney count even negated or conditional
        ("If you do not stop calling me I will complain.", Kind.CEASE),
        ("Don\u2019t contact me again.", Kind.CEASE),
    ],
)
def test_real_sentences(text: str, kind: Kind) -> None:
    assert kind in {h.kind for h in find_wording(text)}, text


NEGATED_OR_RESOLVED = [
    "I am not disputing the debt, I need more time.",
    "I don't dispute the amount, can we agree on a plan?",
    "Ich bestreite die Forderung nicht, brauche aber mehr Zeit.",
    "Je ne conteste pas la dette.",
    "No disputo la deuda, necesito más tiempo.",
    "Non contesto il debito.",
    "Ik betwist de vordering niet.",
    "I am not bankrupt, I just need time.",
    # a dispute that is over
    "The dispute I raised in October was sorted out, so I have now paid.",
    "Der Widerspruch hat sich erledigt, ich zahle jetzt.",
    "La contestation a été réglée, voici le paiement.",
    "De betwisting is opgelost, ik betaal nu.",
]

# The collector's own notice explaining the debtor's rights, as it comes back quoted.
RIGHTS_NOTICE = [
    "If you dispute this debt within 30 days, we will obtain verification.",
    "You may request the name of the original creditor.",
    "If you are in bankruptcy, this letter is for informational purposes only.",
    "How can you dispute the debt?",
    "Wenn Sie die Forderung bestreiten, teilen Sie uns dies mit.",
    "Können Sie die Forderung bestreiten? Ja, schriftlich.",
    "Si vous contestez cette dette, écrivez-nous.",
    "Comment pouvez-vous contester cette dette ?",
    "Si usted impugna la deuda, escríbanos.",
    "Se lei contesta il debito, ci scriva.",
    "Als u de vordering betwist, laat het ons weten.",
    "Hoe kunt u de vordering betwisten?",
]


@pytest.mark.parametrize("segment", ["new", "attachment", "quoted"])
@pytest.mark.parametrize("text", NEGATED_OR_RESOLVED)
def test_negated_or_resolved_wording_does_not_count_anywhere(text: str, segment: str) -> None:
    assert find_wording(text, segment=segment) == [], text


@pytest.mark.parametrize("text", RIGHTS_NOTICE)
def test_the_rights_notice_does_not_count_in_the_quoted_history(text: str) -> None:
    assert find_wording(text, segment="quoted") == [], text


@pytest.mark.parametrize("text", [RIGHTS_NOTICE[0], RIGHTS_NOTICE[2], RIGHTS_NOTICE[3]])
def test_the_rights_notice_pasted_into_the_new_text_holds(text: str) -> None:
    # the notice's words are also the debtor's polite forms: unquoted, a person reads it
    assert find_wording(text) != [], text


# What debtors write: compliance wording next to the same polite forms a rights notice uses
# ("if you", "you may", "Sie können", "si vous", "u kunt", "se lei", "si usted" …).
POLITE_DEBTORS = [
    ("I dispute this debt and if you think I owe it send me proof.", Kind.DISPUTE),
    ("Please validate this debt within 30 days.", Kind.VALIDATION_REQUEST),
    ("If you want payment, prove this debt first.", Kind.VALIDATION_REQUEST),
    ("I filed for bankruptcy under chapter 7, you can contact my trustee.", Kind.BANKRUPTCY),
    ("My father passed away in May, you may contact the estate.", Kind.DECEASED),
    ("Your attempt to collect a debt I do not owe is unlawful.", Kind.DISPUTE),
    ("This is identity theft, you have the right to see my police report.", Kind.IDENTITY_THEFT),
    ("Unless you send proof, I dispute every cent.", Kind.DISPUTE),
    ("Ich bestreite die Forderung, Sie können mir gern Belege schicken.", Kind.DISPUTE),
    ("Ich habe Privatinsolvenz angemeldet, wenn Sie Fragen haben, bitte an den Verwalter.",
     Kind.BANKRUPTCY),
    ("Meine Mutter ist verstorben, falls Sie Unterlagen brauchen, melden Sie sich.",
     Kind.DECEASED),
    ("Je conteste cette dette, vous pouvez m'envoyer les justificatifs.", Kind.DISPUTE),
    ("Si vous avez une preuve de la dette, envoyez-la, je conteste.", Kind.DISPUTE),
    ("Mon père est décédé, vous pouvez contacter le notaire.", Kind.DECEASED),
    ("Ik betwist deze vordering, u kunt mij het bewijs sturen.", Kind.DISPUTE),
    ("Als u vragen heeft: ik zit in de schuldsanering.", Kind.BANKRUPTCY),
    ("Contesto il debito, se lei ha delle prove me le mandi.", Kind.DISPUTE),
    ("Mio padre è deceduto, lei può contattare gli eredi.", Kind.DECEASED),
    ("Impugno la deuda, si usted tiene pruebas envíelas.", Kind.DISPUTE),
    ("Mi madre falleció, usted puede hablar con los herederos.", Kind.DECEASED),
]  # fmt: skip


@pytest.mark.parametrize(("text", "kind"), POLITE_DEBTORS)
def test_a_debtors_polite_wording_counts_in_what_the_debtor_sends(text: str, kind: Kind) -> None:
    for segment in ("new", "attachment"):
        assert kind in {h.kind for h in find_wording(text, segment=segment)}, (segment, text)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I paid 200 EUR today. The rest I dispute, if you have proof send it.", "dispute"),
        ("Ich habe 200 EUR bezahlt. Den Rest bestreite ich, wenn Sie Belege haben, her damit.",
         "dispute"),
        ("J'ai payé 200 EUR. Le reste, je le conteste, si vous avez une preuve envoyez-la.",
         "dispute"),
    ],
)  # fmt: skip
def test_a_payment_with_a_polite_dispute_holds(text: str, intent: str) -> None:
    email = _email(text, quoted="On Mon, 1 Jun 2026, Collections wrote:\n" + COLLECTOR_LETTER)
    assert compliance_wording(email) == intent


def _email(
    text: str, quoted: str = "", attachment: str | None = None, subject: str = ""
) -> ParsedEmail:
    attachments = (
        (AttachmentInfo("letter.pdf", "application/pdf", 10, attachment),) if attachment else ()
    )
    return ParsedEmail(
        message_id=None, subject=subject, sender="a@example.com", sender_name=None, date=None,
        text=text, quoted_text=quoted, attachments=attachments,
    )  # fmt: skip


COLLECTOR_LETTER = (
    "Dear customer, our records show a balance of 420.00 EUR. Call or write to us to dispute "
    "all or part of the debt. If you write to us, we must stop collection on any amount you "
    "dispute. This is an attempt to collect a debt and any information obtained will be used "
    "for that purpose."
)


def test_the_collectors_letter_quoted_back_does_not_hold() -> None:
    email = _email("I will pay next week.", quoted="On Mon, 1 Jun 2026, Collections wrote:\n"
                   + COLLECTOR_LETTER)  # fmt: skip
    assert compliance_wording(email) is None


# The collector's notices as they come back under replies (a validation notice with its
# "how can you dispute" heading, and the short forms of the other languages).
NOTICES = [
    "Collections is a debt collector. We are trying to collect a debt that you owe.\n\n"
    "How can you dispute the debt?\n- Call or write to us by 1 July to dispute all or part of "
    "the debt. If you do not, we will assume that our information is correct.\n- If you write "
    "to us by 1 July, we must stop collection on any amount you dispute.",
    "Sollten Sie Einwände haben, können Sie der Forderung widersprechen. Wenn Sie die "
    "Forderung bestreiten, stellen wir die Beitreibung ein.",
    "Si vous contestez cette créance, vous pouvez nous le faire savoir par écrit.",
    "Si usted impugna la deuda, puede usted escribirnos antes del 1 de julio.",
    "Qualora lei contesti il debito, ha il diritto di chiedere la documentazione del debito.",
    "Als u de vordering betwist, kunt u ons schrijven. U heeft het recht op een specificatie "
    "van de vordering.",
    # how our letters ask for payment and papers
    "Payments by cheque are accepted by post only.",
    "Schecks nehmen wir nur per Post entgegen.",
    "Please provide proof of your financial circumstances with your offer.",
    # the rest of the notice: what the collector will do once the debtor acts, or may be asked
    "You can also ask us to stop contacting you by telephone.",
    "Vous pouvez aussi nous demander de cesser de vous appeler.",
    "Should you write to us, we will suspend collection until we send you verification of the "
    "debt.",
    "Si ejerce este derecho, suspenderemos el cobro hasta remitirle la documentación que "
    "acredite la deuda.",
    "In caso di contestazione scritta, sospenderemo il recupero fino all'invio della "
    "documentazione comprovante il credito.",
    "Maakt u bezwaar, dan schorten wij de incasso op totdat wij de onderbouwing van de "
    "vordering hebben toegestuurd.",
    "Nous suspendrons le recouvrement jusqu'à l'envoi des justificatifs de la créance.",
    "Bis dahin stellen wir die Beitreibung ein und übersenden den Nachweis der Forderung.",
]


@pytest.mark.parametrize("notice", NOTICES)
def test_the_collectors_notice_quoted_back_does_not_hold(notice: str) -> None:
    email = _email("I will pay next week.", quoted="On Mon, 1 Jun 2026, Collections wrote:\n"
                   + notice)  # fmt: skip
    assert compliance_hits(email) == []


@pytest.mark.parametrize("notice", NOTICES)
def test_a_polite_dispute_above_the_quoted_notice_holds(notice: str) -> None:
    email = _email("I dispute this debt, if you think I owe it send me proof.",
                   quoted="On Mon, 1 Jun 2026, Collections wrote:\n" + notice)  # fmt: skip
    hits = compliance_hits(email)
    assert {h.segment for h in hits} == {"new"} and Kind.DISPUTE in {h.kind for h in hits}


# A debtor's own letter (a PDF's text layer keeps no paragraph breaks) that quotes or encloses
# the collector's letter: the marked sentences are the collector's, the rest is the debtor's.
DEBTORS_LETTER_QUOTING_OURS = (
    "Jane Doe, 4 High Street\nRe: your letter of 20 October\nYour letter says: this is an "
    "attempt to collect a\ndebt and any information obtained will be used for that purpose.\n"
    "I dispute this debt in full and if you think I owe it, send me proof.\nJane Doe"
)
DEBTORS_LETTER_ENCLOSING_OURS = (
    "Katrin Vogel, Osterstrasse 5\nHiermit bestreite ich die Forderung, wenn Sie Belege haben, "
    "schicken Sie sie.\nAnlage: Ihr Schreiben\n" + COLLECTOR_LETTER
)


@pytest.mark.parametrize(
    "letter",
    [DEBTORS_LETTER_QUOTING_OURS, DEBTORS_LETTER_ENCLOSING_OURS],
    ids=["quotes", "encloses"],
)
def test_a_debtors_letter_quoting_or_enclosing_the_collectors_counts(letter: str) -> None:
    hits = compliance_hits(_email("Please see my letter.", attachment=letter))
    assert (hits[0].segment, hits[0].kind) == ("attachment", Kind.DISPUTE)
    assert {"bestreite", "dispute"} & {h.evidence for h in hits}  # the debtor's own sentence


def test_a_forwarded_letter_quoting_the_collectors_counts() -> None:
    quoted = (
        "---------- Forwarded message ----------\nFrom: Jane <j@example.com>\n\n"
        "Your letter says: this is an attempt to collect a debt and any information obtained "
        "will be used for that purpose. I dispute this debt in full."
    )
    hits = compliance_hits(_email("Did you get this?", quoted=quoted))
    assert [(h.segment, h.kind) for h in hits] == [("quoted", Kind.DISPUTE)]


def test_the_marked_sentences_of_an_attached_letter_do_not_count() -> None:
    letter = (
        "Call or write to us by 1 July to dispute all or part\nof the debt. This is an attempt "
        "to collect a debt (any dispute: see overleaf)."
    )
    assert compliance_hits(_email("Got this today.", attachment=letter)) == []
    assert find_wording(letter) != []  # the same words written by the debtor do count


def test_a_forwarded_cease_from_the_debtor_counts() -> None:
    quoted = (
        "---------- Forwarded message ----------\nFrom: Debtor <d@example.com>\n\n"
        "I have a lawyer now. Stop contacting me about case 2024/118."
    )
    assert compliance_wording(_email("Please see below.", quoted=quoted)) == "cease_and_desist"


def test_a_forwarded_dispute_counts_next_to_the_collectors_letter() -> None:
    quoted = (
        "-----Original Message-----\nFrom: d@example.com\nSent: Monday\nTo: x\n\n"
        "I dispute this debt.\n\n-----Original Message-----\nFrom: us\nSent: x\nTo: d\n\n"
        + COLLECTOR_LETTER
    )
    hits = compliance_hits(_email("fyi", quoted=quoted))
    assert [h.segment for h in hits] == ["quoted"] and hits[0].kind == Kind.DISPUTE


@pytest.mark.parametrize(
    ("dispute", "wrapped_header"),
    [
        (
            "Contesto questo debito.",
            "Il giorno ven 29 mag 2026 alle ore 09:00 Recupero Crediti <r@example.com>\n"
            "> ha scritto:",
        ),
        ("Ik betwist deze vordering.", "Op vr 29 mei 2026 om 09:00 schreef Incasso\n> <r@x.com>:"),
        ("I dispute this debt.", "On Fri, 29 May 2026 at 09:00, Collections <r@x.com>\n> wrote:"),
    ],
    ids=["it", "nl", "en"],
)
def test_a_quoted_dispute_above_the_collectors_letter_counts_whatever_the_header_wrapping(
    dispute: str, wrapped_header: str
) -> None:
    # the debtor's earlier reply quotes the collector's letter under a header a client wrapped
    quoted = f"> {dispute}\n>\n> {wrapped_header}\n>> {COLLECTOR_LETTER}"
    hits = compliance_hits(_email("Any news?", quoted=quoted))
    assert [h.segment for h in hits] == ["quoted"] and hits[0].kind == Kind.DISPUTE


def test_bankruptcy_wording_in_an_attachment_counts() -> None:
    email = _email("Please see the attached notice.", attachment="NOTICE OF CHAPTER 7 BANKRUPTCY")
    hits = compliance_hits(email)
    assert hits[0].intent == "bankruptcy_notice" and hits[0].segment == "attachment"


def test_an_inherited_subject_is_not_the_debtors_wording() -> None:
    assert compliance_wording(_email("Thanks, paid today.", subject="Re: Your dispute")) is None
    assert compliance_wording(_email("Thanks.", subject="Dispute of invoice 4411")) == "dispute"


def test_bankruptcy_decides_over_cease_and_cease_over_dispute() -> None:
    email = _email("I dispute this. Stop contacting me. We filed for bankruptcy.")
    assert [h.intent for h in compliance_hits(email)][:3] == [
        "bankruptcy_notice",
        "cease_and_desist",
        "dispute",
    ]


def test_the_grouped_pattern_finds_what_the_ordered_alternation_of_phrases_finds() -> None:
    import random
    import re

    from shared.extraction import wording

    entries = wording._ENTRIES
    order = sorted(
        range(len(entries)), key=lambda i: (-len(entries[i].phrase), "*" in entries[i].phrase)
    )
    phrases = "|".join(
        f"(?P<p{i}>{wording._phrase_body(entries[i].phrase, elided=True)})" for i in order
    )
    plain = re.compile(f"{wording._WORD_START}(?:{phrases}){wording._WORD_END}")
    rng = random.Random(6)
    edges = ["", " ", "x", "un", "'", "-", ">", ".", "s", "'s", "\n"]
    texts = [wording.normalise(example(phrase)) for _, phrase, _ in TABLE]
    for _ in range(1500):
        picked = rng.sample(TABLE, rng.randint(1, 4))
        texts.append(
            wording.normalise(
                " ".join(
                    rng.choice(edges) + example(phrase)[7:-7] + rng.choice(edges)
                    for _, phrase, _ in picked
                )
            )
        )

    def found(matches: Iterable[re.Match[str]]) -> list[tuple[int, int, str | None]]:
        return [(m.start(), m.end(), m.lastgroup) for m in matches]

    assert sum(len(found(plain.finditer(text))) for text in texts) > len(TABLE)  # not vacuous
    for text in texts:
        assert found(wording._PHRASES.finditer(text)) == found(plain.finditer(text)), text


def test_a_debtors_own_attachment_disputing_politely_still_holds() -> None:
    letter = "I dispute this debt. If you think I owe it, send me proof."
    assert compliance_wording(_email("See the attached letter.", attachment=letter)) is not None


@pytest.mark.parametrize(
    "receipt",
    [
        "De: Juan Pérez\nPara: Cobros SL\nFecha: 01/06/2026\nImporte: 200,00 EUR",
        "Da: Mario Rossi\nA: Recupero Srl\nData: 01/06/2026\nImporto: 200,00 EUR",
        "Van: Jan Jansen\nAan: Incasso BV\nDatum: 01-06-2026\nBedrag: 200,00 EUR",
        "From: John Smith\nTo: Collections Ltd\nDate: 06/01/2026\nAmount: 200.00 EUR",
    ],
    ids=["es", "it", "nl", "en"],
)
def test_a_pasted_transfer_receipt_is_the_debtors_text_not_quoted_history(receipt: str) -> None:
    from shared.extraction.quotes import split_quoted

    text = f"Here is my receipt:\n{receipt}\n\nI dispute the rest of the debt, send me proof."
    new, quoted = split_quoted(text)
    assert quoted == "" and "I dispute the rest" in new


def test_an_outlook_header_with_wrapped_recipient_lists_is_still_a_header() -> None:
    from shared.extraction.quotes import split_quoted

    header = (
        "From: Collections Team <team@collector.example>\n"
        "Sent: Monday, June 1, 2026 10:15 AM\n"
        "To: Jane Doe <jane@example.org>; John Doe <john@example.org>; Accounts\n"
        " <accounts@example.org>; Billing <billing@example.org>; Someone Else\n"
        " <someone@example.org>\n"
        "Cc: Legal <legal@collector.example>; Team Lead\n"
        " <lead@collector.example>\n"
        "Subject: Your account CASE-2024-0001\n"
    )
    text = f"I paid this already on 1 June.\n\n{header}\n{COLLECTOR_LETTER}"
    new, quoted = split_quoted(text)
    assert new == "I paid this already on 1 June." and COLLECTOR_LETTER in quoted


def test_a_portuguese_outlook_header_is_a_header() -> None:
    from shared.extraction.quotes import split_quoted

    text = (
        "Já paguei.\n\nDe: Cobranças <c@collector.example>\nEnviado: segunda-feira\n"
        "Para: Maria\nAssunto: Conta CASE-2024-0001\n\nCarta anterior."
    )
    assert split_quoted(text) == ("Já paguei.", text[text.index("De:") :])


def test_our_notice_wrapped_by_a_mail_program_is_still_ours() -> None:
    # the condition "If you" ends a line the mail program wrapped: the sentence goes on
    quoted = (
        "Dear Ms Smith,\nYour balance on account ACC-123456 is EUR 300.00. Please pay it by 30"
        " June. If you\ndispute this balance, please write to us with your reasons."
    )
    assert find_wording(quoted, segment="quoted") == []
    email = _email("I have paid EUR 300.00 today.", quoted=quoted)
    assert compliance_wording(email) is None


def test_a_short_line_and_the_subject_end_their_sentence() -> None:
    # "Not paid" in the subject does not negate the dispute in the body
    email = _email("I dispute this debt.", subject="Not paid")
    assert [h.kind for h in compliance_hits(email)] == [Kind.DISPUTE]
    assert [h.phrase for h in find_wording("Paid? Not\nI dispute this debt")] != []


@pytest.mark.parametrize(
    "text",
    [
        # a long line is no wrap of the next one when the writer resolves and disputes apart
        "The complaint I made about the old contract in 2019 was resolved last year\n"
        "The new balance of 500 pounds is disputed and I want proof of it.",
        "This dispute shall be escalated to the ombudsman if you do not answer.",
        "I have raised disputes relating to this account twice already.",
        "In case of dispute I have kept all the receipts, this balance is wrong.",
        "Please pass this to your dispute resolution team: I dispute this contract.",
    ],
)
def test_the_writers_own_dispute_still_counts(text: str) -> None:
    assert Kind.DISPUTE in [h.kind for h in find_wording(text)]


@pytest.mark.parametrize(
    "text",
    [
        "please dont contact me again",
        "i dont recognise this debt at all",
        "cest une usurpation didentite",
        "jai un avocat, voyez avec lui",
        "im represented by a solicitor",
    ],
)
def test_a_phrase_is_found_with_its_apostrophe_left_out(text: str) -> None:
    assert find_wording(text), text


@pytest.mark.parametrize(
    "text",
    [
        "Paid today. Acme Ltd is not liable for any damage caused by viruses in this e-mail.",
        "Kunt u bevestigen dat ik nu niets verschuldigd ben? Ik heb alles betaald.",
        "Entschuldigen Sie die lange Funkstille, ich war im Krankenhaus. Ich zahle morgen.",
        "I am acting on my own behalf, I have no solicitor. I will pay 50 a month.",
        "Désolé pour ce retard injustifié, le virement est parti hier.",
        "Vous n'avez aucune raison d'être inquiets, je paie vendredi.",
        "We were disputing the charge last year but it has been resolved.",
    ],
)
def test_everyday_sentences_near_the_topics_hold_nothing(text: str) -> None:
    assert not find_wording(text), text


@pytest.mark.parametrize(
    "text",
    [
        "No, no la debo.",
        "Non, non sono debitore di questa somma.",
        "ce montant n'a aucun fondement",
    ],
)
def test_an_answer_word_or_a_negative_concord_does_not_reverse_a_phrase(text: str) -> None:
    assert find_wording(text), text
