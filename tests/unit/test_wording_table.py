"""The wording table's grouped pattern finds exactly what one alternation of every phrase finds
(same matches, same phrase for each, same order), on real mail and on text made of the phrases'
own words, and a phrase that may start anywhere still works."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from shared.extraction import wording
from shared.extraction.email_parser import parse_email
from shared.extraction.wording import LANGUAGES, Kind, find_wording, normalise

ROOT = Path(__file__).resolve().parents[2]


def _reference(entries: list[wording._Entry]) -> re.Pattern[str]:
    """One alternation of every phrase, longest first (the table's order)."""
    order = sorted(
        range(len(entries)), key=lambda i: (-len(entries[i].phrase), "*" in entries[i].phrase)
    )
    # the word bounds written once around the alternation, not around each phrase: the same
    # matches (they depend on the position alone), found ten times sooner
    phrases = "|".join(
        f"(?P<p{i}>{wording._phrase_body(entries[i].phrase, elided=True)})" for i in order
    )
    return re.compile(f"{wording._WORD_START}(?:{phrases}){wording._WORD_END}")


def _spans(matches: object) -> list[tuple[str | None, int, int]]:
    return [(m.lastgroup, m.start(), m.end()) for m in matches]  # type: ignore[attr-defined]


def _texts() -> list[str]:
    texts: list[str] = []
    for folder in (ROOT / "infra" / "samples", ROOT / "eval" / "corpus"):
        for path in sorted(folder.glob("*.eml")):
            email = parse_email(path.read_bytes())
            texts += [email.subject, email.text, email.quoted_text]
            texts += [a.text for a in email.attachments if a.text]
    words = [w for m in LANGUAGES.values() for p in m.PHRASES for w in p.split()]
    words += ["not", "nicht", "if", "you", "the", "debt", "'", "-", "x", ">", "\n", "."]
    rng = random.Random(7)
    for _ in range(300):
        picked = rng.choices(words, k=rng.randint(1, 40))
        texts.append(
            " ".join(w.rstrip("*") + rng.choice(["", "", "en", "ing", "'s"]) for w in picked)
        )
    return [normalise(t) for t in texts if t]


def test_dispatch_finds_what_one_alternation_finds() -> None:
    reference = _reference(wording._ENTRIES)
    texts = _texts()
    assert len(texts) > 500
    found = 0
    for text in texts:
        expected = _spans(reference.finditer(text))
        assert _spans(wording._PHRASES.finditer(text)) == expected, text[:200]
        found += len(expected)
    assert found > 300  # the texts do hold phrases


def test_a_phrase_that_may_start_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(LANGUAGES["en"].PHRASES, "… owe you nothing whatsoever", Kind.DISPUTE)
    phrases, entries = wording._compile()
    reference = _reference(entries)
    for text in [
        "well i owe you nothing whatsoever, stop contacting me",
        "i owe you nothing whatsoever",
        "owe you nothing whatsoever",
        "",
        "x",
    ]:
        assert _spans(phrases.finditer(text)) == _spans(reference.finditer(text))
    assert next(phrases.finditer("well i owe you nothing whatsoever"), None)


def test_hits_are_unchanged_on_a_plain_email() -> None:
    hits = find_wording("I dispute this debt. Please stop contacting me.")
    assert {h.kind for h in hits} >= {Kind.DISPUTE, Kind.CEASE}


def test_a_phrase_whose_first_word_is_one_letter_keeps_its_letters_group_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # "i" is a prefix of every "i…" phrase: the two-letter split would try it out of order
    monkeypatch.setitem(LANGUAGES["en"].PHRASES, "i am insolvent now", Kind.BANKRUPTCY)
    phrases, entries = wording._compile()
    reference = _reference(entries)
    texts = [*_texts()[:300], "i am insolvent now", "identity theft, i am insolvent now"]
    assert any(reference.search(text) for text in texts)
    for text in texts:
        assert _spans(phrases.finditer(text)) == _spans(reference.finditer(text)), text[:200]


@pytest.mark.parametrize(
    "phrase",
    ["q*", "q", "q insolvent", "qu'il conteste", "quit* contact*", "§ 305 inso", "q'z skint"],
    ids=[
        "one-letter stem",
        "one-letter phrase",
        "one-letter word",
        "elision",
        "stems",
        "sign",
        "apostrophe second",
    ],
)
def test_phrases_of_any_start_are_found_where_one_alternation_finds_them(
    monkeypatch: pytest.MonkeyPatch, phrase: str
) -> None:
    # every shape of a first word: the word starts are found, and each start tries exactly the
    # phrases that may begin with its two characters, in the table's order
    monkeypatch.setitem(LANGUAGES["en"].PHRASES, phrase, Kind.DISPUTE)
    phrases, entries = wording._compile()
    reference = _reference(entries)
    texts = [
        "q",
        "q insolvent",
        "q\tinsolvent, q\n\ninsolvent",
        "quq quitting contacts qu'il conteste",
        "l'q insolvent -q insolvent xq insolvent",
        "see § 305 insolvenz, §305 inso",
        "i dispute this debt and q",
        "q'z skint, qz skint, q z skint, quil conteste",
        "",
    ]
    assert any(reference.search(normalise(text)) for text in texts)
    for text in map(normalise, texts):
        assert _spans(phrases.finditer(text)) == _spans(reference.finditer(text)), text
