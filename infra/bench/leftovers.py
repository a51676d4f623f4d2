"""What a benchmark stored in the local emulators is removed once it has run.

The benchmarks share one stack, and two of its servers slow down with what they hold in ways
their production counterparts do not: fake-gcs-server's memory backend spent 9 ms of CPU per
request once B5 had left about a gigabyte of objects in it (1 ms on an empty one), and nx-27017
answers an ``$in`` or ``$nin`` by reading every document of the collection, where MongoDB walks
an index. A figure must not depend on which benchmarks ran before it, so the runner takes
:meth:`Leftovers.snapshot` before each benchmark and :meth:`Leftovers.remove_new` after it:
every object and every account created in between is deleted. Postgres keeps its rows (its
indexes make their number irrelevant to the statements measured).
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from infra.bench import workload

DELETE_THREADS = 8
ID_CHUNK = 500
TIMEOUT_SECONDS = 60.0  # each call to an emulator; a stuck one fails the step, logged


@dataclass
class Leftovers:
    env: dict[str, str]
    _objects: dict[str, set[str]] = field(default_factory=dict)
    _accounts: set[Any] = field(default_factory=set)

    def _mongo(self) -> Any:
        import pymongo

        timeout_ms = int(TIMEOUT_SECONDS * 1000)
        return pymongo.MongoClient(
            self.env["MONGODB_URI"],
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=timeout_ms,
        )

    def _collection(self, client: Any) -> Any:
        return client[self.env.get("MONGODB_DATABASE", "collections")][workload.ACCOUNTS_COLLECTION]

    def snapshot(self) -> tuple[int, int]:
        """Remember every object of every bucket and every account id: (objects, accounts)."""
        storage = workload.storage_client()
        try:
            self._objects = {
                bucket.name: _names(storage, bucket.name)
                for bucket in storage.list_buckets(timeout=TIMEOUT_SECONDS)
            }
        finally:
            storage.close()
        mongo = self._mongo()
        try:
            self._accounts = {d["_id"] for d in self._collection(mongo).find({}, {"_id": True})}
        finally:
            mongo.close()
        return sum(len(names) for names in self._objects.values()), len(self._accounts)

    def remove_new(self) -> tuple[int, int]:
        """Delete what appeared since :meth:`snapshot`: (objects, accounts) deleted."""
        storage = workload.storage_client()
        try:
            new = [
                storage.bucket(bucket.name).blob(name)
                for bucket in storage.list_buckets(timeout=TIMEOUT_SECONDS)
                for name in _names(storage, bucket.name) - self._objects.get(bucket.name, set())
            ]
            with ThreadPoolExecutor(DELETE_THREADS) as pool:
                list(pool.map(_delete_blob, new))
        finally:
            storage.close()
        mongo = self._mongo()
        accounts = 0
        try:
            collection = self._collection(mongo)
            ids = [d["_id"] for d in collection.find({}, {"_id": True})]
            added = [i for i in ids if i not in self._accounts]
            for start in range(0, len(added), ID_CHUNK):
                chunk = added[start : start + ID_CHUNK]
                accounts += collection.delete_many({"_id": {"$in": chunk}}).deleted_count
        finally:
            mongo.close()
        return len(new), accounts


def _names(storage: Any, bucket: str) -> set[str]:
    return {blob.name for blob in storage.list_blobs(bucket, timeout=TIMEOUT_SECONDS)}


def _delete_blob(blob: Any) -> None:
    from google.api_core.exceptions import NotFound

    with contextlib.suppress(NotFound):  # gone already (a quarantine move, a retention sweep)
        blob.delete(timeout=TIMEOUT_SECONDS)
