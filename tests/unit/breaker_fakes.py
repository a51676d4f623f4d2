"""Fakes for the breaker's unit tests: an in-memory store with the Postgres store's semantics,
a settable clock, and a store that is down."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.breakers.model import BreakerSnapshot, ForcedChange

T0 = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class MemoryBreakerStore:
    """The BreakerStore port in memory; ``calls`` records every operation (a round trip each)."""

    def __init__(self) -> None:
        self.rows: dict[str, BreakerSnapshot] = {}
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def _row(self, name: str, now: datetime) -> BreakerSnapshot:
        if name not in self.rows:
            self.rows[name] = replace(BreakerSnapshot.closed(name), updated_at=now)
        return self.rows[name]

    def _set(self, row: BreakerSnapshot, **changes: object) -> BreakerSnapshot:
        new = replace(row, **changes)  # type: ignore[arg-type]
        self.rows[row.name] = new
        return new

    def read(self, name: str, now: datetime) -> BreakerSnapshot:
        with self._lock:
            self.calls.append("read")
            return self._row(name, now)

    def record_failure(self, name: str, now: datetime, error_type: str) -> BreakerSnapshot:
        with self._lock:
            self.calls.append("record_failure")
            row = self._row(name, now)
            return self._set(
                row,
                failure_count=row.failure_count + 1,
                last_failure_at=now,
                last_error_type=error_type,
                updated_at=now,
            )

    def try_open(self, name: str, now: datetime, fail_max: int) -> BreakerSnapshot | None:
        with self._lock:
            self.calls.append("try_open")
            row = self._row(name, now)
            if row.state != "closed" or row.failure_count < fail_max:
                return None
            return self._set(
                row,
                state="open",
                opened_at=now,
                trial_reserved_until=None,
                alerted_at=None,
                updated_at=now,
            )

    def reset_failures(self, name: str, now: datetime) -> None:
        with self._lock:
            self.calls.append("reset_failures")
            row = self._row(name, now)
            if row.state == "closed" and row.failure_count > 0:
                self._set(row, failure_count=0, updated_at=now)

    def reserve_trial(
        self, name: str, now: datetime, reset_timeout: float, trial_until: datetime
    ) -> BreakerSnapshot | None:
        with self._lock:
            self.calls.append("reserve_trial")
            row = self._row(name, now)
            if (
                row.state not in ("open", "half_open")
                or row.forced
                or row.opened_at is None
                or row.opened_at > now - timedelta(seconds=reset_timeout)
                or (row.trial_reserved_until is not None and row.trial_reserved_until >= now)
            ):
                return None
            return self._set(
                row, state="half_open", trial_reserved_until=trial_until, updated_at=now
            )

    def _trial(self, name: str, token: datetime, now: datetime) -> BreakerSnapshot | None:
        row = self._row(name, now)
        if row.state == "half_open" and row.trial_reserved_until == token:
            return row
        return None

    def close_after_trial(
        self, name: str, token: datetime, now: datetime
    ) -> BreakerSnapshot | None:
        with self._lock:
            self.calls.append("close_after_trial")
            row = self._trial(name, token, now)
            if row is None:
                return None
            return self._set(
                row,
                state="closed",
                failure_count=0,
                opened_at=None,
                trial_reserved_until=None,
                updated_at=now,
            )

    def reopen_after_trial(
        self, name: str, token: datetime, now: datetime, error_type: str
    ) -> BreakerSnapshot | None:
        with self._lock:
            self.calls.append("reopen_after_trial")
            row = self._trial(name, token, now)
            if row is None:
                return None
            return self._set(
                row,
                state="open",
                opened_at=now,
                trial_reserved_until=None,
                failure_count=row.failure_count + 1,
                last_failure_at=now,
                last_error_type=error_type,
                updated_at=now,
            )

    def release_trial(self, name: str, token: datetime, now: datetime) -> None:
        with self._lock:
            self.calls.append("release_trial")
            row = self._trial(name, token, now)
            if row is not None:
                self._set(row, trial_reserved_until=None, updated_at=now)

    def mark_alerted(self, name: str, now: datetime) -> None:
        with self._lock:
            self.calls.append("mark_alerted")
            row = self._row(name, now)
            if row.state != "closed" and row.alerted_at is None:
                self._set(row, alerted_at=now)

    def force(self, name: str, action: str, now: datetime) -> ForcedChange:
        with self._lock:
            self.calls.append(f"force:{action}")
            row = self._row(name, now)
            closed = {
                "state": "closed",
                "failure_count": 0,
                "opened_at": None,
                "trial_reserved_until": None,
                "forced": False,
            }
            changes: dict[str, dict[str, object]] = {
                "open": {
                    "state": "open",
                    "opened_at": now,
                    "trial_reserved_until": None,
                    "forced": False,
                },
                "force_open": {
                    "state": "open",
                    "opened_at": now,
                    "trial_reserved_until": None,
                    "forced": True,
                },
                "force_close": closed,
                "reset": {
                    **closed,
                    "alerted_at": None,
                    "last_failure_at": None,
                    "last_error_type": None,
                },
            }
            if action not in changes:
                raise ValueError(action)
            return ForcedChange(row.state, self._set(row, **changes[action], updated_at=now))

    def list_all(self) -> list[BreakerSnapshot]:
        with self._lock:
            return [self.rows[name] for name in sorted(self.rows)]


class DownStore(MemoryBreakerStore):
    """Every operation fails as if Postgres could not be reached."""

    def __getattribute__(self, name: str) -> object:
        if name in {
            "read",
            "record_failure",
            "try_open",
            "reset_failures",
            "reserve_trial",
            "close_after_trial",
            "reopen_after_trial",
            "release_trial",
            "mark_alerted",
        }:

            def down(*args: object, **kwargs: object) -> object:
                raise ConnectionRefusedError(111, "Connection refused")

            return down
        return super().__getattribute__(name)


class FlakyStore(MemoryBreakerStore):
    """The in-memory store whose operations named in ``down`` fail as if Postgres were too slow
    to answer within the store's budget (the others work)."""

    def __init__(self) -> None:
        super().__init__()
        self.down: set[str] = set()

    def __getattribute__(self, name: str) -> object:
        if not name.startswith("_") and name in super().__getattribute__("down"):

            def slow(*args: object, **kwargs: object) -> object:
                raise TimeoutError("canceling statement due to lock timeout")

            return slow
        return super().__getattribute__(name)
