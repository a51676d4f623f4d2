"""The rollup function's request handling (filled in by the observability issue)."""

from __future__ import annotations

from typing import Any


def handle_rollup_request(request: Any) -> Any:
    return {"error": "rollup not implemented yet"}, 501
