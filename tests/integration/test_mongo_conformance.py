"""Every MongoDB operator the project uses, pinned to MongoDB's documented semantics.

Written against the manual, not against the local wire server (nx-27017), so the same test
passes on a real MongoDB. Operators covered: equality on top-level and dotted fields, ``$in``
(also against a scalar array: the reference keys), ``$or`` of ``$in`` branches, ``$nin`` against
a scalar array and against a missing scalar field, ``distinct``, ``find`` with ``limit`` and an
exclusion projection, ``find_one`` with an inclusion projection of one array of sub-documents
(read back whole, filtered in Python), ``create_indexes`` (idempotent), ``update_one`` with
``$set`` (dotted paths and sub-documents), ``$addToSet`` (scalars and documents) and ``$push``
with ``$each`` of strings (the duplicate-payment keys), and
``matched_count``/``modified_count``. Deliberately not used (nx-27017 0.8.1 differs from
MongoDB): ``$ne``/``$not`` against arrays, ``$push`` of documents (stored as JSON strings),
``$elemMatch`` (refused: "not supported in Python evaluation"; ``$not`` is "not currently
implemented"), ``$addToSet`` with ``$each`` (silently ignored) and dotted paths into arrays of
sub-documents (``{"history.email_id": {"$nin": […]}}`` matches every document).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pymongo
import pytest


@pytest.fixture
def collection(stack_env: dict) -> Iterator[Any]:
    client: Any = pymongo.MongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    coll = client["conformance"][f"c_{uuid.uuid4().hex}"]
    coll.insert_many(
        [
            {
                "_id": "a",
                "case_number": "C-1",
                "creditor": "Acme",
                "debtor": {"name": "Ann", "email": "ann@example.org"},
                "balance": {"amount": 100.5, "currency": "EUR"},
                "applied_email_ids": ["e0"],
                "history": [{"email_id": "e0", "fields": {"amount": {"value": 1.5}}}],
            },
            {
                "_id": "b",
                "case_number": "C-2",
                "creditor": "Beta",
                "debtor": {"name": "Bob", "email": "bob@example.org"},
                "balance": {"amount": 20, "currency": "GBP"},
                "applied_email_ids": [],
                "history": [],
            },
            {
                "_id": "c",
                "case_number": "C-3",
                "creditor": "Acme",
                "debtor": {"name": "Cy", "email": "cy@example.org"},
                "balance": {"amount": 7.25, "currency": "EUR"},
                "applied_email_ids": [],
                "history": [],
            },
        ]
    )
    yield coll
    coll.drop()
    client.close()


def ids(cursor: Any) -> list[str]:
    return sorted(doc["_id"] for doc in cursor)


def test_equality_on_top_level_and_dotted_fields(collection: Any) -> None:
    assert ids(collection.find({"case_number": "C-2"})) == ["b"]
    assert ids(collection.find({"debtor.email": "cy@example.org"})) == ["c"]
    assert ids(collection.find({"balance.amount": 100.5})) == ["a"]
    assert ids(collection.find({"balance.amount": 20.0})) == ["b"]  # int and double compare
    assert ids(collection.find({"case_number": "C-404"})) == []


def test_a_dollar_string_as_a_value_is_a_literal_not_an_operator(collection: Any) -> None:
    assert ids(collection.find({"case_number": "$ne"})) == []


def test_in_and_limit_and_distinct(collection: Any) -> None:
    assert ids(collection.find({"creditor": {"$in": ["Acme", "Nobody"]}})) == ["a", "c"]
    assert len(list(collection.find({}, limit=2))) == 2
    assert sorted(collection.distinct("creditor")) == ["Acme", "Beta"]


def test_nin_against_a_scalar_array(collection: Any) -> None:
    assert ids(collection.find({"applied_email_ids": {"$nin": ["e0"]}})) == ["b", "c"]
    assert ids(collection.find({"applied_email_ids": {"$nin": ["zz"]}})) == ["a", "b", "c"]


def test_an_update_guarded_on_a_nested_flag_not_being_true(collection: Any) -> None:
    """``{"hold.active": {"$nin": [True]}}`` in an update filter matches a document without
    ``hold``, with ``hold`` but no ``active``, and with ``active`` false, never ``true``."""
    collection.insert_many(
        [
            {"_id": "h0"},
            {"_id": "h1", "hold": {"reason": "x"}},
            {"_id": "h2", "hold": {"active": False}},
            {"_id": "h3", "hold": {"active": True}},
        ]
    )
    matched = [
        collection.update_one(
            {"_id": key, "hold.active": {"$nin": [True]}}, {"$set": {"seen": 1}}
        ).matched_count
        for key in ("h0", "h1", "h2", "h3")
    ]
    assert matched == [1, 1, 1, 0]


def test_guarded_update_with_set_and_add_to_set(collection: Any) -> None:
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    entry = {"email_id": "e1", "decision": "AUTO_UPDATE", "fields": {"amount": {"value": 2.5}}}
    result = collection.update_one(
        {"_id": "a", "applied_email_ids": {"$nin": ["e1"]}, "balance.amount": 100.5},
        {
            "$set": {
                "balance.amount": 98.0,
                "status": "on_hold",
                "hold": {"active": True, "reason": "dispute", "since": since},
            },
            "$addToSet": {"applied_email_ids": "e1", "history": entry},
        },
    )
    assert (result.matched_count, result.modified_count) == (1, 1)
    doc = collection.find_one({"_id": "a"})
    assert doc["balance"] == {"amount": 98.0, "currency": "EUR"}
    assert doc["hold"] == {"active": True, "reason": "dispute", "since": since}
    assert doc["status"] == "on_hold"
    assert doc["applied_email_ids"] == ["e0", "e1"]
    assert doc["history"] == [
        {"email_id": "e0", "fields": {"amount": {"value": 1.5}}},
        entry,
    ]  # documents stay documents, the old entry is untouched
    again = collection.update_one(
        {"_id": "a", "applied_email_ids": {"$nin": ["e1"]}},
        {"$addToSet": {"applied_email_ids": "e1"}},
    )
    assert (again.matched_count, again.modified_count) == (0, 0)


def test_push_each_of_strings_and_nin_on_that_array_also_when_it_is_missing(
    collection: Any,
) -> None:
    """The duplicate-payment guard: keys ``$push``ed with ``$each`` (nx-27017 ignores
    ``$addToSet`` with ``$each``), guarded by ``$nin``; a missing array matches ``$nin``."""
    guarded = {"_id": "c", "payment_keys": {"$nin": ["k2", "k9"]}}
    first = collection.update_one(
        guarded,
        {
            "$push": {"payment_keys": {"$each": ["k1", "k2"]}},
            "$addToSet": {"applied_email_ids": "e1", "history": {"email_id": "e1"}},
        },
    )
    assert (first.matched_count, first.modified_count) == (1, 1)
    assert collection.find_one({"_id": "c"})["payment_keys"] == ["k1", "k2"]
    assert collection.update_one(guarded, {"$set": {"x": 1}}).matched_count == 0
    later = collection.update_one(
        {"_id": "c", "payment_keys": {"$nin": ["k3"]}},
        {"$push": {"payment_keys": {"$each": ["k3"]}}},
    )
    assert later.modified_count == 1
    assert collection.find_one({"_id": "c"})["payment_keys"] == ["k1", "k2", "k3"]


def test_stale_balance_guard_matches_nothing(collection: Any) -> None:
    result = collection.update_one(
        {"_id": "b", "applied_email_ids": {"$nin": ["e9"]}, "balance.amount": 19.99},
        {"$set": {"balance.amount": 0.0}},
    )
    assert result.modified_count == 0
    assert collection.find_one({"_id": "b"})["balance"]["amount"] == 20


def test_twenty_concurrent_writers_applying_the_same_email_one_wins(collection: Any) -> None:
    barrier = threading.Barrier(20)
    modified: list[int] = []

    def apply(i: int) -> None:
        barrier.wait()
        result = collection.update_one(
            {"_id": "c", "applied_email_ids": {"$nin": ["same"]}},
            {
                "$set": {"status": "on_hold"},
                "$addToSet": {
                    "applied_email_ids": "same",
                    "history": {"email_id": "same", "writer": i},
                },
            },
        )
        modified.append(result.modified_count)

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(modified) == 1
    doc = collection.find_one({"_id": "c"})
    assert doc["applied_email_ids"] == ["same"]
    assert len(doc["history"]) == 1


def test_twenty_concurrent_writers_of_different_emails_all_land(collection: Any) -> None:
    barrier = threading.Barrier(20)

    def apply(i: int) -> None:
        barrier.wait()
        collection.update_one(
            {"_id": "b", "applied_email_ids": {"$nin": [f"e{i}"]}},
            {"$addToSet": {"applied_email_ids": f"e{i}", "history": {"email_id": f"e{i}"}}},
        )

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    doc = collection.find_one({"_id": "b"})
    assert sorted(doc["applied_email_ids"]) == sorted(f"e{i}" for i in range(20))
    assert len(doc["history"]) == 20


def test_exclusion_projection_leaves_out_only_that_field(collection: Any) -> None:
    found = collection.find_one({"_id": "a"}, {"history": False})
    assert "history" not in found
    assert found["debtor"] == {"name": "Ann", "email": "ann@example.org"}
    assert found["applied_email_ids"] == ["e0"] and found["case_number"] == "C-1"
    listed = list(collection.find({"creditor": "Acme"}, {"history": False}, limit=10))
    assert sorted(d["_id"] for d in listed) == ["a", "c"]
    assert all("history" not in d for d in listed)


def test_inclusion_projection_of_the_history_returns_it_whole_and_nothing_else(
    collection: Any,
) -> None:
    entry = {"email_id": "e1", "balance_before": "100.50", "balance_after": "60.50"}
    collection.update_one(
        {"_id": "a", "applied_email_ids": {"$nin": ["e1"]}},
        {"$addToSet": {"applied_email_ids": "e1", "history": entry}},
    )
    found = collection.find_one({"_id": "a"}, {"history": True})
    assert set(found) == {"_id", "history"}
    assert found["history"] == [
        {"email_id": "e0", "fields": {"amount": {"value": 1.5}}},
        entry,
    ]
    assert collection.find_one({"_id": "missing"}, {"history": True}) is None


def test_create_indexes_is_idempotent_and_keeps_equality_lookups(collection: Any) -> None:
    models = [pymongo.IndexModel("case_number"), pymongo.IndexModel("debtor.email")]
    first = collection.create_indexes(models)
    assert collection.create_indexes(models) == first  # a no-op the second time
    keys = [list(spec["key"]) for spec in collection.index_information().values()]
    assert [("case_number", 1)] in keys and [("debtor.email", 1)] in keys
    assert [d["_id"] for d in collection.find({"case_number": "C-2"})] == ["b"]
    assert [d["_id"] for d in collection.find({"debtor.email": "cy@example.org"})] == ["c"]


def test_in_against_a_scalar_array_and_nin_on_a_missing_scalar(collection: Any) -> None:
    # the reference lookup: {"ref_keys": {"$in": keys}} (any element equal to any key), and the
    # derivation of keys for accounts written without them: {"ref_keys_of": {"$nin": [spec]}}
    # matches a document lacking the field and one holding another value
    collection.create_indexes([pymongo.IndexModel("ref_keys")])
    collection.update_one(
        {"_id": "a"}, {"$set": {"ref_keys": ["c1", "kd447122"], "ref_keys_of": "s1"}}
    )
    collection.update_one({"_id": "b"}, {"$set": {"ref_keys": ["c2"], "ref_keys_of": "s0"}})
    assert ids(collection.find({"ref_keys": {"$in": ["kd447122", "zz"]}})) == ["a"]
    assert ids(collection.find({"ref_keys": {"$in": ["c2", "c1"]}})) == ["a", "b"]
    assert ids(collection.find({"ref_keys": {"$in": ["k"]}})) == []  # whole elements only
    assert ids(collection.find({"ref_keys_of": {"$nin": ["s1"]}})) == ["b", "c"]
    # the lookup's one query: keys, or (an account stored without them) a field as written
    query = {"$or": [{"ref_keys": {"$in": ["c2"]}}, {"case_number": {"$in": ["C-3"]}}]}
    assert ids(collection.find(query)) == ["b", "c"]
    # an inclusion projection of a top-level field (dotted ones are not used)
    assert collection.find_one({"_id": "a"}, {"case_number": True}) == {
        "_id": "a",
        "case_number": "C-1",
    }
