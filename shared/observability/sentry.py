"""Sentry: initialised once per instance, one isolation scope per invocation, privacy first.

:func:`init_sentry` (called by :func:`shared.runtime.prepare_instance`) is a no-op without
``SENTRY_DSN``. Options: ``send_default_pii=False``, no local variables, no request bodies, the
SDK's default integrations minus those that record prompts or query documents (Anthropic and
the other AI SDKs, PyMongo), and :mod:`shared.observability.scrub` as ``before_send`` /
``before_breadcrumb``.

:func:`sentry_invocation` is the serverless wrapper (sentry-python's ``serverless_function``
behaviour; its GCP integration does nothing on the 3.11/3.12 runtimes): a fresh isolation
scope with the invocation's tags, capture and re-raise, flush in ``finally``
(when something was captured). The pipeline adds
context with :func:`set_invocation_tags` and :func:`stage_breadcrumb`. None of this can break
the function: every call into the SDK is guarded.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from shared.config import Settings, get_settings
from shared.context import current_correlation_id, current_email_id
from shared.logs import log_event
from shared.observability.scrub import (
    STAGE_CATEGORY,
    TAG_KEYS,
    is_safe_tag_value,
    keep_breadcrumb,
    scrub_event,
)

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_active = False


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    """Scrub every event; add the invocation's ids; drop the event if scrubbing fails."""
    try:
        tags = event.setdefault("tags", {})
        if isinstance(tags, dict):
            for key, value in (
                ("correlation_id", current_correlation_id()),
                ("email_id", current_email_id()),
            ):
                if value is not None:
                    tags.setdefault(key, value)
        return scrub_event(event)
    except Exception:
        return None


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return keep_breadcrumb(crumb)
    except Exception:
        return None


def sentry_options(settings: Settings) -> dict[str, Any]:
    """The ``sentry_sdk.init`` keyword arguments for ``settings`` (DSN included)."""
    assert settings.sentry_dsn is not None
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.integrations.stdlib import StdlibIntegration

    return {
        "dsn": settings.sentry_dsn.get_secret_value(),
        "environment": settings.sentry_environment,
        "release": settings.sentry_release,
        "send_default_pii": False,
        "include_local_variables": False,
        "max_request_body_size": "never",
        "before_send": before_send,
        "before_breadcrumb": before_breadcrumb,
        # No auto-enabled integrations: the AI ones (anthropic, …) would record prompts, the
        # database ones query documents, and importing them would load those libraries into
        # the webhook. The defaults (logging, threading, excepthook, …) stay.
        "auto_enabling_integrations": False,
        # Only stage breadcrumbs are ever sent (``before_breadcrumb``), so recording one per
        # log line and per outgoing HTTP call (and adding trace headers to every Cloud Storage
        # request) is pure cost on the hot path: error log lines still become events.
        "integrations": [LoggingIntegration(level=None, event_level=logging.ERROR)],
        "disabled_integrations": [StdlibIntegration()],
        "traces_sample_rate": None,
        "attach_stacktrace": False,
        "max_breadcrumbs": 50,
        "shutdown_timeout": settings.sentry_flush_timeout_seconds,
    }


def init_sentry(settings: Settings | None = None) -> bool:
    """Initialise the SDK once per process when ``SENTRY_DSN`` is set; returns whether active."""
    global _active
    if _active:
        return True
    settings = settings or get_settings()
    if settings.sentry_dsn is None or not settings.sentry_dsn.get_secret_value():
        return False
    with _lock:
        if _active:
            return True
        try:
            import sentry_sdk

            sentry_sdk.init(**sentry_options(settings))
            _active = True
        except Exception as exc:  # telemetry must never stop the function
            log_event(
                logger, "sentry_init_failed", level=logging.WARNING, error_type=type(exc).__name__
            )
    return _active


def shutdown_sentry() -> None:
    """Flush and close the client, so the next :func:`init_sentry` starts afresh (tests)."""
    global _active
    with _lock:
        if _active:
            with contextlib.suppress(Exception):
                import sentry_sdk

                sentry_sdk.get_client().close(timeout=2)
                sentry_sdk.init(dsn=None)
        _active = False


def is_active() -> bool:
    return _active


def _safe_tags(tags: Mapping[str, object]) -> dict[str, str]:
    return {
        key: str(value)
        for key, value in tags.items()
        if key in TAG_KEYS and value is not None and is_safe_tag_value(str(value))
    }


def set_invocation_tags(**tags: object) -> None:
    """Tag the current invocation's scope (``email_id``, ``pubsub_message_id``,
    ``delivery_attempt`` …); unknown keys and unsafe values are ignored."""
    if not _active:
        return
    with contextlib.suppress(Exception):
        import sentry_sdk

        scope = sentry_sdk.get_isolation_scope()
        for key, value in _safe_tags(tags).items():
            scope.set_tag(key, value)


def stage_breadcrumb(stage: str, seconds: float) -> None:
    """Record that pipeline ``stage`` took ``seconds`` (name and timing only)."""
    if not _active:
        return
    with contextlib.suppress(Exception):
        import sentry_sdk

        sentry_sdk.add_breadcrumb(
            category=STAGE_CATEGORY,
            message=stage,
            level="info",
            data={"seconds": round(float(seconds), 4)},
        )


def capture_handled(exc: BaseException) -> None:
    """Report an error the function handles itself (e.g. a permanent failure it acks)."""
    if not _active:
        return
    with contextlib.suppress(Exception):
        import sentry_sdk

        sentry_sdk.capture_exception(exc)


def _capture(exc: BaseException) -> None:
    with contextlib.suppress(Exception):
        import sentry_sdk
        from sentry_sdk.utils import event_from_exception

        client = sentry_sdk.get_client()
        event, hint = event_from_exception(
            exc,
            client_options=client.options,
            mechanism={"type": "invocation", "handled": False},
        )
        sentry_sdk.capture_event(event, hint=hint)


def _last_event_id() -> str | None:
    with contextlib.suppress(Exception):
        import sentry_sdk

        return sentry_sdk.get_isolation_scope().last_event_id()
    return None


def _flush_if_captured(event_id_at_start: str | None) -> None:
    """Flush when this invocation captured an event (the isolation scope's last event id
    changed — a forked scope inherits its parent's): the CPU is throttled after the response,
    so a queued event must go now. Invocations that captured nothing skip the flush."""
    if _last_event_id() == event_id_at_start:
        return
    with contextlib.suppress(Exception):
        import sentry_sdk

        sentry_sdk.flush(timeout=get_settings().sentry_flush_timeout_seconds)


@contextmanager
def sentry_invocation(
    function_name: str, correlation_id: str, tags: Mapping[str, object] | None = None
) -> Iterator[None]:
    """One invocation in a fresh isolation scope: tagged, captured and re-raised, flushed."""
    if not _active:
        yield
        return
    with contextlib.ExitStack() as stack:
        try:
            import sentry_sdk

            scope = stack.enter_context(sentry_sdk.isolation_scope())
            scope.clear_breadcrumbs()
            base = {"function": function_name, "correlation_id": correlation_id, **(tags or {})}
            for key, value in _safe_tags(base).items():
                scope.set_tag(key, value)
        except Exception as exc:
            log_event(
                logger, "sentry_scope_failed", level=logging.WARNING, error_type=type(exc).__name__
            )
        event_id_at_start = _last_event_id()
        try:
            yield
        except Exception as exc:
            _capture(exc)
            raise
        finally:
            _flush_if_captured(event_id_at_start)
