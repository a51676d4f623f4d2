"""Account references of any format against the stack's MongoDB: one indexed ``$in`` over the
normalised keys of every identifying field (``ref_keys``), derived for accounts written without
them, and the matcher's ambiguity and conflict rules on what it finds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pymongo
import pytest

from shared.accounts import UnsafeFilterValue
from shared.accounts.mongo import MongoAccountRepository
from shared.config import load_settings
from shared.processing.matching import AccountMatcher
from tests.processing_fakes import account_document, extraction, parsed_email


@pytest.fixture
def accounts(stack_env: dict[str, str]) -> Iterator[tuple[MongoAccountRepository, Any]]:
    settings = load_settings({**stack_env, "MATCH_REFERENCE_FIELDS": "creditor_ref,ext.id"})
    name = f"accounts_{uuid.uuid4().hex}"
    client: Any = pymongo.MongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    collection = client[settings.mongodb_database][name]
    # written by another system: no ref_keys yet
    collection.insert_many(
        [
            {**account_document("A1", case_number="2024/00118", account_reference="KD 4471-22",
                                email="one@example.org"), "creditor_ref": "NW.7731.A"},
            {**account_document("A2", case_number="0099-7731", account_reference="r.200.x",
                                email="two@example.org"), "ext": {"id": 55501234}},
            {**account_document("A3", case_number="C-3", account_reference="R-3"),
             "balance": "not a balance"},
        ]
    )  # fmt: skip
    repository = MongoAccountRepository(settings, collection_name=name)
    yield repository, collection
    collection.drop()
    client.close()
    repository.close()


def test_keys_are_derived_once_and_stored(accounts: tuple[Any, Any]) -> None:
    repository, collection = accounts
    assert repository.derive_reference_keys() == 3
    assert repository.derive_reference_keys() == 0  # nothing left to derive
    stored = {d["_id"]: d["ref_keys"] for d in collection.find({}, {"ref_keys": True})}
    assert stored["A1"] == ["202400118", "kd447122", "nw7731a"]
    assert stored["A2"] == ["00997731", "r200x", "55501234"]
    indexed = [info["key"] for info in collection.index_information().values()]
    assert [("ref_keys", 1)] in indexed


@pytest.mark.parametrize(
    ("keys", "found"),
    [
        (["kd447122"], ["A1"]),
        (["nw7731a"], ["A1"]),  # an operator-configured field
        (["55501234"], ["A2"]),  # a nested, numeric one
        (["zz999", "r200x", "x1"], ["A2"]),
        (["202400118", "00997731"], ["A1", "A2"]),
        (["nothing1"], []),
    ],
)
def test_one_query_over_every_identifying_field(
    accounts: tuple[Any, Any], keys: list[str], found: list[str]
) -> None:
    repository, _ = accounts
    lookup = repository.find_by_references(keys)
    assert sorted(a.account_id for a in lookup.accounts) == found


def test_a_malformed_document_is_skipped_not_fatal(accounts: tuple[Any, Any]) -> None:
    repository, _ = accounts
    lookup = repository.find_by_references(["c3", "r3"])
    assert lookup.accounts == [] and lookup.skipped == 1


@pytest.mark.parametrize("key", ["$in", "a b", "x.y", "", "k" * 65])
def test_only_normalised_keys_reach_the_query(accounts: tuple[Any, Any], key: str) -> None:
    repository, _ = accounts
    with pytest.raises(UnsafeFilterValue):
        repository.find_by_references([key])


def matcher(repository: MongoAccountRepository) -> AccountMatcher:
    return AccountMatcher(repository, ambiguity_margin=0.05, fuzzy_min_score=85)


def test_the_matcher_finds_a_reference_in_any_format(accounts: tuple[Any, Any]) -> None:
    repository, _ = accounts
    mail = parsed_email(subject="Re: Ihr Zeichen 2024-00118", text="Ich zahle morgen.",
                        sender="someone@example.net")  # fmt: skip
    match = matcher(repository).match(extraction(), mail)
    assert (match.method, match.account and match.account.account_id) == ("case_number", "A1")
    assert not match.ambiguous and not match.exact_reference  # seen in the text, not extracted


def test_two_references_pointing_at_two_accounts_are_ambiguous(accounts: tuple[Any, Any]) -> None:
    repository, _ = accounts
    mail = parsed_email(text="About KD 4471/22 and R-200-X.", sender="one@example.org")
    match = matcher(repository).match(extraction(), mail)
    assert match.ambiguous and match.account is None
    assert "exact_match_conflict" in match.notes
    assert sorted(a.account_id for a in match.referenced_accounts) == ["A1", "A2"]


def test_an_extracted_reference_and_a_text_one_of_another_account_conflict(
    accounts: tuple[Any, Any],
) -> None:
    repository, _ = accounts
    mail = parsed_email(text="Payment for 0099 7731", sender="one@example.org")
    match = matcher(repository).match(extraction(case_number="2024/00118"), mail)
    assert match.ambiguous and not match.exact_reference


def test_an_account_written_by_another_system_is_found_at_once(
    accounts: tuple[Any, Any],
) -> None:
    repository, collection = accounts
    repository.find_by_references(["kd447122"])
    collection.insert_one(account_document("A8", case_number="YY 7788 01", account_reference="Q"))
    found = repository.find_by_references(["yy778801"])  # keys derived before the lookup
    assert [a.account_id for a in found.accounts] == ["A8"]


def test_between_derivations_an_account_is_found_as_written_and_keyed(
    stack_env: dict[str, str], accounts: tuple[Any, Any]
) -> None:
    _, collection = accounts
    settings = load_settings({**stack_env, "MATCH_REFERENCE_BACKFILL_SECONDS": "3600"})
    repository = MongoAccountRepository(settings, collection_name=collection.name)
    try:
        repository.find_by_references(["kd447122"])  # derives the keys of the accounts there
        collection.insert_one(
            account_document("A9", case_number="ZX-5511-09", account_reference="Q")
        )
        assert repository.find_by_references(["zx551109"]).accounts == []  # no keys yet
        found = repository.find_by_references(["zx551109"], spellings=["ZX-5511-09"])
        assert [a.account_id for a in found.accounts] == ["A9"]
        stored = collection.find_one({"_id": "A9"})
        assert stored["ref_keys"] == ["zx551109", "q"]
        assert [a.account_id for a in repository.find_by_references(["zx551109"]).accounts] == [
            "A9"
        ]
    finally:
        repository.close()


def test_an_account_found_by_several_branches_comes_once_in_one_guarded_call(
    stack_env: dict[str, str], accounts: tuple[Any, Any]
) -> None:
    _, collection = accounts
    settings = load_settings(
        {
            **stack_env,
            "MATCH_REFERENCE_FIELDS": "creditor_ref,ext.id",
            "MATCH_REFERENCE_BACKFILL_SECONDS": "3600",
        }
    )
    calls: list[object] = []

    def guard(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(func)
        return func(*args, **kwargs)

    repository = MongoAccountRepository(settings, collection_name=collection.name, guard=guard)
    try:
        repository.find_by_references(["nothing1"])  # derives the keys (once an hour)
        calls.clear()
        # the key, the case number and the account reference all point at A1
        found = repository.find_by_references(
            ["202400118"], spellings=["2024/00118", "KD 4471-22", "NW.7731.A"]
        )
        assert [a.account_id for a in found.accounts] == ["A1"]
        assert len(calls) == 1  # every branch in one call through the breaker
    finally:
        repository.close()


def test_a_derivation_beside_the_lookup_stores_the_keys_and_finds_the_account(
    stack_env: dict[str, str], accounts: tuple[Any, Any]
) -> None:
    """An account written without keys, in another spelling than the email's, is found by the
    lookup that derives its keys (as when the derivation ran first), and keyed once."""
    _, collection = accounts
    calls: list[object] = []

    def guard(func: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(func)
        return func(*args, **kwargs)

    settings = load_settings({**stack_env, "MATCH_REFERENCE_FIELDS": "creditor_ref,ext.id"})
    repository = MongoAccountRepository(settings, collection_name=collection.name, guard=guard)
    try:
        found = repository.find_by_references(["kd447122"], spellings=["KD-4471-22"])
        assert [a.account_id for a in found.accounts] == ["A1"]
        assert found.accounts[0].ref_keys == ["202400118", "kd447122", "nw7731a"]
        assert (
            collection.count_documents(
                {"ref_keys_of": {"$nin": ["case_number,account_reference,creditor_ref,ext.id"]}}
            )
            == 0
        )
        assert len(calls) == 2  # the lookup with the derivation's query, then its writes
        calls.clear()
        found = repository.find_by_references(["kd447122"])
        assert [a.account_id for a in found.accounts] == ["A1"]
        assert len(calls) == 1  # nothing left to derive: no writes
    finally:
        repository.close()


def test_a_refused_derivation_query_is_returned_not_raised() -> None:
    from pymongo.errors import OperationFailure

    from shared.accounts.mongo import AccountQueryFailed, _find_stale

    class Refusing:
        def find(self, *args: Any, **kwargs: Any) -> Any:
            raise OperationFailure("no", code=2)

    refused = _find_stale(Refusing(), "case_number")
    assert isinstance(refused, AccountQueryFailed)
    assert "code=2" in str(refused)


class _RecordingCollection:
    """The repository's collection, keeping the filter of each ``find`` it is asked."""

    def __init__(self, collection: Any, *, refuse_updates: int = 0) -> None:
        self.collection = collection
        self.filters: list[dict[str, Any]] = []
        self.refuse_updates = refuse_updates

    def find(self, query: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        self.filters.append(query)
        return self.collection.find(query, *args, **kwargs)

    def update_one(self, *args: Any, **kwargs: Any) -> Any:
        if self.refuse_updates:
            from pymongo.errors import OperationFailure

            self.refuse_updates -= 1
            raise OperationFailure("refused", code=13)
        return self.collection.update_one(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)


def _recording(repository: MongoAccountRepository, **kwargs: Any) -> _RecordingCollection:
    recording = _RecordingCollection(repository._collection(), **kwargs)
    repository._accounts = recording
    return recording


def _asked_fields(recording: _RecordingCollection) -> list[str]:
    return sorted(field for query in recording.filters for field in query)


def test_a_derivation_that_saw_every_account_without_keys_leaves_out_the_spellings(
    accounts: tuple[Any, Any],
) -> None:
    """Every account without current keys came back with the derivation's query and got its
    keys, so the keys alone find what a spelling as written would: two queries, not four."""
    repository, collection = accounts
    recording = _recording(repository)
    found = repository.find_by_references(["kd447122"], spellings=["KD 4471-22"])
    assert [a.account_id for a in found.accounts] == ["A1"]
    assert _asked_fields(recording) == ["ref_keys", "ref_keys_of"]
    recording.filters.clear()
    collection.insert_one(account_document("A8", case_number="YY 7788 01", account_reference="Q"))
    found = repository.find_by_references(["yy778801"], spellings=["YY 7788 01"])
    assert [a.account_id for a in found.accounts] == ["A8"]
    assert _asked_fields(recording) == ["ref_keys", "ref_keys_of"]


def test_refused_derivation_writes_leave_the_account_found_as_written(
    accounts: tuple[Any, Any],
) -> None:
    repository, collection = accounts
    recording = _recording(repository, refuse_updates=1)  # the derivation's first write
    found = repository.find_by_references(["kd447122"], spellings=["KD 4471-22"])
    assert [a.account_id for a in found.accounts] == ["A1"]
    assert "case_number" in _asked_fields(recording)  # the spellings, asked after it
    assert collection.find_one({"_id": "A1"})["ref_keys"] == ["202400118", "kd447122", "nw7731a"]


def test_a_derivation_with_a_full_batch_leaves_the_rest_found_as_written(
    accounts: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.accounts import mongo

    monkeypatch.setattr(mongo, "REFERENCE_BACKFILL_BATCH", 1)  # three accounts without keys
    repository, _ = accounts
    recording = _recording(repository)
    found = repository.find_by_references(["00997731"], spellings=["0099-7731"])
    assert [a.account_id for a in found.accounts] == ["A2"]
    assert "case_number" in _asked_fields(recording)


def test_an_account_found_whose_identifier_changed_since_its_keys_gets_them_anew(
    accounts: tuple[Any, Any],
) -> None:
    """Another system changed the account reference and left the stored keys as they were:
    once the account is found (by its case number here), its keys are stored anew, and the
    new reference finds it from then on."""
    repository, collection = accounts
    repository.derive_reference_keys()
    collection.update_one({"_id": "A1"}, {"$set": {"account_reference": "NEW-777"}})
    assert repository.find_by_references(["new777"]).accounts == []  # its keys are out of date
    found = repository.find_by_references(["202400118"])
    assert [a.account_id for a in found.accounts] == ["A1"]
    assert "new777" in collection.find_one({"_id": "A1"})["ref_keys"]
    assert [a.account_id for a in repository.find_by_references(["new777"]).accounts] == ["A1"]


def test_keys_a_loader_added_stay_and_an_unreadable_key_list_does_not_stop_the_lookup(
    accounts: tuple[Any, Any],
) -> None:
    repository, collection = accounts
    repository.derive_reference_keys()
    keys = collection.find_one({"_id": "A1"})["ref_keys"]
    collection.update_one({"_id": "A1"}, {"$set": {"ref_keys": [*keys, "oldref99"]}})
    [found] = repository.find_by_references(["oldref99"]).accounts
    assert "oldref99" not in found.ref_keys  # the matcher sees the identifiers' keys only
    assert "oldref99" in collection.find_one({"_id": "A1"})["ref_keys"]  # kept, not rewritten
    collection.update_one({"_id": "A2"}, {"$set": {"ref_keys": [{"k": 1}, "00997731"]}})
    found = repository.find_by_references(["00997731"])
    assert [a.account_id for a in found.accounts] == ["A2"]


def test_keys_stored_for_an_identifier_read_before_a_writer_changed_it_are_not_written(
    accounts: tuple[Any, Any],
) -> None:
    """Our write of keys is guarded on the identifiers as read: a system that changed the
    identifier and stored its keys meanwhile keeps them."""
    repository, collection = accounts
    repository.derive_reference_keys()
    collection.update_one({"_id": "A1"}, {"$set": {"account_reference": "NEW-777"}})
    read = collection.find_one({"_id": "A1"})  # keys out of date: ours would be rewritten
    fresh = ["202400118", "new888", "nw7731a"]
    collection.update_one(
        {"_id": "A1"}, {"$set": {"account_reference": "NEW-888", "ref_keys": fresh}}
    )
    fields = ("case_number", "account_reference", "creditor_ref", "ext.id")
    repository._store_missing_keys([read], fields)
    assert collection.find_one({"_id": "A1"})["ref_keys"] == fresh
