"""The same payment confirmed by two emails moves the balance once (real MongoDB wire server).

The repository refuses a payment that duplicates a recorded one inside the same conditional
update that moves the balance (``payment_keys`` ``$nin``), so two emails applied concurrently
by two instances cannot both pass; the redelivery of one email is still ``already_applied``.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shared.accounts import AccountUpdate, ApplyResult
from shared.accounts.mongo import MongoAccountRepository
from shared.config import get_settings, load_settings
from tests.processing_fakes import account_document

PAID = date(2026, 11, 14)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def payment(
    email_id: str,
    amount: str = "500.00",
    paid_on: date | None = PAID,
    at: datetime = NOW,
) -> AccountUpdate:
    entry = {"email_id": email_id, "action": "record_payment", "at": at, "amount": amount}
    refused = {**entry, "action": "report_payment", "payment_not_recorded": "possible_duplicate"}
    return AccountUpdate(
        history_entry=entry,
        payment=Decimal(amount),
        payment_date=paid_on,
        at=at,
        refused_entry=refused,
    )


def pay(repository: MongoAccountRepository, account_id: str, update: AccountUpdate) -> ApplyResult:
    account = repository.get(account_id)
    assert account is not None
    return repository.apply(account, update.history_entry["email_id"], update)


def test_a_second_email_with_the_same_payment_moves_nothing(mongo_accounts: Any) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1", amount=1200.0))
    first = pay(repository, "A1", payment("e1"))
    assert (first.status, first.balance_after, first.payment_refused) == (
        "applied",
        Decimal("700.00"),
        None,
    )
    second = pay(repository, "A1", payment("e2", at=NOW + timedelta(days=30)))  # dates: no window
    assert (second.status, second.payment_refused, second.balance_after) == (
        "applied",
        "possible_duplicate",
        None,
    )
    doc = coll.find_one({"_id": "A1"})
    assert doc["balance"]["amount"] == 700.0 and doc["status"] == "active"
    assert doc["applied_email_ids"] == ["e1", "e2"]
    assert [(h["email_id"], h["action"]) for h in doc["history"]] == [
        ("e1", "record_payment"),
        ("e2", "report_payment"),
    ]
    assert doc["payment_keys"] == ["500.00|recorded|2026-11-28", "500.00|on|2026-11-14"]
    # the redelivery of either email is recognised before the duplicate check
    again = pay(repository, "A1", payment("e1"))
    assert (again.status, again.balance_before, again.balance_after) == (
        "already_applied",
        Decimal("1200.00"),
        Decimal("700.00"),
    )
    refused_again = pay(repository, "A1", payment("e2"))
    assert refused_again.status == "already_applied"
    assert refused_again.record is not None
    assert refused_again.record.payment_not_recorded == "possible_duplicate"
    assert coll.find_one({"_id": "A1"})["balance"]["amount"] == 700.0


@pytest.mark.parametrize(
    ("second", "applies"),
    [
        (payment("e2", amount="499.99"), True),  # another amount
        (payment("e2", paid_on=PAID + timedelta(days=1)), True),  # another date
        (payment("e2", paid_on=None, at=NOW + timedelta(days=15)), True),  # undated, outside
        (payment("e2", paid_on=None, at=NOW + timedelta(days=14)), False),  # undated, inside
    ],
)
def test_what_still_applies(mongo_accounts: Any, second: AccountUpdate, applies: bool) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1", amount=1200.0))
    assert pay(repository, "A1", payment("e1")).payment_refused is None
    result = pay(repository, "A1", second)
    assert result.status == "applied"
    assert (result.payment_refused is None) is applies
    expected = 1200.0 - 500.0 - (float(second.payment or 0) if applies else 0.0)
    assert coll.find_one({"_id": "A1"})["balance"]["amount"] == pytest.approx(expected)


def test_two_emails_with_the_same_payment_at_once_move_the_balance_once(
    mongo_accounts: Any,
) -> None:
    """Two instances (threads, each its own client) apply two emails' same payment together."""
    _, coll = mongo_accounts
    rounds = 5
    for n in range(rounds):
        coll.insert_one(account_document(f"C{n}", amount=1200.0))
    others = [MongoAccountRepository(get_settings(), collection_name=coll.name) for _ in range(2)]
    try:
        for n in range(rounds):
            accounts = [other.get(f"C{n}") for other in others]
            barrier = threading.Barrier(2)
            results: list[ApplyResult] = []

            def run(
                i: int, n: int, accounts: list[Any], barrier: Any, results: list[ApplyResult]
            ) -> None:
                update = payment(f"c{n}-e{i}", paid_on=None)  # undated: the window applies
                barrier.wait()
                results.append(others[i].apply(accounts[i], f"c{n}-e{i}", update))

            threads = [
                threading.Thread(target=run, args=(i, n, accounts, barrier, results))
                for i in range(2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(str(r.payment_refused) for r in results) == [
                "None",
                "possible_duplicate",
            ]
            doc = coll.find_one({"_id": f"C{n}"})
            assert doc["balance"]["amount"] == 700.0
            assert sorted(h["action"] for h in doc["history"]) == [
                "record_payment",
                "report_payment",
            ]
    finally:
        for other in others:
            other.close()


def test_payments_recorded_before_the_keys_are_read_from_the_history(mongo_accounts: Any) -> None:
    repository, coll = mongo_accounts
    old = {
        "email_id": "old",
        "action": "record_payment",
        "at": NOW - timedelta(days=3),
        "fields": {"amount": {"value": 500.0}, "payment_date": {"value": "2026-11-14"}},
    }
    coll.insert_one(account_document("L1", amount=700.0, history=[old], applied_email_ids=["old"]))
    assert pay(repository, "L1", payment("e2")).payment_refused == "possible_duplicate"
    assert pay(repository, "L1", payment("e3", amount="100.00")).payment_refused is None
    doc = coll.find_one({"_id": "L1"})
    assert doc["balance"]["amount"] == 600.0
    # the old payment's keys were stored with the first new one's
    assert "500.00|on|2026-11-14" in doc["payment_keys"]


def test_without_a_refused_entry_the_duplicate_is_not_applied(mongo_accounts: Any) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1", amount=1200.0))
    assert pay(repository, "A1", payment("e1")).status == "applied"
    bare = AccountUpdate(history_entry={"email_id": "e2"}, payment=Decimal("500"), at=NOW)
    result = pay(repository, "A1", bare)
    assert (result.status, result.reason) == ("not_applied", "possible_duplicate")
    doc = coll.find_one({"_id": "A1"})
    assert doc["applied_email_ids"] == ["e1"] and doc["balance"]["amount"] == 700.0


def test_the_window_is_the_setting(stack_env: dict, mongo_accounts: Any) -> None:
    _, coll = mongo_accounts
    settings = load_settings({**os.environ, "PAYMENT_DUPLICATE_WINDOW_DAYS": "2"})
    repository = MongoAccountRepository(settings, collection_name=coll.name)
    try:
        coll.insert_one(account_document("W1", amount=1200.0))
        assert pay(repository, "W1", payment("e1", paid_on=None)).payment_refused is None
        later = payment("e2", paid_on=None, at=NOW + timedelta(days=3))
        assert pay(repository, "W1", later).payment_refused is None
        assert coll.find_one({"_id": "W1"})["balance"]["amount"] == 200.0
    finally:
        repository.close()


def test_the_filter_not_the_read_refuses_a_key_that_landed_after_the_read(
    mongo_accounts: Any,
) -> None:
    """A stale read (no keys yet) whose balance still matches: only the ``$nin`` filter stops it."""
    repository, coll = mongo_accounts
    coll.insert_one(account_document("S1", amount=1200.0, payment_keys=[]))
    stale = repository.get("S1")
    assert stale is not None and stale.payment_keys == []
    coll.update_one({"_id": "S1"}, {"$push": {"payment_keys": "500.00|on|2026-11-14"}})
    result = repository.apply(stale, "e2", payment("e2"))
    assert result.payment_refused == "possible_duplicate"
    assert coll.find_one({"_id": "S1"})["balance"]["amount"] == 1200.0
