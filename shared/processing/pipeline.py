"""The processor's pipeline for one delivery: claim → read → parse → extract → match → decide →
apply → report (one transaction) → notify.

Built once per instance by :mod:`shared.processing.bootstrap` from its adapters; holds no
per-request state (every request's data lives in locals), so one instance serves concurrent
requests (``THREADS`` > 1) without locks around the slow calls.

Outcomes (:meth:`Pipeline.process`, :class:`~shared.processing.outcome.Outcome`): ``done``,
``failed`` (a permanent error: reported and acknowledged) or ``duplicate`` (already finished:
acknowledged, pending notifications sent).
Transient errors propagate after the lease is released (Pub/Sub redelivers).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from shared import workers
from shared.accounts import (
    ON_HOLD,
    POSSIBLE_DUPLICATE,
    Account,
    AccountRepository,
    AccountUpdate,
    Action,
    ApplyResult,
    ApplyStatus,
    UnsafeFilterValue,
)
from shared.config import Settings
from shared.errors import (
    BreakerOpenError,
    DependencyUnavailable,
    LeaseHeldError,
    PermanentError,
    ProcessingError,
)
from shared.extraction.automated import AUTO_GENERATED
from shared.extraction.errors import (
    ClaudeRateLimited,
    ClaudeRequestRejected,
    ClaudeUnavailable,
    MalformedModelAnswer,
)
from shared.extraction.models import Extraction, Extractor, ParsedEmail, TokenUsage
from shared.extraction.validation import INJECTION_SITE_PREFIX, INJECTION_WARNING, RELATIVE_DATE
from shared.logs import log_event
from shared.mail import Mailer, one_line
from shared.processing import decision as rules
from shared.processing.decision import Decision, Thresholds, decide, settle
from shared.processing.envelope import Delivery, EmailNotice
from shared.processing.matching import AccountMatcher, Match
from shared.processing.notifications import OutboxMessage, compose
from shared.processing.outbox import Outbox
from shared.processing.outcome import ClaimStatus, Outcome
from shared.processing.ports import BreakerLookup, Metrics, MetricsFactory, Telemetry
from shared.processing.raw_emails import RawEmailStore
from shared.processing.report import (
    NO_ACTION,
    AccountChange,
    NotificationQueued,
    PipelineTrace,
    Report,
    ReportedAction,
    done_report,
    failed_report,
)
from shared.processing.review import item_url, review_reason
from shared.processing.store import ProcessingStore

logger = logging.getLogger(__name__)

_HOST = socket.gethostname()[:40]


def new_lease_owner() -> str:
    """Unique per delivery (two threads of one instance never share a lease)."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


# How long a delivery whose claim failed waits for giving the lease back (the claim may have
# committed with its answer lost); the failing delivery is not held up longer than this.
RELEASE_AFTER_CLAIM_ERROR_SECONDS = 2.0

# The processor's request timeout is not a setting of its own: Terraform sets
# PROCESSOR_LEASE_SECONDS to it plus this (terraform/functions.tf, a timeout of at least 60 s),
# as the defaults do (360 s = 300 s + 60 s).
LEASE_OVER_REQUEST_SECONDS = 60


def request_seconds_of(settings: Settings) -> float | None:
    """How long a delivery's request may run (the function's timeout), or None when the lease
    is not shaped as Terraform sets it (a local or test stack: functions-framework answers no
    request late, so no thread runs on frozen)."""
    lease = settings.processor_lease_seconds
    if lease < 2 * LEASE_OVER_REQUEST_SECONDS:
        return None
    return float(lease - LEASE_OVER_REQUEST_SECONDS)


def apply_margin_of(settings: Settings) -> float:
    """The request time an account write must still have when it starts: two MongoDB
    operations (the write, and the re-read and write of a payment retried on a concurrent
    change), each bounded by ``MONGODB_TIMEOUT_MS``."""
    return 2 * settings.mongodb_timeout_ms / 1000


# A redelivery's reading points at another account than the one its earlier delivery changed.
REDELIVERY_MATCHED_ANOTHER_ACCOUNT = "redelivery_matched_another_account"


@dataclass(frozen=True)
class PipelineDeps:
    """Everything the pipeline talks to; see :func:`shared.processing.bootstrap.bootstrap`."""

    settings: Settings
    store: ProcessingStore
    outbox: Outbox
    raw_emails: RawEmailStore
    parse_email: Callable[[bytes], ParsedEmail]
    claude: Extractor | None
    rules: Extractor
    accounts: AccountRepository
    mailer: Mailer
    breakers: BreakerLookup
    new_metrics: MetricsFactory
    telemetry: Telemetry
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # The function's timeout; None: from the settings (:func:`request_seconds_of`).
    request_seconds: float | None = None


@dataclass
class _Run:
    """Per-delivery working state (a local of :meth:`Pipeline.process`, never shared)."""

    delivery: Delivery
    owner: str
    metrics: Metrics
    trace: PipelineTrace
    started_at: float = field(default_factory=time.monotonic)  # about the request's start
    claimed_at: float = 0.0  # time.monotonic() when the claim was ours
    queued_notifications: int = 0  # outbox rows this delivery's finish wrote
    # those of them the finish leased to this delivery (sent without a claim of their own)
    claimed_notifications: list[dict[str, Any]] = field(default_factory=list)

    @property
    def email_id(self) -> str:
        return self.delivery.email_id


@dataclass
class _ReadTimes:
    """How long the read and the parse beside the claim took (None: not finished), and
    whether the claim dropped them (then an email read already is not parsed)."""

    read: float | None = None
    parse: float | None = None
    read_done: threading.Event = field(default_factory=threading.Event)
    dropped: threading.Event = field(default_factory=threading.Event)


class _ReadDropped(Exception):
    """The claim was not ours: the email is not parsed (nobody takes this result)."""


class Pipeline:
    def __init__(self, deps: PipelineDeps) -> None:
        self.deps = deps
        settings = deps.settings
        self._thresholds = Thresholds(
            auto_update=settings.decision_auto_update_threshold,
            notify=settings.decision_notify_threshold,
        )
        self._matcher = AccountMatcher(
            deps.accounts,
            ambiguity_margin=settings.match_ambiguity_margin,
            fuzzy_min_score=settings.match_fuzzy_min_score,
            reference_pattern=(
                re.compile(settings.match_reference_pattern)
                if settings.match_reference_pattern
                else None
            ),
            max_reference_tokens=settings.match_reference_max_tokens,
        )
        self._sweep_lock = threading.Lock()
        self._next_sweep = 0.0  # time.monotonic() from which the next sweep may run
        self._request_seconds = (
            deps.request_seconds
            if deps.request_seconds is not None
            else request_seconds_of(settings)
        )
        self._apply_margin = apply_margin_of(settings)

    # -- entry ----------------------------------------------------------------------------

    def process(self, delivery: Delivery) -> Outcome:
        """Run one delivery; raises :class:`~shared.errors.TransientError` to be redelivered."""
        run = _Run(
            delivery=delivery,
            owner=new_lease_owner(),
            metrics=self.deps.new_metrics(
                email_id=delivery.email_id, correlation_id=delivery.correlation_id
            ),
            trace=PipelineTrace(
                delivery_attempt=delivery.delivery_attempt,
                pubsub_message_id=delivery.pubsub_message_id,
            ),
        )
        self._record_arrival(run)
        started = time.perf_counter()
        # The claim (Postgres) and the read (GCS) do not depend on each other: the read, then
        # the parse (local CPU only), run meanwhile on the overlap pool, and their result or
        # error is taken only once the claim is ours, where they stood before (a duplicate or
        # a held lease drops them).
        times = _ReadTimes()
        read = workers.submit(partial(self._read_and_parse, delivery.notice, times))
        try:
            claim = self.deps.store.claim(
                delivery.notice, correlation_id=delivery.correlation_id, owner=run.owner
            )
        except BaseException as exc:
            self._drop(read, times)
            if isinstance(exc, Exception):
                self._release_after_claim_error(run)
            raise
        if claim.status in (ClaimStatus.DONE, ClaimStatus.FAILED):
            self._drop(read, times)
            log_event(logger, "delivery_duplicate", status=claim.status, attempts=claim.attempts)
            self._send_notifications(run.email_id, own=True)
            return Outcome.DUPLICATE
        if claim.status == ClaimStatus.HELD:
            self._drop(read, times)
            log_event(logger, "delivery_lease_held", attempts=claim.attempts)
            raise LeaseHeldError("another delivery holds the lease", stage="claim")
        run.trace.attempt = claim.attempts
        run.claimed_at = time.monotonic()
        self.deps.telemetry.set_invocation_tags(
            email_id=run.email_id,
            attempt=claim.attempts,
            delivery_attempt=delivery.delivery_attempt,
            pubsub_message_id=delivery.pubsub_message_id,
        )
        log_event(logger, "email_claimed", attempt=claim.attempts)
        try:
            outcome = self._run(run, started, lambda: self._parsed_email(run, read, times))
        except PermanentError as exc:
            outcome = self._fail(run, exc, started)
        except BaseException as exc:
            self._on_transient(run, exc)
            raise
        # Finished here with nothing queued: this email has no outbox rows to look for; with
        # rows the finish leased to this delivery, those are all of them.
        claimed = run.claimed_notifications
        own = outcome == Outcome.DUPLICATE or (run.queued_notifications > 0 and not claimed)
        self._send_notifications(run.email_id, own=own, claimed=claimed)
        return outcome

    def reject(self, report: Report, *, provider: str | None) -> Outcome:
        """Record an undecodable delivery (already keyed and described by the caller)."""
        metrics = self.deps.new_metrics(
            email_id=report.email_id, correlation_id=report.correlation_id
        )
        metrics.record("error", 1, stage="envelope", error_type="InvalidEnvelope")
        return self.deps.store.record_invalid(report, provider=provider, metrics=metrics)

    # -- stages ---------------------------------------------------------------------------

    @contextmanager
    def _stage(self, run: _Run, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._record_stage(run, stage, time.perf_counter() - started)

    def _record_stage(self, run: _Run, stage: str, seconds: float) -> None:
        run.trace.stage_seconds[stage] = seconds
        run.metrics.record("processing_seconds", seconds, stage=stage)
        self.deps.telemetry.stage_breadcrumb(stage, seconds)

    def _read_and_parse(self, notice: EmailNotice, times: _ReadTimes) -> ParsedEmail:
        """The raw email read and parsed (on the overlap pool, beside the claim); each step's
        own duration, also when it fails, goes into ``times``."""
        started = time.perf_counter()
        try:
            raw = self.deps.raw_emails.read(notice.bucket, notice.object_name)
        finally:
            times.read = time.perf_counter() - started
            times.read_done.set()
        if times.dropped.is_set():  # the claim is not ours: parsing would be wasted
            raise _ReadDropped
        started = time.perf_counter()
        try:
            return self.deps.parse_email(raw)
        finally:
            times.parse = time.perf_counter() - started

    @staticmethod
    def _drop(read: Future[ParsedEmail], times: _ReadTimes) -> None:
        """Drop the read and the parse beside a claim that is not ours: not started, they never
        run; reading, the email is not parsed."""
        times.dropped.set()
        read.cancel()

    def _parsed_email(
        self, run: _Run, parsed: Future[ParsedEmail], times: _ReadTimes
    ) -> ParsedEmail:
        """The email read and parsed beside the claim; an error of either is raised here, as
        if they ran now."""
        # the read's own deadline (GCS retries included) bounds it; this only stops a hang
        timeout = 2 * self.deps.settings.processor_gcs_timeout_seconds + 5.0
        waited = time.perf_counter()
        try:
            if not times.read_done.wait(timeout):
                self._drop(parsed, times)  # a read that still ends is not parsed
                raise DependencyUnavailable("gcs", "TimeoutError", stage="read")
            # the parse has no deadline of its own, as when it ran on this thread
            return parsed.result()
        finally:
            self._record_stage(
                run, "read", times.read if times.read is not None else time.perf_counter() - waited
            )
            if times.parse is not None:
                self._record_stage(run, "parse", times.parse)

    def _run(self, run: _Run, started: float, parsed: Callable[[], ParsedEmail]) -> Outcome:
        email = parsed()
        with self._stage(run, "extract"):
            extraction = self._extract(run, email)
        _log_injection(extraction)
        with self._stage(run, "match"):
            match = self._matcher.match(extraction, email)
        if match.skipped_documents:
            run.trace.warnings.append("account_document_invalid")
        decision = decide(
            extraction,
            match,
            self._thresholds,
            email=email,
            received_at=run.delivery.notice.received_at,
        )
        with self._stage(run, "apply"):
            decision, changes = self._apply(run, extraction, match, decision, email)
        notifications = self._notifications(
            run, email=email, extraction=extraction, match=match, decision=decision, actions=changes
        )
        actions: list[ReportedAction] = [
            *changes,
            *(NotificationQueued(n.kind, n.dedup_key) for n in notifications),
        ]
        self._record_results(run, extraction, match, decision)
        run.metrics.record("processing_seconds", time.perf_counter() - started, stage="total")
        report = done_report(
            email_id=run.email_id,
            correlation_id=run.delivery.correlation_id,
            extraction=extraction,
            match=match,
            decision=decision,
            actions=actions,
            trace=run.trace,
        )
        claimed: list[dict[str, Any]] = []
        result = self.deps.store.finish(
            report,
            owner=run.owner,
            notifications=notifications,
            metrics=run.metrics,
            claimed=claimed,
        )
        if result == Outcome.DONE:
            run.queued_notifications = len(notifications)
            run.claimed_notifications = claimed
        log_event(
            logger,
            "email_processed" if result == Outcome.DONE else "delivery_duplicate",
            decision=decision.decision,
            intent=extraction.intent,
            extractor=extraction.extractor,
            degraded=extraction.degraded,
            match_method=match.method,
            actions=[a.type if isinstance(a, AccountChange) else "notification" for a in actions],
            seconds=round(time.perf_counter() - started, 3),
        )
        return result

    def _extract(self, run: _Run, email: ParsedEmail) -> Extraction:
        claude = self.deps.claude
        # mail no person wrote is not worth a model call (a machine notice that answers
        # nothing, auto_generated, may carry a payment or a bankruptcy: Claude reads it)
        if email.automated not in (None, AUTO_GENERATED):
            # what the sender wrote, not the subject an auto-reply quotes from ours nor the
            # quoted history: the decision reads compliance in bulk mail from this alone
            return self._rules(replace(email, subject="", quoted_text=""), degraded=False)
        if claude is None:
            run.trace.warnings.append("claude_not_configured")
            return self._rules(email, degraded=False)
        return self._from_claude(run, email, claude)

    def _from_claude(self, run: _Run, email: ParsedEmail, claude: Extractor) -> Extraction:
        """Claude's reading through its breaker, or the rules' (degraded) when Claude cannot
        give one: breaker open, request rejected, or on late deliveries (:meth:`_falls_back`)."""
        breaker = self.deps.breakers("claude")
        if breaker.is_open():
            run.trace.warnings.append("claude_breaker_open")
            return self._rules(email)
        try:
            extraction: Extraction = breaker.call(claude.extract, email)
        except BreakerOpenError:
            run.trace.warnings.append("claude_breaker_open")
            return self._rules(email)
        except ClaudeRequestRejected as exc:
            log_event(
                logger,
                "claude_request_rejected",
                level=logging.ERROR,
                status_code=exc.status_code,
                error_type=exc.error_type,
            )
            run.trace.warnings.append(f"claude_request_rejected:{exc.status_code}")
            return self._rules(email)
        except (MalformedModelAnswer, ClaudeUnavailable, ClaudeRateLimited) as exc:
            if not self._falls_back(run, exc):
                raise
            return self._rules(email)
        return extraction

    def _falls_back(
        self, run: _Run, exc: MalformedModelAnswer | ClaudeUnavailable | ClaudeRateLimited
    ) -> bool:
        """Whether this delivery reads the email with the rules after Claude failed it (True,
        recorded) or raises for a redelivery. Malformed answers fall back from
        ``PROCESSOR_RULES_FALLBACK_ATTEMPT``. Timeouts, failures and rate limits only from
        ``PROCESSOR_CLAUDE_OUTAGE_FALLBACK_ATTEMPT``, the last deliveries: they usually pass,
        but a rate limit never opens the breaker and one email's request can time out every
        time, and the dead-letter topic would take it."""
        settings = self.deps.settings
        # Claims count only the deliveries that got this far; Pub/Sub's count also holds those
        # lost to a Postgres blip at the claim, and the dead-letter topic goes by it.
        attempt = max(run.trace.attempt, run.delivery.delivery_attempt or 0)
        if isinstance(exc, MalformedModelAnswer):
            if exc.usage is not None:  # the tokens were spent even if the answer was useless
                _record_tokens(run.metrics, exc.usage)
            if attempt < settings.processor_rules_fallback_attempt:
                return False
            log_event(logger, "claude_malformed_fallback", level=logging.WARNING, reason=exc.reason)
            run.trace.warnings.append(f"claude_malformed_answer_fallback:{exc.reason}")
            return True
        if attempt < settings.processor_claude_outage_fallback_attempt:
            return False
        log_event(
            logger, "claude_outage_fallback", level=logging.WARNING, error_type=exc.error_type
        )
        run.trace.warnings.append(f"claude_unavailable_fallback:{exc.error_type}")
        return True

    def _rules(self, email: ParsedEmail, *, degraded: bool = True) -> Extraction:
        """The rules extractor's result; ``degraded`` only when it stands in for Claude after
        a failure (breaker open, request rejected, malformed answers), never offline."""
        extraction = self.deps.rules.extract(email)
        if extraction.degraded == degraded:
            return extraction
        return replace(extraction, degraded=degraded)

    def _apply(
        self,
        run: _Run,
        extraction: Extraction,
        match: Match,
        decision: Decision,
        email: ParsedEmail,
    ) -> tuple[Decision, list[AccountChange]]:
        self._keep_lease(run)
        several = self._several_targets(match, decision, email)
        if several is not None:
            return decision, self._apply_each(run, extraction, decision, several)
        earlier = self._earlier_apply(run)
        account = earlier or match.account
        if account is None:
            return decision, []
        result: ApplyResult
        if earlier is not None or (
            not decision.applies and run.email_id in account.applied_email_ids
        ):
            # an earlier attempt changed the account and lost its report: report that change,
            # never apply a second one (to this account or, on a different reading, another)
            result = self.deps.accounts.already_applied(account, run.email_id)
        elif decision.applies:
            update = self._update_for(run, extraction, decision)
            self._in_time_to_write(run)
            result = self.deps.accounts.apply(account, run.email_id, update)
        else:
            return decision, []
        change = AccountChange(
            type=decision.action or NO_ACTION,
            account_id=account.account_id,
            result=result.status,
            balance_before=_str_or_none(result.balance_before),
            balance_after=_str_or_none(result.balance_after),
            reason=result.reason or None,
        )
        if earlier is not None and match.account is not None and match.account.key != earlier.key:
            change.matched_now = match.account.account_id
            run.trace.warnings.append(REDELIVERY_MATCHED_ANOTHER_ACCOUNT)
        if result.status == ApplyStatus.ALREADY_APPLIED:
            run.trace.warnings.append("account_already_updated")
            run.trace.warnings.extend(_describe_earlier_apply(change, result))
        _report_refused_payment(run, decision, change, result)
        if result.status == ApplyStatus.NOT_APPLIED:
            run.trace.warnings.append(f"apply_skipped:{result.reason}")
        settled = settle(decision, result)
        if change.matched_now is not None:
            # the earlier change stands on one account, this reading points at another: a
            # payment may sit on the wrong debtor, which only a person can tell
            settled = rules.earlier_change_to_check(settled, REDELIVERY_MATCHED_ANOTHER_ACCOUNT)
        return settled, [change]

    def _keep_lease(self, run: _Run) -> None:
        """Before an account changes: a delivery past half its lease renews it, and stops if
        the email is no longer its own. Cloud Run answers a request past its timeout but lets
        the thread run on; once the lease expired a redelivery may have taken the email over
        and read it differently, and two deliveries would change two accounts. Within half
        the lease (every delivery but a stuck one) this costs nothing."""
        elapsed = time.monotonic() - run.claimed_at
        if elapsed <= self.deps.settings.processor_lease_seconds / 2:
            return
        if not self.deps.store.renew(run.email_id, owner=run.owner):
            log_event(logger, "lease_lost_before_apply", level=logging.WARNING)
            raise LeaseHeldError("lease lost before the account change", stage="apply")
        log_event(logger, "lease_renewed", elapsed_seconds=round(elapsed, 1))

    def _in_time_to_write(self, run: _Run) -> None:
        """Right before an account write: the request must still have the write's margin left.

        The lease (renewed or not) keeps other deliveries off only while this thread runs;
        past the function's timeout Cloud Run has answered the request and throttles the
        instance's CPU, so a thread still here may stall for longer than any lease and apply
        after a redelivery took the email over and changed another account. A write that
        would start that late is not started: the delivery raises (transient, the lease is
        released) and the redelivery does the work."""
        if self._request_seconds is None:
            return
        left = self._request_seconds - (time.monotonic() - run.started_at)
        if left >= self._apply_margin:
            return
        log_event(
            logger,
            "apply_too_late_in_request",
            level=logging.WARNING,
            seconds_left=round(left, 1),
            margin_seconds=self._apply_margin,
        )
        raise LeaseHeldError("too late in the request for the account change", stage="apply")

    def _several_targets(
        self, match: Match, decision: Decision, email: ParsedEmail
    ) -> list[Account] | None:
        """The accounts of a change that goes to each of several (a hold of every referenced
        account; a bounce note on every account of a failed recipient), or None."""
        if decision.hold and decision.hold_all_referenced:
            return list(match.referenced_accounts)
        if decision.action == Action.NOTE_BOUNCE:
            found: dict[str, Account] = {}
            for address in email.bounced_recipients:
                with suppress(UnsafeFilterValue):
                    for account in self.deps.accounts.find_by_debtor_email(address).accounts:
                        found.setdefault(account.account_id, account)
            return list(found.values())
        return None

    def _apply_each(
        self, run: _Run, extraction: Extraction, decision: Decision, accounts: list[Account]
    ) -> list[AccountChange]:
        """Apply one change to each account, once per email and account (the guard of
        :meth:`AccountRepository.apply`); a redelivery reports what is already there."""
        changes: list[AccountChange] = []
        for account in accounts:
            update = self._update_for(run, extraction, decision)
            if decision.action == Action.NOTE_BOUNCE:
                update = _bounce_update(update, account)
            self._in_time_to_write(run)
            result = self.deps.accounts.apply(account, run.email_id, update)
            changes.append(
                AccountChange(
                    type=decision.action or NO_ACTION,
                    account_id=account.account_id,
                    result=result.status,
                    reason=result.reason or None,
                )
            )
            if result.status == ApplyStatus.ALREADY_APPLIED:
                run.trace.warnings.append("account_already_updated")
        return changes

    def _earlier_apply(self, run: _Run) -> Account | None:
        """On a retry, the account an earlier attempt of this email already changed.

        Claude may read the email differently the second time and match another account; the
        once-per-email marker lives on each account, so it is looked up across all of them
        (one indexed query, on retries only)."""
        if run.trace.attempt <= 1:
            return None
        found = self.deps.accounts.find_applied(run.email_id).accounts
        if len(found) > 1:
            run.trace.warnings.append("applied_to_several_accounts")
        return found[0] if found else None

    def _update_for(self, run: _Run, extraction: Extraction, decision: Decision) -> AccountUpdate:
        now = self.deps.clock()
        entry: dict[str, Any] = {
            "email_id": run.email_id,
            "correlation_id": run.delivery.correlation_id,
            "at": now,
            "decision": decision.decision,
            "intent": extraction.intent,
            "action": decision.action,
            "extractor": extraction.extractor,
            "confidence": decision.confidence,
            "fields": {
                name: {"value": found.value, "confidence": round(found.confidence, 4)}
                for name, found in extraction.fields.items()
            },
        }
        set_fields: dict[str, Any] = {}
        payment = None
        if decision.action == Action.HOLD:
            set_fields["status"] = ON_HOLD
            set_fields["hold"] = {
                "active": True,
                "reason": decision.hold_reason or extraction.intent,
                "since": now,
                "email_id": run.email_id,
            }
        elif decision.action == Action.RECORD_PAYMENT:
            payment = rules.payment_amount(extraction)
            paid_on = rules.payment_date(extraction)  # a bad one blocks recording it
            # "yesterday" resent next week names another day: guard as if undated
            relative = f"{RELATIVE_DATE}:payment_date" in extraction.warnings
            entry["amount"] = None if payment is None else str(payment)
            entry["payment_date"] = None if paid_on is None else paid_on.isoformat()
            refused = rules.payment_refused(decision, POSSIBLE_DUPLICATE)
            refused_entry = {
                **entry,
                "decision": refused.decision,
                "action": refused.action,
                "payment_not_recorded": POSSIBLE_DUPLICATE,
            }
            return AccountUpdate(
                history_entry=entry,
                payment=payment,
                payment_date=None if relative else paid_on,
                at=now,
                refused_entry=refused_entry,
            )
        elif decision.action == Action.UPDATE_CONTACT:
            for field_name, path in (
                ("new_address", "debtor.address"),
                ("new_phone", "debtor.phone"),
            ):
                found = extraction.fields.get(field_name)
                if found is not None and isinstance(found.value, str):
                    set_fields[path] = one_line(found.value, 500)
        return AccountUpdate(set_fields=set_fields, history_entry=entry, payment=payment)

    def _notifications(
        self,
        run: _Run,
        *,
        email: ParsedEmail,
        extraction: Extraction,
        match: Match,
        decision: Decision,
        actions: list[AccountChange],
    ) -> list[OutboxMessage]:
        if decision.notification is None:
            return []
        needs_person = review_reason(
            failed=False,
            decision=decision.decision,
            reasons=decision.reasons,
            notifications=[decision.notification],
        )
        console_url = (
            item_url(self.deps.settings.console_base_url, run.email_id) if needs_person else None
        )
        return [
            compose(
                decision.notification,
                console_url=console_url,
                recipient=self.deps.settings.admin_email,
                email_id=run.email_id,
                correlation_id=run.delivery.correlation_id,
                email=email,
                extraction=extraction,
                match=match,
                decision=decision,
                actions=actions,
            )
        ]

    # -- endings --------------------------------------------------------------------------

    def _fail(self, run: _Run, exc: PermanentError, started: float) -> Outcome:
        stage = exc.stage
        error_type = type(exc).__name__
        log_event(logger, "email_failed", level=logging.WARNING, stage=stage, error_type=error_type)
        run.metrics.record("error", 1, stage=stage, error_type=error_type)
        run.metrics.record("processing_seconds", time.perf_counter() - started, stage="total")
        report = failed_report(
            email_id=run.email_id,
            correlation_id=run.delivery.correlation_id,
            stage=stage,
            error_type=error_type,
            message=str(exc)[:500],
            trace=run.trace,
        )
        result = self.deps.store.fail(report, owner=run.owner, metrics=run.metrics)
        return Outcome.FAILED if result == Outcome.DONE else result

    def _on_transient(self, run: _Run, exc: BaseException) -> None:
        stage = exc.stage if isinstance(exc, ProcessingError) else "unknown"
        log_event(
            logger,
            "email_retry",
            level=logging.WARNING,
            stage=stage,
            error_type=type(exc).__name__,
            attempt=run.trace.attempt,
        )
        run.metrics.record("error", 1, stage=stage, error_type=type(exc).__name__)
        # Best effort: a lease left behind only delays the redelivery until it expires.
        with suppress(Exception):
            self.deps.store.release(run.email_id, owner=run.owner)
        with suppress(Exception):
            self.deps.store.write_metrics(run.metrics)

    def _release_after_claim_error(self, run: _Run) -> None:
        """The claim may have committed with its answer lost (a dropped connection, a socket
        timeout): the row would stay leased to this delivery, which gives up, for a whole
        lease. Give it back with this delivery's owner token (a no-op when the claim did not
        commit), best effort and waiting at most :data:`RELEASE_AFTER_CLAIM_ERROR_SECONDS`: the
        release keeps running on the overlap pool within the database's own budgets."""
        release = partial(self.deps.store.release, run.email_id, owner=run.owner)
        with suppress(Exception):
            workers.result_of(workers.submit(release), RELEASE_AFTER_CLAIM_ERROR_SECONDS)

    def _send_notifications(
        self, email_id: str, *, own: bool, claimed: list[dict[str, Any]] | None = None
    ) -> None:
        """The rows leased to this delivery, or this email's pending rows (when it may have
        any), then the sweep if it is due."""
        settings = self.deps.settings
        mine = None
        if claimed:
            mine = self.deps.outbox.send_claimed(self.deps.mailer, claimed)
        elif own:
            mine = self.deps.outbox.send_pending(self.deps.mailer, email_id=email_id)
        if mine is not None and mine.failed:
            log_event(logger, "notifications_pending", level=logging.WARNING, failed=mine.failed)
        if settings.notification_sweep_batch > 0 and self._sweep_due():
            swept = self.deps.outbox.send_pending(
                self.deps.mailer, limit=settings.notification_sweep_batch
            )
            if swept.sent or swept.failed:
                log_event(logger, "notifications_swept", sent=swept.sent, failed=swept.failed)

    def _sweep_due(self) -> bool:
        """At most one sweep per ``NOTIFICATION_SWEEP_INTERVAL_SECONDS`` on this instance."""
        now = time.monotonic()
        with self._sweep_lock:
            if now < self._next_sweep:
                return False
            self._next_sweep = now + self.deps.settings.notification_sweep_interval_seconds
            return True

    # -- metrics --------------------------------------------------------------------------

    def _record_arrival(self, run: _Run) -> None:
        delivery = run.delivery
        if delivery.publish_time is not None:
            lag = (self.deps.clock() - delivery.publish_time).total_seconds()
            run.metrics.record("queue_lag_seconds", max(0.0, lag))
        if delivery.delivery_attempt is not None:
            run.metrics.record("delivery_attempt", delivery.delivery_attempt)

    def _record_results(
        self, run: _Run, extraction: Extraction, match: Match, decision: Decision
    ) -> None:
        metrics = run.metrics
        _record_tokens(metrics, extraction.usage)
        metrics.record("extraction_confidence", extraction.overall_confidence, field="overall")
        metrics.record("extraction_confidence", extraction.intent_confidence, field="intent")
        for name, found in extraction.fields.items():
            metrics.record("extraction_confidence", found.confidence, field=name)
        metrics.record("match_score", match.score, method=match.method or "none")
        metrics.record("decision", 1, decision=decision.decision)
        if decision.decision == rules.Route.AUTOMATED:
            kinds = [r.split(":", 1)[1] for r in decision.reasons if r.startswith("automated:")]
            if kinds:
                metrics.record("automated_mail", 1, kind=kinds[0])


def _report_refused_payment(
    run: _Run, decision: Decision, change: AccountChange, result: ApplyResult
) -> None:
    """A payment the repository refused (a possible duplicate; this delivery's or, on a
    redelivery, the first one's) is reported like a blocked payment (the decision's side is
    :func:`shared.processing.decision.settle`): a warning, and this call's change rewritten."""
    refused = rules.refused_payment(result)
    if refused is None or not decision.moves_money:
        return
    run.trace.warnings.append(f"payment_not_recorded:{refused}")
    if result.status == ApplyStatus.APPLIED:
        change.type = Action.REPORT_PAYMENT
        change.decided_now = Action.RECORD_PAYMENT
        change.reason = f"payment_not_recorded:{refused}"


def _bounce_update(update: AccountUpdate, account: Account) -> AccountUpdate:
    """The note that the debtor's address bounced: on the account, where staff see it."""
    entry = {**update.history_entry, "intent": "email_bounced", "note": "email_address_bounced"}
    entry.pop("fields", None)
    note = {"address": account.debtor.email, "at": entry.get("at"), "email_id": entry["email_id"]}
    return replace(update, set_fields={"debtor.email_bounced": note}, history_entry=entry)


def _str_or_none(value: object | None) -> str | None:
    return None if value is None else str(value)


def _record_tokens(metrics: Metrics, usage: TokenUsage) -> None:
    for name, value in (
        ("tokens_input", usage.input),
        ("tokens_output", usage.output),
        ("tokens_cache_read", usage.cache_read),
        ("tokens_cache_write", usage.cache_write),
    ):
        metrics.record(name, value)


def _log_injection(extraction: Extraction) -> None:
    """One line when an injection attempt is suspected: where (location kinds), never what."""
    if INJECTION_WARNING not in extraction.warnings:
        return
    sites = [
        w.removeprefix(INJECTION_SITE_PREFIX)
        for w in extraction.warnings
        if w.startswith(INJECTION_SITE_PREFIX)
    ]
    log_event(
        logger,
        "injection_suspected",
        level=logging.WARNING,
        sites=sites or ["model_flag"],
        extractor=extraction.extractor,
    )


def _describe_earlier_apply(change: AccountChange, result: ApplyResult) -> list[str]:
    """Report what the earlier delivery applied (its history entry), not this attempt's plan.

    Its report was lost (e.g. Postgres went away after the update), so this one is the record
    operators read: the balances come from the ``result``, the action type, decision and time
    from the entry; this attempt's own action is kept as ``decided_now`` if it differs. Returns
    the warnings for the report when that record could not be read back in full.
    """
    record = result.record
    if record is None:
        return [f"account_{result.reason or 'history_entry_invalid'}"]
    if record.action and record.action != change.type:
        change.decided_now = change.type
        change.type = record.action
    if record.decision:
        change.applied_decision = record.decision
    if record.at is not None:
        change.applied_at = record.at.isoformat()
    if change.type == Action.RECORD_PAYMENT and result.balance_before is None:
        change.reason = "balances_not_recorded"  # an entry written before they were
        return ["account_balances_not_recorded"]
    return []
