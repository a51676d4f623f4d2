"""One :class:`SharedBreaker` per name per process, created on first use.

Known names: ``claude``, ``mongodb``, ``gcs`` (the dependencies the processor protects). Any
other well-formed name is accepted too (tests use unique names such as ``claude-1a2b3c4d``).
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from shared.breakers.alerts import BreakerAlerter
from shared.breakers.breaker import SharedBreaker
from shared.breakers.model import BreakerSnapshot
from shared.breakers.store import PostgresBreakerStore
from shared.config import Settings, get_settings

if TYPE_CHECKING:  # the mail package loads with the first alert only (cold start)
    from shared.mail.port import Mailer

KNOWN_BREAKERS = ("claude", "mongodb", "gcs")
_VALID_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")

_lock = threading.Lock()
_breakers: dict[str, SharedBreaker] = {}


def validate_name(name: object) -> str:
    if not isinstance(name, str) or not _VALID_NAME.fullmatch(name):
        raise ValueError(
            "breaker name must be 1-64 characters of a-z, 0-9, '_', '.', '-' starting with a "
            f"letter (known: {', '.join(KNOWN_BREAKERS)})"
        )
    return name


class _MailerOnFirstAlert:
    """The alert mailer, built when the first alert goes out: a process that looks breakers up
    without ever alerting (the ops commands, the review console) needs no SMTP settings, and a
    missing one in production fails that alert (``breaker_alert_failed``), not the lookup."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._mailer: Mailer | None = None

    def send(
        self, *, to: str, subject: str, body: str, headers: dict[str, str] | None = None
    ) -> str:
        if self._mailer is None:
            from shared.mail import SmtpMailer

            self._mailer = SmtpMailer(self._settings)
        return self._mailer.send(to=to, subject=subject, body=body, headers=headers)


def _build(name: str) -> SharedBreaker:
    settings = get_settings()
    return SharedBreaker(
        name,
        store=PostgresBreakerStore(),
        fail_max=settings.circuit_breaker_fail_max,
        reset_timeout=settings.circuit_breaker_reset_timeout,
        trial_timeout=settings.circuit_breaker_trial_timeout,
        cache_seconds=settings.circuit_breaker_cache_seconds,
        alerter=BreakerAlerter(_MailerOnFirstAlert(settings), settings.circuit_breaker_alert_email),
    )


def get_breaker(name: str) -> SharedBreaker:
    """The process's breaker called ``name`` (created lazily; no I/O on creation)."""
    breaker = _breakers.get(name)
    if breaker is None:
        validate_name(name)
        with _lock:
            breaker = _breakers.get(name)
            if breaker is None:
                breaker = _breakers[name] = _build(name)
    return breaker


def forget_breakers() -> None:
    """Drop this process's breaker objects (tests; the rows in Postgres stay)."""
    with _lock:
        _breakers.clear()


def force_open(name: str) -> BreakerSnapshot:
    """Open ``name`` everywhere and hold it open until :func:`force_close` or :func:`reset`."""
    return get_breaker(name).force_open()


def force_close(name: str) -> BreakerSnapshot:
    """Close ``name`` everywhere; its counter starts at zero."""
    return get_breaker(name).force_close()


def reset(name: str) -> BreakerSnapshot:
    """Close ``name`` and forget its last failure."""
    return get_breaker(name).reset()


def list_breakers() -> list[BreakerSnapshot]:
    """Every breaker row in Postgres, by name (migration 0003 seeds the known ones)."""
    return PostgresBreakerStore().list_all()
