"""Provision the local servers: schema, topics and subscriptions, the raw-email bucket.

The production equivalents are in ``terraform/``; names come from :mod:`shared.config`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

from shared.config import get_settings

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextmanager
def _env(**values: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def alembic_config(database_url: str | None = None) -> object:
    from alembic.config import Config

    config = Config(os.path.join(REPO_ROOT, "alembic.ini"))
    config.set_main_option("script_location", os.path.join(REPO_ROOT, "migrations"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` against ``database_url``."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)  # type: ignore[arg-type]


def downgrade(database_url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)  # type: ignore[arg-type]


def create_pubsub(
    emulator_host: str,
    project: str,
    *,
    push_endpoint: str | None,
    min_backoff: float,
    max_backoff: float,
    max_delivery_attempts: int,
) -> None:
    """Topic, dead-letter topic with its own subscription, and the processor's push subscription."""
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import pubsub_v1
    from google.protobuf import duration_pb2

    settings = get_settings()
    with _env(PUBSUB_EMULATOR_HOST=emulator_host):
        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()
    try:
        topic = publisher.topic_path(project, settings.pubsub_topic)
        dead_topic = publisher.topic_path(project, settings.pubsub_dead_letter_topic)
        for path in (topic, dead_topic):
            with contextlib.suppress(AlreadyExists):
                publisher.create_topic(request={"name": path}, timeout=30)
        dead_sub = subscriber.subscription_path(project, settings.pubsub_dead_letter_subscription)
        subscriptions = [{"name": dead_sub, "topic": dead_topic, "ack_deadline_seconds": 60}]
        if push_endpoint:
            subscriptions.append(
                {
                    "name": subscriber.subscription_path(
                        project, settings.pubsub_processor_subscription
                    ),
                    "topic": topic,
                    "push_config": {"push_endpoint": push_endpoint + "/"},
                    "ack_deadline_seconds": 60,
                    "retry_policy": {
                        "minimum_backoff": duration_pb2.Duration(
                            seconds=int(min_backoff), nanos=int(min_backoff % 1 * 1e9)
                        ),
                        "maximum_backoff": duration_pb2.Duration(seconds=int(max_backoff)),
                    },
                    "dead_letter_policy": {
                        "dead_letter_topic": dead_topic,
                        "max_delivery_attempts": max_delivery_attempts,
                    },
                }
            )
        for request in subscriptions:
            with contextlib.suppress(AlreadyExists):
                subscriber.create_subscription(request=request, timeout=30)
    finally:
        subscriber.close()
        publisher.transport.close()


def create_bucket(emulator_host: str, project: str) -> None:
    """The raw-email bucket (fake-gcs-server)."""
    from google.api_core.exceptions import Conflict
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with _env(STORAGE_EMULATOR_HOST=emulator_host):
        client = storage.Client(project=project, credentials=AnonymousCredentials())
        with contextlib.suppress(Conflict):
            client.create_bucket(get_settings().raw_email_bucket)
