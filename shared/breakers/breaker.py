"""``SharedBreaker``: a pybreaker ``CircuitBreaker`` whose state is a row in Postgres.

What is kept from pybreaker: the public surface (``name``, ``fail_max``, ``reset_timeout``,
``fail_counter``, ``current_state``, the decorator form, ``calling()``, ``CircuitBreakerListener``
listeners and ``is_system_error`` as the classification hook) and the storage interface (see
:class:`_RowStorage`). What is replaced, because pybreaker's design is in the way when state is
shared between processes:

- ``CircuitBreaker.call`` holds a per-object ``RLock`` for the whole protected call, which would
  serialise every concurrent request of an instance. Here nothing is held during the call.
- pybreaker increments, then reads the counter (two steps) and opens from every process that
  sees the threshold. Here the counter is ``UPDATE … + 1 RETURNING`` and opening is a
  conditional ``UPDATE`` that exactly one caller wins; only the winner alerts.
- pybreaker's listeners fire in every process that notices a change. Here transitions are
  announced (log line, metrics hook, pybreaker listeners, email) once, by the winner.
- pybreaker lets every caller through once the timeout passed; here one trial is reserved on the
  row, and everyone else keeps failing fast.
- Exceptions pybreaker excludes count as successes (they reset the streak); here "neutral"
  exceptions neither count nor reset (:mod:`shared.breakers.classify`).

Time comes from the injected ``clock`` (timezone-aware UTC). If the store cannot be reached, the
breaker behaves as closed (fail open) and logs ``breaker_store_unavailable``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pybreaker

from shared.breakers.alerts import BreakerAlerter
from shared.breakers.classify import counts_as_failure, describe_error
from shared.breakers.events import notify_transition
from shared.breakers.model import CLOSED, HALF_OPEN, OPEN, BreakerSnapshot, BreakerStore
from shared.errors import BreakerOpenError
from shared.logs import log_event

T = TypeVar("T")
Clock = Callable[[], datetime]

_logger = logging.getLogger(__name__)
_EVENTS: dict[str, str] = {
    CLOSED: "breaker_closed",
    OPEN: "breaker_opened",
    HALF_OPEN: "breaker_half_open",
}
_PYBREAKER_STATES: dict[str, str] = {
    CLOSED: pybreaker.STATE_CLOSED,
    OPEN: pybreaker.STATE_OPEN,
    HALF_OPEN: pybreaker.STATE_HALF_OPEN,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


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
        listeners: Sequence[pybreaker.CircuitBreakerListener] = (),
    ) -> None:
        if fail_max < 1:
            raise ValueError("fail_max must be at least 1")
        if reset_timeout <= 0 or trial_timeout <= 0 or cache_seconds < 0:
            raise ValueError("reset_timeout and trial_timeout must be > 0, cache_seconds >= 0")
        self._store = store
        self._clock = clock
        self._now()  # a clock returning naive datetimes is refused here, clearly
        self._trial_timeout = trial_timeout
        self._cache_seconds = cache_seconds
        self._alerter = alerter
        self._classify = classify
        self._cached: tuple[BreakerSnapshot, datetime] | None = None
        # pybreaker's constructor asks the storage for the state; answer without any I/O.
        self._constructed = False
        self._name = name
        super().__init__(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            listeners=list(listeners),
            state_storage=_RowStorage(self),
            name=name,
            throw_new_error_on_trip=False,
        )
        self._constructed = True

    # -- reading the state ----------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self._name)

    @name.setter
    def name(self, name: str) -> None:
        raise AttributeError("a shared breaker's name is its row's key; it cannot change")

    def state(self) -> BreakerSnapshot:  # type: ignore[override]
        """The breaker's row, from a snapshot no older than ``cache_seconds``."""
        return self._snapshot(self._now())

    def refresh(self) -> BreakerSnapshot:
        """The breaker's row, read now (one round trip)."""
        return self._snapshot(self._now(), fresh=True)

    def is_open(self) -> bool:
        """Would a call now be refused without trying? (Cheap: cached snapshot ≤ 1 s.)

        ``False`` once the trial is due: one caller must try, so the processor should call and be
        ready for :class:`BreakerOpenError` if another instance took the trial.
        """
        now = self._now()
        snap = self._snapshot(now)
        return snap.state != CLOSED and not self._trial_due(snap, now)

    @property
    def current_state(self) -> str:
        """pybreaker's name of the state: ``closed``, ``open`` or ``half-open``."""
        return _PYBREAKER_STATES[self.state().state]

    # -- the protected call ---------------------------------------------------------------

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``func`` unless the breaker is open; count the failures that count.

        Raises :class:`BreakerOpenError` without calling ``func`` when open (or half-open with the
        trial taken by someone else). Exceptions of ``func`` are re-raised unchanged.
        """
        ticket = self._admit()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            self._after_error(ticket, exc)
            raise
        self._after_success(ticket)
        return result

    @contextlib.contextmanager
    def calling(self) -> Iterator[None]:
        """``with breaker.calling(): …`` — the block is the protected call."""
        ticket = self._admit()
        try:
            yield
        except BaseException as exc:
            self._after_error(ticket, exc)
            raise
        self._after_success(ticket)

    def is_system_error(self, exception: BaseException) -> bool:
        """pybreaker's hook: ``True`` when the exception counts as a failure."""
        try:
            return self._classify(exception) is True
        except Exception:  # a classifier bug must not break the call
            return False

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
        """pybreaker's ``open()``: an operator's force-open."""
        self.force_open()
        return False

    def close(self) -> None:
        """pybreaker's ``close()``: an operator's force-close."""
        self.force_close()

    def half_open(self) -> None:
        raise NotImplementedError(
            "a shared breaker admits its trial call by itself after reset_timeout; "
            "use force_close() or reset() to close it"
        )

    # -- internals ------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the breaker clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def _remember(self, snap: BreakerSnapshot, now: datetime) -> BreakerSnapshot:
        self._cached = (snap, now)
        return snap

    def _snapshot(self, now: datetime, *, fresh: bool = False) -> BreakerSnapshot:
        cached = self._cached
        if not fresh and cached is not None:
            age = (now - cached[1]).total_seconds()
            if 0 <= age < self._cache_seconds:
                return cached[0]
        if not self._constructed:
            return BreakerSnapshot.closed(self.name)
        try:
            snap = self._store.read(self.name, now)
        except Exception as exc:
            self._store_unavailable("read", exc)
            snap = BreakerSnapshot.closed(self.name)
        return self._remember(snap, now)

    def _trial_due(self, snap: BreakerSnapshot, now: datetime) -> bool:
        if snap.forced:
            return False
        if snap.opened_at is not None and now < snap.opened_at + timedelta(
            seconds=self.reset_timeout
        ):
            return False
        return snap.trial_reserved_until is None or snap.trial_reserved_until < now

    def _store_unavailable(self, operation: str, exc: BaseException) -> None:
        log_event(
            _logger,
            "breaker_store_unavailable",
            level=logging.WARNING,
            breaker=self.name,
            operation=operation,
            error_type=type(exc).__name__,
        )

    def _admit(self) -> _Ticket:
        now = self._now()
        snap = self._snapshot(now)
        if snap.state == CLOSED:
            return _Ticket(snap.failure_count)
        if not self._trial_due(snap, now):
            raise BreakerOpenError(self.name)
        trial_until = now + timedelta(seconds=self._trial_timeout)
        try:
            row = self._store.reserve_trial(self.name, now, self.reset_timeout, trial_until)
        except Exception as exc:
            self._store_unavailable("reserve_trial", exc)
            return _Ticket(0)  # fail open
        if row is None:
            # Someone else has the trial, or it already closed: look again before refusing.
            snap = self._snapshot(now, fresh=True)
            if snap.state == CLOSED:
                return _Ticket(snap.failure_count)
            raise BreakerOpenError(self.name)
        self._remember(row, now)
        if snap.state != HALF_OPEN:
            self._announce(snap.state, HALF_OPEN, row)
        else:
            log_event(_logger, "breaker_trial_retaken", breaker=self.name)
        return _Ticket(row.failure_count, trial_token=row.trial_reserved_until)

    def _after_success(self, ticket: _Ticket) -> None:
        now = self._now()
        try:
            if ticket.trial_token is not None:
                row = self._store.close_after_trial(self.name, ticket.trial_token, now)
                if row is None:
                    self._cached = None
                    return
                self._remember(row, now)
                self._announce(HALF_OPEN, CLOSED, row, reason="trial_succeeded")
                if self._alerter is not None:
                    self._alerter.closed(row, now, "a trial call succeeded")
            elif ticket.failure_count > 0:
                self._store.reset_failures(self.name, now)
                cached = self._cached
                if cached is not None and cached[0].state == CLOSED:
                    self._cached = (replace(cached[0], failure_count=0), cached[1])
        except Exception as exc:
            self._store_unavailable("record_success", exc)

    def _after_error(self, ticket: _Ticket, exc: BaseException) -> None:
        """Record ``exc`` if it counts. Never raises: the caller re-raises ``exc`` itself."""
        now = self._now()
        try:
            if not self.is_system_error(exc):
                if ticket.trial_token is not None:
                    self._store.release_trial(self.name, ticket.trial_token, now)
                    self._cached = None
                return
            error_type = describe_error(exc)
            if ticket.trial_token is not None:
                row = self._store.reopen_after_trial(self.name, ticket.trial_token, now, error_type)
                if row is not None:
                    self._remember(row, now)
                    self._announce(HALF_OPEN, OPEN, row, reason="trial_failed")
                    if row.alerted_at is None:  # the first alert of this outage did not go out
                        self._alert_opened(row, now)
                    return
            row = self._store.record_failure(self.name, now, error_type)
            self._remember(row, now)
            if row.state == CLOSED and row.failure_count >= self.fail_max:
                opened = self._store.try_open(self.name, now, self.fail_max)
                if opened is not None:
                    self._remember(opened, now)
                    self._announce(CLOSED, OPEN, opened, reason="failures")
                    self._alert_opened(opened, now)
        except Exception as store_exc:
            self._store_unavailable("record_failure", store_exc)

    def _alert_opened(self, row: BreakerSnapshot, now: datetime) -> None:
        if self._alerter is None:
            return
        if self._alerter.opened(row, self.reset_timeout):
            try:
                self._store.mark_alerted(self.name, now)
            except Exception as exc:
                self._store_unavailable("mark_alerted", exc)

    def _force(self, action: str) -> BreakerSnapshot:
        now = self._now()
        change = self._store.force(self.name, action, now)
        row = self._remember(change.row, now)
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
        if not self.listeners:
            return
        old = self._create_new_state(_PYBREAKER_STATES.get(from_state, pybreaker.STATE_CLOSED))
        new = self._create_new_state(_PYBREAKER_STATES.get(to_state, pybreaker.STATE_CLOSED))
        for listener in self.listeners:
            try:
                listener.state_change(self, old, new)
            except Exception as exc:  # listeners are telemetry: never break the call
                log_event(
                    _logger,
                    "breaker_listener_failed",
                    level=logging.WARNING,
                    breaker=self.name,
                    error_type=type(exc).__name__,
                )


class _RowStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker's storage interface, answered from the breaker's row (for introspection)."""

    def __init__(self, breaker: SharedBreaker) -> None:
        super().__init__(breaker.__dict__.get("_name") or "shared")
        self._breaker = breaker

    @property
    def state(self) -> str:
        return _PYBREAKER_STATES[self._breaker.state().state]

    @state.setter
    def state(self, state: str) -> None:
        actions = {pybreaker.STATE_OPEN: "force_open", pybreaker.STATE_CLOSED: "force_close"}
        if state not in actions:
            raise ValueError(f"cannot set a shared breaker to {state!r}")
        self._breaker._force(actions[state])

    @property
    def counter(self) -> int:
        return self._breaker.state().failure_count

    @property
    def success_counter(self) -> int:
        return 0

    @property
    def opened_at(self) -> datetime | None:
        return self._breaker.state().opened_at

    @opened_at.setter
    def opened_at(self, datetime: datetime) -> None:
        """Ignored: ``opened_at`` is set by the transition that opens the breaker."""
