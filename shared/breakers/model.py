"""What a breaker row says, as an immutable snapshot, and the store port that keeps the rows.

States are the ``circuit_breakers.state`` values: ``closed``, ``open``, ``half_open``. Every
datetime is timezone-aware UTC. The port's methods are single atomic steps (one SQL statement
each in :class:`shared.breakers.store.PostgresBreakerStore`); each conditional transition returns
the new row to exactly one caller (the winner) and ``None`` to everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

BreakerState = Literal["closed", "open", "half_open"]
CLOSED: BreakerState = "closed"
OPEN: BreakerState = "open"
HALF_OPEN: BreakerState = "half_open"


@dataclass(frozen=True)
class BreakerSnapshot:
    """One breaker row as read at one moment."""

    name: str
    state: BreakerState
    failure_count: int
    opened_at: datetime | None
    last_failure_at: datetime | None
    last_error_type: str | None
    trial_reserved_until: datetime | None = None
    alerted_at: datetime | None = None
    forced: bool = False
    updated_at: datetime | None = None

    @classmethod
    def closed(cls, name: str) -> BreakerSnapshot:
        """A fresh row (also what a breaker assumes when the store cannot be reached)."""
        return cls(name, CLOSED, 0, None, None, None)


@dataclass(frozen=True)
class ForcedChange:
    """An operator's change: the state before and the row after."""

    previous_state: BreakerState
    row: BreakerSnapshot


class BreakerStore(Protocol):
    """Atomic operations on breaker rows; ``now`` always comes from the caller's clock."""

    def read(self, name: str, now: datetime) -> BreakerSnapshot:
        """The row, created closed on first use."""
        ...

    def record_failure(self, name: str, now: datetime, error_type: str) -> BreakerSnapshot:
        """Increment the failure counter and return the row (one atomic statement)."""
        ...

    def try_open(self, name: str, now: datetime, fail_max: int) -> BreakerSnapshot | None:
        """closed → open if the counter reached ``fail_max``; the row for the one winner."""
        ...

    def reset_failures(self, name: str, now: datetime) -> None:
        """A success while closed: the streak starts again at zero."""
        ...

    def reserve_trial(
        self, name: str, now: datetime, reset_timeout: float, trial_until: datetime
    ) -> BreakerSnapshot | None:
        """open/half_open → half_open with a trial reservation, for one caller only."""
        ...

    def close_after_trial(
        self, name: str, token: datetime, now: datetime
    ) -> BreakerSnapshot | None:
        """The trial holding ``token`` succeeded: half_open → closed."""
        ...

    def reopen_after_trial(
        self, name: str, token: datetime, now: datetime, error_type: str
    ) -> BreakerSnapshot | None:
        """The trial holding ``token`` failed: half_open → open with a fresh ``opened_at``."""
        ...

    def release_trial(self, name: str, token: datetime, now: datetime) -> None:
        """The trial ended without a verdict: give the reservation back."""
        ...

    def mark_alerted(self, name: str, now: datetime) -> None:
        """Record that this outage's alert went out."""
        ...

    def force(self, name: str, action: str, now: datetime) -> ForcedChange:
        """Operator action ``force_open`` | ``force_close`` | ``reset``, or ``open`` (a trial
        after the reset timeout, as pybreaker's ``open()``)."""
        ...

    def list_all(self) -> list[BreakerSnapshot]:
        """Every row, by name."""
        ...
