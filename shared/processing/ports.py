"""The small interfaces the pipeline needs from other areas, and their no-op stand-ins.

Real implementations: :func:`shared.breakers.get_breaker` (circuit breakers shared in
Postgres), :class:`shared.metrics.collector.MetricsCollector` (raw metrics written with the
report), :mod:`shared.observability.sentry` (breadcrumbs and tags). The stand-ins here serve
unit tests (and the wiring, while one of those areas is absent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Breaker(Protocol):
    def is_open(self) -> bool: ...

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...


BreakerLookup = Callable[[str], Breaker]


class Metrics(Protocol):
    def record(self, name: str, value: float, **labels: str) -> bool: ...

    def pending(self) -> list[dict[str, Any]]: ...

    def mark_written(self, rows: int) -> None: ...

    def write(self, session: Any) -> bool: ...


MetricsFactory = Callable[..., Metrics]


class Telemetry(Protocol):
    def stage_breadcrumb(self, stage: str, seconds: float) -> None: ...

    def set_invocation_tags(self, **tags: str | int | None) -> None: ...


class ClosedBreaker:
    """Always closed: calls straight through."""

    def is_open(self) -> bool:
        return False

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return func(*args, **kwargs)


def no_breakers(name: str) -> Breaker:
    return ClosedBreaker()


class RecordingMetrics:
    """Keeps the rows in memory; ``write`` records that it was asked to write."""

    def __init__(self, **context: Any) -> None:
        self.context = context
        self.rows: list[tuple[str, float, dict[str, str]]] = []
        self.written = 0

    def record(self, name: str, value: float, **labels: str) -> bool:
        self.rows.append((name, float(value), dict(labels)))
        return True

    def pending(self) -> list[dict[str, Any]]:
        return []  # nothing for the database: the rows stay here for the test to read

    def mark_written(self, rows: int) -> None:
        self.written += 1

    def write(self, session: Any) -> bool:
        self.written += 1
        return True


class NoTelemetry:
    def stage_breadcrumb(self, stage: str, seconds: float) -> None:
        return None

    def set_invocation_tags(self, **tags: str | int | None) -> None:
        return None
