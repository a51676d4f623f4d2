"""HTTP entry point for email providers' inbound webhooks (``/mailgun``, ``/sendgrid``,
``/postmark``, ``/raw``). Thin: the work is in :mod:`shared.intake`."""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.coldstart import freeze_import_heap, pause_collection

# First: no garbage collection while the instance starts (shared/coldstart.py).
pause_collection()

from shared.runtime import http_function, serve_without_control_socket  # noqa: E402


@functions_framework.http
@http_function("webhook")
def webhook(request: Any) -> Any:
    from shared.intake.handler import handle_webhook

    return handle_webhook(request)


def _limit_reads() -> None:
    """Idle timeout and deadline on every request read by gunicorn (before it forks the
    worker, which inherits them): see shared/intake/serving.py."""
    from shared.config import get_settings
    from shared.intake.serving import install_read_limits

    settings = get_settings()
    install_read_limits(
        settings.webhook_read_timeout_seconds, settings.webhook_request_deadline_seconds
    )


_limit_reads()

# Last: the heap inherited by the forked worker stays out of its collections (cold start).
serve_without_control_socket()
freeze_import_heap()
