"""Per-invocation context (correlation id, function name) in ContextVars.

Set once at the start of an invocation with :func:`invocation_context`, read by the log filter,
and reset when the invocation ends, so a reused instance never carries one request's id into the
next (each request runs in its own thread or task and sees only its own values).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

CORRELATION_HEADER = "X-Correlation-ID"
_VALID_CORRELATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_email_id: ContextVar[str | None] = ContextVar("email_id", default=None)


def new_correlation_id() -> str:
    """A fresh, unguessable correlation id (32 hex characters)."""
    return uuid.uuid4().hex


def is_valid_correlation_id(value: object) -> bool:
    """8–128 characters of letters, digits and ``._:-``, starting with a letter or digit."""
    return isinstance(value, str) and bool(_VALID_CORRELATION_ID.fullmatch(value))


def correlation_id_from(value: str | None) -> str:
    """Keep a valid incoming id (header or attribute); otherwise generate a new one."""
    return value if value is not None and is_valid_correlation_id(value) else new_correlation_id()


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def current_email_id() -> str | None:
    return _email_id.get()


def set_email_id(email_id: str | None) -> None:
    """Record the email this invocation is about (reset with the invocation's context)."""
    _email_id.set(email_id)


@contextmanager
def invocation_context(correlation_id: str) -> Iterator[str]:
    """Bind ``correlation_id`` for the duration of one invocation, then restore the previous."""
    cid_token = _correlation_id.set(correlation_id)
    email_token = _email_id.set(None)
    try:
        yield correlation_id
    finally:
        _email_id.reset(email_token)
        _correlation_id.reset(cid_token)
