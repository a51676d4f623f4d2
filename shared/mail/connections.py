"""SMTP sessions kept open between messages of one instance.

Opening a session costs the TCP connect, the greeting, ``EHLO``, ``STARTTLS`` with its TLS
handshake and a second ``EHLO``, and ``AUTH`` — several round trips before the first ``MAIL``.
:class:`SmtpConnections` keeps sessions that just sent a message and hands them to the next
message instead:

- a kept session is checked with ``NOOP`` before reuse; one that fails the check (the relay
  closed it, the network path dropped it) is closed and the next one, or a new one, is used;
- ``STARTTLS`` and login happen only on a new session (:func:`shared.mail.smtp.open_smtp`, the
  one connect sequence);
- a session is used by one thread at a time (taken out of the idle list under a lock);
- a session idle longer than ``SMTP_CONNECTION_IDLE_SECONDS`` is closed instead of reused (at the
  next send or :meth:`close`; Cloud Functions throttles the CPU between requests, so no timer
  thread would run reliably — the relay's own idle timeout closes its side meanwhile, and the
  ``NOOP`` check notices), as is one that sent ``SMTP_MAX_MESSAGES_PER_CONNECTION`` messages
  (relays limit messages per session) or failed in any way while sending.

A message that fails on a reused session is not re-sent here: the caller's error handling is
the same as for a new session (the outbox keeps the row pending and retries it later).

The message's deadline (:func:`shared.mail.smtp.message_seconds`) covers the reuse check and,
when a new session is needed, its opening: a session is handed out with that deadline set and
given back without one.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from shared.config import Settings
from shared.mail.smtp import SMTP_FAILURES as _FAILURES
from shared.mail.smtp import DeadlineSMTP, open_smtp


@dataclass
class _Session:
    smtp: smtplib.SMTP
    messages: int = 0
    idle_since: float = 0.0


def _close(smtp: smtplib.SMTP) -> None:
    with suppress(*_FAILURES):
        smtp.close()


def _set_deadline(smtp: smtplib.SMTP, deadline: float | None) -> None:
    if isinstance(smtp, DeadlineSMTP):
        smtp.deadline = deadline


def _quit(smtp: smtplib.SMTP) -> None:
    with suppress(*_FAILURES):
        smtp.quit()
    _close(smtp)


class SmtpConnections:
    """Open SMTP sessions of one mailer, reused across its messages (thread-safe)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_idle: int = 4,
        connect: Callable[..., smtplib.SMTP] = open_smtp,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._max_idle = max_idle
        self._connect = connect  # opens a new session (open_smtp's signature)
        self._idle: list[_Session] = []
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    # -- sessions -------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        """One TLS context for this pool's sessions, made with the first STARTTLS."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def _open(self, deadline: float | None = None) -> _Session:
        return _Session(self._connect(self._settings, tls=self._tls_context, deadline=deadline))

    def _take_idle(self) -> _Session | None:
        """The most recently used idle session still within the idle limit (expired ones closed)."""
        limit = self._settings.smtp_connection_idle_seconds
        now = self._clock()
        with self._lock:
            expired = [x for x in self._idle if now - x.idle_since > limit]
            self._idle = [x for x in self._idle if now - x.idle_since <= limit]
            session = self._idle.pop() if self._idle else None
        for old in expired:
            _close(old.smtp)
        return session

    def _alive(self, session: _Session) -> bool:
        try:
            code, _ = session.smtp.noop()
        except _FAILURES:
            code = 0
        if code == 250:
            return True
        _close(session.smtp)
        return False

    def _acquire(self, deadline: float | None) -> _Session:
        while (session := self._take_idle()) is not None:
            _set_deadline(session.smtp, deadline)
            if self._alive(session):
                return session
        return self._open(deadline)

    def _release(self, session: _Session) -> None:
        _set_deadline(session.smtp, None)
        session.messages += 1
        session.idle_since = self._clock()
        if session.messages < self._settings.smtp_max_messages_per_connection:
            with self._lock:
                if len(self._idle) < self._max_idle:
                    self._idle.append(session)
                    return
        _quit(session.smtp)

    @contextmanager
    def session(self, *, deadline: float | None = None) -> Iterator[smtplib.SMTP]:
        """A ready session (reused or new) for one message; kept afterwards unless it failed.
        ``deadline`` (``time.monotonic()``) bounds every wait of the message, the reuse check
        and a new session's opening included."""
        session = self._acquire(deadline)
        try:
            yield session.smtp
        except BaseException:
            _close(session.smtp)
            raise
        self._release(session)

    def idle(self) -> int:
        with self._lock:
            return len(self._idle)

    def close(self) -> None:
        """Quit every idle session (shutdown, the end of a sweep)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for session in idle:
            _quit(session.smtp)
