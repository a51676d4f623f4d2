"""Matching an extraction to an account: method order, scores, ambiguity, bad documents."""

from __future__ import annotations

import pytest

from shared.accounts import UnsafeFilterValue
from shared.accounts.mongo import safe_str, validate_account
from shared.extraction.references import normalise_reference
from shared.processing.matching import AccountMatcher, normalise_name
from tests.processing_fakes import FakeAccounts, account_document, extraction, parsed_email

DOCS = [
    account_document("A1", case_number="C-100", account_reference="R-100", name="Jane Example",
                     email="jane@example.org", creditor="Northwind Bank", amount=1200.0),
    account_document("A2", case_number="C-200", account_reference="R-200", name="John Sample",
                     email="john@example.org", creditor="Contoso Energy", amount=310.55),
    account_document("A3", case_number="C-300", account_reference="R-300", name="Jon Sample",
                     email="shared@example.org", creditor="Contoso Energy", amount=99.0),
    account_document("A4", case_number="C-400", account_reference="R-400", name="Ann Other",
                     email="shared@example.org", creditor="Fabrikam Telecom", amount=45.0),
]  # fmt: skip


def matcher(docs: list[dict] | None = None) -> AccountMatcher:
    return AccountMatcher(
        FakeAccounts(docs if docs is not None else [dict(d) for d in DOCS]),
        ambiguity_margin=0.05,
        fuzzy_min_score=85,
    )


def nobody() -> object:
    return parsed_email(sender="unknown@example.net")


def test_exact_case_number_wins_over_everything() -> None:
    match = matcher().match(extraction(case_number="C-200", account_reference="R-200"), nobody())
    assert (match.method, match.score, match.account.account_id) == ("case_number", 1.0, "A2")
    assert match.exact_reference and not match.ambiguous


def test_account_reference_when_no_case_number() -> None:
    match = matcher().match(extraction(account_reference="R-300"), nobody())
    assert (match.method, match.account.account_id) == ("account_reference", "A3")


def test_case_number_and_reference_of_different_accounts_are_ambiguous() -> None:
    match = matcher().match(extraction(case_number="C-100", account_reference="R-200"), nobody())
    assert match.ambiguous and match.account is None
    assert {c.account.account_id for c in match.candidates} == {"A1", "A2"}
    assert not match.exact_reference
    # review finding 6: the extracted debtor name must not settle the conflict. The case
    # number finds A2 (John Sample, scored 0.85: the name disagrees), the reference finds A1
    # (Jane Example, 1.0): a 0.15 gap used to pick A1 and report "case_number".
    named = matcher().match(
        extraction(case_number="C-200", account_reference="R-100", debtor_name="Jane Example"),
        nobody(),
    )
    assert named.ambiguous and named.account is None and not named.exact_reference
    assert {c.account.account_id: (c.method, c.score) for c in named.candidates} == {
        "A1": ("account_reference", 1.0),
        "A2": ("case_number", 0.85),
    }
    assert named.method == "account_reference"  # the lookup that found the best candidate
    assert "exact_match_conflict" in named.notes
    report = named.to_report()
    assert report["account_id"] is None and report["ambiguous"] is True
    assert report["candidates"] == [
        {"account_id": "A1", "score": 1.0, "method": "account_reference"},
        {"account_id": "A2", "score": 0.85, "method": "case_number"},
    ]


def test_one_case_number_on_two_accounts_is_ambiguous_whatever_the_names() -> None:
    docs = [dict(d) for d in DOCS]
    docs[1] = {**docs[1], "case_number": "C-100"}  # A2 (John Sample) shares A1's case number
    match = matcher(docs).match(
        extraction(case_number="C-100", debtor_name="Jane Example"), nobody()
    )
    assert match.ambiguous and match.account is None
    assert [c.account.account_id for c in match.candidates] == ["A1", "A2"]


def test_case_number_and_reference_of_the_same_account_are_one_exact_match() -> None:
    match = matcher().match(
        extraction(case_number="C-100", account_reference="R-100", debtor_name="Jane Example"),
        nobody(),
    )
    assert (match.method, match.score, match.account.account_id) == ("case_number", 1.0, "A1")
    assert match.exact_reference and "exact_match_conflict" not in match.notes
    assert [c.method for c in match.candidates] == ["case_number"]


def test_exact_match_with_a_clearly_different_debtor_name_scores_lower() -> None:
    match = matcher().match(extraction(case_number="C-100", debtor_name="Zed Quux"), nobody())
    assert match.account.account_id == "A1"
    assert match.score == 0.85
    assert "debtor_name_disagrees" in match.notes


def test_unknown_case_number_falls_through_to_the_sender() -> None:
    match = matcher().match(
        extraction(case_number="C-999"), parsed_email(sender="john@example.org")
    )
    assert (match.method, match.score, match.account.account_id) == ("sender_email", 0.8, "A2")


def test_a_number_in_the_text_pointing_at_another_debtor_never_outranks_the_writer() -> None:
    """A reference seen only in the text (a phone number equal to A2's reference) and a sender
    whose own account is A1: both are candidates, ambiguous, and a hold covers both."""
    docs = [dict(d) for d in DOCS]
    docs[1] = {**docs[1], "account_reference": "40817810"}
    jane = parsed_email(
        sender="jane@example.org", text="I dispute this.\n\nParcel tracking 40817810"
    )
    match = matcher(docs).match(extraction("dispute"), jane)
    assert match.ambiguous and match.account is None
    assert {c.account.account_id for c in match.candidates} == {"A1", "A2"}
    assert "reference_disagrees_with_sender" in match.notes
    assert {a.account_id for a in match.referenced_accounts} == {"A1", "A2"}


def test_a_reference_in_the_text_agreeing_with_the_sender_or_an_unknown_sender_is_trusted() -> None:
    docs = [dict(d) for d in DOCS]
    docs[0] = {**docs[0], "account_reference": "40817810"}
    own = parsed_email(sender="jane@example.org", text="About my account 40817810, I paid.")
    match = matcher(docs).match(extraction(), own)
    assert not match.ambiguous and match.account.account_id == "A1"
    stranger = parsed_email(sender="new-address@example.net", text="Account 40817810.")
    assert matcher(docs).match(extraction(), stranger).account.account_id == "A1"


def _counting_matcher() -> tuple[AccountMatcher, list[str]]:
    calls: list[str] = []
    accounts = FakeAccounts([dict(d) for d in DOCS])
    find = accounts.find_by_debtor_email

    def counting(value: str) -> object:
        calls.append(value)
        return find(value)

    accounts.find_by_debtor_email = counting  # type: ignore[method-assign]
    return AccountMatcher(accounts, ambiguity_margin=0.05, fuzzy_min_score=85), calls


def test_the_debtor_writing_about_their_own_account_needs_no_sender_query() -> None:
    matcher_, calls = _counting_matcher()
    john = parsed_email(sender="John@Example.org", text="Case C-200, I paid.")
    match = matcher_.match(extraction(case_number="C-200"), john)
    assert match.account.account_id == "A2" and match.exact_reference and calls == []


def test_a_debtor_writing_about_another_debtors_account_is_ambiguous() -> None:
    """Jane forwards John's reminder and writes "I paid 200 EUR": the model returns C-200, the
    only reference in the email. Whose debt she paid is for a person to tell: nothing is
    recorded alone, and a compliance email would hold both."""
    matcher_, calls = _counting_matcher()
    jane = parsed_email(sender="jane@example.org", text="Case C-200. I paid 200 EUR.")
    match = matcher_.match(extraction(case_number="C-200"), jane)
    assert calls == ["jane@example.org"]
    assert match.ambiguous and match.account is None and not match.exact_reference
    assert {c.account.account_id for c in match.candidates} == {"A1", "A2"}
    assert "reference_disagrees_with_sender" in match.notes


def test_a_payer_who_is_no_debtor_of_ours_changes_nothing_in_the_match() -> None:
    # an employer's garnishment remittance or a bank's payment advice
    matcher_, calls = _counting_matcher()
    payroll = parsed_email(sender="payroll@employer.example", text="Case C-200, withheld.")
    match = matcher_.match(extraction(case_number="C-200"), payroll)
    assert match.account.account_id == "A2" and match.exact_reference
    assert calls == ["payroll@employer.example"]


def test_sender_with_two_accounts_is_ambiguous_unless_creditor_or_amount_tells() -> None:
    shared = parsed_email(sender="shared@example.org")
    assert matcher().match(extraction(), shared).ambiguous
    told = matcher().match(extraction(creditor_name="Fabrikam Telecom"), shared)
    assert not told.ambiguous and told.account.account_id == "A4"
    assert told.score == pytest.approx(0.85)
    by_amount = matcher().match(extraction(amount=99.0), shared)
    assert by_amount.account.account_id == "A3"


def test_fuzzy_name_needs_an_amount_or_creditor_constraint() -> None:
    unconstrained = matcher().match(extraction(debtor_name="Jane Exampel"), nobody())
    assert unconstrained.method is None and unconstrained.account is None
    by_amount = matcher().match(extraction(debtor_name="Jane Exampel", amount=1200.0), nobody())
    assert by_amount.method == "fuzzy_name" and by_amount.account.account_id == "A1"
    assert 0.6 < by_amount.score <= 0.85


def test_fuzzy_name_by_creditor_with_close_names_is_ambiguous() -> None:
    match = matcher().match(
        extraction(debtor_name="John Sample", creditor_name="Contoso Energy Ltd"), nobody()
    )
    assert match.method == "fuzzy_name"
    names = [c.account.account_id for c in match.candidates]
    assert names[0] == "A2"
    # "Jon Sample" is a near-identical name at the same creditor: too close to call.
    assert "A3" in names and match.ambiguous


def test_low_confidence_fields_are_not_used_to_match() -> None:
    match = matcher().match(extraction(case_number=("C-100", 0.1)), nobody())
    assert match.method is None


def test_malformed_documents_are_skipped_and_counted() -> None:
    docs = [dict(d) for d in DOCS]
    broken = account_document("B1", case_number="C-100")
    broken["balance"] = {"amount": "lots", "currency": "EUR"}
    docs.append(broken)
    not_a_name = account_document("B2", case_number="C-100")
    not_a_name["debtor"] = {"name": {"$gt": ""}}
    docs.append(not_a_name)
    match = matcher(docs).match(extraction(case_number="C-100"), nobody())
    assert match.account.account_id == "A1"
    assert match.skipped_documents == 2


def test_operator_shaped_values_never_reach_a_query() -> None:
    # references are looked up by their normalised keys: letters and digits only
    match = matcher().match(extraction(case_number="$ne", account_reference="$gt"), nobody())
    assert match.method is None
    assert normalise_reference("$in: {x}") == "inx"
    with pytest.raises(UnsafeFilterValue):
        safe_str({"$ne": None})
    with pytest.raises(UnsafeFilterValue):
        safe_str("abc\x00")
    assert safe_str("  C-1 ") == "C-1"


def test_validate_account_rejects_wrong_types_and_keeps_good_ones() -> None:
    assert validate_account(account_document()) is not None
    bad_ids = account_document()
    bad_ids["applied_email_ids"] = [{"$ne": 1}]
    assert validate_account(bad_ids) is None
    missing = account_document()
    del missing["case_number"]
    assert validate_account(missing) is None
    as_bool = account_document()
    as_bool["balance"] = {"amount": True, "currency": "EUR"}
    assert validate_account(as_bool) is None


def test_normalise_name() -> None:
    assert normalise_name("  JOSÉ  O'Brien-Smith ") == "jose o brien smith"
