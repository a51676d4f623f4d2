"""Compliance wording as debtors, relatives, lawyers and debt advisers write it, in six languages.

Held-out sentences (``tests/fixtures/compliance_sentences/<lang>.tsv``, one per line as
``kind<TAB>text``, ``\\n`` for a line break) written without looking at the tables: disputes,
validation requests, cease-and-desist, representation, insolvency, deaths and identity theft
in formal and phone-typed registers (no accents, no capitals, typos), and hard negatives
(``NEG``) that must not hold an account. Before the tables learnt from them, 45% of the
compliance sentences were found. The new text of 270 held-out emails followed (a reply's own
words above our quoted letter, signatures included); before the tables learnt from those, 82%
of their compliance emails were found in English, German and French, and 81% in Spanish,
Italian and Dutch; a third set of 120, written after the tables had learnt from the first two,
was found at 93%. Two of its hard negatives hold on purpose and are not here: a debtor who only
considered a surendettement filing, and one whose father died (a person reads both).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.extraction.models import ParsedEmail
from shared.extraction.wording import compliance_hits
from shared.extraction.wording.kinds import Kind

SENTENCES = Path(__file__).resolve().parents[1] / "fixtures" / "compliance_sentences"
# the files' kinds → the table's
KINDS = {kind.value: kind for kind in Kind} | {"validation": Kind.VALIDATION_REQUEST}


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for path in sorted(SENTENCES.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            kind, text = line.split("\t", 1)
            cases.append((path.stem, kind, text.replace("\\n", "\n")))
    return cases


CASES = _cases()


def _hits(text: str) -> list[object]:
    email = ParsedEmail(
        message_id=None, subject="", sender="a@example.com", sender_name=None, date=None,
        text=text,
    )  # fmt: skip
    return list(compliance_hits(email))


@pytest.mark.parametrize(("language", "kind", "text"), [c for c in CASES if c[1] != "NEG"])
def test_compliance_wording_is_found(language: str, kind: str, text: str) -> None:
    assert _hits(text), f"{language} {kind}: {text}"


@pytest.mark.parametrize(("language", "kind", "text"), [c for c in CASES if c[1] == "NEG"])
def test_a_hard_negative_holds_nothing(language: str, kind: str, text: str) -> None:
    assert not _hits(text), f"{language}: {text}"


def test_every_language_and_kind_is_covered() -> None:
    languages = {c[0] for c in CASES}
    assert languages == {"en", "de", "fr", "es", "it", "nl"}
    assert {KINDS[c[1]] for c in CASES if c[1] != "NEG"} == set(Kind)
