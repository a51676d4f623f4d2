"""The processor's entry point: one Pub/Sub push delivery → the pipeline → ack or redeliver.

What the HTTP answer means to Pub/Sub: returning normally → 200 → acknowledged; raising →
functions-framework answers 500 → Pub/Sub redelivers with the subscription's backoff and, after
``max_delivery_attempts``, moves the message to the dead-letter topic.

- :class:`~shared.errors.TransientError` (timeouts, 5xx/529, lost connections, an open breaker,
  a lease held by another delivery): raise.
- :class:`~shared.errors.PermanentError` (an invalid envelope, a missing object, …): a
  ``failed`` report is written and the delivery acknowledged — never retried forever. An
  envelope without a usable ``email_id`` is reported under
  :func:`~shared.processing.envelope.poison_key` (``invalid-<sha256 of the data>``), so its
  redeliveries find the same row.
- Anything else is a bug: raised like a transient error, so the message ends in the
  dead-letter topic (replayable once fixed) rather than being lost.

The correlation id is restored from the message attribute before the first log line.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.config import get_settings
from shared.context import set_email_id
from shared.errors import ProcessingError, TransientError
from shared.logs import log_event
from shared.processing.envelope import (
    InvalidEnvelope,
    attributes_of,
    decode_delivery,
    delivery_attempt_of,
    message_of,
    poison_key,
)
from shared.processing.outcome import Outcome
from shared.processing.pipeline import Pipeline
from shared.processing.report import PipelineTrace, failed_report
from shared.runtime import invocation

logger = logging.getLogger(__name__)

FUNCTION_NAME = "processor"


def current_push_envelope() -> Any:
    """The raw Pub/Sub push body of the current request, if there is one.

    functions-framework keeps only ``message`` when it converts a raw push into a CloudEvent;
    ``deliveryAttempt`` (set when the subscription has a dead-letter policy) is read from here.
    """
    try:
        import flask
    except ImportError:  # pragma: no cover - flask comes with functions-framework
        return None
    if not flask.has_request_context():
        return None
    try:
        return flask.request.get_json(silent=True)
    except RecursionError:  # nested past any envelope: read as no body (refused as such)
        return None


def handle_delivery(
    cloud_event: Any, *, push_envelope: Any = None, pipeline: Pipeline | None = None
) -> Outcome:
    """Process one delivery; returns the outcome, raises to have it redelivered."""
    data = getattr(cloud_event, "data", None)
    attributes = attributes_of(data)
    with invocation(FUNCTION_NAME, attributes.get("correlation_id")) as correlation_id:
        settings = get_settings()
        if pipeline is None:
            from shared.processing.bootstrap import get_pipeline

            pipeline = get_pipeline()
        attempt = delivery_attempt_of(data, push_envelope)
        message = message_of(data)
        log_event(
            logger,
            "delivery_received",
            pubsub_message_id=message.get("messageId"),
            delivery_attempt=attempt,
        )
        try:
            delivery = decode_delivery(
                data,
                correlation_id=correlation_id,
                expected_bucket=settings.raw_email_bucket,
                delivery_attempt=attempt,
            )
        except InvalidEnvelope as exc:
            return _reject(pipeline, data, exc=exc, correlation_id=correlation_id, attempt=attempt)
        set_email_id(delivery.email_id)
        try:
            outcome = pipeline.process(delivery)
        except TransientError as exc:
            log_event(
                logger,
                "delivery_nacked",
                level=logging.WARNING,
                stage=exc.stage,
                error_type=type(exc).__name__,
                delivery_attempt=attempt,
            )
            raise
        except ProcessingError as exc:  # permanent errors are handled by the pipeline
            log_event(
                logger,
                "delivery_nacked",
                level=logging.ERROR,
                stage=exc.stage,
                error_type=type(exc).__name__,
            )
            raise
        except Exception as exc:
            log_event(
                logger,
                "delivery_crashed",
                level=logging.ERROR,
                error_type=type(exc).__name__,
                delivery_attempt=attempt,
            )
            raise
        log_event(logger, "delivery_acked", outcome=outcome)
        return outcome


def _reject(
    pipeline: Pipeline,
    data: Any,
    *,
    exc: InvalidEnvelope,
    correlation_id: str,
    attempt: int | None,
) -> Outcome:
    key = poison_key(data)
    set_email_id(key)
    log_event(
        logger,
        "delivery_invalid",
        level=logging.WARNING,
        reason=str(exc),
        claimed_email_id=exc.claimed_email_id,
    )
    extra: dict[str, Any] = {}
    if exc.claimed_email_id:
        extra["claimed_email_id"] = exc.claimed_email_id
    message_id = message_of(data).get("messageId")
    report = failed_report(
        email_id=key,
        correlation_id=correlation_id,
        stage="envelope",
        error_type=type(exc).__name__,
        message=str(exc),
        trace=PipelineTrace(
            attempt=1,
            delivery_attempt=attempt,
            pubsub_message_id=message_id if isinstance(message_id, str) else None,
        ),
        extra=extra,
    )
    outcome = pipeline.reject(report, provider=None)
    acked = Outcome.FAILED if outcome == Outcome.DONE else outcome
    log_event(logger, "delivery_acked", outcome=acked)
    return acked
