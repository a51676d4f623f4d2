"""The wrapper every function invocation runs in.

Fresh context per invocation: logging configured once per instance, the correlation id bound
(from a valid ``X-Correlation-ID`` header or a Pub/Sub attribute, otherwise new) and reset when
the invocation ends, so a reused instance never leaks one request's id into the next.
Sentry is initialised once per instance (when ``SENTRY_DSN`` is set) and each invocation runs
in its own Sentry isolation scope, tagged with the function name, correlation id and the
caller's ``tags`` (see :mod:`shared.observability.sentry`); telemetry can never break the
function. The C allocator is tuned once per instance and the heap trimmed after an invocation
that moved a large body (:mod:`shared.allocator`), so a long-lived instance's memory stays flat.
Garbage collection, paused while the instance starts, resumes once its first invocation's
answer has been sent (:mod:`shared.coldstart`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from shared.allocator import released_after_invocation, tune_allocator
from shared.coldstart import collection_paused, resume_collection
from shared.config import get_settings
from shared.context import CORRELATION_HEADER, correlation_id_from, invocation_context
from shared.logs import configure_logging, remember_invocation

F = TypeVar("F", bound=Callable[..., Any])


def serve_without_control_socket() -> None:
    """Keep gunicorn (functions-framework's server) from opening its control socket. Call it
    from an entry module, which functions-framework imports before it configures gunicorn.

    Nothing manages a function instance through that socket, and its default path
    (``$XDG_RUNTIME_DIR/gunicorn.ctl``, else ``~/.gunicorn/gunicorn.ctl``) is the same for every
    process of a user: several instances on one machine unlink each other's socket and gunicorn
    then logs plain-text errors among the JSON lines. functions-framework passes gunicorn no
    settings of ours, so the setting's default is changed (see docs/constraints.md)."""
    from gunicorn.config import ControlSocketDisable

    ControlSocketDisable.default = True


def prepare_instance(function_name: str) -> None:
    """Per-instance set-up done on first invocation (never at import): the C allocator's
    settings, structured logging and Sentry (a no-op without ``SENTRY_DSN``). Nothing here may
    pull in the database or breaker modules: the webhook runs it too and must never import
    them."""
    from shared.observability.sentry import init_sentry

    settings = get_settings()
    tune_allocator(settings)
    configure_logging(
        function_name, level=settings.log_level, project_id=settings.google_cloud_project
    )
    init_sentry(settings)


@contextmanager
def invocation(
    function_name: str,
    correlation_id: str | None,
    *,
    tags: Mapping[str, object] | None = None,
) -> Iterator[str]:
    """Run one invocation with its correlation id bound; yields the id in force.

    ``tags`` (e.g. ``pubsub_message_id``, ``delivery_attempt``) go on the invocation's Sentry
    scope; an exception is captured, then re-raised.
    """
    from shared.observability.sentry import sentry_invocation

    try:
        prepare_instance(function_name)
        with (
            released_after_invocation(),
            invocation_context(correlation_id_from(correlation_id)) as cid,
            sentry_invocation(function_name, cid, tags),
        ):
            try:
                yield cid
            except Exception as exc:
                remember_invocation(exc)
                raise
    finally:
        _after_the_answer(resume_collection)  # the instance has started (shared/coldstart.py)


def _after_the_answer(call: Callable[[], None]) -> None:
    """Run ``call`` once the current request's answer has been sent (WSGI ``close``), or now
    outside a request; only while collection is paused, so an ordinary invocation pays a flag
    check."""
    if not collection_paused():
        return
    from flask import after_this_request, has_request_context

    if not has_request_context():
        call()
        return

    @after_this_request
    def on_close(response: Any) -> Any:
        response.call_on_close(call)
        return response


def http_function(function_name: str) -> Callable[[F], F]:
    """Decorate a functions-framework HTTP handler: correlation id in, ``X-Correlation-ID`` out."""

    def decorate(handler: F) -> F:
        @functools.wraps(handler)
        def wrapper(request: Any) -> Any:
            from flask import make_response

            with invocation(function_name, request.headers.get(CORRELATION_HEADER)) as cid:
                response = make_response(handler(request))
                response.headers[CORRELATION_HEADER] = cid
                return response

        return wrapper  # type: ignore[return-value]

    return decorate


def function_name_from_env(default: str) -> str:
    """The deployed function's name (``K_SERVICE`` on Cloud Functions 2nd gen)."""
    return os.environ.get("K_SERVICE") or os.environ.get("FUNCTION_NAME") or default
