"""Raw operational metrics, buffered per email and written with its report.

    collector = MetricsCollector(email_id=email_id, correlation_id=cid)
    with collector.timer("extract"):
        ...
    collector.record("decision", 1, decision="AUTO_UPDATE")
    with transaction() as session:
        session.add(report)
        collector.write(session)     # one INSERT, inside a SAVEPOINT; never raises

A caller that writes the rows itself, inside a statement of its own (the processor folds them
into the one statement that finishes an email), takes :meth:`MetricsCollector.pending` and,
once that statement committed, calls :meth:`MetricsCollector.mark_written`; if its statement
fails it falls back to :meth:`MetricsCollector.write`, so a metric still never fails an email.

Only the metric names of :data:`METRICS` are accepted, each with its own allow-listed label
keys; label values are short identifiers (a letter first, no spaces, no ``@``, no digits-only
strings), so a label can never carry an email address, a name or an amount. An invalid metric
is dropped and logged as ``metric_rejected`` (naming the metric and label key, never the value):
a metric can never fail an email. :func:`validate_metric` raises :class:`InvalidMetric` for
callers (and tests) that want the error.

Conventions: ``processing_seconds`` with ``stage="total"`` is the whole pipeline;
``extraction_confidence`` with ``field="overall"`` is the overall confidence.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from shared.context import current_correlation_id, current_email_id
from shared.logs import log_event

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_DECISION = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
_ERROR_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,79}$")
_BREAKER_STATES = frozenset({"closed", "open", "half_open"})
# Every name shared.breakers.registry.validate_name accepts (e.g. ``claude-1a2b3c4d``).
_BREAKER_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")

# Label key → the rule its values must satisfy.
LABEL_RULES: dict[str, re.Pattern[str] | frozenset[str]] = {
    "stage": _IDENTIFIER,
    "field": _IDENTIFIER,
    "method": _IDENTIFIER,
    "decision": _DECISION,
    "error_type": _ERROR_TYPE,
    "breaker": _BREAKER_NAME,
    "from": _BREAKER_STATES,
    "to": _BREAKER_STATES,
    # shared.extraction.automated.KINDS
    "kind": frozenset({"bounce", "read_receipt", "auto_reply", "bulk", "auto_generated"}),
}

# Metric name → the label keys it may carry (a subset may be given).
METRICS: dict[str, frozenset[str]] = {
    "processing_seconds": frozenset({"stage"}),
    "queue_lag_seconds": frozenset(),
    "delivery_attempt": frozenset(),
    "tokens_input": frozenset(),
    "tokens_output": frozenset(),
    "tokens_cache_read": frozenset(),
    "tokens_cache_write": frozenset(),
    "extraction_confidence": frozenset({"field"}),
    "match_score": frozenset({"method"}),
    "decision": frozenset({"decision"}),
    "automated_mail": frozenset({"kind"}),  # auto-replies, bounces, bulk mail (decision AUTOMATED)
    "error": frozenset({"stage", "error_type"}),
    "breaker_transition": frozenset({"breaker", "from", "to"}),
}

MAX_ROWS_PER_COLLECTOR = 500


class InvalidMetric(ValueError):
    """A metric name, value or label is not allowed; the message never echoes label values."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def validate_metric(name: str, value: float, labels: Mapping[str, str]) -> float:
    """Check one metric; return the value as a float or raise :class:`InvalidMetric`."""
    allowed = METRICS.get(name)
    if allowed is None:
        raise InvalidMetric(f"unknown metric {name[:64]!r}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidMetric(f"{name}: value must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidMetric(f"{name}: value must be finite")
    for key, label_value in labels.items():
        if key not in allowed:
            raise InvalidMetric(f"{name}: label {key[:40]!r} is not allowed")
        rule = LABEL_RULES[key]
        ok = (
            label_value in rule
            if isinstance(rule, frozenset)
            else isinstance(label_value, str) and rule.fullmatch(label_value) is not None
        )
        if not ok:
            raise InvalidMetric(f"{name}: value of label {key!r} is not an allowed identifier")
    return number


class MetricsCollector:
    """Buffers the metric rows of one invocation; :meth:`write` inserts them in one statement."""

    def __init__(
        self,
        *,
        email_id: str | None = None,
        correlation_id: str | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self._email_id = email_id
        self._correlation_id = correlation_id
        self._clock = clock
        self._rows: list[dict[str, Any]] = []
        self._written = 0

    def record(self, name: str, value: float, **labels: str) -> bool:
        """Buffer one metric; an invalid one is dropped and logged (returns ``False``)."""
        try:
            number = validate_metric(name, value, labels)
        except InvalidMetric as exc:
            log_event(logger, "metric_rejected", level=logging.WARNING, reason=str(exc))
            return False
        if len(self._rows) >= MAX_ROWS_PER_COLLECTOR:
            log_event(logger, "metric_rejected", level=logging.WARNING, reason="too many rows")
            return False
        self._rows.append(
            {
                "recorded_at": self._clock(),
                "name": name,
                "value": number,
                "labels": dict(labels),
                "email_id": self._email_id or current_email_id(),
                "correlation_id": self._correlation_id or current_correlation_id(),
            }
        )
        return True

    @contextmanager
    def timer(self, stage: str) -> Iterator[None]:
        """Record ``processing_seconds{stage}`` for the block (also when it raises)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.record("processing_seconds", time.perf_counter() - started, stage=stage)

    def rows(self) -> list[dict[str, Any]]:
        """Every row recorded so far (copies)."""
        return [dict(row, labels=dict(row["labels"])) for row in self._rows]

    def pending(self) -> list[dict[str, Any]]:
        """The rows not written yet (copies), in the order recorded."""
        return [dict(row, labels=dict(row["labels"])) for row in self._rows[self._written :]]

    def mark_written(self, rows: int) -> None:
        """The first ``rows`` of :meth:`pending` were written by the caller."""
        self._written = min(len(self._rows), self._written + max(0, rows))

    def write(self, session: Any) -> bool:
        """Insert the rows not yet written, in one multi-row INSERT inside a SAVEPOINT of the
        caller's transaction. Never raises: a failure rolls back the savepoint only and is
        logged as ``metrics_write_failed``. Returns whether the rows were written."""
        pending = self._rows[self._written :]
        if not pending:
            return True
        try:
            from sqlalchemy import insert

            from shared.db.models import OperationalMetric

            with session.begin_nested():
                session.execute(insert(OperationalMetric).values(pending))
        except Exception as exc:  # telemetry must never fail the email
            log_event(
                logger,
                "metrics_write_failed",
                level=logging.WARNING,
                error_type=type(exc).__name__,
                rows=len(pending),
            )
            return False
        self._written = len(self._rows)
        return True


def record_breaker_transition(name: str, from_state: str, to_state: str) -> None:
    """Write one ``breaker_transition`` row in its own short transaction; never raises.

    Suitable as a listener for :func:`shared.breakers.events.add_transition_listener`.
    """
    try:
        collector = MetricsCollector()
        if not collector.record(
            "breaker_transition", 1, breaker=name, **{"from": from_state, "to": to_state}
        ):
            return
        from shared.db.engine import transaction

        with transaction() as session:
            collector.write(session)
    except Exception as exc:  # telemetry must never break the breaker
        log_event(
            logger,
            "metrics_write_failed",
            level=logging.WARNING,
            error_type=type(exc).__name__,
            rows=1,
        )


def register_breaker_metrics() -> bool:
    """Record every breaker transition as a metric (once per process; idempotent).

    Returns ``False`` when the breakers package is not available in this build.
    """
    import importlib

    try:
        events = importlib.import_module("shared.breakers.events")
    except ImportError:
        return False
    events.add_transition_listener(record_breaker_transition)
    return True
