"""The port the matcher and the pipeline use to read and change accounts.

The MongoDB adapter is :class:`shared.accounts.mongo.MongoAccountRepository`; the unit tests'
fake is ``FakeAccounts`` in ``tests/processing_fakes.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from shared.accounts.model import Account, AccountUpdate, ApplyResult, Lookup


class UnsafeFilterValue(ValueError):
    """A value may not be used in a query filter (the repository refuses it, nothing is read)."""


class AccountRepository(Protocol):
    """Reads return validated accounts only (malformed documents are counted in
    :attr:`Lookup.skipped`); :meth:`apply` changes an account at most once per email."""

    def find_by_references(self, keys: list[str], *, spellings: Sequence[str] = ()) -> Lookup:
        """Accounts any of whose identifying fields has one of ``keys`` (normalised,
        :func:`shared.accounts.model.reference_keys`), or, for an account stored without keys,
        one of ``spellings`` exactly."""
        ...

    def find_by_case_number(self, value: str) -> Lookup: ...

    def find_by_account_reference(self, value: str) -> Lookup: ...

    def find_by_debtor_email(self, value: str) -> Lookup: ...

    def find_by_balance_amount(self, amount: Decimal) -> Lookup: ...

    def find_by_creditors(self, creditors: list[str]) -> Lookup: ...

    def creditor_names(self) -> list[str]: ...

    def get(self, key: Any) -> Account | None: ...

    def find_applied(self, email_id: str) -> Lookup:
        """The accounts an earlier attempt of ``email_id`` already changed (normally none)."""
        ...

    def apply(self, account: Account, email_id: str, update: AccountUpdate) -> ApplyResult: ...

    def already_applied(self, account: Account, email_id: str) -> ApplyResult: ...
