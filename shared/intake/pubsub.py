"""Pub/Sub adapter: publish one message and wait for the server to confirm it.

One synchronous ``Publish`` RPC per email on the generated (GAPIC) client, in the request's own
thread: the webhook waits for the confirmation anyway, so the batching publisher's machinery (a
batch, a timer thread and a commit thread per message, and its batching delay) would only add
CPU and latency. The generated client honours ``PUBSUB_EMULATOR_HOST`` like the batching one.

The retry is bounded by ``PUBSUB_PUBLISH_TIMEOUT_SECONDS`` (each attempt by the same), so an
outage becomes a 503 within about that time. A publish that timed out may still land later; the
processor is idempotent on ``email_id``, so the provider's retry at worst delivers the same
reference twice.
"""

from __future__ import annotations

from typing import Any

from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry, if_exception_type
from google.pubsub_v1 import PublisherClient

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


def make_publisher_client() -> Any:
    """The generated publisher client (ADC in production; the emulator from
    ``PUBSUB_EMULATOR_HOST``)."""
    return PublisherClient()


class PubSubPublisher:
    """:class:`~shared.intake.ports.Publisher` on one topic of a (shared) publisher client."""

    def __init__(self, client: Any, project: str, topic: str, *, timeout: float) -> None:
        self._client = client
        self._topic = client.topic_path(project, topic)
        self._timeout = min(timeout, 10.0)
        self._retry = Retry(
            predicate=_RETRYABLE, initial=0.1, maximum=1.0, multiplier=2.0, timeout=timeout
        )

    def publish(self, data: bytes, attributes: dict[str, str]) -> str:
        try:
            response = self._client.publish(
                topic=self._topic,
                messages=[{"data": data, "attributes": attributes}],
                retry=self._retry,
                timeout=self._timeout,
            )
        except (api_exceptions.GoogleAPIError, RuntimeError) as exc:
            raise IntakeUnavailable("pubsub", type(exc).__name__) from exc
        message_id: str = response.message_ids[0]
        return message_id

    def close(self) -> None:
        self._client.transport.close()
