"""Decodes a Pub/Sub delivery and runs the pipeline (filled in by the processor issue)."""

from __future__ import annotations

import logging
from typing import Any

from shared.context import correlation_id_from
from shared.logs import log_event
from shared.runtime import invocation

logger = logging.getLogger(__name__)


def handle_delivery(cloud_event: Any) -> None:
    message = (cloud_event.data or {}).get("message", {})
    attributes = message.get("attributes") or {}
    with invocation("processor", correlation_id_from(attributes.get("correlation_id"))):
        log_event(logger, "delivery_received", message_id=message.get("messageId"))
