"""Fakes of the ports shared by several areas (mail, metrics, breakers, telemetry, intake).

They live beside the tests, never in ``shared/`` (``tests/unit/test_layout.py`` checks that no
test double is importable from the product). The processor's own fakes are in
``tests/processing_fakes.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, TypeVar

from shared.intake.errors import IntakeUnavailable
from shared.mail import build_message

T = TypeVar("T")


@dataclass
class RecordingMailer:
    """Fake :class:`~shared.mail.port.Mailer`: records what it was asked to send."""

    sent: list[EmailMessage] = field(default_factory=list)
    fail_with: Exception | None = None

    def send(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        headers: dict[str, str] | None = None,
    ) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        message = build_message(
            sender="test@localhost", to=to, subject=subject, body=body, headers=headers
        )
        self.sent.append(message)
        return str(message["Message-ID"])


# -- processor ports (shared.processing.ports) ----------------------------------------------


class ClosedBreaker:
    """Fake :class:`~shared.processing.ports.Breaker`: always closed, calls straight through."""

    def is_open(self) -> bool:
        return False

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return func(*args, **kwargs)


class RecordingMetrics:
    """Fake :class:`~shared.processing.ports.Metrics`: keeps the rows in memory; ``write``
    records that it was asked to write."""

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
    """Fake :class:`~shared.processing.ports.Telemetry`: does nothing."""

    def stage_breadcrumb(self, stage: str, seconds: float) -> None:
        return None

    def set_invocation_tags(self, **tags: str | int | None) -> None:
        return None


# -- webhook ports (shared.intake.ports) ----------------------------------------------------


@dataclass
class InMemoryObjectStore:
    """Fake :class:`~shared.intake.ports.ObjectStore`; ``down = True`` makes every call fail
    like an outage."""

    bucket: str = "raw-emails"
    objects: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    down: bool = False

    def create_if_absent(
        self,
        name: str,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> bool:
        self._check()
        if name in self.objects:
            return False
        self.objects[name] = (data, content_type)
        self.metadata[name] = dict(metadata or {})
        return True

    def read(self, name: str) -> bytes | None:
        self._check()
        stored = self.objects.get(name)
        return None if stored is None else stored[0]

    def read_metadata(self, name: str) -> dict[str, str] | None:
        self._check()
        if name not in self.objects:
            return None
        return dict(self.metadata.get(name, {}))

    def uri(self, name: str) -> str:
        return f"gs://{self.bucket}/{name}"

    def _check(self) -> None:
        if self.down:
            raise IntakeUnavailable("gcs", "ConnectionError")


@dataclass
class RecordingPublisher:
    """Fake :class:`~shared.intake.ports.Publisher`: records ``(data, attributes)``;
    ``down = True`` fails."""

    published: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    down: bool = False
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def publish(self, data: bytes, attributes: dict[str, str]) -> str:
        if self.down:
            raise IntakeUnavailable("pubsub", "ServiceUnavailable")
        self.published.append((data, dict(attributes)))
        return str(next(self._ids))
