"""The scheduled tasks, called by Cloud Scheduler with an OIDC token: the nightly rollup of
operational metrics and, every five minutes, the outbox sweep. Thin: the work is in
:mod:`shared.scheduled`.

The function is deployed as ``rollup`` (this entry point, ``terraform/functions.tf``): renaming
a deployed function or its Terraform resources makes ``terraform apply`` destroy and recreate
them, with their Scheduler jobs and IAM bindings, so the name stays."""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.coldstart import freeze_import_heap, pause_collection

# First: no garbage collection while the instance starts (shared/coldstart.py).
pause_collection()

from shared.runtime import http_function, serve_without_control_socket  # noqa: E402


@functions_framework.http
@http_function("rollup")
def rollup(request: Any) -> Any:
    from shared.scheduled import handle_scheduled_request

    return handle_scheduled_request(request)


# Last: the heap inherited by the forked worker stays out of its collections (cold start).
serve_without_control_socket()
freeze_import_heap()
