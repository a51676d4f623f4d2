"""The two outside systems the webhook needs, as ports, with fakes for unit tests.

Adapters: :class:`shared.intake.gcs.GcsObjectStore` and
:class:`shared.intake.pubsub.PubSubPublisher`. Both raise
:class:`~shared.intake.errors.IntakeUnavailable` when their service fails or times out.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from shared.intake.errors import IntakeUnavailable


class ObjectStore(Protocol):
    def create_if_absent(
        self,
        name: str,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> bool:
        """Write ``name`` (with its custom ``metadata``, in the same request) unless it exists;
        ``True`` when this call created it."""
        ...

    def read(self, name: str) -> bytes | None:
        """The object's bytes, or ``None`` when there is no such object."""
        ...

    def read_metadata(self, name: str) -> dict[str, str] | None:
        """The object's custom metadata (``{}`` when it has none), or ``None`` when there is no
        such object. Does not download the object."""
        ...

    def uri(self, name: str) -> str:
        """``gs://bucket/name``."""
        ...


class Publisher(Protocol):
    def publish(self, data: bytes, attributes: dict[str, str]) -> str:
        """Publish and wait for the server's acknowledgement; returns the message id."""
        ...


@dataclass
class InMemoryObjectStore:
    """Fake :class:`ObjectStore`; ``down = True`` makes every call fail like an outage."""

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
    """Fake :class:`Publisher`: records ``(data, attributes)``; ``down = True`` fails."""

    published: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    down: bool = False
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def publish(self, data: bytes, attributes: dict[str, str]) -> str:
        if self.down:
            raise IntakeUnavailable("pubsub", "ServiceUnavailable")
        self.published.append((data, dict(attributes)))
        return str(next(self._ids))
