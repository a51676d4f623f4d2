"""One configuration object, read once from the environment.

Every setting has a default that works on the local stack (``make run``). With
``APP_ENV=production`` the settings production cannot run without are checked where they are
used, so each function needs only its own (the webhook has no database, Claude or MongoDB
settings): a missing (unset, blank, or the local default) or invalid one raises
:class:`ConfigError` naming the variable, never its value. Exactly these are enforced:

- every function, on load: ``DB_USER`` whenever ``INSTANCE_CONNECTION_NAME`` is set, and
  ``DECISION_NOTIFY_THRESHOLD`` ≤ ``DECISION_AUTO_UPDATE_THRESHOLD`` (:meth:`Settings._check`);
- the database engine (processor, rollup, any env): ``DATABASE_URL`` or
  ``INSTANCE_CONNECTION_NAME`` (``shared.db.engine``);
- the extractors (processor, production): ``ANTHROPIC_API_KEY``
  (``shared.extraction.factory``); there is no rules-only mode in production;
- the MongoDB client (processor, production): ``MONGODB_URI``, not the local default
  (``shared.accounts``); in any env it must start with ``mongodb://`` or ``mongodb+srv://``;
- the pipeline (processor, production): ``ADMIN_EMAIL`` and ``CIRCUIT_BREAKER_ALERT_EMAIL``, not
  the local defaults (``shared.processing.bootstrap``);
- the SMTP mailer (processor and the rollup's outbox sweep, production): ``SMTP_HOST`` and
  ``SMTP_FROM``, not the local defaults (``shared.mail``).

``ANTHROPIC_API_KEY`` and ``MONGODB_URI``, when set, must have no surrounding whitespace (a
secret stored with a trailing newline). Checks use :func:`require_in_production` and
:func:`require_trimmed`. Secrets are :class:`SecretStr`, so ``repr`` and ``str`` of the
settings never show them.

The names are the operators' (``SENTRY_DSN``, ``SMTP_*``, ``CIRCUIT_BREAKER_*`` …): keep them.

Add a setting as a typed field with a local default — ``name: int = 5``, or with bounds
``name: int = Field(default=5, ge=1, le=50)`` — in the block of its concern. The field ``foo_bar``
is read from the variable ``FOO_BAR`` (any case). Supported types: ``str``, ``int``, ``float``,
``bool``, :class:`SecretStr`, ``Literal[...]`` of strings, and any of them ``| None``.

Why not pydantic-settings (cold start, benchmark B6): every function reads the
settings on its first request, and importing pydantic with pydantic-settings cost 0.12–0.15 s of
CPU there — more than everything else the webhook and the rollup add to their client
libraries. This module parses the same way with the standard library (about 3 ms): values as
pydantic's lax mode reads strings (``" 7"``, ``"7.0"`` and ``"1_000"`` are integers; booleans
``true/false, 1/0, yes/no, on/off, t/f, y/n`` in any case), the same bound checks, and the same
error wording; ``tests/unit/test_config.py`` compares both on a grid of inputs.
"""

import dataclasses
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message names the variable, never its value."""


class SecretStr:
    """A secret setting: ``repr``/``str`` show ``**********``; ``get_secret_value()`` the value.

    The same interface as pydantic's ``SecretStr`` (equal when the values are equal)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')" if self._value else "SecretStr('')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other.get_secret_value() == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)


T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class _Bounds:
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def problem(self, value: float) -> str | None:
        """pydantic's wording and order (le, lt, ge, gt: NaN breaks every bound)."""
        if self.le is not None and not value <= self.le:
            return f"Input should be less than or equal to {self.le}"
        if self.lt is not None and not value < self.lt:
            return f"Input should be less than {self.lt}"
        if self.ge is not None and not value >= self.ge:
            return f"Input should be greater than or equal to {self.ge}"
        if self.gt is not None and not value > self.gt:
            return f"Input should be greater than {self.gt}"
        return None


def Field(  # noqa: N802 - pydantic's spelling, so settings read (and merge) as before
    *,
    default: T,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> T:
    """A setting with a default and numeric bounds (the subset of pydantic's ``Field`` used)."""
    bounds = _Bounds(ge=ge, gt=gt, le=le, lt=lt)
    return dataclasses.field(default=default, metadata={"bounds": bounds})


class _Invalid(ValueError):
    """One value cannot be read; the message is pydantic's wording, never the value."""


_INT = re.compile(r"[+-]?[0-9](?:_?[0-9])*(?:\.0*)?", re.ASCII)
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _parse_int(value: str) -> int:
    text = value.strip()
    if not _INT.fullmatch(text):
        raise _Invalid("Input should be a valid integer, unable to parse string as an integer")
    return int(text.partition(".")[0])


def _parse_float(value: str) -> float:
    try:
        if not value.isascii():
            raise ValueError(value)
        number = float(value)
    except ValueError:
        raise _Invalid(
            "Input should be a valid number, unable to parse string as a number"
        ) from None
    if not math.isfinite(number):  # "inf" as a timeout is no bound: waits overflow or never end
        raise _Invalid("Input should be a finite number")
    return number


def _parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _Invalid("Input should be a valid boolean, unable to interpret input")


def _literal_parser(choices: tuple[str, ...]) -> Any:
    quoted = [f"'{choice}'" for choice in choices]
    expected = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]

    def parse(value: str) -> str:
        if value not in choices:
            raise _Invalid(f"Input should be {expected}")
        return value

    return parse


_PARSERS: dict[Any, Any] = {
    str: str,
    int: _parse_int,
    float: _parse_float,
    bool: _parse_bool,
    SecretStr: SecretStr,
}


def _parser_for(annotation: Any) -> Any:
    """The string → value function for a field's type (``X | None`` reads as ``X``)."""
    if get_origin(annotation) in (Union, UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not NoneType]
        if len(inner) == 1:
            return _parser_for(inner[0])
    if get_origin(annotation) is Literal:
        return _literal_parser(tuple(str(choice) for choice in get_args(annotation)))
    if annotation in _PARSERS:
        return _PARSERS[annotation]
    raise TypeError(f"settings cannot read a field of type {annotation!r}")


_LOCAL_MONGODB_URI = SecretStr("mongodb://127.0.0.1:27017")
# What the logging module's setLevel takes by name (WARN and FATAL are its aliases).
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL", "NOTSET")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Typed settings; field ``foo_bar`` is read from the variable ``FOO_BAR``."""

    app_env: Literal["local", "test", "production"] = "local"
    google_cloud_project: str = "local-project"
    log_level: str = "INFO"

    # Postgres: a plain URL locally, the Cloud SQL connector (IAM auth) in production. Out of the
    # repr: it may carry a password.
    database_url: str | None = dataclasses.field(default=None, repr=False)
    instance_connection_name: str | None = None
    db_name: str = "emails"
    db_user: str | None = None
    db_ip_type: Literal["PUBLIC", "PRIVATE", "PSC"] = "PRIVATE"
    db_pool_size: int = Field(default=5, ge=1, le=50)
    db_max_overflow: int = Field(default=2, ge=0, le=50)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    db_pool_recycle_seconds: int = Field(default=1800, gt=0)
    # Database round trips: a pooled connection is pinged on checkout only when it
    # sat idle longer than this (0: on every checkout, SQLAlchemy's pre-ping). A busy instance
    # pays no ping; one waking from a quiet spell checks its connections first.
    db_ping_idle_seconds: float = Field(default=30.0, ge=0)
    # Statements with parameters as prepared statements, one exchange each instead of pg8000's
    # three (shared/db/prepared.py). Off only behind a pooler that cannot keep them.
    db_prepared_statements: bool = True
    # Timeouts (a frozen database: the connection stays open, no byte comes back). pg8000 has
    # none by default. Connect covers TCP, TLS and the startup exchange; the socket timeout
    # bounds every later wait for an answer and must exceed the statement timeout, so that
    # normally the server cancels first (a clean error, the connection stays usable). Statement,
    # lock and idle-in-transaction timeouts are set on the server for each new connection (in
    # the startup packet: no extra round trip); 0 turns one off.
    db_connect_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    db_socket_timeout_seconds: float = Field(default=45.0, gt=0, le=3600)
    db_statement_timeout_seconds: float = Field(default=30.0, ge=0, le=3600)
    db_lock_timeout_seconds: float = Field(default=10.0, ge=0, le=3600)
    db_idle_in_transaction_timeout_seconds: float = Field(default=60.0, ge=0, le=3600)

    # Pub/Sub and Cloud Storage.
    pubsub_topic: str = "inbound-emails"
    pubsub_dead_letter_topic: str = "inbound-emails-dead-letter"
    pubsub_processor_subscription: str = "inbound-emails-processor"
    pubsub_dead_letter_subscription: str = "inbound-emails-dead-letter"
    # The webhook answers 503 after this long without a confirmed publish (providers retry).
    pubsub_publish_timeout_seconds: float = Field(default=10.0, gt=0)
    raw_email_bucket: str = "raw-emails"

    # MongoDB: the client database of debtor accounts.
    mongodb_uri: SecretStr = _LOCAL_MONGODB_URI
    mongodb_database: str = "collections"
    mongodb_timeout_ms: int = Field(default=5000, gt=0)
    # Account lookups: the processor creates the indexes its account lookups
    # need (case number, account reference, debtor email) once per instance; a no-op when they
    # exist. Set false where the client database's owners manage indexes themselves.
    mongodb_ensure_indexes: bool = True

    # SMTP: staff notifications and breaker alerts.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_from: str = "inbound-processor@localhost"
    admin_email: str = "collections-staff@localhost"
    # SMTP sessions: a mailer keeps sessions open between its messages
    # (NOOP-checked before reuse; STARTTLS and login once per session); closed once idle this
    # long or after this many messages. False: one session per message, as before.
    smtp_reuse_connections: bool = True
    smtp_connection_idle_seconds: float = Field(default=30.0, gt=0)
    smtp_max_messages_per_connection: int = Field(default=100, ge=1)

    # Circuit breakers.
    circuit_breaker_alert_email: str = "ops@localhost"
    circuit_breaker_fail_max: int = Field(default=5, ge=1)
    circuit_breaker_reset_timeout: float = Field(default=60.0, gt=0)
    # Circuit breakers: how long a half-open trial call may hold its reservation before
    # another instance may take the trial, and how old a cached row may be on the hot path.
    circuit_breaker_trial_timeout: float = Field(default=300.0, gt=0)
    circuit_breaker_cache_seconds: float = Field(default=1.0, ge=0, le=10)
    # The breaker's own Postgres budget, separate from processing statements (own small pool):
    # connect, each answer and the wait for a pooled connection are bounded by this; the server
    # cancels a statement or lock wait after three quarters of it. Past it the breaker fails
    # open (the protected call runs) and logs breaker_store_unavailable.
    circuit_breaker_store_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    circuit_breaker_store_pool_size: int = Field(default=2, ge=1, le=10)

    # Claude.
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    # claude-sonnet-4-5 reaches end-of-life on 2026-11-30 (anthropic SDK 2.14 warns).
    claude_model: str = "claude-sonnet-5-5"
    claude_max_tokens: int = Field(default=2048, ge=256)
    claude_timeout_seconds: float = Field(default=60.0, gt=0)
    claude_max_retries: int = Field(default=2, ge=0, le=10)
    claude_max_input_chars: int = Field(default=40_000, ge=1000)
    # Extraction: scanned PDFs sent as document blocks, strict tools.
    claude_max_documents: int = Field(default=2, ge=0, le=5)
    claude_max_document_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=32 * 1024 * 1024)
    claude_strict_tool: bool = True

    # Decisions.
    decision_auto_update_threshold: float = Field(default=0.90, gt=0, le=1)
    decision_notify_threshold: float = Field(default=0.60, gt=0, le=1)
    # Payment duplicates (payment-duplicates): a payment is not recorded when the account
    # already holds a recorded payment of the same amount and, when either lacks a payment
    # date, recorded on the same UTC day or this many days before (same dates always clash).
    payment_duplicate_window_days: int = Field(default=14, ge=0, le=366)

    # Processor.
    # Longer than the processor's timeout (300 s), so a live attempt never loses its lease.
    processor_lease_seconds: int = Field(default=360, ge=1)
    # Processor: GCS reads, extraction fallback, matching, outbox.
    processor_gcs_timeout_seconds: float = Field(default=30.0, gt=0)
    processor_max_raw_email_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # From this attempt on, a malformed Claude answer falls back to the rules extractor.
    processor_rules_fallback_attempt: int = Field(default=3, ge=1)
    # From this attempt on, Claude timing out, failing or rate-limiting this email falls back to
    # the rules extractor too, so the email gets a (degraded, never auto-applied) report instead
    # of the dead-letter topic; late, because such failures usually pass. Terraform sets it to
    # the subscription's last delivery attempt but one.
    processor_claude_outage_fallback_attempt: int = Field(default=8, ge=1)
    # Two candidates whose match scores differ by less than this are ambiguous.
    match_ambiguity_margin: float = Field(default=0.05, ge=0, le=1)
    # Fuzzy debtor-name matches need at least this rapidfuzz score (0–100).
    match_fuzzy_min_score: float = Field(default=85.0, ge=0, le=100)
    # Account references of any format (shared.extraction.references): the account fields that
    # identify it besides case_number and account_reference (comma-separated, dotted paths);
    # an optional regular expression that ranks an email's tokens first (never required); the
    # most reference keys one email looks up; how often an instance derives the lookup keys of
    # accounts written without them by another system (0: before every lookup, one indexed
    # query that finds nothing once every account has its keys).
    match_reference_fields: str = ""
    match_reference_pattern: str = ""
    match_reference_max_tokens: int = Field(default=100, ge=1, le=500)
    match_reference_backfill_seconds: int = Field(default=0, ge=0)
    # Outbox: a notification is given up (status ``failed``, logged at ERROR) only once it has
    # had at least this many SMTP attempts AND is older than NOTIFICATION_GIVE_UP_AFTER_SECONDS;
    # compliance alerts are never given up (see docs/processing.md, outbox).
    notification_max_attempts: int = Field(default=10, ge=1)
    # Each delivery also retries up to this many older pending notifications (the sweep).
    notification_sweep_batch: int = Field(default=5, ge=0)
    # A pending notification is swept only once it is this old (its own delivery sends it).
    notification_sweep_min_age_seconds: int = Field(default=60, ge=0)
    # Outbox: an instance sweeps at most once per this many seconds (0: after every
    # delivery); a delivery's own notifications are always sent right after its commit.
    notification_sweep_interval_seconds: float = Field(default=30.0, ge=0)
    # Outbox backoff (outbox-backoff): a failed send schedules the next attempt
    # base * 2^(attempts-1) seconds later, capped at the max (30 s, 1 min, 2 min … 1 h).
    notification_retry_base_seconds: float = Field(default=30.0, gt=0)
    notification_retry_max_seconds: float = Field(default=3600.0, gt=0)
    # A failing notification is kept pending (and retried) for at least this long (3 days).
    notification_give_up_after_seconds: float = Field(default=3 * 24 * 3600.0, ge=0)
    # Mail the relay accepted while Postgres went away before the commit: how long marking it
    # sent is retried (on fresh connections) before the row is left pending, to be sent again.
    notification_record_sent_within_seconds: float = Field(default=60.0, ge=0)
    # A sender claims the rows it mails for this long (committed), so no other sender takes
    # them meanwhile; rows of a sender that died are due again when it ends.
    notification_send_lease_seconds: float = Field(default=300.0, gt=0)
    # Scheduled outbox sweep (Cloud Scheduler → rollup function, body {"task": "outbox_sweep"}):
    # due rows sent per round, and how long one call may keep sending.
    outbox_sweep_batch: int = Field(default=50, ge=1)
    outbox_sweep_max_seconds: float = Field(default=120.0, gt=0)

    # Webhook intake.
    webhook_max_body_bytes: int = Field(default=30 * 1024 * 1024, ge=1024, le=32 * 1024 * 1024)
    webhook_timestamp_tolerance_seconds: int = Field(default=300, ge=1)
    # A read of a request that waits longer than this for data, or a request (head and body)
    # not received within the deadline, ends with 408 and frees its thread
    # (shared/intake/serving.py).
    webhook_read_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    webhook_request_deadline_seconds: float = Field(default=50.0, gt=0, le=3600)
    webhook_mailgun_signing_key: SecretStr | None = None
    webhook_sendgrid_username: SecretStr | None = None
    webhook_sendgrid_password: SecretStr | None = None
    webhook_postmark_username: SecretStr | None = None
    webhook_postmark_password: SecretStr | None = None
    webhook_raw_secret: SecretStr | None = None
    # Webhook intake: bounded GCS calls, so an outage is a quick 503.
    webhook_gcs_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_gcs_retry_deadline_seconds: float = Field(default=5.0, ge=0, le=60)

    # Memory (webhook-memory): glibc's allocator tuned once per instance (shared/allocator.py):
    # blocks from this size are mmapped (a fixed threshold: glibc's dynamic one rises to 32 MB
    # after a large free and leaves later large buffers fragmenting the heap), free heap above
    # the trim threshold goes back to the system, at most this many malloc arenas, and the heap
    # is trimmed after an invocation whose body was at least MEMORY_TRIM_AFTER_BYTES.
    memory_tuning_enabled: bool = True
    memory_mmap_threshold_bytes: int = Field(default=128 * 1024, ge=16 * 1024, le=32 * 1024**2)
    memory_trim_threshold_bytes: int = Field(default=4 * 1024**2, ge=128 * 1024, le=256 * 1024**2)
    memory_arena_max: int = Field(default=2, ge=1, le=64)
    memory_trim_after_bytes: int = Field(default=4 * 1024**2, ge=0)

    # Observability.
    sentry_dsn: SecretStr | None = None
    sentry_environment: str = "local"
    sentry_release: str | None = None
    metrics_retention_days: int = Field(default=30, ge=1)
    rollup_time_zone: str = "UTC"

    # Observability: rollup retention batches, who may call the rollup in
    # production (OIDC: comma-separated service-account emails and audiences), the Cloud
    # Scheduler job the ops command triggers, Sentry flush on each invocation's end.
    metrics_retention_batch_size: int = Field(default=10_000, ge=1, le=50_000)
    rollup_allowed_invokers: str = ""
    rollup_audience: str = ""
    rollup_scheduler_job: str = "rollup-nightly"
    rollup_scheduler_location: str = "europe-west1"
    sentry_flush_timeout_seconds: float = Field(default=2.0, ge=0, le=30)
    # Ops commands: each Cloud Scheduler and Pub/Sub (dead letters) call.
    ops_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    stack_log_dir: str | None = None  # the local stack's per-function JSON-lines logs

    # Review console (shared/console): its public address (staff notifications link to items;
    # empty: no link), who may sign in with which roles ("a@x=reviewer;b@x=supervisor,operator"),
    # the IAP audience its JWT must carry ("/projects/NUMBER/global/backendServices/ID" or
    # "/projects/NUMBER/apps/PROJECT"), the key that signs its session cookie, how long opening
    # an item claims it, and the development sign-in (pick any user and role: local only,
    # refused with APP_ENV=production).
    console_base_url: str = ""
    console_roles: str = ""
    console_iap_audience: str = ""
    console_secret_key: SecretStr | None = None
    console_claim_minutes: int = Field(default=15, ge=1, le=240)
    console_dev_sign_in: bool = False

    def _reference_problem(self) -> str | None:
        """MATCH_REFERENCE_PATTERN compiles; MATCH_REFERENCE_FIELDS are field paths."""
        if self.match_reference_pattern:
            try:
                re.compile(self.match_reference_pattern)
            except re.error:
                return "MATCH_REFERENCE_PATTERN is not a valid regular expression"
        for path in filter(None, (p.strip() for p in self.match_reference_fields.split(","))):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", path):
                return "MATCH_REFERENCE_FIELDS must be comma-separated field paths"
        return None

    def _check(self) -> str | None:
        """Rules across settings: the first problem, or ``None``."""
        if self.decision_notify_threshold > self.decision_auto_update_threshold:
            return "DECISION_NOTIFY_THRESHOLD must not exceed DECISION_AUTO_UPDATE_THRESHOLD"
        return (
            self._reference_problem()
            or self._database_problem()
            or self._runtime_problem()
            or self._mail_problem()
        )

    def _mail_problem(self) -> str | None:
        """The sender is one address and each recipient setting a list of addresses: a wrong
        value would otherwise show only as refused mail, staff and operators unwarned."""
        if len(_addresses(self.smtp_from) or ()) != 1:
            return "SMTP_FROM must be one email address"
        for name in ("admin_email", "circuit_breaker_alert_email"):
            if not _addresses(getattr(self, name)):
                return f"{name.upper()} must be one or more email addresses, comma-separated"
        return None

    def _database_problem(self) -> str | None:
        # The database is checked where it is used (the webhook never needs it):
        # shared.db.engine raises ConfigError when neither DATABASE_URL nor
        # INSTANCE_CONNECTION_NAME is set.
        if 0 < self.db_statement_timeout_seconds >= self.db_socket_timeout_seconds:
            return "DB_SOCKET_TIMEOUT_SECONDS must exceed DB_STATEMENT_TIMEOUT_SECONDS"
        if self.instance_connection_name and not self.db_user:
            return "DB_USER is required with INSTANCE_CONNECTION_NAME"
        return None

    def _runtime_problem(self) -> str | None:
        if self.console_dev_sign_in and self.app_env == "production":
            return "CONSOLE_DEV_SIGN_IN must not be enabled with APP_ENV=production"
        if self.log_level.upper() not in _LOG_LEVELS:
            return f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}"
        # A sender mails a leased outbox row only while the lease has room for one message and
        # for recording it (shared.processing.outbox): without that room, another sender could
        # mail the same row again.
        record_within = min(
            self.notification_record_sent_within_seconds, self.notification_send_lease_seconds
        )
        if self.notification_send_lease_seconds <= record_within + 3 * self.smtp_timeout_seconds:
            return (
                "NOTIFICATION_SEND_LEASE_SECONDS must exceed "
                "NOTIFICATION_RECORD_SENT_WITHIN_SECONDS + 3 x SMTP_TIMEOUT_SECONDS"
            )
        return None


def _addresses(value: str) -> list[str] | None:
    """The addresses of a header-style list ("a@x.org, Ops <b@y.org>"); None when any entry is
    no address or the value could break a header line."""
    from email.utils import getaddresses

    if not value.strip() or any(c in value for c in "\r\n\x00"):
        return None
    found = []
    for _name, address in getaddresses([value]):
        local, at, domain = address.rpartition("@")
        if not (local and at and domain) or any(c.isspace() for c in address):
            return None
        found.append(address)
    return found or None


@lru_cache(maxsize=1)
def _readers() -> tuple[tuple[str, Any, Any, _Bounds | None], ...]:
    """(name, parser, default, bounds) of every field, worked out once per process."""
    readers = []
    for spec in dataclasses.fields(Settings):
        bounds = spec.metadata.get("bounds")
        readers.append((spec.name, _parser_for(spec.type), spec.default, bounds))
    return tuple(readers)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: the process environment).

    Raises :class:`ConfigError` naming each bad variable; values are never echoed.
    """
    if environ is None:
        import os

        environ = os.environ
    lowered = {key.lower(): value for key, value in environ.items()}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, parse, default, bounds in _readers():
        raw = lowered.get(name)
        try:
            value = default if raw is None else parse(raw)
            if bounds is not None and isinstance(value, int | float):
                problem = bounds.problem(value)
                if problem is not None:
                    raise _Invalid(problem)
        except _Invalid as exc:
            problems.append(f"{name.upper()}: {exc}")
            continue
        values[name] = value
    if problems:
        raise ConfigError("invalid configuration: " + "; ".join(problems))
    settings = Settings(**values)
    problem = settings._check()
    if problem is not None:
        raise ConfigError("invalid configuration: " + problem)
    return settings


# Production requirements: checked where a setting is used, so that each function
# requires only the settings it reads (terraform/functions.tf gives each function its own).
def _field_defaults() -> dict[str, Any]:
    return {spec.name: spec.default for spec in dataclasses.fields(Settings)}


def _is_blank(value: Any) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value is None or (isinstance(value, str) and not value.strip())


def require_in_production(settings: Settings, *names: str) -> None:
    """With ``APP_ENV=production``, raise :class:`ConfigError` naming every field of ``names``
    that is unset, blank, or still its local default (``MONGODB_URI`` at ``127.0.0.1``); in
    other environments do nothing. The message names the variables, never a value."""
    if settings.app_env != "production":
        return
    defaults = _field_defaults()
    missing = [
        name.upper()
        for name in names
        if _is_blank(getattr(settings, name))
        or (defaults[name] is not None and getattr(settings, name) == defaults[name])
    ]
    if missing:
        raise ConfigError(
            "invalid configuration: required in production (missing, empty or the local "
            "default): " + ", ".join(missing)
        )


def require_trimmed(settings: Settings, *names: str) -> None:
    """Raise :class:`ConfigError` naming every field of ``names`` whose value is set but has
    leading or trailing whitespace (a secret stored with its newline); ``None`` is fine."""
    bad = []
    for name in names:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str) and value != value.strip():
            bad.append(name.upper())
    if bad:
        raise ConfigError(
            "invalid configuration: leading or trailing whitespace in " + ", ".join(bad)
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (never at import)."""
    return load_settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests that change the environment call this)."""
    get_settings.cache_clear()


# Ops command line: a dotenv-style file (``.local/stack.env``) into the environment.
def load_env_file(path: str | Path) -> list[str]:
    """Set each ``KEY=VALUE`` line of ``path`` in ``os.environ`` unless the variable is already
    set (the caller's environment wins); skip blank lines and ``#`` comments. Resets the cached
    settings and returns the keys it set. Raises :class:`ConfigError` for an unreadable file."""
    import os

    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read env file {path}: {exc.strerror}") from None
    applied = []
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        key, value = stripped.split("=", 1)
        key = key.strip()
        if key and key not in os.environ:
            os.environ[key] = value.strip()
            applied.append(key)
    reset_settings_cache()
    return applied
