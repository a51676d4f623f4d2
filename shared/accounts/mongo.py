"""The MongoDB adapter of the account repository (:class:`MongoAccountRepository`).

The document shape and the model are in :mod:`shared.accounts.model`, the port in
:mod:`shared.accounts.port`.

Every document read is validated (:class:`Account`); a malformed one is skipped with an
``account_document_invalid`` warning (its ``_id`` and the failing field names, never values)
and never crashes the pipeline. Filters are built only from validated scalar strings and
numbers (:func:`safe_str`), so nothing read from an email can become a query operator.

References of any format are looked up over ``ref_keys``
(:meth:`MongoAccountRepository.find_by_references`): the normalised keys of every identifying
field (:func:`~shared.accounts.model.identifying_fields`: case number, account reference,
``MATCH_REFERENCE_FIELDS``), written by the account's loader or derived here
(:meth:`~MongoAccountRepository.derive_reference_keys`, with a lookup when
``MATCH_REFERENCE_BACKFILL_SECONDS`` have passed, its query beside the lookup's; an account
found by a reference as written gets its keys at once).

Reads leave out ``history`` (a projection: the pipeline never reads it, and it grows with every
email applied). The lookups (reference keys, case number, account reference, debtor email) have
indexes, created once per instance on first use (``MONGODB_ENSURE_INDEXES``; best effort: a
failure is logged and the lookups still work, only slower).

Updates are idempotent: the filter carries ``{"applied_email_ids": {"$nin": [email_id]}}`` and
the update ``$addToSet``s the id, so a redelivered email matches nothing the second time. The
history entry is added with ``$addToSet`` too (each entry is unique by its email id): the
local wire server (nx-27017 0.8.1) turns documents appended with ``$push`` into JSON strings,
and on MongoDB both operators do the same for a unique entry. A balance change also guards on
the balance it was computed from (optimistic concurrency, retried); its history entry records
``balance_before`` and ``balance_after`` (strings of the Decimals, as the report has them).
An active hold's record (reason, since, email) is never overwritten by a later notice, which
is kept as its own history entry. The status of an account on hold (``hold.active`` or status
``on_hold``) is never overwritten
(a payment to zero leaves it ``on_hold``, not ``paid``); an update that sets the status or moves
the balance also guards on the status it read, so a hold landing meanwhile is re-read, not
overwritten, and a payment to an account held since the caller's read is not recorded
(``not_applied``, reason ``account_on_hold``: the decision's rule for held accounts). The guard
also refuses a hold written by another system as ``hold.active`` alone
(``{"hold.active": {"$nin": [True]}}``; ``$ne`` in an update filter does not match a missing
field on nx-27017).

A payment is also refused as a **possible duplicate** when the account already holds a recorded
payment of the same amount (same payment date, or recorded within
``PAYMENT_DUPLICATE_WINDOW_DAYS`` when either lacks a date;
:mod:`shared.accounts.payment_keys`): the filter carries
``{"payment_keys": {"$nin": [clashing keys]}}`` and the update ``$push``es the payment's keys
(``$each`` of strings; nx-27017 ignores ``$addToSet`` with ``$each``), so the check and the
balance change are one atomic write. The redelivery of the same email is recognised first
(``already_applied``). A refused payment moves nothing: the update's ``refused_entry`` is
written instead (history + ``applied_email_ids`` only) and the result is
``applied`` with ``payment_refused="possible_duplicate"`` (``not_applied`` without one).

A redelivery of an email already applied (the report of the first attempt was lost, e.g.
Postgres went away between the update and the finish) reads this email's history entry back —
only then, projecting only ``history`` and picking the entry in Python (nx-27017 0.8.1 refuses
``$elemMatch``) — so its ``already_applied`` result carries the balances and the action that
first attempt applied. The entry is validated (:class:`AppliedEntry`); a missing or malformed
one gives a result without them and a ``history_entry_invalid`` warning, never a crash. The
operators used here are pinned in ``tests/integration/test_mongo_conformance.py``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from pydantic import ValidationError

from shared.accounts.model import (
    ON_HOLD,
    PAID,
    POSSIBLE_DUPLICATE,
    Account,
    AccountUpdate,
    AppliedEntry,
    AppliedRecord,
    ApplyResult,
    ApplyStatus,
    Lookup,
    field_value,
    identifying_fields,
    reference_keys,
)
from shared.accounts.payment_keys import clashing_keys, legacy_payment_keys, payment_keys, utc_day
from shared.accounts.port import UnsafeFilterValue
from shared.breakers.classify import counts_as_failure
from shared.config import (
    ConfigError,
    Settings,
    get_settings,
    require_in_production,
    require_trimmed,
)
from shared.errors import DependencyUnavailable, InstanceBusy, ProcessingError
from shared.logs import log_event
from shared.workers import WaitTimedOut, run_together

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_CANDIDATES = 50
MAX_FILTER_STRING = 320
PROJECTION: dict[str, Any] = {"history": False}  # read only on redelivery; grows with each email
HISTORY_ONLY: dict[str, Any] = {"history": True}
LOOKUP_INDEXES = (
    "case_number",
    "account_reference",
    "debtor.email",
    "applied_email_ids",
    "ref_keys",
    "ref_keys_of",
)
MAX_REFERENCE_KEYS = 500
# How replies are decoded: aware datetimes; a date outside Python's range (a loader's "year 0")
# stays a raw BSON date and a string that is not UTF-8 is decoded with replacement characters,
# both values the account model refuses, so one bad document is skipped (``skipped``) instead
# of failing the whole reply.
DECODING: dict[str, Any] = {
    "tz_aware": True,
    "datetime_conversion": "DATETIME_AUTO",
    "unicode_decode_error_handler": "replace",
}
REFERENCE_BACKFILL_BATCH = 500


class AccountQueryFailed(ProcessingError):
    """MongoDB refused a query or update (a bug or a schema problem, not an outage).

    Neither transient nor permanent: raised, so the delivery is retried and, if it keeps
    failing, dead-lettered for replay once fixed. Breakers do not count it.
    """


def safe_str(value: object, *, max_length: int = MAX_FILTER_STRING) -> str:
    """A plain string usable as an equality value; refuses operators and control characters."""
    if not isinstance(value, str):
        raise UnsafeFilterValue("filter values must be strings")
    cleaned = value.strip()
    if not cleaned or len(cleaned) > max_length:
        raise UnsafeFilterValue("filter value is empty or too long")
    if cleaned.startswith("$") or any(not ch.isprintable() for ch in cleaned):
        raise UnsafeFilterValue("filter value looks like an operator or has control characters")
    return cleaned


def _spelling(value: object) -> str | None:
    """A reference as written, usable as an equality value, or None."""
    try:
        return safe_str(value, max_length=128)
    except UnsafeFilterValue:
        return None


def _safe_key(key: object) -> str:
    """A normalised reference key: letters and digits only (never an operator)."""
    value = safe_str(key, max_length=64)
    if not value.isalnum():
        raise UnsafeFilterValue("a reference key holds only letters and digits")
    return value


def document_ref(document_id: object) -> str:
    """How a log line names an account document: an ObjectId as it is, any other ``_id`` (often
    the account reference itself) as a short hash, which an operator can compute to find it."""
    from bson import ObjectId

    if isinstance(document_id, ObjectId):
        return str(document_id)
    return "sha256:" + hashlib.sha256(str(document_id).encode()).hexdigest()[:16]


def validate_account(document: Mapping[str, Any]) -> Account | None:
    """The validated account, or ``None`` (logged) for a malformed document."""
    try:
        return Account.model_validate(dict(document))
    except ValidationError as exc:
        log_event(
            logger,
            "account_document_invalid",
            level=logging.WARNING,
            document_ref=document_ref(document.get("_id")),
            fields=_invalid_fields(exc),
        )
        return None


def _invalid_fields(exc: ValidationError) -> list[str]:
    return sorted(
        {
            ".".join(str(p) for p in error["loc"]) or "entry"
            for error in exc.errors(include_input=False, include_url=False)
        }
    )[:10]


def already_applied_result(document: Any, key: Any, email_id: str) -> ApplyResult:
    """``already_applied`` with what ``email_id``'s history entry in ``document`` recorded.

    ``document`` is what a read projecting only ``history`` returned. No entry, or a malformed
    one, gives a result without balances, ``reason="history_entry_invalid"`` and an
    ``account_history_entry_invalid`` warning (document id and field names, never values).
    """
    history = document.get("history") if isinstance(document, Mapping) else None
    entries = [
        entry
        for entry in (history if isinstance(history, list) else [])
        if isinstance(entry, Mapping) and entry.get("email_id") == email_id
    ]
    fields = ["history"]
    if len(entries) == 1:
        try:
            entry = AppliedEntry.model_validate(dict(entries[0]))
        except ValidationError as exc:
            fields = [f"history.{name}" for name in _invalid_fields(exc)]
        else:
            return ApplyResult(
                ApplyStatus.ALREADY_APPLIED,
                _money(entry.balance_before),
                _money(entry.balance_after),
                record=AppliedRecord(
                    entry.action, entry.decision, entry.at, entry.payment_not_recorded
                ),
            )
    log_event(
        logger,
        "account_history_entry_invalid",
        level=logging.WARNING,
        document_ref=document_ref(key),
        entries=len(entries),
        fields=fields,
    )
    return ApplyResult(ApplyStatus.ALREADY_APPLIED, reason="history_entry_invalid")


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _find_list(collection: Any, query: dict[str, Any]) -> list[Any]:
    return list(collection.find(query, PROJECTION, limit=MAX_CANDIDATES))


def _find_stale(collection: Any, spec: str) -> list[Any] | AccountQueryFailed:
    """The accounts without keys for the current identifying fields (the derivation's query,
    whole documents but ``history``: those holding a wanted key are found by the lookup).
    A refusal is returned, not raised: the lookup beside it goes on without the derivation."""
    from pymongo.errors import OperationFailure

    try:
        return list(
            collection.find(
                {"ref_keys_of": {"$nin": [spec]}}, PROJECTION, limit=REFERENCE_BACKFILL_BATCH
            )
        )
    except OperationFailure as exc:
        return AccountQueryFailed(f"mongodb: {type(exc).__name__} code={exc.code}", stage="match")


def _saw_every_stale(stale: list[Any] | AccountQueryFailed | None, derived: set[Any]) -> bool:
    """Whether the derivation beside a lookup saw, and stored keys for, every account without
    current keys (written without keys, or for other identifying fields): then the keys find
    each account a spelling as written of the accounts stored without keys would."""
    return (
        isinstance(stale, list)
        and len(stale) < REFERENCE_BACKFILL_BATCH
        and all(isinstance(d, Mapping) and d.get("_id") in derived for d in stale)
    )


def _union(results: list[list[Any]]) -> list[Any]:
    """The documents of several queries, each once (by ``_id``), at most ``MAX_CANDIDATES``."""
    seen: set[Any] = set()
    documents: list[Any] = []
    for document in (d for found in results for d in found):
        key = document.get("_id") if isinstance(document, Mapping) else id(document)
        if key in seen:
            continue
        seen.add(key)
        documents.append(document)
    return documents[:MAX_CANDIDATES]


def _validated(documents: Any) -> Lookup:
    accounts: list[Account] = []
    skipped = 0
    for document in documents:
        account = validate_account(document) if isinstance(document, Mapping) else None
        if account is None:
            skipped += 1
        else:
            accounts.append(account)
    return Lookup(accounts, skipped)


Guard = Callable[..., Any]


def _ensure_indexes(collection: Any) -> None:
    """One ``createIndexes`` command for the lookups' fields; never raises."""
    from pymongo import IndexModel
    from pymongo.errors import PyMongoError

    try:
        collection.create_indexes([IndexModel(name) for name in LOOKUP_INDEXES])
    except PyMongoError as exc:
        log_event(
            logger,
            "mongodb_indexes_not_ensured",
            level=logging.WARNING,
            error_type=type(exc).__name__,
        )


def _keep_hold(current: Account, set_fields: dict[str, Any]) -> None:
    """A held account stays held as it is: the first hold is the legal record (why, since when,
    which email), so a later notice is only its own history entry, never written over it; and
    the status stays ``on_hold`` until a person lifts the hold (a payment to zero included)."""
    if current.hold.active:
        set_fields.pop("hold", None)
    if current.held and set_fields.get("status", ON_HOLD) != ON_HOLD:
        del set_fields["status"]


def _unguarded(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return func(*args, **kwargs)


_MONGODB_SCHEMES = ("mongodb://", "mongodb+srv://")


def check_mongodb_settings(settings: Settings) -> None:
    """Raise :class:`ConfigError` (naming ``MONGODB_URI``, never its value) when the URI is
    missing, blank or the local default in production, has surrounding whitespace, or does not
    start with ``mongodb://`` / ``mongodb+srv://`` (pymongo would refuse it on every call)."""
    require_in_production(settings, "mongodb_uri")
    require_trimmed(settings, "mongodb_uri")
    if not settings.mongodb_uri.get_secret_value().startswith(_MONGODB_SCHEMES):
        raise ConfigError(
            "invalid configuration: MONGODB_URI must start with mongodb:// or mongodb+srv://"
        )


class MongoAccountRepository:
    """pymongo adapter; every call goes through ``guard`` (the "mongodb" circuit breaker).

    The client is created on first use and shared by every thread of the instance (pymongo's
    ``MongoClient`` is thread-safe and pools connections); timeouts are explicit. The settings
    are checked on construction (:func:`check_mongodb_settings`): a bad ``MONGODB_URI`` is a
    :class:`ConfigError` when the pipeline is built, not a MongoDB outage on every call.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        guard: Guard = _unguarded,
        collection_name: str = "accounts",
    ) -> None:
        self._settings = settings or get_settings()
        check_mongodb_settings(self._settings)
        self._guard = guard
        self._collection_name = collection_name
        self._client: Any = None
        self._accounts: Any = None  # the collection object, made once with the client
        self._lock = threading.Lock()
        self._next_backfill = 0.0  # time.monotonic() from which reference keys are derived

    # -- plumbing -------------------------------------------------------------------------

    def _collection(self) -> Any:
        accounts = self._accounts
        if accounts is not None:
            return accounts
        with self._lock:
            if self._accounts is None:
                if self._client is None:
                    import pymongo

                    timeout = self._settings.mongodb_timeout_ms
                    self._client = pymongo.MongoClient(
                        self._settings.mongodb_uri.get_secret_value(),
                        serverSelectionTimeoutMS=timeout,
                        connectTimeoutMS=timeout,
                        socketTimeoutMS=timeout,
                        maxPoolSize=20,
                        **DECODING,
                        appname="inbound-processor",
                    )
                collection = self._client[self._settings.mongodb_database][self._collection_name]
                if self._settings.mongodb_ensure_indexes:
                    _ensure_indexes(collection)
                self._accounts = collection
            return self._accounts

    def _call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        from bson.errors import BSONError
        from pymongo.errors import (
            ConnectionFailure,
            ExecutionTimeout,
            OperationFailure,
            PyMongoError,
        )

        def run() -> T:
            try:
                return func(*args, **kwargs)
            except (ConnectionFailure, ExecutionTimeout) as exc:  # unreachable, timed out
                raise DependencyUnavailable("mongodb", type(exc).__name__, stage="match") from None
            except OperationFailure as exc:
                if counts_as_failure(exc):  # the server is unavailable (failover, shutdown …)
                    raise DependencyUnavailable(
                        "mongodb", f"{type(exc).__name__} code={exc.code}", stage="match"
                    ) from None
                # the server refused this request: not an outage
                raise AccountQueryFailed(
                    f"mongodb: {type(exc).__name__} code={exc.code}", stage="match"
                ) from None
            except PyMongoError as exc:
                raise DependencyUnavailable("mongodb", type(exc).__name__, stage="match") from None
            except BSONError as exc:  # a reply that cannot be decoded: the data, not an outage
                raise AccountQueryFailed(f"mongodb: {type(exc).__name__}", stage="match") from None

        result: T = self._guard(run)
        return result

    def _find(self, query: dict[str, Any]) -> Lookup:
        def run() -> list[Any]:
            return list(self._collection().find(query, PROJECTION, limit=MAX_CANDIDATES))

        return _validated(self._call(run))

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
                self._accounts = None

    # -- reads ----------------------------------------------------------------------------

    def find_by_references(self, keys: list[str], *, spellings: Sequence[str] = ()) -> Lookup:
        """The accounts of ``{"$or": [{"ref_keys": {"$in": keys}}, {field: {"$in": spellings}}
        for each identifying field]}`` — the normalised keys (a scalar array, see the module
        docstring), and the spellings as written for an account stored without keys (another
        system wrote it since the last derivation) — asked as one indexed query per branch,
        side by side (:mod:`shared.workers`), in one guarded call: the local wire server
        answers an ``$or`` by reading every document. Each account comes back with its keys
        derived from the document as read, so the matcher sees which identifier matched; an
        account found without current keys gets them stored.

        When a derivation is due (:meth:`derive_reference_keys`), its query for the accounts
        without current keys goes beside the lookup's instead of the spellings: their keys are
        stored first, and those of them that hold one of ``keys`` are found, as the lookup would
        find them once derived. Only when it did not see every such account (a full batch, a
        refused query or refused writes) are the spellings asked after it.

        An account whose identifier another system changed while leaving its stored keys as
        they were is found by its other identifiers (and by its spelling as written between
        derivations); the keys it misses are stored whenever it is found. Such a system
        rewrites ``ref_keys`` or removes ``ref_keys_of`` with the identifier, as a loader does."""
        wanted = [_safe_key(key) for key in keys][:MAX_REFERENCE_KEYS]
        if not wanted:
            return Lookup([])
        written = list(
            dict.fromkeys(s for s in (_spelling(v) for v in spellings) if s is not None)
        )[:MAX_REFERENCE_KEYS]
        derive = self._derivation_due()
        fields = identifying_fields(self._settings)
        spec = ",".join(fields)
        by_spelling = [{path: {"$in": written}} for path in fields] if written else []
        queries = [{"ref_keys": {"$in": wanted}}, *([] if derive else by_spelling)]

        found, stale = self._call(partial(self._find_together, queries, spec if derive else None))
        derived: set[Any] = set()
        if isinstance(stale, AccountQueryFailed):  # the lookup itself still runs
            log_event(
                logger, "account_reference_keys_failed", level=logging.WARNING, error=str(stale)
            )
        elif stale is not None:
            derived = self._store_derived_keys(stale, fields)
            keyed = set(wanted)
            found = _union(
                [
                    found,
                    [
                        d
                        for d in stale
                        if d.get("_id") in derived and keyed.intersection(reference_keys(d, fields))
                    ],
                ]
            )
        if derive and by_spelling and not _saw_every_stale(stale, derived):
            more, _ = self._call(partial(self._find_together, by_spelling, None))
            found = _union([found, more])
        documents = [d for d in found if isinstance(d, Mapping)]
        self._store_missing_keys([d for d in documents if d.get("_id") not in derived], fields)
        return _validated({**d, "ref_keys": reference_keys(d, fields)} for d in documents)

    def _find_together(
        self, queries: list[dict[str, Any]], derive_spec: str | None
    ) -> tuple[list[Any], list[Any] | AccountQueryFailed | None]:
        """The union of ``queries``' documents, asked side by side, and with ``derive_spec``
        the derivation's query beside them (its documents, its refusal, or None)."""
        collection = self._collection()
        calls: list[Callable[[], Any]] = [partial(_find_list, collection, q) for q in queries]
        if derive_spec is not None:
            calls.append(partial(_find_stale, collection, derive_spec))
        timeout = self._settings.mongodb_timeout_ms / 1000 + 1.0
        try:
            found = run_together(calls, timeout=timeout)
        except WaitTimedOut:  # each query has the driver's deadline: this is our queue
            raise InstanceBusy("lookup queries not run in time", stage="match") from None
        stale = found.pop() if derive_spec is not None else None
        return _union(found), stale

    def _store_missing_keys(
        self, documents: list[Mapping[str, Any]], fields: tuple[str, ...]
    ) -> None:
        """Store the keys of the accounts found whose stored keys miss one of their identifiers:
        written without keys, for other identifying fields, or with an identifier another
        system changed since. Keys they hold beyond their identifiers' stay. Each write is
        guarded on the identifiers as read, so keys a writer stored meanwhile for a new
        identifier are never overwritten; a refused write is logged and the lookup goes on."""
        spec = ",".join(fields)
        for document in documents:
            keys = reference_keys(document, fields)
            stored = document.get("ref_keys")
            held = [k for k in stored if isinstance(k, str)] if isinstance(stored, list) else []
            current_spec = document.get("ref_keys_of") == spec
            if current_spec and set(keys) <= set(held):
                continue
            guard: dict[str, Any] = {"_id": document.get("_id")}
            for path in fields:
                value = field_value(document, path)
                if isinstance(value, str | int) and not isinstance(value, bool):
                    guard[path] = value
            stored_keys = list(dict.fromkeys([*keys, *held])) if current_spec else keys
            change = {"$set": {"ref_keys": stored_keys, "ref_keys_of": spec}}

            def run(query: dict[str, Any] = guard, update: dict[str, Any] = change) -> Any:
                return self._collection().update_one(query, update)

            try:
                self._call(run)
            except AccountQueryFailed as exc:
                log_event(
                    logger, "account_reference_keys_failed", level=logging.WARNING, error=str(exc)
                )

    def derive_reference_keys(self, *, batch: int = REFERENCE_BACKFILL_BATCH) -> int:
        """Store ``ref_keys`` on up to ``batch`` accounts written without them (or for other
        identifying fields); the number updated. Run with a reference lookup once
        ``MATCH_REFERENCE_BACKFILL_SECONDS`` have passed since the last run (0: every time)."""
        fields = identifying_fields(self._settings)
        spec = ",".join(fields)

        def run() -> int:
            collection = self._collection()
            stale = list(
                collection.find(
                    {"ref_keys_of": {"$nin": [spec]}},
                    # top-level roots: nx-27017 leaves dotted inclusion paths out
                    {path.split(".")[0]: True for path in fields},
                    limit=batch,
                )
            )
            for document in stale:
                collection.update_one(
                    {"_id": document["_id"]},
                    {"$set": {"ref_keys": reference_keys(document, fields), "ref_keys_of": spec}},
                )
            return len(stale)

        return self._call(run)

    def _store_derived_keys(self, stale: list[Any], fields: tuple[str, ...]) -> set[Any]:
        """The derivation's writes for the accounts found without current keys; the ids of
        those written (none when MongoDB refuses them: logged, the lookup goes on)."""
        spec = ",".join(fields)
        documents = [d for d in stale if isinstance(d, Mapping) and "_id" in d]

        def run() -> None:
            collection = self._collection()
            for document in documents:
                collection.update_one(
                    {"_id": document["_id"]},
                    {"$set": {"ref_keys": reference_keys(document, fields), "ref_keys_of": spec}},
                )

        if not documents:
            return set()
        try:
            self._call(run)
        except AccountQueryFailed as exc:
            log_event(
                logger, "account_reference_keys_failed", level=logging.WARNING, error=str(exc)
            )
            return set()
        log_event(logger, "account_reference_keys_derived", accounts=len(documents))
        return {d["_id"] for d in documents}

    def _derivation_due(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next_backfill:
                return False
            self._next_backfill = now + self._settings.match_reference_backfill_seconds
            return True

    def find_by_case_number(self, value: str) -> Lookup:
        return self._find({"case_number": safe_str(value, max_length=128)})

    def find_by_account_reference(self, value: str) -> Lookup:
        return self._find({"account_reference": safe_str(value, max_length=128)})

    def find_by_debtor_email(self, value: str) -> Lookup:
        return self._find({"debtor.email": safe_str(value).lower()})

    def find_by_balance_amount(self, amount: Decimal) -> Lookup:
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise UnsafeFilterValue("amount must be a finite Decimal")
        return self._find({"balance.amount": float(amount)})

    def find_by_creditors(self, creditors: list[str]) -> Lookup:
        names = [safe_str(name) for name in creditors][:MAX_CANDIDATES]
        if not names:
            return Lookup([])
        return self._find({"creditor": {"$in": names}})

    def creditor_names(self) -> list[str]:
        def run() -> list[Any]:
            return list(self._collection().distinct("creditor"))

        return [name for name in self._call(run) if isinstance(name, str)]

    def find_applied(self, email_id: str) -> Lookup:
        # ``$in``, not plain equality: MongoDB treats both alike on an array field, but the local
        # nx-27017 answers equality through its index as if the array were one value (no match)
        return self._find({"applied_email_ids": {"$in": [safe_str(email_id, max_length=128)]}})

    def get(self, key: Any) -> Account | None:
        def run() -> Any:
            return self._collection().find_one({"_id": key}, PROJECTION)

        document = self._call(run)
        return validate_account(document) if isinstance(document, Mapping) else None

    def already_applied(self, account: Account, email_id: str) -> ApplyResult:
        """What ``email_id`` applied to ``account`` earlier, read back from its history entry.

        The rare path (a redelivery after a lost report): one read projecting only ``history``.
        """
        email_id = safe_str(email_id, max_length=128)

        def run() -> Any:
            return self._collection().find_one({"_id": account.key}, HISTORY_ONLY)

        return already_applied_result(self._call(run), account.key, email_id)

    def find_by_account_id(self, value: str) -> Lookup:
        """The review console's account picker."""
        return self._find({"account_id": safe_str(value, max_length=128)})

    # -- the one write --------------------------------------------------------------------

    def apply(self, account: Account, email_id: str, update: AccountUpdate) -> ApplyResult:
        """Apply ``update`` once per email (see the module docstring)."""
        email_id = safe_str(email_id, max_length=128)
        current: Account | None = account
        for _ in range(3):
            settled = self._settled(account, current, email_id, update)
            if settled is not None or current is None:
                return settled or ApplyResult(ApplyStatus.NOT_APPLIED)
            query: dict[str, Any] = {
                "_id": current.key,
                "applied_email_ids": {"$nin": [email_id]},
            }
            set_fields = dict(update.set_fields)
            entry = dict(update.history_entry)
            before = after = None
            document: dict[str, Any] = {}
            if update.payment is not None:
                keys = self._payment_guard(current, update, update.payment)
                if keys is None:  # a possible duplicate: record the refusal instead
                    refused = self._refuse_payment(current, email_id, update)
                    if refused is not None:
                        return refused
                    current = self.get(current.key)
                    continue
                clashing, new_keys = keys
                before = current.balance.decimal
                after = before - update.payment
                if after < 0:
                    return ApplyResult(
                        ApplyStatus.NOT_APPLIED, before, None, reason="payment_exceeds_balance"
                    )
                query["balance.amount"] = current.balance.amount
                query["payment_keys"] = {"$nin": clashing}
                document["$push"] = {"payment_keys": {"$each": new_keys}}
                set_fields["balance.amount"] = float(after)
                if after == 0:
                    set_fields["status"] = PAID
                entry.update(balance_before=str(before), balance_after=str(after))
            _keep_hold(current, set_fields)
            if "status" in set_fields or update.payment is not None:
                # a hold landing after the read changes the status: re-read and decide again
                query["status"] = current.status
                if not current.held:  # ... or sets hold.active alone (another system)
                    query["hold.active"] = {"$nin": [True]}
            document["$addToSet"] = {"applied_email_ids": email_id, "history": entry}
            if set_fields:
                document["$set"] = set_fields

            def run(q: dict[str, Any] = query, d: dict[str, Any] = document) -> Any:
                return self._collection().update_one(q, d)

            result = self._call(run)
            if result.modified_count == 1:
                return ApplyResult(ApplyStatus.APPLIED, before, after)
            current = self.get(current.key)
        return ApplyResult(ApplyStatus.NOT_APPLIED, reason="concurrent_balance_change")

    def _settled(
        self, read: Account, current: Account | None, email_id: str, update: AccountUpdate
    ) -> ApplyResult | None:
        """The answer when ``update`` is not to be written to the account as it is now
        (``current``, None once it vanished; read as ``read`` when the caller decided on it):
        gone, already applied by this email, or a payment to an account held since the read.
        None when it is to be written."""
        if current is None:
            return ApplyResult(ApplyStatus.NOT_APPLIED, reason="account_vanished")
        if email_id in current.applied_email_ids:
            return self.already_applied(current, email_id)
        if update.payment is not None and current.held and not read.held:
            # a hold landed after the read the decision was made on: a payment to a held
            # account is reported, not recorded, whenever the hold came
            return ApplyResult(ApplyStatus.NOT_APPLIED, reason="account_on_hold")
        return None

    def _payment_guard(
        self, current: Account, update: AccountUpdate, amount: Decimal
    ) -> tuple[list[str], list[str]] | None:
        """(clashing keys for the filter, keys to push), or None when the payment clashes
        with one the account already holds (checked again by the filter, atomically)."""
        recorded_on = utc_day(update.at or datetime.now(UTC))
        window = self._settings.payment_duplicate_window_days
        clashing = clashing_keys(amount, update.payment_date, recorded_on, window)
        new_keys = payment_keys(amount, update.payment_date, recorded_on)
        known = current.payment_keys
        if known is None:  # never keyed: derive the keys of its older payments once
            known = self._legacy_payment_keys(current)
            new_keys = known + new_keys
        if set(clashing).intersection(known):
            return None
        return clashing, new_keys

    def _legacy_payment_keys(self, account: Account) -> list[str]:
        def run() -> Any:
            return self._collection().find_one({"_id": account.key}, HISTORY_ONLY)

        document = self._call(run)
        history = document.get("history") if isinstance(document, Mapping) else None
        return legacy_payment_keys(history)

    def _refuse_payment(
        self, current: Account, email_id: str, update: AccountUpdate
    ) -> ApplyResult | None:
        """Write ``refused_entry`` (no money, no status): the result, or None when the account
        changed meanwhile (the caller re-reads; this email may have been applied by then)."""
        if update.refused_entry is None:
            return ApplyResult(ApplyStatus.NOT_APPLIED, reason=POSSIBLE_DUPLICATE)
        query = {"_id": current.key, "applied_email_ids": {"$nin": [email_id]}}
        document = {
            "$addToSet": {"applied_email_ids": email_id, "history": dict(update.refused_entry)}
        }

        def run() -> Any:
            return self._collection().update_one(query, document)

        if self._call(run).modified_count == 1:
            return ApplyResult(ApplyStatus.APPLIED, payment_refused=POSSIBLE_DUPLICATE)
        return None

    # -- a person's hold (the review console) ---------------------------------------------

    def set_hold(self, account: Account, *, hold: dict[str, Any], entry: dict[str, Any]) -> bool:
        """Place (``hold["active"]``) or lift a hold, guarded on the hold's current state so two
        people cannot both do it; the status follows (``on_hold`` / ``active``) and ``entry`` is
        appended to the history. False: the hold was not in the other state (nothing written).
        The processor never lifts a hold; only a person does, through this."""
        active = bool(hold.get("active"))
        query = {"_id": account.key, "hold.active": not active}
        document = {
            "$set": {"hold": dict(hold), "status": ON_HOLD if active else "active"},
            "$push": {"history": dict(entry)},
        }

        def run() -> Any:
            return self._collection().update_one(query, document)

        return bool(self._call(run).modified_count == 1)
