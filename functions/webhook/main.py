"""HTTP entry point for email providers' inbound webhooks (``/mailgun``, ``/sendgrid``,
``/postmark``, ``/raw``). Thin: the work is in :mod:`shared.intake`."""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.coldstart import freeze_import_heap
from shared.runtime import http_function


@functions_framework.http
@http_function("webhook")
def webhook(request: Any) -> Any:
    from shared.intake.handler import handle_webhook

    return handle_webhook(request)


# Last: the heap inherited by the forked worker stays out of its collections (cold start).
freeze_import_heap()
