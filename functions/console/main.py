"""The review console (staff queue and actions, operator pages) as an HTTP function. Thin: the
Flask application is in :mod:`shared.console`."""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.coldstart import freeze_import_heap, pause_collection

# First: no garbage collection while the instance starts (shared/coldstart.py).
pause_collection()

from shared.runtime import http_function, serve_without_control_socket  # noqa: E402


@functions_framework.http
@http_function("console")
def console(request: Any) -> Any:
    from shared.console.app import handle

    return handle(request)


# Last: the heap inherited by the forked worker stays out of its collections (cold start).
serve_without_control_socket()
freeze_import_heap()
