"""``SharedBreaker``: a pybreaker ``CircuitBreaker`` whose state is a row all instances share.

pybreaker is used through its own extension points:

- **storage**: :class:`~shared.breakers.storage.BreakerRowStorage` is its ``state_storage``, on
  the breaker's Postgres row; ``current_state``, ``fail_counter``, ``fail_max``,
  ``reset_timeout``, ``name``, the decorator form and ``calling()`` are pybreaker's own;
- **exclusion list**: what :func:`~shared.breakers.classify.counts_as_failure` does not count is
  an exclusion predicate (:class:`NotCounted`); ``exclude=``, ``add_excluded_exception(s)``,
  ``remove_excluded_exception`` and ``is_system_error`` are pybreaker's own;
- **listeners**: ``CircuitBreakerListener``'s ``before_call``, ``success``, ``failure`` and
  ``state_change`` are called as pybreaker calls them, except that ``state_change`` comes once
  per transition, from the instance that made it, and a listener that raises is logged, never
  raised (telemetry must not break a protected call).

Overridden, each because pybreaker's mechanism cannot give the guarantee across instances:

- ``call``: pybreaker holds a per-object lock for the whole call (serialising an instance's
  requests) and counts by increment-then-read; here admission and outcome are single atomic
  statements (``UPDATE … + 1 RETURNING``, a conditional open that one caller wins, one reserved
  trial) and nothing is held while the protected function runs;
- ``state``: pybreaker's getter notifies listeners and resets the shared counter in every
  process that notices a change; here it builds the state object from the row, without effects;
- ``open``/``close``/``half_open``: pybreaker writes ``opened_at`` and ``state`` in two steps;
  here each is one statement, and ``half_open`` is refused (the trial is reserved by a call);
- ``call_async``: pybreaker's runs Tornado coroutines under that lock; refused, with the reason;
- ``name`` and ``success_threshold`` setters: the name is the row's key; one trial call decides.

One difference of policy, kept on purpose: an excluded (not counted) exception is neutral. It
neither counts nor resets the streak (pybreaker counts it as a success): a 429 or a "not found"
between two timeouts says nothing about whether the dependency is back.

Time comes from the injected ``clock`` (timezone-aware UTC). If the store cannot be reached
(``breaker_store_unavailable`` is logged), the breaker goes by the row this instance last knew:
known closed, or never read, it lets calls through (fail open: a store outage alone must not stop
a closed breaker's calls); known open, it refuses them, and a trial that cannot be reserved is
refused too (open stays open: never a flood of callers to a dependency last seen failing).
"""

from __future__ import annotations

import logging
import types
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar, cast

import pybreaker

from shared.breakers.alerts import BreakerAlerter
from shared.breakers.classify import counts_as_failure, describe_error
from shared.breakers.events import notify_transition
from shared.breakers.model import CLOSED, HALF_OPEN, OPEN, BreakerSnapshot, BreakerStore
from shared.breakers.storage import (
    PYBREAKER_STATES,
    BreakerRowStorage,
    Clock,
    log_store_unavailable,
    utc_now,
)
from shared.errors import BreakerOpenError
from shared.logs import log_event

T = TypeVar("T")
Exclusion = type[BaseException] | Callable[[BaseException], bool]

_logger = logging.getLogger(__name__)
_EVENTS: dict[str, str] = {
    CLOSED: "breaker_closed",
    OPEN: "breaker_opened",
    HALF_OPEN: "breaker_half_open",
}


class CircuitOpenError(BreakerOpenError, pybreaker.CircuitBreakerError):
    """The breaker refused the call: catch it as :class:`shared.errors.BreakerOpenError` (a
    transient error: retry later) or as pybreaker's ``CircuitBreakerError``."""


class NotCounted:
    """pybreaker exclusion predicate: ``True`` for an exception the classifier does not count."""

    def __init__(self, classify: Callable[[BaseException], bool | None]) -> None:
        self._classify = classify

    def __call__(self, exc: BaseException) -> bool:
        try:
            return self._classify(exc) is not True
        except Exception:  # a classifier bug must not break the call, nor open the breaker
            return True

    def __repr__(self) -> str:
        return f"NotCounted({getattr(self._classify, '__name__', self._classify)!r})"


@dataclass(frozen=True)
class _Ticket:
    """What admission decided for one call: the counter seen, and the trial token if any."""

    failure_count: int
    trial_token: datetime | None = None


class SharedBreaker(pybreaker.CircuitBreaker):
    """A circuit breaker whose state all instances share through a :class:`BreakerStore`."""

    def __init__(
        self,
        name: str,
        *,
        store: BreakerStore,
        clock: Clock = utc_now,
        fail_max: int = 5,
        reset_timeout: float = 60.0,
        trial_timeout: float = 300.0,
        cache_seconds: float = 1.0,
        alerter: BreakerAlerter | None = None,
        classify: Callable[[BaseException], bool | None] = counts_as_failure,
        exclude: Iterable[Exclusion] = (),
        listeners: Sequence[pybreaker.CircuitBreakerListener] = (),
    ) -> None:
        if fail_max < 1:
            raise ValueError("fail_max must be at least 1")
        if reset_timeout <= 0 or trial_timeout <= 0 or cache_seconds < 0:
            raise ValueError("reset_timeout and trial_timeout must be > 0, cache_seconds >= 0")
        self._storage = BreakerRowStorage(name, store, clock=clock, cache_seconds=cache_seconds)
        self._trial_timeout = trial_timeout
        self._alerter = alerter
        super().__init__(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            exclude=[*exclude, NotCounted(classify)],
            listeners=list(listeners),
            state_storage=self._storage,
            name=name,
            throw_new_error_on_trip=False,  # the call that trips re-raises its own error
        )
        self._storage.allow_io()

    # -- reading the state ----------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self._name)

    @name.setter
    def name(self, name: str) -> None:
        # Overridden: the name is the row's key, shared by every instance.
        raise AttributeError("a shared breaker's name is its row's key; it cannot change")

    @property
    def success_threshold(self) -> int:
        return 1

    @success_threshold.setter
    def success_threshold(self, threshold: int) -> None:
        # Overridden: one reserved trial call decides; more would need a reservation per call.
        if threshold != 1:
            raise ValueError("a shared breaker closes after one successful trial call")

    @property
    def state(self) -> pybreaker.CBStateType:
        """pybreaker's state object (``.name`` is ``current_state``), built from the row.

        Overridden: pybreaker's getter notifies listeners and resets the shared counter in every
        process that notices a change; here listeners hear of a transition once, from its maker.
        """
        return self._create_new_state(self.current_state)

    @state.setter
    def state(self, state: str) -> None:
        raise AttributeError("a shared breaker's state is its row: use open() or close()")

    def snapshot(self) -> BreakerSnapshot:
        """The breaker's row, from a snapshot no older than ``cache_seconds``."""
        return self._storage.snapshot()

    def refresh(self) -> BreakerSnapshot:
        """The breaker's row, read now (one round trip)."""
        return self._storage.snapshot(fresh=True)

    def is_open(self) -> bool:
        """Would a call now be refused without trying? (Cheap: cached snapshot ≤ 1 s.)

        ``False`` once the trial is due: one caller must try, so the processor should call and be
        ready for :class:`BreakerOpenError` if another instance took the trial.
        """
        now = self._storage.now()
        snap = self._storage.snapshot(now)
        return snap.state != CLOSED and not self._trial_due(snap, now)

    # -- the protected call ---------------------------------------------------------------

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``func`` unless the breaker is open; count the failures that count.

        Raises :class:`CircuitOpenError` without calling ``func`` when open (or half-open with the
        trial taken by someone else). Exceptions of ``func`` are re-raised unchanged. A generator
        (``calling()`` is one) is judged when it ends, as pybreaker does.

        Overridden: pybreaker holds its lock for the whole call and counts by increment-then-read.
        """
        ticket = self._admit()
        self._tell("before_call", func, *args, **kwargs)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            self._after_error(ticket, exc)
            raise
        if isinstance(result, types.GeneratorType):
            return cast(T, self._watch(ticket, result))
        self._after_success(ticket)
        return result

    def _watch(
        self, ticket: _Ticket, generator: Generator[Any, Any, Any]
    ) -> Generator[Any, Any, Any]:
        try:
            result = yield from generator
        except BaseException as exc:
            self._after_error(ticket, exc)
            raise
        self._after_success(ticket)
        return result

    def call_async(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> NoReturn:
        """Not supported; run blocking work with :meth:`call` in a thread instead.

        Overridden: pybreaker's runs Tornado coroutines under the lock that ``call`` avoids.
        """
        raise NotImplementedError(
            "SharedBreaker.call_async is not supported: pybreaker's version runs Tornado "
            "coroutines under a per-object lock (one call at a time), and the breaker's row "
            "store is synchronous (its Postgres round trips would block the event loop); use "
            "await asyncio.to_thread(breaker.call, func, *args)"
        )

    # -- operator actions -----------------------------------------------------------------

    def force_open(self) -> BreakerSnapshot:
        """Open now and hold it open (no trial call) until :meth:`force_close` or :meth:`reset`."""
        return self._force("force_open")

    def force_close(self) -> BreakerSnapshot:
        """Close now; the counter starts at zero."""
        return self._force("force_close")

    def reset(self) -> BreakerSnapshot:
        """Close and forget the last failure (a clean row)."""
        return self._force("reset")

    def open(self) -> bool:
        """pybreaker's ``open()``: open now; after ``reset_timeout`` one call gets the trial.

        Overridden: pybreaker writes ``opened_at`` and ``state`` in two steps; here one.
        """
        self._force("open")
        return self._throw_new_error_on_trip

    def close(self) -> None:
        """pybreaker's ``close()``: close now, the counter at zero (all-clear email if open).

        Overridden: one statement, announced once.
        """
        self._force("force_close")

    def half_open(self) -> None:
        # Overridden: every instance would let its callers through; the trial is reserved instead.
        raise NotImplementedError(
            "a shared breaker admits its trial call by itself after reset_timeout; "
            "use force_close() or reset() to close it"
        )

    # -- internals ------------------------------------------------------------------------

    def _trial_due(self, snap: BreakerSnapshot, now: datetime) -> bool:
        if snap.forced:
            return False
        if snap.opened_at is not None and now < snap.opened_at + timedelta(
            seconds=self.reset_timeout
        ):
            return False
        return snap.trial_reserved_until is None or snap.trial_reserved_until < now

    def _admit(self) -> _Ticket:
        now = self._storage.now()
        snap = self._storage.snapshot(now)
        if snap.state == CLOSED:
            return _Ticket(snap.failure_count)
        if not self._trial_due(snap, now):
            raise CircuitOpenError(self.name)
        try:
            row = self._storage.reserve_trial(now, self.reset_timeout, self._trial_timeout)
        except Exception as exc:
            # Not reserved within the store's budget: the breaker stays open for this caller.
            # Letting it through would let every caller through (each one's reservation fails
            # alike when Postgres is slow), uncounted, to a dependency last seen failing.
            log_store_unavailable(self.name, "reserve_trial", exc, outcome="refused")
            raise CircuitOpenError(self.name) from exc
        if row is None:
            # Someone else has the trial, or it already closed: look again before refusing.
            snap = self._storage.snapshot(now, fresh=True)
            if snap.state == CLOSED:
                return _Ticket(snap.failure_count)
            raise CircuitOpenError(self.name)
        if snap.state != HALF_OPEN:
            self._announce(snap.state, HALF_OPEN, row)
        else:
            log_event(_logger, "breaker_trial_retaken", breaker=self.name)
        return _Ticket(row.failure_count, trial_token=row.trial_reserved_until)

    def _counts(self, exc: BaseException) -> bool:
        try:
            return self.is_system_error(exc)  # pybreaker's: the exclusion list decides
        except Exception:  # a broken exclusion predicate must not replace the call's own error
            return False

    def _after_success(self, ticket: _Ticket) -> None:
        now = self._storage.now()
        closed = None
        try:
            if ticket.trial_token is not None:
                closed = self._storage.close_after_trial(ticket.trial_token, now)
            elif ticket.failure_count > 0:
                self._storage.reset_failures(now)
        except Exception as exc:
            log_store_unavailable(self.name, "record_success", exc)
        if closed is not None:
            self._announce(HALF_OPEN, CLOSED, closed, reason="trial_succeeded")
            if self._alerter is not None:
                self._alerter.closed(closed, now, "a trial call succeeded")
        self._tell("success")

    def _after_error(self, ticket: _Ticket, exc: BaseException) -> None:
        """Record ``exc`` if it counts. Never raises: the caller re-raises ``exc`` itself."""
        now = self._storage.now()
        if not self._counts(exc):
            if ticket.trial_token is not None:
                try:
                    self._storage.release_trial(ticket.trial_token, now)
                except Exception as store_exc:
                    log_store_unavailable(self.name, "release_trial", store_exc)
            return
        opened = None
        try:
            opened = self._count_failure(ticket, now, describe_error(exc))
        except Exception as store_exc:
            log_store_unavailable(self.name, "record_failure", store_exc)
        self._tell("failure", exc)
        if opened is not None:
            from_state, row = opened
            reason = "trial_failed" if from_state == HALF_OPEN else "failures"
            self._announce(from_state, OPEN, row, reason=reason)
            if row.alerted_at is None:  # a failed trial re-alerts only if the first alert failed
                self._alert_opened(row, now)

    def _count_failure(
        self, ticket: _Ticket, now: datetime, error_type: str
    ) -> tuple[str, BreakerSnapshot] | None:
        """Count one failure; ``(from_state, row)`` when this call opened the breaker."""
        if ticket.trial_token is not None:
            row = self._storage.reopen_after_trial(ticket.trial_token, now, error_type)
            if row is not None:
                return HALF_OPEN, row
        row = self._storage.record_failure(now, error_type)
        if row.state == CLOSED and row.failure_count >= self.fail_max:
            opened = self._storage.try_open(now, self.fail_max)
            if opened is not None:
                return CLOSED, opened
        return None

    def _alert_opened(self, row: BreakerSnapshot, now: datetime) -> None:
        if self._alerter is None:
            return
        if self._alerter.opened(row, self.reset_timeout):
            try:
                self._storage.mark_alerted(now)
            except Exception as exc:
                log_store_unavailable(self.name, "mark_alerted", exc)

    def _force(self, action: str) -> BreakerSnapshot:
        now = self._storage.now()
        change = self._storage.force(action, now)
        row = change.row
        log_event(_logger, "breaker_forced", breaker=self.name, action=action)
        if change.previous_state != row.state:
            self._announce(change.previous_state, row.state, row, reason=action)
            if row.state == CLOSED and self._alerter is not None:
                self._alerter.closed(row, now, f"{action.replace('_', ' ')} by an operator")
        return row

    def _announce(
        self, from_state: str, to_state: str, row: BreakerSnapshot, **fields: Any
    ) -> None:
        """One transition, announced once (by the instance that won it)."""
        log_event(
            _logger,
            _EVENTS.get(to_state, "breaker_transition"),
            level=logging.WARNING if to_state == OPEN else logging.INFO,
            breaker=self.name,
            from_state=from_state,
            to_state=to_state,
            failure_count=row.failure_count,
            last_error_type=row.last_error_type,
            **fields,
        )
        notify_transition(self.name, from_state, to_state)
        if self.listeners:
            old = self._create_new_state(PYBREAKER_STATES.get(from_state, pybreaker.STATE_CLOSED))
            new = self._create_new_state(PYBREAKER_STATES.get(to_state, pybreaker.STATE_CLOSED))
            self._tell("state_change", old, new)

    def _tell(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        """Call ``event`` on every pybreaker listener; one that raises is logged and skipped."""
        for listener in self.listeners:
            try:
                getattr(listener, event)(self, *args, **kwargs)
            except Exception as exc:  # listeners are telemetry: never break the call
                log_event(
                    _logger,
                    "breaker_listener_failed",
                    level=logging.WARNING,
                    breaker=self.name,
                    listener_event=event,
                    error_type=type(exc).__name__,
                )
