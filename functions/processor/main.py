"""Pub/Sub push subscriber: one inbound email per delivery. Thin: the pipeline is in
:mod:`shared.processing`."""

from __future__ import annotations

from typing import Any

import functions_framework

from shared.coldstart import freeze_import_heap, pause_collection

# First: no garbage collection while the instance starts (shared/coldstart.py).
pause_collection()

from shared.runtime import serve_without_control_socket  # noqa: E402


@functions_framework.cloud_event
def process_email(cloud_event: Any) -> None:
    from shared.processing.entrypoint import current_push_envelope, handle_delivery

    handle_delivery(cloud_event, push_envelope=current_push_envelope())


# Last: the heap inherited by the forked worker stays out of its collections (cold start).
serve_without_control_socket()
freeze_import_heap()
