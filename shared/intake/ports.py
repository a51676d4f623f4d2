"""The two outside systems the webhook needs, as ports (the unit tests' fakes are in
``tests/fakes.py``).

Adapters: :class:`shared.intake.gcs.GcsObjectStore` and
:class:`shared.intake.pubsub.PubSubPublisher`. Both raise
:class:`~shared.intake.errors.IntakeUnavailable` when their service fails or times out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


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
