"""Test helpers for the webhook against the local stack: the in-process app, a pull
subscription on the topic, and a reader for the raw-email bucket."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import functions_framework
from google.api_core.exceptions import GoogleAPIError
from google.auth.credentials import AnonymousCredentials
from google.cloud import pubsub_v1, storage

from infra.stack import REPO_ROOT
from shared.config import get_settings, reset_settings_cache
from shared.intake.bootstrap import reset_dependencies

WEBHOOK_SOURCE = str(REPO_ROOT / "functions" / "webhook" / "main.py")


@contextmanager
def webhook_client() -> Iterator[Any]:
    """A Flask test client of the real functions-framework app (env must be set first)."""
    reset_settings_cache()
    reset_dependencies()
    app = functions_framework.create_app(target="webhook", source=WEBHOOK_SOURCE)
    try:
        yield app.test_client()
    finally:
        reset_dependencies()


@dataclass
class Published:
    data: dict[str, Any]
    attributes: dict[str, str]


class TopicProbe:
    """A pull subscription of its own on the inbound topic, created before the test posts."""

    def __init__(self) -> None:
        settings = get_settings()
        self.subscriber = pubsub_v1.SubscriberClient()
        project = settings.google_cloud_project
        self.topic = f"projects/{project}/topics/{settings.pubsub_topic}"
        self.path = self.subscriber.subscription_path(project, f"intake-test-{uuid.uuid4().hex}")
        self.subscriber.create_subscription(
            request={"name": self.path, "topic": self.topic, "ack_deadline_seconds": 30},
            timeout=10,
        )

    def pull(self, expected: int, timeout: float = 10.0, settle: float = 0.5) -> list[Published]:
        """Everything published, waiting up to ``timeout`` for ``expected`` messages, then a
        further ``settle`` seconds to catch any extra."""
        received: list[Published] = []
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        while True:
            now = time.monotonic()
            if len(received) >= expected and settle_until is None:
                settle_until = now + settle
            if now > deadline or (settle_until is not None and now > settle_until):
                return received
            answer = self.subscriber.pull(
                request={
                    "subscription": self.path,
                    "max_messages": 100,
                    "return_immediately": True,
                },
                timeout=5,
            )
            if answer.received_messages:
                self.subscriber.acknowledge(
                    request={
                        "subscription": self.path,
                        "ack_ids": [m.ack_id for m in answer.received_messages],
                    }
                )
            for item in answer.received_messages:
                received.append(
                    Published(json.loads(item.message.data), dict(item.message.attributes))
                )
            if not answer.received_messages:
                time.sleep(0.1)

    def close(self) -> None:
        # The emulator may have been restarted (and forgotten the subscription) by the test.
        with contextlib.suppress(GoogleAPIError):
            self.subscriber.delete_subscription(request={"subscription": self.path}, timeout=5)
        self.subscriber.close()


@contextmanager
def topic_probe() -> Iterator[TopicProbe]:
    probe = TopicProbe()
    try:
        yield probe
    finally:
        probe.close()


class Bucket:
    """Reads the raw-email bucket (fake-gcs-server)."""

    def __init__(self) -> None:
        settings = get_settings()
        client = storage.Client(
            project=settings.google_cloud_project, credentials=AnonymousCredentials()
        )
        self.bucket = client.bucket(settings.raw_email_bucket)

    def read(self, gcs_uri_or_name: str) -> bytes:
        name = (
            gcs_uri_or_name.split("/", 3)[3]
            if gcs_uri_or_name.startswith("gs://")
            else gcs_uri_or_name
        )
        return bytes(self.bucket.blob(name).download_as_bytes())

    def metadata(self, gcs_uri_or_name: str) -> dict[str, str]:
        blob = self.bucket.get_blob(self._name(gcs_uri_or_name))
        assert blob is not None, gcs_uri_or_name
        return dict(blob.metadata or {})

    @staticmethod
    def _name(gcs_uri_or_name: str) -> str:
        if gcs_uri_or_name.startswith("gs://"):
            return gcs_uri_or_name.split("/", 3)[3]
        return gcs_uri_or_name

    def generation(self, name: str) -> int | None:
        blob = self.bucket.get_blob(name)
        return None if blob is None else int(blob.generation)

    def names(self, prefix: str) -> list[str]:
        return [blob.name for blob in self.bucket.list_blobs(prefix=prefix)]
