"""Nightly rollup of operational metrics, called by Cloud Scheduler with an OIDC token.
Thin: the work is in :mod:`shared.metrics.rollup`."""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.coldstart import freeze_import_heap
from shared.runtime import http_function


@functions_framework.http
@http_function("rollup")
def rollup(request: Any) -> Any:
    from shared.metrics.rollup_handler import handle_rollup_request

    return handle_rollup_request(request)


# Last: the heap inherited by the forked worker stays out of its collections (cold start).
freeze_import_heap()
