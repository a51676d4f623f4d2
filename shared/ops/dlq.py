"""The dead-letter subscription: look at messages, replay them to the main topic.

Replay republishes a message's original data and attributes (``correlation_id`` kept; the
``CloudPubSubDeadLetter*`` attributes Pub/Sub added are dropped) and acknowledges it on the
dead-letter subscription only after the publish is confirmed, so a failed replay leaves the
message where it was. Messages looked at but not replayed are released at once (nack).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.config import Settings

DELIVERY_COUNT_ATTRIBUTE = "CloudPubSubDeadLetterSourceDeliveryCount"
_DEAD_LETTER_PREFIX = "CloudPubSubDeadLetter"
PULL_BATCH = 100
# Leases of the messages a replay holds: extended to Pub/Sub's maximum, again well before it ends.
KEEP_SECONDS = 600
KEEP_EVERY_SECONDS = 120.0


@dataclass
class DeadLetter:
    ack_id: str
    message_id: str
    data: bytes
    attributes: dict[str, str]
    publish_time: datetime | None

    @property
    def email_id(self) -> str | None:
        if "email_id" in self.attributes:
            return self.attributes["email_id"]
        try:
            body = json.loads(self.data)
        except (ValueError, RecursionError):  # nested past any notice: no id to show
            return None
        return str(body["email_id"]) if isinstance(body, dict) and "email_id" in body else None

    @property
    def correlation_id(self) -> str | None:
        return self.attributes.get("correlation_id")

    @property
    def delivery_attempts(self) -> int | None:
        raw = self.attributes.get(DELIVERY_COUNT_ATTRIBUTE)
        return int(raw) if raw is not None and raw.isdigit() else None

    def original_attributes(self) -> dict[str, str]:
        return {k: v for k, v in self.attributes.items() if not k.startswith(_DEAD_LETTER_PREFIX)}


class DeadLetterQueue:
    """Pull, release and replay on the dead-letter subscription (clients created lazily)."""

    def __init__(
        self,
        settings: Settings,
        *,
        subscriber: Any = None,
        publisher: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._subscriber = subscriber
        self._publisher = publisher
        self._clock = clock

    @property
    def subscriber(self) -> Any:
        if self._subscriber is None:
            from google.cloud import pubsub_v1  # type: ignore[attr-defined]

            self._subscriber = pubsub_v1.SubscriberClient()
        return self._subscriber

    @property
    def publisher(self) -> Any:
        if self._publisher is None:
            from google.cloud import pubsub_v1  # type: ignore[attr-defined]

            self._publisher = pubsub_v1.PublisherClient()
        return self._publisher

    @property
    def subscription(self) -> str:
        return str(
            self.subscriber.subscription_path(
                self._settings.google_cloud_project, self._settings.pubsub_dead_letter_subscription
            )
        )

    @property
    def topic(self) -> str:
        return str(
            self.publisher.topic_path(
                self._settings.google_cloud_project, self._settings.pubsub_topic
            )
        )

    def pull_all(self, limit: int = 1000) -> list[DeadLetter]:
        """Lease up to ``limit`` messages (the caller must :meth:`release` or ack them)."""
        from google.api_core import exceptions as api_exceptions

        found: dict[str, DeadLetter] = {}
        while len(found) < limit:
            try:
                response = self.subscriber.pull(
                    request={
                        "subscription": self.subscription,
                        "max_messages": min(PULL_BATCH, limit - len(found)),
                    },
                    timeout=10,
                )
            except api_exceptions.DeadlineExceeded:
                break
            fresh = 0
            for received in response.received_messages:
                message = received.message
                if message.message_id in found:
                    continue
                fresh += 1
                publish_time = getattr(message, "publish_time", None)
                found[message.message_id] = DeadLetter(
                    ack_id=received.ack_id,
                    message_id=message.message_id,
                    data=bytes(message.data),
                    attributes=dict(message.attributes),
                    publish_time=publish_time if isinstance(publish_time, datetime) else None,
                )
            if not fresh:
                break
        return list(found.values())

    def release(self, letters: list[DeadLetter]) -> None:
        """Make leased messages available again at once."""
        self._lease(letters, 0)

    def keep(self, letters: list[DeadLetter]) -> None:
        """Extend the leases of ``letters`` to Pub/Sub's longest, :data:`KEEP_SECONDS`."""
        self._lease(letters, KEEP_SECONDS)

    def _lease(self, letters: list[DeadLetter], seconds: int) -> None:
        if letters:
            self.subscriber.modify_ack_deadline(
                request={
                    "subscription": self.subscription,
                    "ack_ids": [letter.ack_id for letter in letters],
                    "ack_deadline_seconds": seconds,
                },
                timeout=self._settings.ops_timeout_seconds,
            )

    def replay(self, letter: DeadLetter, *, timeout: float = 30.0) -> str:
        """Publish to the main topic, wait for the confirmation, then ack; the new id."""
        future = self.publisher.publish(self.topic, letter.data, **letter.original_attributes())
        new_id = str(future.result(timeout=timeout))
        self.subscriber.acknowledge(
            request={"subscription": self.subscription, "ack_ids": [letter.ack_id]},
            timeout=self._settings.ops_timeout_seconds,
        )
        return new_id

    def replay_selected(
        self,
        message_ids: list[str] | None,
        *,
        progress: Callable[[str], None] | None = None,
        limit: int = 1000,
    ) -> tuple[list[tuple[DeadLetter, str]], list[str]]:
        """Replay the given message ids (``None``: all). Returns (replayed, ids not found)."""
        letters = self.pull_all(limit)
        wanted = set(message_ids) if message_ids is not None else None
        chosen = [m for m in letters if wanted is None or m.message_id in wanted]
        self.release([m for m in letters if m not in chosen])
        done: list[tuple[DeadLetter, str]] = []
        kept_at = float("-inf")
        try:
            for index, letter in enumerate(chosen, start=1):
                # The subscription's own lease (60 s) would lapse under a long replay: an ack
                # after it may not take, and the next replay would publish the message again.
                if self._clock() - kept_at >= KEEP_EVERY_SECONDS:
                    self.keep(chosen[index - 1 :])
                    kept_at = self._clock()
                new_id = self.replay(letter)
                done.append((letter, new_id))
                if progress is not None:
                    progress(f"[{index}/{len(chosen)}] replayed {letter.message_id} as {new_id}")
        finally:
            self.release(chosen[len(done) :])
        missing = sorted((wanted or set()) - {m.message_id for m in letters})
        return done, missing
