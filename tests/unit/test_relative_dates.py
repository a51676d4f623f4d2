"""Days said relative to when the email was written, read by the rules and accepted as the
evidence of a model's resolved date."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from shared.config import load_settings
from shared.extraction.models import ParsedEmail
from shared.extraction.relative_dates import first_day, supports
from shared.extraction.rules import RulesExtractor
from shared.extraction.validation import validate_answer

FRIDAY = date(2026, 11, 6)


@pytest.mark.parametrize(
    ("quote", "day"),
    [
        ("I paid yesterday", date(2026, 11, 5)),
        ("paid it this morning", FRIDAY),
        ("the day before yesterday", date(2026, 11, 4)),
        ("Ich habe gestern überwiesen", date(2026, 11, 5)),
        ("vorgestern bezahlt", date(2026, 11, 4)),
        ("J'ai payé hier", date(2026, 11, 5)),
        ("j’ai viré avant-hier", date(2026, 11, 4)),
        ("Pagué ayer", date(2026, 11, 5)),
        ("Ho pagato ieri", date(2026, 11, 5)),
        ("Ik heb gisteren betaald", date(2026, 11, 5)),
        ("I will pay tomorrow", date(2026, 11, 7)),
        ("Je paierai demain", date(2026, 11, 7)),
        ("Pagaré pasado mañana", date(2026, 11, 8)),
        ("paid on Monday", date(2026, 11, 2)),
        ("ich zahle am Montag", date(2026, 11, 9)),
        ("overgemaakt op dinsdag", date(2026, 11, 3)),
    ],
)
def test_a_day_word_or_weekday_supports_the_day_it_names(quote: str, day: date) -> None:
    assert supports(day, quote.casefold(), FRIDAY)


@pytest.mark.parametrize(
    ("quote", "day"),
    [
        ("I paid yesterday", date(2026, 11, 4)),  # not the day yesterday names
        ("the day before yesterday", date(2026, 11, 5)),  # not "yesterday" inside it
        ("paid on Monday", date(2026, 10, 26)),  # a Monday, but not within the week
        ("Hier ist der Beleg", date(2026, 11, 5)),  # German "here"
        ("Guten Morgen, ich zahle", date(2026, 11, 7)),  # the morning, not tomorrow
        ("I paid last week", date(2026, 10, 30)),  # names no day
        ("Goede morgen, ik betaal", date(2026, 11, 7)),  # Dutch "good morning"
        ("pagaré por la mañana", date(2026, 11, 7)),  # Spanish "in the morning"
        # a calendar date in the quote decides, not a day word beside it
        ("today I can tell you I paid on 2 November", FRIDAY),
    ],
)
def test_words_that_name_another_day_or_none_do_not(quote: str, day: date) -> None:
    assert not supports(day, quote.casefold(), FRIDAY)


def test_a_weekday_is_the_nearest_one_back_for_a_payment_made_and_ahead_for_one_promised() -> None:
    assert first_day("I paid on Monday", FRIDAY, ahead=False) == (date(2026, 11, 2), "Monday")
    assert first_day("I will pay on Monday", FRIDAY, ahead=True) == (date(2026, 11, 9), "Monday")
    assert first_day("paid on Friday", FRIDAY, ahead=False) is None  # today or a week ago
    assert first_day("no day here", FRIDAY, ahead=False) is None


def _email(text: str, written: datetime | None) -> ParsedEmail:
    return ParsedEmail(
        message_id=None, subject="", sender="a@example.com", sender_name=None, date=written,
        text=text,
    )  # fmt: skip


WRITTEN = datetime(2026, 11, 6, 9, 30, tzinfo=UTC)


def test_the_rules_read_a_relative_payment_date_from_the_day_the_email_was_written() -> None:
    rules = RulesExtractor(load_settings({}), degraded=False)
    found = rules.extract(_email("I paid 50 EUR yesterday.", WRITTEN)).fields["payment_date"]
    assert found.value == "2026-11-05" and found.evidence == "yesterday"
    promised = rules.extract(_email("Je vous paierai 50 € lundi.", WRITTEN))
    assert promised.intent == "payment_promise"
    assert promised.fields["payment_date"].value == "2026-11-09"
    # no date of writing, no day: nothing is guessed
    assert "payment_date" not in rules.extract(_email("I paid 50 EUR yesterday.", None)).fields


def test_a_models_date_quoted_as_yesterday_is_supported_when_the_email_is_dated() -> None:
    """The prompt asks the model to resolve "yesterday" from the email's date: the check of
    its quote must too, or the payment could never be recorded."""
    answer = {
        "intent": "payment_confirmation",
        "intent_confidence": 0.95,
        "intent_evidence": "I paid 50 EUR yesterday",
        "contains_instructions_to_ai": False,
        "payment_date": {"value": "2026-11-05", "confidence": 0.95, "evidence": "yesterday"},
    }
    email = _email("I paid 50 EUR yesterday.", WRITTEN)
    checked = validate_answer(answer, email, today=date(2026, 11, 6))
    # supported, and marked so the duplicate guard treats it as undated
    assert [w for w in checked.warnings if "payment_date" in w] == ["date_relative:payment_date"]
    assert checked.fields["payment_date"].confidence == 0.95
    wrong_day = {**answer, "payment_date": {**answer["payment_date"], "value": "2026-11-04"}}
    checked = validate_answer(wrong_day, email, today=date(2026, 11, 6))
    assert "evidence_mismatch:payment_date" in checked.warnings
    undated = validate_answer(answer, replace(email, date=None), today=date(2026, 11, 6))
    assert "evidence_mismatch:payment_date" in undated.warnings


def test_a_day_word_quoted_from_an_earlier_message_supports_no_date() -> None:
    """A follow-up quoting "> I paid 50 EUR yesterday" says nothing about the day before it."""
    answer = {
        "intent": "payment_confirmation",
        "intent_confidence": 0.95,
        "intent_evidence": "I paid 50 EUR",
        "contains_instructions_to_ai": False,
        "payment_date": {"value": "2026-11-11", "confidence": 0.95, "evidence": "yesterday"},
    }
    email = replace(
        _email("Did you get it? I paid 50 EUR.", datetime(2026, 11, 12, tzinfo=UTC)),
        quoted_text="I paid 50 EUR yesterday.",
    )
    checked = validate_answer(answer, email, today=date(2026, 11, 12))
    assert "evidence_mismatch:payment_date" in checked.warnings


def test_text_matched_only_by_case_folding_is_no_crash() -> None:
    rules = RulesExtractor(load_settings({}), degraded=False)
    rules.extract(_email("I paid 50 EUR yeſterday on Frıday.", WRITTEN))  # no KeyError
