"""What may leave the process for Sentry: an allow-list applied to every event and breadcrumb.

Email text, addresses, names and amounts must never reach Sentry. Names cannot be recognised
by a pattern, so the rule is structural rather than "find and mask":

- exception messages are dropped (only the type is kept) unless the exception belongs to our
  own hierarchy (:class:`shared.errors.ProcessingError`, whose messages name stages,
  dependencies and error types); those are still pattern-scrubbed;
- log messages are kept only when they are ``snake_case`` event names (``log_event``);
- request bodies, headers, cookies, query strings, ``extra``, ``user`` and local variables are
  dropped; only allow-listed top-level keys, contexts and tags survive;
- breadcrumbs: only pipeline-stage breadcrumbs (stage name and timing) survive.

Any failure while scrubbing drops the event: privacy fails closed.
"""

from __future__ import annotations

import re
import traceback
from typing import Any

STAGE_CATEGORY = "stage"
TAG_KEYS = frozenset(
    {"email_id", "correlation_id", "function", "pubsub_message_id", "delivery_attempt", "stage"}
)
_TOP_LEVEL_KEYS = frozenset(
    {
        "event_id",
        "timestamp",
        "platform",
        "level",
        "logger",
        "server_name",
        "release",
        "dist",
        "environment",
        "sdk",
        "modules",
        "tags",
        "contexts",
        "exception",
        "threads",
        "breadcrumbs",
        "logentry",
        "message",
        "request",
        "transaction",
        "transaction_info",
        "fingerprint",
        "errors",
        "debug_meta",
    }
)
_CONTEXT_KEYS = frozenset({"runtime", "os", "trace", "cloud_resource"})
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")

_NUMBER = r"\d(?:[\d.,']|\s(?=\d))*"
_CURRENCY = r"(?:[$€£¥]|\b(?:EUR|USD|GBP|CHF)\b)"
_PATTERNS = [
    (re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{1,4}){2,8}\b"), "[iban]"),
    (re.compile(rf"{_CURRENCY}\s?{_NUMBER}|{_NUMBER}\s?{_CURRENCY}"), "[amount]"),
    (re.compile(r"\b\d{1,3}(?:[.,' ]\d{3})+(?:[.,]\d{1,2})?\b|\b\d+[.,]\d{2}\b"), "[amount]"),
    (re.compile(r"\d{5,}"), "[number]"),
]


def scrub_text(value: str) -> str:
    """Mask email addresses, amounts, IBANs and long digit runs in ``value``."""
    for pattern, replacement in _PATTERNS:
        value = pattern.sub(replacement, value)
    return value


def _our_exception_types() -> set[str]:
    from shared.errors import ProcessingError

    found: set[str] = set()
    pending: list[type] = [ProcessingError]
    while pending:
        cls = pending.pop()
        found.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return found


def is_own_exception(exc: BaseException) -> bool:
    """One of our :class:`shared.errors.ProcessingError` types, whose messages are safe to show
    once pattern-scrubbed (they name stages, dependencies and error types)."""
    from shared.errors import ProcessingError

    return isinstance(exc, ProcessingError) and type(exc).__module__.startswith("shared.")


def describe_exception(exc: BaseException) -> str:
    """``module.Type: message`` for our own errors, ``module.Type`` alone for any other: a
    library's message may quote a value (Postgres ``invalid input syntax …: "…"``, a Mongo
    duplicate key, a parser echoing the email)."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if is_own_exception(exc):
        return f"{name}: {scrub_text(str(exc))}"
    return f"{name} (message withheld: it may quote personal data)"


def safe_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and the exceptions chained to it, as Python prints it, with
    every message but our own errors' left out (frames and types are kept: that is what
    debugging needs, and source lines hold no email data)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        cause = current.__cause__
        current = (
            cause if cause is not None or current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for index, item in enumerate(reversed(chain)):
        if index:
            parts.append(
                "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        parts.append(describe_exception(item) + "\n")
    return "".join(parts).rstrip("\n")


def _scrub_frames(container: dict[str, Any] | None) -> None:
    if not isinstance(container, dict):
        return
    stacktrace = container.get("stacktrace")
    if isinstance(stacktrace, dict):
        for frame in stacktrace.get("frames") or []:
            if isinstance(frame, dict):
                frame.pop("vars", None)


def _scrub_exceptions(event: dict[str, Any]) -> None:
    exception = event.get("exception")
    if not isinstance(exception, dict):
        return
    ours = _our_exception_types()
    for value in exception.get("values") or []:
        if not isinstance(value, dict):
            continue
        own = str(value.get("module") or "").startswith("shared.") and value.get("type") in ours
        message = value.get("value")
        value["value"] = scrub_text(message) if own and isinstance(message, str) else ""
        _scrub_frames(value)


def _scrub_message(event: dict[str, Any]) -> None:
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        text = logentry.get("message") or logentry.get("formatted") or ""
        kept = text if isinstance(text, str) and _EVENT_NAME.fullmatch(text) else "[redacted]"
        event["logentry"] = {"message": kept}
    message = event.get("message")
    if isinstance(message, str) and not _EVENT_NAME.fullmatch(message):
        event["message"] = "[redacted]"


def _scrub_request(event: dict[str, Any]) -> None:
    request = event.get("request")
    if not isinstance(request, dict):
        return
    url = request.get("url")
    event["request"] = {
        "method": request.get("method"),
        "url": scrub_text(url.split("?", 1)[0]) if isinstance(url, str) else None,
    }


def keep_breadcrumb(crumb: dict[str, Any]) -> dict[str, Any] | None:
    """Only stage breadcrumbs (name and seconds) are kept; every other one is dropped."""
    if crumb.get("category") != STAGE_CATEGORY:
        return None
    stage = crumb.get("message")
    if not isinstance(stage, str) or not _EVENT_NAME.fullmatch(stage):
        return None
    seconds = (crumb.get("data") or {}).get("seconds")
    kept: dict[str, Any] = {
        "category": STAGE_CATEGORY,
        "message": stage,
        "level": "info",
        "type": "default",
    }
    if "timestamp" in crumb:
        kept["timestamp"] = crumb["timestamp"]
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        kept["data"] = {"seconds": float(seconds)}
    return kept


def is_safe_tag_value(value: object) -> bool:
    return isinstance(value, str) and bool(_IDENTIFIER.fullmatch(value)) and "@" not in value


def scrub_event(event: dict[str, Any]) -> dict[str, Any]:
    """Return ``event`` reduced to what may be sent (mutates and returns it)."""
    for key in list(event):
        if key not in _TOP_LEVEL_KEYS:
            del event[key]
    _scrub_exceptions(event)
    for thread in (event.get("threads") or {}).get("values") or []:
        _scrub_frames(thread)
    _scrub_message(event)
    _scrub_request(event)
    contexts = event.get("contexts")
    if isinstance(contexts, dict):
        event["contexts"] = {k: v for k, v in contexts.items() if k in _CONTEXT_KEYS}
    tags = event.get("tags")
    if isinstance(tags, dict):
        event["tags"] = {
            k: v for k, v in tags.items() if k in TAG_KEYS and is_safe_tag_value(str(v))
        }
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        values = [keep_breadcrumb(c) for c in breadcrumbs.get("values") or []]
        event["breadcrumbs"] = {"values": [c for c in values if c is not None]}
    if isinstance(event.get("transaction"), str):
        event["transaction"] = scrub_text(event["transaction"])
    return event
