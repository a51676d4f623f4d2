"""The Postgres adapter of :class:`shared.breakers.model.BreakerStore`.

Every operation is one SQL statement (an atomic step on one row), so instances that never see
each other agree without locks held across calls:

- the counter is incremented and read in one ``UPDATE … SET failure_count = failure_count + 1
  … RETURNING`` (never read-modify-write);
- opening is ``UPDATE … WHERE state = 'closed' AND failure_count >= :fail_max RETURNING``: under
  Postgres' row lock exactly one concurrent caller gets the row back (the winner, who alerts);
- the half-open trial is a reservation ``trial_reserved_until`` set by a conditional ``UPDATE``;
  it expires, so a trial caller that dies does not keep the breaker half-open forever. The
  reservation's timestamp doubles as the trial's token: only its holder closes or re-opens.

Times are bound parameters from the caller's clock (never the database's ``now()``), so tests
can inject a clock; columns are ``timestamptz`` and read back timezone-aware.

Being single statements, they run in autocommit (:func:`shared.db.engine.autocommit`): one round
trip each, no ``BEGIN``/``COMMIT`` — a state read of a closed breaker costs exactly one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, RowMapping, TextClause, text

from shared.breakers.model import BreakerSnapshot, BreakerState, ForcedChange
from shared.db.engine import autocommit

_SELECT = "SELECT * FROM circuit_breakers WHERE name = :name"
_INSERT = (
    "INSERT INTO circuit_breakers (name, state, failure_count, updated_at) "
    "VALUES (:name, 'closed', 0, :now) ON CONFLICT (name) DO NOTHING"
)
_RECORD_FAILURE = """
UPDATE circuit_breakers
   SET failure_count = failure_count + 1, last_failure_at = :now,
       last_error_type = :error_type, updated_at = :now
 WHERE name = :name
RETURNING *"""
_TRY_OPEN = """
UPDATE circuit_breakers
   SET state = 'open', opened_at = :now, trial_reserved_until = NULL, alerted_at = NULL,
       updated_at = :now
 WHERE name = :name AND state = 'closed' AND failure_count >= :fail_max
RETURNING *"""
_RESET_FAILURES = """
UPDATE circuit_breakers SET failure_count = 0, updated_at = :now
 WHERE name = :name AND state = 'closed' AND failure_count > 0"""
_RESERVE_TRIAL = """
UPDATE circuit_breakers
   SET state = 'half_open', trial_reserved_until = :trial_until, updated_at = :now
 WHERE name = :name AND state IN ('open', 'half_open') AND NOT forced
   AND opened_at <= :opened_before
   AND (trial_reserved_until IS NULL OR trial_reserved_until < :now)
RETURNING *"""
_CLOSE_AFTER_TRIAL = """
UPDATE circuit_breakers
   SET state = 'closed', failure_count = 0, opened_at = NULL, trial_reserved_until = NULL,
       updated_at = :now
 WHERE name = :name AND state = 'half_open' AND trial_reserved_until = :token
RETURNING *"""
_REOPEN_AFTER_TRIAL = """
UPDATE circuit_breakers
   SET state = 'open', opened_at = :now, trial_reserved_until = NULL,
       failure_count = failure_count + 1, last_failure_at = :now,
       last_error_type = :error_type, updated_at = :now
 WHERE name = :name AND state = 'half_open' AND trial_reserved_until = :token
RETURNING *"""
_RELEASE_TRIAL = """
UPDATE circuit_breakers SET trial_reserved_until = NULL, updated_at = :now
 WHERE name = :name AND state = 'half_open' AND trial_reserved_until = :token"""
_MARK_ALERTED = """
UPDATE circuit_breakers SET alerted_at = :now
 WHERE name = :name AND state <> 'closed' AND alerted_at IS NULL"""

_FORCE_SET = {
    # pybreaker's open(): open now, one trial call after reset_timeout (not held open)
    "open": "state = 'open', opened_at = :now, trial_reserved_until = NULL, forced = false",
    "force_open": "state = 'open', opened_at = :now, trial_reserved_until = NULL, forced = true",
    "force_close": "state = 'closed', failure_count = 0, opened_at = NULL, "
    "trial_reserved_until = NULL, forced = false",
    "reset": "state = 'closed', failure_count = 0, opened_at = NULL, trial_reserved_until = NULL, "
    "forced = false, alerted_at = NULL, last_failure_at = NULL, last_error_type = NULL",
}
_FORCE = """
WITH prev AS (SELECT name, state FROM circuit_breakers WHERE name = :name FOR UPDATE)
UPDATE circuit_breakers AS c SET {assignments}, updated_at = :now
  FROM prev WHERE c.name = prev.name
RETURNING prev.state AS previous_state, c.*"""
FORCE_ACTIONS = tuple(_FORCE_SET)


def snapshot_from(row: RowMapping) -> BreakerSnapshot:
    return BreakerSnapshot(
        name=row["name"],
        state=cast(BreakerState, row["state"]),
        failure_count=int(row["failure_count"]),
        opened_at=row["opened_at"],
        last_failure_at=row["last_failure_at"],
        last_error_type=row["last_error_type"],
        trial_reserved_until=row["trial_reserved_until"],
        alerted_at=row["alerted_at"],
        forced=bool(row["forced"]),
        updated_at=row["updated_at"],
    )


class PostgresBreakerStore:
    """Breaker rows in ``circuit_breakers``; the engine is looked up on each use (lazy)."""

    def __init__(self, engine: Callable[[], Engine] | None = None) -> None:
        if engine is None:  # its own pool and short budget (CIRCUIT_BREAKER_STORE_TIMEOUT_SECONDS)
            from shared.db.engine import get_breaker_engine

            engine = get_breaker_engine
        self._engine = engine
        self._statements: dict[str, TextClause] = {}

    def _text(self, sql: str) -> TextClause:
        statement = self._statements.get(sql)
        if statement is None:
            statement = self._statements[sql] = text(sql)
        return statement

    def _one(self, sql: str, **params: Any) -> RowMapping | None:
        with autocommit(self._engine()) as conn:
            return conn.execute(self._text(sql), params).mappings().first()

    def _exec(self, sql: str, **params: Any) -> None:
        with autocommit(self._engine()) as conn:
            conn.execute(self._text(sql), params)

    def _ensure(self, name: str, now: datetime) -> None:
        self._exec(_INSERT, name=name, now=now)

    def read(self, name: str, now: datetime) -> BreakerSnapshot:
        row = self._one(_SELECT, name=name)
        if row is None:
            self._ensure(name, now)
            row = self._one(_SELECT, name=name)
            if row is None:  # deleted in between: report it as fresh
                return BreakerSnapshot.closed(name)
        return snapshot_from(row)

    def record_failure(self, name: str, now: datetime, error_type: str) -> BreakerSnapshot:
        params = {"name": name, "now": now, "error_type": error_type[:128]}
        row = self._one(_RECORD_FAILURE, **params)
        if row is None:
            self._ensure(name, now)
            row = self._one(_RECORD_FAILURE, **params)
        return snapshot_from(row) if row is not None else BreakerSnapshot.closed(name)

    def try_open(self, name: str, now: datetime, fail_max: int) -> BreakerSnapshot | None:
        row = self._one(_TRY_OPEN, name=name, now=now, fail_max=fail_max)
        return snapshot_from(row) if row is not None else None

    def reset_failures(self, name: str, now: datetime) -> None:
        self._exec(_RESET_FAILURES, name=name, now=now)

    def reserve_trial(
        self, name: str, now: datetime, reset_timeout: float, trial_until: datetime
    ) -> BreakerSnapshot | None:
        row = self._one(
            _RESERVE_TRIAL,
            name=name,
            now=now,
            trial_until=trial_until,
            opened_before=now - timedelta(seconds=reset_timeout),
        )
        return snapshot_from(row) if row is not None else None

    def close_after_trial(
        self, name: str, token: datetime, now: datetime
    ) -> BreakerSnapshot | None:
        row = self._one(_CLOSE_AFTER_TRIAL, name=name, token=token, now=now)
        return snapshot_from(row) if row is not None else None

    def reopen_after_trial(
        self, name: str, token: datetime, now: datetime, error_type: str
    ) -> BreakerSnapshot | None:
        row = self._one(
            _REOPEN_AFTER_TRIAL, name=name, token=token, now=now, error_type=error_type[:128]
        )
        return snapshot_from(row) if row is not None else None

    def release_trial(self, name: str, token: datetime, now: datetime) -> None:
        self._exec(_RELEASE_TRIAL, name=name, token=token, now=now)

    def mark_alerted(self, name: str, now: datetime) -> None:
        self._exec(_MARK_ALERTED, name=name, now=now)

    def force(self, name: str, action: str, now: datetime) -> ForcedChange:
        if action not in _FORCE_SET:
            raise ValueError(f"unknown breaker action {action!r}; expected one of {FORCE_ACTIONS}")
        self._ensure(name, now)
        sql = _FORCE.format(assignments=_FORCE_SET[action])
        row = self._one(sql, name=name, now=now)
        if row is None:
            raise LookupError(f"breaker {name!r} has no row")
        return ForcedChange(cast(BreakerState, row["previous_state"]), snapshot_from(row))

    def list_all(self) -> list[BreakerSnapshot]:
        with autocommit(self._engine()) as conn:
            rows = conn.execute(text("SELECT * FROM circuit_breakers ORDER BY name"))
            return [snapshot_from(row) for row in rows.mappings()]
