"""The compliance wording tables: every phrase of every language is found, in real sentences
too, and what must not hold (negated, the collector's own notice, its letter quoted back) does
not."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    "text",
    [
        "I am not disputing the debt, I need more time.",
        "I don't dispute the amount, can we agree on a plan?",
        "Ich bestreite die Forderung nicht, brauche aber mehr Zeit.",
        "Je ne conteste pas la dette.",
        "No disputo la deuda, necesito más tiempo.",
        "Non contesto il debito.",
        "Ik betwist de vordering niet.",
        "I am not bankrupt, I just need time.",
        # the collector's own notice explaining rights
        "If you dispute this debt within 30 days, we will obtain verification.",
        "You may request the name of the original creditor.",
        "If you are in bankruptcy, this letter is for informational purposes only.",
        "Wenn Sie die Forderung bestreiten, teilen Sie uns dies mit.",
        "Si vous contestez cette dette, écrivez-nous.",
        # a dispute that is over
        "The dispute I raised in October was sorted out, so I have now paid.",
        "Der Widerspruch hat sich erledigt, ich zahle jetzt.",
        "La contestation a été réglée, voici le paiement.",
        "De betwisting is opgelost, ik betaal nu.",
    ],
)
def test_negated_or_notice_wording_does_not_count(text: str) -> None:
    assert find_wording(text) == [], text


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
    plain = re.compile(
        "|".join(f"(?P<p{i}>{wording._phrase_pattern(entries[i].phrase)})" for i in order)
    )
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

    def found(pattern: re.Pattern[str], text: str) -> list[tuple[int, int, str | None]]:
        return [(m.start(), m.end(), m.lastgroup) for m in pattern.finditer(text)]

    assert sum(len(found(plain, text)) for text in texts) > 2 * len(TABLE)
    for text in texts:
        assert found(wording._PATTERN, text) == found(plain, text), text
