"""The one wiring point: the webhook's storage and publisher adapters, built lazily.

Built on the first request of an instance (never at import) and reused by every request and
thread after it. Tests call :func:`set_dependencies` with fakes, or :func:`reset_dependencies`
to rebuild from changed settings.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.config import Settings, get_settings
from shared.intake.ports import ObjectStore, Publisher


@dataclass
class IntakeDependencies:
    store: ObjectStore
    publisher: Publisher
    clock: Callable[[], float] = time.time
    _closers: list[Callable[[], Any]] = field(default_factory=list)

    def close(self) -> None:
        for closer in self._closers:
            with contextlib.suppress(Exception):  # closing is best effort
                closer()


_lock = threading.Lock()
_dependencies: IntakeDependencies | None = None


def get_dependencies() -> IntakeDependencies:
    """The instance's adapters (created on first use, thread-safe)."""
    global _dependencies
    current = _dependencies
    if current is not None:
        return current
    with _lock:
        if _dependencies is None:
            _dependencies = build_dependencies(get_settings())
        return _dependencies


def build_dependencies(settings: Settings) -> IntakeDependencies:
    from shared.intake.gcs import GcsObjectStore, make_storage_client
    from shared.intake.pubsub import PubSubPublisher, make_publisher_client

    storage_client = make_storage_client(settings.google_cloud_project)
    publisher_client = make_publisher_client()
    store = GcsObjectStore(
        storage_client,
        settings.raw_email_bucket,
        timeout=settings.webhook_gcs_timeout_seconds,
        retry_deadline=settings.webhook_gcs_retry_deadline_seconds,
    )
    publisher = PubSubPublisher(
        publisher_client,
        settings.google_cloud_project,
        settings.pubsub_topic,
        timeout=settings.pubsub_publish_timeout_seconds,
    )
    return IntakeDependencies(
        store=store,
        publisher=publisher,
        _closers=[publisher.close, storage_client.close],
    )


def set_dependencies(dependencies: IntakeDependencies | None) -> None:
    """Use ``dependencies`` (tests); ``None`` rebuilds on next use."""
    global _dependencies
    with _lock:
        previous, _dependencies = _dependencies, dependencies
    if previous is not None and previous is not dependencies:
        previous.close()


def reset_dependencies() -> None:
    """Close the adapters' clients and forget them."""
    set_dependencies(None)
