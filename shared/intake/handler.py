"""Routes a webhook request to its provider (filled in by the intake issue)."""

from __future__ import annotations

from typing import Any


def handle_webhook(request: Any) -> Any:
    return {"error": "unknown route", "path": request.path}, 404
