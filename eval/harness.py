"""Runs corpus emails through the real processor pipeline on the local stack and records what
it did.

Each email goes the way a Pub/Sub push goes: its raw MIME is put in the stack's GCS bucket and
:meth:`shared.processing.pipeline.Pipeline.process` gets a :class:`Delivery` for it. The
pipeline is the one :func:`shared.processing.bootstrap.bootstrap` builds (Postgres store and
outbox, GCS, MongoDB accounts, breakers in Postgres); only Claude is left out when no
``ANTHROPIC_API_KEY`` is set, so the rules extractor stands in, as in production. Nothing of the
decision is re-implemented here: the outcome is read back from what the pipeline wrote, the
processing report and outbox rows (Postgres) and the accounts (MongoDB).

Every email meets the same accounts: the eval's collection is restored from the seed before each
one, so a hold or a payment from one email never changes the next one's result.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from eval.paths import ACCOUNTS_PATH, CORPUS_DIR, LABELS_PATH

ROUTE_HOLD, ROUTE_AUTO, ROUTE_NOTIFY, ROUTE_REVIEW, ROUTE_IGNORE = (
    "hold",
    "auto",
    "notify",
    "review",
    "ignore",
)
ROUTES = (ROUTE_AUTO, ROUTE_NOTIFY, ROUTE_REVIEW, ROUTE_HOLD, ROUTE_IGNORE)


def load_labels() -> dict[str, dict[str, Any]]:
    labels: dict[str, dict[str, Any]] = json.loads(LABELS_PATH.read_text())
    return labels


def load_accounts() -> list[dict[str, Any]]:
    accounts: list[dict[str, Any]] = json.loads(ACCOUNTS_PATH.read_text())
    return accounts


@dataclass
class Observed:
    """What the processor did with one email (read back from Postgres and MongoDB)."""

    name: str
    outcome: str  # done | failed | duplicate | error:<type>
    intent: str | None = None
    extractor: str | None = None
    decision: str | None = None
    reasons: list[str] = field(default_factory=list)
    match_method: str | None = None
    match_account: str | None = None
    match_ambiguous: bool = False
    fields: dict[str, Any] = field(default_factory=dict)
    notifications: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # accounts put on hold
    balance_lowered: dict[str, str] = field(default_factory=dict)  # account -> amount lowered
    contact_changed: list[str] = field(default_factory=list)
    recorded_on: list[str] = field(default_factory=list)  # accounts with an entry for this email
    actions: list[str] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=dict)

    @property
    def compliance_flagged(self) -> bool:
        """The processor treated the email as a compliance matter (hold and/or alert)."""
        return bool(self.held) or any(
            r.startswith(("compliance:", "compliance_wording:")) for r in self.reasons
        )

    @property
    def route(self) -> str:
        """The route in the label's words: what a person would see happen."""
        if self.compliance_flagged:
            return ROUTE_HOLD
        if self.decision == "AUTO_UPDATE":
            return ROUTE_AUTO
        if not self.notifications and not self.actions:
            return ROUTE_IGNORE
        if self.decision == "UPDATE_AND_NOTIFY":
            return ROUTE_NOTIFY
        if self.decision == "MANUAL_REVIEW":
            return ROUTE_REVIEW
        return ROUTE_IGNORE

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["route"] = self.route
        data["compliance_flagged"] = self.compliance_flagged
        return data


class Harness:
    """The pipeline, its stores and the eval's account collection, on a running stack.

    ``os.environ`` must already hold the stack's addresses (``LocalStack.env()``) when it is
    built; ``use_claude`` False builds the pipeline without Claude (the rules extractor).
    """

    def __init__(self, *, use_claude: bool) -> None:
        import pymongo

        from shared.accounts.mongo import MongoAccountRepository
        from shared.config import get_settings
        from shared.processing.bootstrap import bootstrap

        self.settings = get_settings()
        self.run_id = uuid.uuid4().hex[:10]
        self.collection_name = f"eval_accounts_{self.run_id}"
        self.seed = load_accounts()
        self.accounts = MongoAccountRepository(self.settings, collection_name=self.collection_name)
        self._mongo: Any = pymongo.MongoClient(
            self.settings.mongodb_uri.get_secret_value(),
            tz_aware=True,
            serverSelectionTimeoutMS=10_000,
        )
        self.collection = self._mongo[self.settings.mongodb_database][self.collection_name]
        kwargs: dict[str, Any] = {} if use_claude else {"claude": None}
        # Telemetry stays the product's own: without SENTRY_DSN it sends nothing.
        self.pipeline = bootstrap(self.settings, accounts=self.accounts, **kwargs)
        self._storage: Any = None

    def close(self) -> None:
        self.collection.drop()
        self._mongo.close()
        self.accounts.close()
        for adapter in (self.pipeline.deps.claude, self.pipeline.deps.mailer):
            close = getattr(adapter, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- one email ------------------------------------------------------------------------

    def run(self, name: str, label: dict[str, Any]) -> Observed:
        from shared.errors import ProcessingError
        from shared.processing.envelope import Delivery, EmailNotice

        raw = (CORPUS_DIR / name).read_bytes()
        self._reset_accounts()
        email_id = f"eval-{self.run_id}-{Path(name).stem}"[:120]
        bucket = self.settings.raw_email_bucket
        object_name = f"eval/{self.run_id}/{name}"
        self._bucket(bucket).blob(object_name).upload_from_string(raw, timeout=30)
        notice = EmailNotice(
            email_id=email_id,
            gcs_uri=f"gs://{bucket}/{object_name}",
            bucket=bucket,
            object_name=object_name,
            provider="raw",
            received_at=datetime.fromisoformat(label["received_at"]),
            size_bytes=len(raw),
            attachment_count=0,
            message_id=None,
        )
        delivery = Delivery(
            notice=notice,
            correlation_id=f"corr-{email_id}"[:64],
            pubsub_message_id="eval",
            publish_time=None,
            delivery_attempt=None,
        )
        try:
            outcome = self.pipeline.process(delivery)
        except ProcessingError as exc:  # transient: Pub/Sub would redeliver; count it as such
            outcome = f"error:{type(exc).__name__}"
        observed = Observed(name=name, outcome=outcome)
        self._read_report(email_id, observed)
        self._read_accounts(email_id, observed)
        return observed

    def _bucket(self, name: str) -> Any:
        if self._storage is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import storage  # type: ignore[attr-defined]

            self._storage = storage.Client(
                project=self.settings.google_cloud_project,
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            )
        return self._storage.bucket(name)

    def _reset_accounts(self) -> None:
        self.collection.delete_many({})
        self.collection.insert_many(copy.deepcopy(self.seed))

    def _read_report(self, email_id: str, observed: Observed) -> None:
        from sqlalchemy import text

        from shared.db.engine import transaction

        with transaction() as session:
            row = (
                session.execute(
                    text(
                        "SELECT decision, intent, extractor, fields, match, actions, pipeline "
                        "FROM processing_reports WHERE email_id = :id"
                    ),
                    {"id": email_id},
                )
                .mappings()
                .first()
            )
            kinds = session.execute(
                text("SELECT kind FROM notifications WHERE email_id = :id"), {"id": email_id}
            ).scalars()
            observed.notifications = sorted(str(k) for k in kinds)
        if row is None:
            return
        observed.decision = row["decision"]
        observed.intent = row["intent"]
        observed.extractor = row["extractor"]
        observed.fields = {
            name: (found.get("value") if isinstance(found, dict) else found)
            for name, found in (row["fields"] or {}).items()
        }
        match = row["match"] or {}
        observed.match_method = match.get("method")
        observed.match_account = match.get("account_id")
        observed.match_ambiguous = bool(match.get("ambiguous"))
        for action in row["actions"] or []:
            kind = action.get("type")
            if kind == "decision_reasons":
                observed.reasons = list(action.get("reasons") or [])
            elif kind not in ("notification", None):
                observed.actions.append(str(kind))
        pipeline = row["pipeline"] or {}
        tokens = pipeline.get("tokens") or pipeline.get("usage") or {}
        if isinstance(tokens, dict):
            observed.tokens = {k: int(v) for k, v in tokens.items() if isinstance(v, int)}

    def _read_accounts(self, email_id: str, observed: Observed) -> None:
        before = {doc["_id"]: doc for doc in self.seed}
        for doc in self.collection.find({}, {"history": 0}):
            seed = before.get(doc["_id"])
            if seed is None:
                continue
            if email_id in (doc.get("applied_email_ids") or []):
                observed.recorded_on.append(doc["_id"])
            if (doc.get("hold") or {}).get("active") or doc.get("status") == "on_hold":
                observed.held.append(doc["_id"])
            was = Decimal(str(seed["balance"]["amount"]))
            now = Decimal(str((doc.get("balance") or {}).get("amount", was)))
            if now < was:
                observed.balance_lowered[doc["_id"]] = str((was - now).quantize(Decimal("0.01")))
            if (doc.get("debtor") or {}).get("address") != seed["debtor"]["address"] or (
                doc.get("debtor") or {}
            ).get("phone") != seed["debtor"]["phone"]:
                observed.contact_changed.append(doc["_id"])
