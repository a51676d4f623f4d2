"""Pub/Sub adapter: publish one message and wait for the server to confirm it.

The client's own retry is bounded by ``PUBSUB_PUBLISH_TIMEOUT_SECONDS`` and the handler waits no
longer than that for the future, so an outage becomes a 503 within that time. A publish that
timed out may still land later; the processor is idempotent on ``email_id``, so the provider's
retry at worst delivers the same reference twice.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry, if_exception_type
from google.api_core.timeout import ConstantTimeout
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.intake.errors import IntakeUnavailable

_RETRYABLE = if_exception_type(
    api_exceptions.Aborted,
    api_exceptions.Cancelled,
    api_exceptions.DeadlineExceeded,
    api_exceptions.InternalServerError,
    api_exceptions.ResourceExhausted,
    api_exceptions.ServiceUnavailable,
    api_exceptions.Unknown,
)


def make_publisher_client(timeout: float) -> Any:
    """A publisher whose retries end within ``timeout`` seconds."""
    retry = Retry(predicate=_RETRYABLE, initial=0.1, maximum=1.0, multiplier=2.0, timeout=timeout)
    options = pubsub_v1.types.PublisherOptions(
        retry=retry,
        timeout=ConstantTimeout(min(timeout, 10.0)),  # type: ignore[no-untyped-call]
    )
    batch = pubsub_v1.types.BatchSettings(max_messages=100, max_latency=0.005)
    return pubsub_v1.PublisherClient(batch_settings=batch, publisher_options=options)


class PubSubPublisher:
    """:class:`~shared.intake.ports.Publisher` on one topic of a (shared) publisher client."""

    def __init__(self, client: Any, project: str, topic: str, *, timeout: float) -> None:
        self._client = client
        self._topic = client.topic_path(project, topic)
        self._timeout = timeout

    def publish(self, data: bytes, attributes: dict[str, str]) -> str:
        try:
            future = self._client.publish(self._topic, data, **attributes)
            message_id: str = future.result(timeout=self._timeout)
        except concurrent.futures.TimeoutError as exc:
            raise IntakeUnavailable("pubsub", "publish timed out") from exc
        except (api_exceptions.GoogleAPIError, RuntimeError) as exc:
            raise IntakeUnavailable("pubsub", type(exc).__name__) from exc
        return message_id
