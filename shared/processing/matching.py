"""Finding the debtor's account for an extraction, with a method and a score.

The methods, in order; the first that finds anything decides:

=================  =====  ==================================================================
method             score  how
=================  =====  ==================================================================
case_number        1.00   a reference of the email (extracted, or any reference-like token of
account_reference         its subject, text, quoted history, attachments, file names:
reference                 :mod:`shared.extraction.references`) equals the account's case
                          number, account reference, or an operator-configured identifying
                          field, normalised on both sides; one query for all of them (0.85
                          when the extracted debtor name clearly disagrees with the account's)
sender_email       0.80   the sender's address is the debtor's; +0.05 each when the creditor
                          or the amount agrees (max 0.90)
fuzzy_name         ≤0.85  rapidfuzz ``token_sort_ratio`` of the debtor name over the accounts
                          with the extracted balance amount or a creditor whose name matches
                          the extracted one; never tried without such a constraint
=================  =====  ==================================================================

References found only as tokens in the text (none the extractor returned) that point at other
accounts than the sender's own (a phone number equal to another debtor's reference) are a
conflict too: the sender's accounts join the candidates (note
``reference_disagrees_with_sender``). References finding more than one account (two
identifiers pointing at two different accounts, or one identifier on two accounts) is a
conflict: all are candidates
and the match is ``ambiguous`` whatever their scores (note ``exact_match_conflict``); the
debtor name never settles it. Otherwise, whenever the two best candidates are closer than
``MATCH_AMBIGUITY_MARGIN`` the match is ``ambiguous``. An ambiguous match is never applied
automatically. Each candidate records the lookup that found it (``method``); the match's
``method`` is its best candidate's. :attr:`Match.exact_reference` (what recording a payment
needs) also requires the reference to be one the extractor returned, not only a token seen in
the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from rapidfuzz import fuzz, process

from shared.accounts import Account, AccountRepository, Lookup, UnsafeFilterValue
from shared.extraction.models import Extraction, ParsedEmail
from shared.extraction.references import DEFAULT_LIMIT, normalise_reference, reference_spellings

EXACT_SCORE = 1.0
NAME_MISMATCH_SCORE = 0.85
SENDER_SCORE = 0.80
SENDER_BONUS = 0.05
FUZZY_MAX_SCORE = 0.85
NAME_MISMATCH_BELOW = 50.0
CREDITOR_MIN_SCORE = 85.0
MIN_FIELD_CONFIDENCE = 0.3  # fields the extractor is less sure of are not used to match
REFERENCE_METHODS = ("case_number", "account_reference", "reference")
SENDER_METHOD = "sender_email"
# A reference seen only in the text points at other accounts than the sender's own.
SENDER_DISAGREES = "reference_disagrees_with_sender"


@dataclass(frozen=True)
class Candidate:
    account: Account
    score: float
    method: str | None = None  # the lookup that found it (first one, if several did)
    # found by a reference the extractor returned (False: only by a token seen in the text)
    extracted: bool = True

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "account_id": self.account.account_id,
            "score": round(self.score, 4),
            "method": self.method,
        }
        if self.method in REFERENCE_METHODS and not self.extracted:
            summary["extracted"] = False
        return summary


@dataclass(frozen=True)
class Match:
    method: str | None  # None: no account found
    score: float
    candidates: tuple[Candidate, ...] = ()
    ambiguous: bool = False
    skipped_documents: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def account(self) -> Account | None:
        """The single best account, or ``None`` when nothing or nothing unambiguous matched."""
        if self.ambiguous or not self.candidates:
            return None
        return self.candidates[0].account

    @property
    def exact_reference(self) -> bool:
        """A single account, found by its case number or account reference as the extractor
        returned it (what recording a payment needs; a token merely seen in the text is not)."""
        return (
            self.method in ("case_number", "account_reference")
            and not self.ambiguous
            and bool(self.candidates)
            and self.candidates[0].extracted
        )

    @property
    def by_reference(self) -> bool:
        """Found by a reference written in the email (any identifying field)."""
        return self.method in REFERENCE_METHODS

    @property
    def by_sender(self) -> bool:
        """Found by the sender's address, the debtor's on file."""
        return self.method == SENDER_METHOD

    @property
    def referenced_accounts(self) -> tuple[Account, ...]:
        """Every account a reference in the email points at (one or, ambiguous, several), and
        the sender's own when they disagree with a reference seen only in the text."""
        disagree = SENDER_DISAGREES in self.notes
        return tuple(
            c.account
            for c in self.candidates
            if c.method in REFERENCE_METHODS or (disagree and c.method == SENDER_METHOD)
        )

    def to_report(self) -> dict[str, Any]:
        best = self.account
        return {
            "method": self.method,
            "score": round(self.score, 4),
            "account_id": best.account_id if best else None,
            "ambiguous": self.ambiguous,
            "candidates": [c.summary() for c in self.candidates[:5]],
            "skipped_documents": self.skipped_documents,
            "notes": list(self.notes),
        }


NO_MATCH = Match(method=None, score=0.0)


def normalise_name(value: str) -> str:
    """Casefolded, accents and punctuation removed, single spaces."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", " ", stripped.casefold()).split())


def _field_text(extraction: Extraction, name: str) -> str | None:
    found = extraction.fields.get(name)
    if found is None or found.confidence < MIN_FIELD_CONFIDENCE:
        return None
    value = found.value
    return value.strip() if isinstance(value, str) and value.strip() else None


def _field_amount(extraction: Extraction) -> Decimal | None:
    found = extraction.fields.get("amount")
    if found is None or found.confidence < MIN_FIELD_CONFIDENCE:
        return None
    if isinstance(found.value, bool):
        return None
    try:
        amount = Decimal(str(found.value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount > 0 else None


def _name_disagrees(extraction: Extraction, account: Account) -> bool:
    name = _field_text(extraction, "debtor_name")
    if name is None:
        return False
    score = fuzz.token_sort_ratio(normalise_name(name), normalise_name(account.debtor.name))
    return score < NAME_MISMATCH_BELOW


def _debtor_address(account: Account) -> str:
    return (account.debtor.email or "").strip().casefold()


def _creditor_agrees(creditor: str | None, account: Account) -> bool:
    if creditor is None:
        return False
    score = fuzz.token_set_ratio(normalise_name(creditor), normalise_name(account.creditor))
    return score >= CREDITOR_MIN_SCORE


class AccountMatcher:
    """Runs the methods above against an :class:`AccountRepository`."""

    def __init__(
        self,
        accounts: AccountRepository,
        *,
        ambiguity_margin: float,
        fuzzy_min_score: float,
        reference_pattern: re.Pattern[str] | None = None,
        max_reference_tokens: int = DEFAULT_LIMIT,
    ) -> None:
        self._accounts = accounts
        self._margin = ambiguity_margin
        self._fuzzy_min = fuzzy_min_score
        self._pattern = reference_pattern
        self._max_tokens = max_reference_tokens

    def match(self, extraction: Extraction, email: ParsedEmail) -> Match:
        notes: list[str] = []
        exact, skipped = self._references(extraction, email, notes)
        if len(exact) > 1:
            notes.append("exact_match_conflict")
        if exact:
            others, sender_skipped = self._sender_disagrees(exact, email, notes)
            if others:
                return self._finish(exact + others, skipped + sender_skipped, notes, conflict=True)
            return self._finish(exact, skipped, notes, conflict=len(exact) > 1)

        if email.sender:
            lookup = self._lookup(
                self._accounts.find_by_debtor_email, email.sender, notes, "sender"
            )
            skipped += lookup.skipped
            if lookup.accounts:
                creditor = _field_text(extraction, "creditor_name")
                amount = _field_amount(extraction)
                candidates = []
                for account in lookup.accounts:
                    score = SENDER_SCORE
                    if _creditor_agrees(creditor, account):
                        score += SENDER_BONUS
                    if amount is not None and account.balance.decimal == amount:
                        score += SENDER_BONUS
                    candidates.append(Candidate(account, score, SENDER_METHOD))
                return self._finish(candidates, skipped, notes)

        fuzzy, fuzzy_skipped = self._fuzzy(extraction, notes)
        skipped += fuzzy_skipped
        if fuzzy:
            return self._finish(fuzzy, skipped, notes)
        return Match(method=None, score=0.0, skipped_documents=skipped, notes=tuple(notes))

    def _references(
        self, extraction: Extraction, email: ParsedEmail, notes: list[str]
    ) -> tuple[list[Candidate], int]:
        """Every account a reference of the email points at (one query over every identifying
        field, :mod:`shared.extraction.references`), and the number of skipped documents."""
        values = [
            value
            for value in (_field_text(extraction, n) for n in ("case_number", "account_reference"))
            if value is not None
        ]
        extracted = {normalise_reference(value) for value in values}
        found_keys = reference_spellings(
            email, extracted=values, pattern=self._pattern, limit=self._max_tokens
        )
        if not found_keys:
            return [], 0
        keys = list(found_keys)
        spellings = [spelling for group in found_keys.values() for spelling in group]
        lookup = self._lookup(
            lambda k: self._accounts.find_by_references(k, spellings=spellings),
            keys,
            notes,
            "reference",
        )
        wanted = set(keys)
        found: dict[str, Candidate] = {}
        for account in lookup.accounts:
            matched = wanted.intersection(account.ref_keys)
            if not matched:
                continue  # stored keys out of date: the identifier changed since
            case_key = normalise_reference(account.case_number)
            reference_key = normalise_reference(account.account_reference)
            method = (
                "case_number"
                if case_key in matched
                else "account_reference"
                if reference_key in matched
                else "reference"
            )
            score = EXACT_SCORE
            if _name_disagrees(extraction, account):
                score = NAME_MISMATCH_SCORE
                notes.append("debtor_name_disagrees")
            found[account.account_id] = Candidate(
                account, score, method, extracted=bool(matched & extracted)
            )
        return list(found.values()), lookup.skipped

    def _sender_disagrees(
        self, exact: list[Candidate], email: ParsedEmail, notes: list[str]
    ) -> tuple[list[Candidate], int]:
        """The sender's own accounts, when the sender's address belongs to other accounts than
        every one a reference found.

        A reference can point at someone else's account: a phone number, a tracking number or
        a piece of an IBAN can equal another debtor's reference, and a debtor can forward a
        relative's reminder and write "I paid 200 EUR", the model returning the only reference
        in the email. Trusted alone, it would hold or change that account and leave the
        writer's own in collection. Both are then candidates and the match is ambiguous:
        nothing is changed alone, and a compliance email holds them all. One more query, only
        when the sender is not the debtor on file of an account found (a payer who is no
        debtor of ours, an employer or a bank, has no accounts and changes nothing here)."""
        sender = (email.sender or "").strip().casefold()
        if not sender or any(_debtor_address(c.account) == sender for c in exact):
            return [], 0
        lookup = self._lookup(self._accounts.find_by_debtor_email, email.sender, notes, "sender")
        found = {c.account.account_id for c in exact}
        if not lookup.accounts or any(a.account_id in found for a in lookup.accounts):
            return [], lookup.skipped
        notes.append(SENDER_DISAGREES)
        return [Candidate(a, EXACT_SCORE, SENDER_METHOD) for a in lookup.accounts], lookup.skipped

    def _lookup(self, finder: Any, value: Any, notes: list[str], label: str) -> Lookup:
        try:
            result: Lookup = finder(value)
        except UnsafeFilterValue:
            notes.append(f"unsafe_value:{label}")
            return Lookup([])
        return result

    def _fuzzy(self, extraction: Extraction, notes: list[str]) -> tuple[list[Candidate], int]:
        name = _field_text(extraction, "debtor_name")
        if name is None:
            return [], 0
        amount = _field_amount(extraction)
        creditor = _field_text(extraction, "creditor_name")
        pool: dict[str, Account] = {}
        skipped = 0
        if amount is not None:
            lookup = self._accounts.find_by_balance_amount(amount)
            skipped += lookup.skipped
            pool.update({a.account_id: a for a in lookup.accounts})
        if creditor is not None:
            known = self._accounts.creditor_names()
            similar = process.extract(
                normalise_name(creditor),
                {name_: normalise_name(name_) for name_ in known},
                scorer=fuzz.token_set_ratio,
                score_cutoff=CREDITOR_MIN_SCORE,
                limit=10,
            )
            names = [str(key) for _, _, key in similar]
            if names:
                lookup = self._lookup(self._accounts.find_by_creditors, names, notes, "creditor")
                skipped += lookup.skipped
                pool.update({a.account_id: a for a in lookup.accounts})
        if not pool:
            return [], skipped
        wanted = normalise_name(name)
        candidates = []
        for account in pool.values():
            ratio = fuzz.token_sort_ratio(wanted, normalise_name(account.debtor.name))
            if ratio < self._fuzzy_min:
                continue
            constraints = int(amount is not None and account.balance.decimal == amount) + int(
                _creditor_agrees(creditor, account)
            )
            score = FUZZY_MAX_SCORE * (ratio / 100.0) * (1.0 if constraints >= 2 else 0.95)
            candidates.append(Candidate(account, score, "fuzzy_name"))
        return candidates, skipped

    def _finish(
        self,
        candidates: list[Candidate],
        skipped: int,
        notes: list[str],
        *,
        conflict: bool = False,
    ) -> Match:
        """``conflict``: the candidates are distinct exact matches, ambiguous whatever the
        scores."""
        ordered = sorted(candidates, key=lambda c: (-c.score, c.account.account_id))
        close = len(ordered) > 1 and ordered[0].score - ordered[1].score < self._margin
        ambiguous = conflict or close
        return Match(
            method=ordered[0].method,
            score=ordered[0].score,
            candidates=tuple(ordered),
            ambiguous=ambiguous,
            skipped_documents=skipped,
            notes=tuple(dict.fromkeys(notes)),
        )
