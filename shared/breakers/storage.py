"""pybreaker's ``CircuitBreakerStorage`` on one breaker row, with the snapshot cache.

:class:`BreakerRowStorage` is the ``state_storage`` that
:class:`~shared.breakers.breaker.SharedBreaker` hands to pybreaker: pybreaker's
``current_state``, ``fail_counter`` and the storage's ``state``, ``counter`` and ``opened_at``
read the row, and every write is one atomic statement of a
:class:`~shared.breakers.model.BreakerStore` (:class:`~shared.breakers.store.PostgresBreakerStore`
in production, an in-memory fake in unit tests).

pybreaker's interface has no way to say "count this failure and tell me the new count" in one
step (``increment_counter`` then ``counter`` is two, and another instance can count in between),
nor "open, if nobody else did". So beside it the storage offers the breaker the atomic steps of
the store — :meth:`record_failure`, :meth:`try_open`, :meth:`reserve_trial`, … — each returning
the row the statement wrote (to exactly one winner for a conditional transition), kept as the
snapshot.

Reads are cached for ``cache_seconds`` (1 s in production): a closed breaker under load costs at
most one ``SELECT`` per second per instance. A read that fails is logged
(``breaker_store_unavailable``) and answered with the row this instance last knew, however old,
cached the same way: a breaker known open stays open through a store outage, one known closed
stays closed. Only a breaker that never read its row answers a fresh closed row (fail open): a
store outage alone must not stop the calls of a closed breaker. Writes raise; the breaker logs
them the same way and decides what the failed step means.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pybreaker

from shared.breakers.model import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerSnapshot,
    BreakerStore,
    ForcedChange,
)
from shared.logs import log_event

Clock = Callable[[], datetime]

_logger = logging.getLogger(__name__)

# The row's state names and pybreaker's (``half_open`` is ``half-open`` there).
PYBREAKER_STATES: dict[str, str] = {
    CLOSED: pybreaker.STATE_CLOSED,
    OPEN: pybreaker.STATE_OPEN,
    HALF_OPEN: pybreaker.STATE_HALF_OPEN,
}
# What setting pybreaker's ``state`` means for a row (a trial is reserved by a call, not set).
_SET_STATE_ACTIONS = {pybreaker.STATE_OPEN: "open", pybreaker.STATE_CLOSED: "force_close"}


def utc_now() -> datetime:
    return datetime.now(UTC)


def log_store_unavailable(name: str, operation: str, exc: BaseException, **fields: str) -> None:
    """The store could not be reached for ``operation``; ``fields`` say what the breaker did."""
    log_event(
        _logger,
        "breaker_store_unavailable",
        level=logging.WARNING,
        breaker=name,
        operation=operation,
        error_type=type(exc).__name__,
        **fields,
    )


class BreakerRowStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker's storage interface, and the atomic steps it lacks, on the row ``name``."""

    def __init__(
        self,
        name: str,
        store: BreakerStore,
        *,
        clock: Clock = utc_now,
        cache_seconds: float = 1.0,
    ) -> None:
        super().__init__(name)
        self._store = store
        self._clock = clock
        self.now()  # a clock returning naive datetimes is refused here, clearly
        self._cache_seconds = cache_seconds
        self._cached: tuple[BreakerSnapshot, datetime] | None = None
        # The last row the store gave, kept when the cache is dropped: what a failed read answers.
        self._known: BreakerSnapshot | None = None
        # pybreaker's constructor reads ``state``: until allow_io(), a fresh closed row answers,
        # so building a breaker on a cold start costs no round trip.
        self._io_allowed = False

    def allow_io(self) -> None:
        """From now on, reads go to the store (called once the breaker is built)."""
        self._io_allowed = True

    def now(self) -> datetime:
        """The injected clock's time, timezone-aware UTC (tests move it instead of sleeping)."""
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the breaker clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    # -- the snapshot ---------------------------------------------------------------------

    def snapshot(self, now: datetime | None = None, *, fresh: bool = False) -> BreakerSnapshot:
        """The row: cached if younger than ``cache_seconds`` (unless ``fresh``), else read."""
        now = now or self.now()
        cached = self._cached
        if not fresh and cached is not None:
            age = (now - cached[1]).total_seconds()
            if 0 <= age < self._cache_seconds:
                return cached[0]
        if not self._io_allowed:
            return BreakerSnapshot.closed(self.name)
        try:
            snap = self._store.read(self.name, now)
        except Exception as exc:
            return self._unreadable(exc, now)
        return self._remember(snap, now)

    def _unreadable(self, exc: Exception, now: datetime) -> BreakerSnapshot:
        """A failed read: the last known row (an open breaker must not open the way to its
        dependency because Postgres is slow), or closed if none was ever read (fail open).
        Cached like a row, so an outage costs one wait per ``cache_seconds``, not per call."""
        known = self._known
        if known is None:
            snap, basis = BreakerSnapshot.closed(self.name), "never_read"
        else:
            snap, basis = known, "last_known"
        log_store_unavailable(self.name, "read", exc, assumed_state=snap.state, basis=basis)
        self._cached = (snap, now)
        return snap

    def forget(self) -> None:
        """Drop the cached row: the next read goes to the store (a failed one still answers
        the last known row)."""
        self._cached = None

    def _remember(self, snap: BreakerSnapshot, now: datetime) -> BreakerSnapshot:
        self._cached = (snap, now)
        self._known = snap
        return snap

    # -- pybreaker's interface ------------------------------------------------------------

    @property
    def state(self) -> str:
        """pybreaker's name of the row's state: ``closed``, ``open`` or ``half-open``."""
        return PYBREAKER_STATES[self.snapshot().state]

    @state.setter
    def state(self, state: str) -> None:
        """``open`` (a trial after ``reset_timeout``) or ``closed`` (counter at zero)."""
        if state not in _SET_STATE_ACTIONS:
            raise ValueError(
                f"a shared breaker cannot be set {state!r}: its trial call is reserved on the "
                "row by the call that takes it"
            )
        self.force(_SET_STATE_ACTIONS[state], self.now())

    @property
    def counter(self) -> int:
        """Consecutive counted failures, across all instances."""
        return self.snapshot().failure_count

    @property
    def success_counter(self) -> int:
        """Always 0: one successful trial call closes the breaker (``success_threshold`` 1)."""
        return 0

    @property
    def opened_at(self) -> datetime | None:
        return self.snapshot().opened_at

    @opened_at.setter
    def opened_at(self, datetime: datetime) -> None:
        raise NotImplementedError(
            "opened_at is written by the statement that opens the breaker (state = 'open'), "
            "never on its own"
        )

    def increment_counter(self) -> None:
        """One counted failure, in one statement (the breaker itself uses record_failure)."""
        self.record_failure(self.now(), "unspecified")

    def reset_counter(self) -> None:
        self.reset_failures(self.now())

    def increment_success_counter(self) -> None:
        """Nothing to count: one successful trial call closes the breaker."""

    def reset_success_counter(self) -> None:
        """Nothing to reset: the success counter is always 0."""

    # -- the atomic steps (one statement each) --------------------------------------------

    def record_failure(self, now: datetime, error_type: str) -> BreakerSnapshot:
        """Count a failure and return the row: the new count comes from the same statement."""
        return self._remember(self._store.record_failure(self.name, now, error_type), now)

    def try_open(self, now: datetime, fail_max: int) -> BreakerSnapshot | None:
        """closed → open at ``fail_max``; the row for the one caller that opened it."""
        row = self._store.try_open(self.name, now, fail_max)
        return self._remember(row, now) if row is not None else None

    def reset_failures(self, now: datetime) -> None:
        """A success while closed: the streak starts again at zero."""
        self._store.reset_failures(self.name, now)
        cached, known = self._cached, self._known
        if cached is not None and cached[0].state == CLOSED:
            self._cached = (replace(cached[0], failure_count=0), cached[1])
        if known is not None and known.state == CLOSED:
            self._known = replace(known, failure_count=0)

    def reserve_trial(
        self, now: datetime, reset_timeout: float, trial_timeout: float
    ) -> BreakerSnapshot | None:
        """The half-open trial for this caller only, held ``trial_timeout`` seconds at most."""
        row = self._store.reserve_trial(
            self.name, now, reset_timeout, now + timedelta(seconds=trial_timeout)
        )
        return self._remember(row, now) if row is not None else None

    def close_after_trial(self, token: datetime, now: datetime) -> BreakerSnapshot | None:
        row = self._store.close_after_trial(self.name, token, now)
        if row is None:
            self.forget()
            return None
        return self._remember(row, now)

    def reopen_after_trial(
        self, token: datetime, now: datetime, error_type: str
    ) -> BreakerSnapshot | None:
        row = self._store.reopen_after_trial(self.name, token, now, error_type)
        return self._remember(row, now) if row is not None else None

    def release_trial(self, token: datetime, now: datetime) -> None:
        self._store.release_trial(self.name, token, now)
        self.forget()

    def mark_alerted(self, now: datetime) -> None:
        self._store.mark_alerted(self.name, now)

    def force(self, action: str, now: datetime) -> ForcedChange:
        change = self._store.force(self.name, action, now)
        self._remember(change.row, now)
        return change
