"""The small interfaces the pipeline needs from other areas.

Real implementations: :func:`shared.breakers.get_breaker` (circuit breakers shared in
Postgres), :class:`shared.metrics.collector.MetricsCollector` (raw metrics written with the
report), :mod:`shared.observability.sentry` (breadcrumbs and tags), wired by
:func:`shared.processing.bootstrap.bootstrap`. The unit tests' fakes are in ``tests/fakes.py``.
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
