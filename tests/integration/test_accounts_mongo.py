"""The Mongo account repository against the stack's MongoDB wire server."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from shared.accounts import AccountUpdate, UnsafeFilterValue
from shared.accounts.mongo import MongoAccountRepository
from shared.errors import DependencyUnavailable
from tests.processing_fakes import account_document


def test_finders_validate_documents_and_skip_malformed(mongo_accounts: Any) -> None:
    repository, coll = mongo_accounts
    coll.insert_many(
        [
            account_document("A1", case_number="C-1", email="ann@example.org", amount=50.0),
            account_document("A2", case_number="C-2", account_reference="R-2", creditor="Beta"),
            {**account_document("X1", case_number="C-1"), "balance": "a lot"},
            {"_id": "X2", "case_number": "C-1"},
        ]
    )
    found = repository.find_by_case_number("C-1")
    assert [a.account_id for a in found.accounts] == ["A1"] and found.skipped == 2
    assert [a.account_id for a in repository.find_by_account_reference("R-2").accounts] == ["A2"]
    by_email = repository.find_by_debtor_email("ANN@example.org")
    assert [a.account_id for a in by_email.accounts] == ["A1"]
    assert [a.account_id for a in repository.find_by_balance_amount(Decimal("50.00")).accounts] == [
        "A1"
    ]
    assert {a.account_id for a in repository.find_by_creditors(["Beta"]).accounts} == {"A2"}
    assert "Beta" in repository.creditor_names()


def test_a_balance_no_decision_can_compute_with_is_a_skipped_document(
    mongo_accounts: Any,
) -> None:
    """1e300 (a loader's placeholder) makes one skipped document; the good account is found.
    (NaN, Infinity and out-of-range dates, which this local server cannot store, are checked
    on the decoding and the model in tests/unit/test_account_documents.py.)"""
    repository, coll = mongo_accounts
    coll.insert_many(
        [
            account_document("A1", case_number="C-1"),
            {
                **account_document("N1", case_number="C-1"),
                "balance": {"amount": 1e300, "currency": "EUR"},
            },
        ]
    )
    found = repository.find_by_case_number("C-1")
    assert [a.account_id for a in found.accounts] == ["A1"] and found.skipped == 1


@pytest.mark.parametrize("value", [{"$ne": None}, "$where", ["C-1"], 7, "", "C-1\x00"])
def test_unsafe_values_never_become_queries(mongo_accounts: Any, value: Any) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1", case_number="C-1"))
    with pytest.raises(UnsafeFilterValue):
        repository.find_by_case_number(value)


def test_apply_is_idempotent_and_guards_the_balance(mongo_accounts: Any) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1", amount=100.10))
    account = repository.find_by_case_number("CASE-2024-0001").accounts[0]
    update = AccountUpdate(
        set_fields={"last_contact": "email"},
        history_entry={"email_id": "e1", "action": "record_payment"},
        payment=Decimal("40.05"),
    )
    first = repository.apply(account, "e1", update)
    assert (first.status, first.balance_before, first.balance_after) == (
        "applied",
        Decimal("100.10"),
        Decimal("60.05"),
    )
    again = repository.apply(account, "e1", update)
    # the redelivery reads the first attempt's balances back from its history entry
    assert (again.status, again.balance_before, again.balance_after, again.reason) == (
        "already_applied",
        Decimal("100.10"),
        Decimal("60.05"),
        None,
    )
    assert again.record is not None and again.record.action == "record_payment"
    doc = coll.find_one({"_id": "A1"})
    assert doc["balance"]["amount"] == 60.05
    assert doc["applied_email_ids"] == ["e1"] and doc["history"] == [
        {
            "email_id": "e1",
            "action": "record_payment",
            "balance_before": "100.10",
            "balance_after": "60.05",
        }
    ]
    # stale account object (balance moved meanwhile): re-read and retried, not lost
    second = repository.apply(
        account,
        "e2",
        AccountUpdate(history_entry={"email_id": "e2"}, payment=Decimal("60.05")),
    )
    assert (second.status, second.balance_after) == ("applied", Decimal("0.00"))
    doc = coll.find_one({"_id": "A1"})
    assert doc["status"] == "paid" and doc["balance"]["amount"] == 0.0
    too_much = repository.apply(
        account, "e3", AccountUpdate(history_entry={"email_id": "e3"}, payment=Decimal("1"))
    )
    assert (too_much.status, too_much.reason) == ("not_applied", "payment_exceeds_balance")


def test_concurrent_payments_of_different_emails_are_all_counted(mongo_accounts: Any) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1", amount=100.0))
    account = repository.find_by_case_number("CASE-2024-0001").accounts[0]
    results: list[str] = []

    def pay(i: int) -> None:
        # three different payments (dates differ): the same one twice would be refused
        update = AccountUpdate(
            history_entry={"email_id": f"p{i}"},
            payment=Decimal("10"),
            payment_date=date(2026, 11, 10 + i),
        )
        results.append(repository.apply(account, f"p{i}", update).status)

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    doc = coll.find_one({"_id": "A1"})
    # each writer retries on a stale balance; with three writers nobody runs out of retries
    assert results == ["applied"] * 3
    assert doc["balance"]["amount"] == pytest.approx(70.0)
    assert sorted(doc["applied_email_ids"]) == ["p0", "p1", "p2"]


def test_unreachable_mongodb_is_a_transient_error(stack_env: dict) -> None:
    from shared.config import load_settings

    settings = load_settings({"MONGODB_URI": "mongodb://127.0.0.1:1", "MONGODB_TIMEOUT_MS": "300"})
    repository = MongoAccountRepository(settings)
    with pytest.raises(DependencyUnavailable) as caught:
        repository.find_by_case_number("C-1")
    assert caught.value.dependency == "mongodb"
    repository.close()


def test_lookups_are_indexed_and_reads_leave_out_the_history(mongo_accounts: Any) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(
        {
            **account_document("H1", case_number="C-H1"),
            "history": [{"email_id": "old", "decision": "AUTO_UPDATE"}],
        }
    )
    found = repository.find_by_case_number("C-H1").accounts
    assert [a.account_id for a in found] == ["H1"] and found[0].history == []
    got = repository.get("H1")
    assert got is not None and got.history == []
    assert coll.find_one({"_id": "H1"})["history"] == [
        {"email_id": "old", "decision": "AUTO_UPDATE"}
    ]
    keys = {tuple(spec["key"]) for spec in coll.index_information().values()}
    assert {
        (("case_number", 1),),
        (("account_reference", 1),),
        (("debtor.email", 1),),
        (("applied_email_ids", 1),),
    } <= keys


def test_find_applied_finds_the_account_an_email_changed(mongo_accounts: Any) -> None:
    """The retry's guard: which account (if any) already holds this email's marker."""
    repository, coll = mongo_accounts
    coll.insert_many(
        [
            account_document("P1", case_number="C-P1", applied_email_ids=["e-other", "e-9"]),
            account_document("P2", case_number="C-P2", applied_email_ids=["e-other-2"]),
        ]
    )
    assert [a.account_id for a in repository.find_applied("e-9").accounts] == ["P1"]
    assert repository.find_applied("e-nowhere").accounts == []
    with pytest.raises(UnsafeFilterValue):
        repository.find_applied("$ne")


def test_already_applied_without_a_balance_change_and_with_a_malformed_entry(
    mongo_accounts: Any,
) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1"))
    account = repository.get("A1")
    assert account is not None
    hold = AccountUpdate(
        set_fields={"status": "on_hold"},
        history_entry={"email_id": "h1", "action": "hold", "decision": "UPDATE_AND_NOTIFY"},
    )
    assert repository.apply(account, "h1", hold).status == "applied"
    again = repository.apply(account, "h1", hold)
    assert (again.status, again.balance_before, again.reason) == ("already_applied", None, None)
    assert again.record is not None and again.record.decision == "UPDATE_AND_NOTIFY"
    coll.update_one({"_id": "A1"}, {"$set": {"history": [{"email_id": "h1", "at": "soon"}]}})
    broken = repository.already_applied(account, "h1")
    assert (broken.status, broken.reason, broken.record) == (
        "already_applied",
        "history_entry_invalid",
        None,
    )


def test_a_payment_never_overwrites_the_status_of_a_held_account(mongo_accounts: Any) -> None:
    repository, coll = mongo_accounts
    held = {"active": True, "reason": "bankruptcy_notice", "since": None}
    coll.insert_one(account_document("A1", amount=1200.0, status="on_hold", hold=held))
    account = repository.find_by_case_number("CASE-2024-0001").accounts[0]
    update = AccountUpdate(history_entry={"email_id": "e1"}, payment=Decimal("1200.00"))
    assert repository.apply(account, "e1", update).status == "applied"
    doc = coll.find_one({"_id": "A1"})
    assert doc["balance"]["amount"] == 0.0
    assert doc["status"] == "on_hold" and doc["hold"]["active"] is True


_HOLD = {"active": True, "reason": "dispute"}


@pytest.mark.parametrize(
    ("payment", "hold"),
    [
        ("100.00", {"status": "on_hold", "hold": _HOLD}),  # would pay it off: not "paid" either
        ("40.00", {"status": "on_hold", "hold": _HOLD}),
        ("40.00", {"hold": _HOLD}),  # another system's hold: hold.active alone
    ],
)
def test_a_payment_is_not_recorded_on_an_account_held_after_the_read(
    mongo_accounts: Any, payment: str, hold: dict[str, Any]
) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1", amount=100.0))
    stale = repository.find_by_case_number("CASE-2024-0001").accounts[0]  # read: active
    coll.update_one({"_id": "A1"}, {"$set": hold})
    update = AccountUpdate(history_entry={"email_id": "e1"}, payment=Decimal(payment))
    result = repository.apply(stale, "e1", update)
    assert (result.status, result.reason) == ("not_applied", "account_on_hold")
    doc = coll.find_one({"_id": "A1"})
    assert doc["balance"]["amount"] == 100.0 and "e1" not in doc.get("applied_email_ids", [])
    assert doc.get("status") == hold.get("status", "active")
    # a person applying it on the held account, knowingly, still can; it stays held
    held = repository.find_by_case_number("CASE-2024-0001").accounts[0]
    assert repository.apply(held, "e1", update).status == "applied"
    doc = coll.find_one({"_id": "A1"})
    assert doc["balance"]["amount"] == 100.0 - float(payment)
    assert doc["status"] != "paid"


def test_a_payment_the_same_email_recorded_meanwhile_is_reported_as_applied_even_after_a_hold(
    mongo_accounts: Any,
) -> None:
    """Two deliveries of one email: the other one recorded the payment, then a hold landed.
    This one learns the payment is recorded (already applied), not that it was refused."""
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1", amount=100.0))
    stale = repository.find_by_case_number("CASE-2024-0001").accounts[0]
    update = AccountUpdate(history_entry={"email_id": "e1"}, payment=Decimal("40.00"))
    assert repository.apply(stale, "e1", update).status == "applied"  # the other delivery
    coll.update_one(
        {"_id": "A1"},
        {"$set": {"status": "on_hold", "hold": {"active": True, "reason": "dispute"}}},
    )
    result = repository.apply(stale, "e1", update)
    assert result.status == "already_applied"
    assert coll.find_one({"_id": "A1"})["balance"]["amount"] == 60.0


def _hold(email_id: str, reason: str) -> AccountUpdate:
    hold = {"active": True, "reason": reason, "since": None, "email_id": email_id}
    return AccountUpdate(
        set_fields={"status": "on_hold", "hold": hold},
        history_entry={"email_id": email_id, "action": "hold", "reason": reason},
    )


def test_a_later_compliance_notice_never_overwrites_the_first_hold(mongo_accounts: Any) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1", amount=100.0))
    account = repository.find_by_case_number("CASE-2024-0001").accounts[0]
    assert repository.apply(account, "e1", _hold("e1", "dispute")).status == "applied"
    held = repository.find_by_case_number("CASE-2024-0001").accounts[0]
    assert repository.apply(held, "e2", _hold("e2", "bankruptcy_notice")).status == "applied"
    doc = coll.find_one({"_id": "A1"})
    assert doc["status"] == "on_hold"
    assert (doc["hold"]["reason"], doc["hold"]["email_id"]) == ("dispute", "e1")
    notices = [(h["email_id"], h["reason"]) for h in doc["history"] if h.get("action") == "hold"]
    assert notices == [("e1", "dispute"), ("e2", "bankruptcy_notice")]
    assert set(doc["applied_email_ids"]) >= {"e1", "e2"}


def test_a_hold_landing_after_the_read_is_not_overwritten_by_another(mongo_accounts: Any) -> None:
    repository, coll = mongo_accounts
    coll.insert_one(account_document("A1", amount=100.0))
    stale = repository.find_by_case_number("CASE-2024-0001").accounts[0]  # read: active
    first = {"active": True, "reason": "cease_and_desist", "since": None, "email_id": "e0"}
    coll.update_one({"_id": "A1"}, {"$set": {"status": "on_hold", "hold": first}})
    assert repository.apply(stale, "e1", _hold("e1", "dispute")).status == "applied"
    doc = coll.find_one({"_id": "A1"})
    assert (doc["hold"]["reason"], doc["hold"]["email_id"]) == ("cease_and_desist", "e0")
    assert any(h.get("email_id") == "e1" for h in doc["history"])
