"""Structured logging: one JSON object per line on stdout, in Cloud Logging's format.

Built on google-cloud-logging's :class:`StructuredLogHandler` (severity, trace from the request's
``X-Cloud-Trace-Context``/``traceparent`` header, labels, source location). A filter adds the
invocation's ``correlation_id``, ``email_id`` and the function name to every record, so
``jsonPayload.correlation_id="…"`` in Logs Explorer finds the whole story of one email.

Log events, not prose, and never personal data: ``log_event(logger, "email_stored", size=123)``.

Exceptions that reach a log record (Flask logs every one a function raises, "Exception on /
[POST]") are written by :func:`shared.observability.scrub.safe_traceback`: frames and types,
no library message (which may quote a value of the email). The record carries the correlation
and email id of the invocation the exception left (:func:`remember_invocation`), and an
expected retry (:class:`shared.errors.TransientError`, already logged by the function as
``delivery_nacked``) is a WARNING, not an ERROR. Messages of other libraries' loggers are
pattern-scrubbed, and those of libraries that quote the email's own bytes (pypdf) withheld.
Ours is the only handler on the root logger that writes: plain stream handlers installed by
the framework are removed.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any

import google.cloud.logging_v2
from google.cloud.logging_v2.handlers import StructuredLogHandler

from shared.context import current_correlation_id, current_email_id
from shared.observability.scrub import safe_traceback, scrub_text

_configured_for: str | None = None
_INVOCATION_IDS = "_shared_invocation_ids"


def remember_invocation(exc: BaseException) -> None:
    """Stamp ``exc`` with the current correlation and email id before it leaves the
    invocation, so the framework's log line about it can still be found by them."""
    ids = {"correlation_id": current_correlation_id(), "email_id": current_email_id()}
    with contextlib.suppress(AttributeError, TypeError):  # a type refusing attributes
        setattr(exc, _INVOCATION_IDS, ids)


def _sanitise_exception(record: logging.LogRecord, fields: dict[str, Any]) -> None:
    from shared.errors import TransientError

    exc = record.exc_info[1] if record.exc_info else None
    if exc is None:
        return
    record.exc_text = safe_traceback(exc)
    record.exc_info = None
    for key, value in (getattr(exc, _INVOCATION_IDS, None) or {}).items():
        if fields.get(key) is None and value is not None:
            fields[key] = value
    if isinstance(exc, TransientError) and record.levelno > logging.WARNING:
        record.levelno, record.levelname = logging.WARNING, "WARNING"


# Libraries that read the email's own bytes (attachments) and quote them in their warnings
# (pypdf: "Expecting a NameObject for key but found '<text of the PDF>'"): their messages are
# never written, only that one was logged, by which logger and at which level.
_CONTENT_READING_LIBRARIES = frozenset({"pypdf"})


def _sanitise_library_message(record: logging.LogRecord) -> None:
    """Messages of loggers other than ours are written pattern-scrubbed (addresses, amounts,
    IBANs, long numbers masked); those of content-reading libraries not at all."""
    if record.name == "shared" or record.name.startswith("shared."):
        return
    if record.name.partition(".")[0] in _CONTENT_READING_LIBRARIES:
        record.msg = "library_message_withheld"
    else:
        try:
            message = record.getMessage()
        except Exception:  # a library's malformed format string: its template only
            message = str(record.msg)
        record.msg = scrub_text(message)
    record.args = None


def _request_without_query() -> dict[str, str] | None:
    """The request a line is logged in, without its query string: the handler would write the
    whole URL, and a console search or filter (``?account=<a name>``) carries personal data."""
    flask = sys.modules.get("flask")  # never imported here: a function without Flask has none
    if flask is None or not flask.has_request_context():
        return None
    request = flask.request
    return {"requestMethod": request.method, "requestUrl": request.base_url}


class _ContextFilter(logging.Filter):
    """Adds correlation id, email id and function name as ``jsonPayload`` fields."""

    def __init__(self, function_name: str) -> None:
        super().__init__()
        self._function_name = function_name

    def filter(self, record: logging.LogRecord) -> bool:
        fields: dict[str, Any] = {
            "correlation_id": current_correlation_id(),
            "function": self._function_name,
            "logger": record.name,
        }
        email_id = current_email_id()
        if email_id is not None:
            fields["email_id"] = email_id
        given = getattr(record, "json_fields", None)
        if isinstance(given, dict):
            fields.update(given)
        _sanitise_exception(record, fields)
        _sanitise_library_message(record)
        if not hasattr(record, "http_request"):
            record.http_request = _request_without_query()
        record.json_fields = fields
        labels = dict(getattr(record, "labels", None) or {})
        labels.setdefault("function", self._function_name)
        record.labels = labels
        return True


def configure_logging(
    function_name: str, *, level: str = "INFO", project_id: str | None = None, stream: Any = None
) -> None:
    """Send every record of the process through the structured handler (idempotent)."""
    global _configured_for
    root = logging.getLogger()
    if _configured_for == function_name and stream is None:
        return
    for handler in list(root.handlers):
        # Ours from an earlier call, and plain stream handlers: functions-framework installs one
        # on the root (``LOG_EXECUTION_ID=true``, legacy ``ENTRY_POINT``), and it would print
        # every record, tracebacks included, before any of the filtering below.
        if getattr(handler, "_shared_structured", False) or type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    # The library's one-off diagnostic line carries no correlation id and no value for us.
    google.cloud.logging_v2._instrumentation_emitted = True
    handler = StructuredLogHandler(  # type: ignore[no-untyped-call]
        project_id=project_id, stream=stream or sys.stdout
    )
    # Before the library's own filter, which turns ``record.labels`` into the labels field.
    handler.filters.insert(0, _ContextFilter(function_name))
    handler._shared_structured = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Chatty client libraries stay at WARNING: their INFO lines carry no correlation value.
    noisy_loggers = (
        "urllib3",
        "google",
        "grpc",
        "httpx",
        "httpx2",
        "httpcore",
        "httpcore2",
        "anthropic",
        "pymongo",
        "sqlalchemy",
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # pypdf warns about every malformed object of a PDF (hundreds for one bad file); the
    # extractor's own ``pdf_unreadable`` note says what matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    _configured_for = function_name


def log_event(
    logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields: Any
) -> None:
    """Log ``event`` as the message with ``fields`` as structured ``jsonPayload`` keys."""
    logger.log(level, event, extra={"json_fields": fields})
