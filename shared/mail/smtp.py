"""The SMTP adapter of :class:`~shared.mail.port.Mailer` and the one way a session is opened.

:func:`open_smtp` is the connect sequence (connect with a timeout, ``STARTTLS`` and login when
configured); :class:`SmtpMailer` sends through a new session per message or, with
``SMTP_REUSE_CONNECTIONS`` (the default), through sessions kept open
(:mod:`shared.mail.connections`). Failures raise :class:`DependencyUnavailable`.

``SMTP_TIMEOUT_SECONDS`` bounds each wait (connect, each command's answer); a relay answering
every command just inside it would still stretch one message over a dozen of them. So each
message also has one deadline, :func:`message_seconds` (the time the outbox's lease budgets a
message): :class:`DeadlineSMTP` shrinks the socket's timeout before every read and write to what
is left of it, so the whole conversation — reuse check, connect, STARTTLS, login, the message,
``QUIT`` — ends within it.
"""

from __future__ import annotations

import io
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from shared.config import Settings, get_settings, require_in_production
from shared.errors import DependencyUnavailable
from shared.mail.compose import build_message

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

    from shared.mail.connections import SmtpConnections

SMTP_FAILURES = (OSError, smtplib.SMTPException)

# A message (with the connect, STARTTLS and login of a new session) gets this many SMTP
# timeouts in all: the outbox's lease budgets it so (``outbox_from_settings``).
MESSAGE_TIMEOUTS = 3


def message_seconds(settings: Settings) -> float:
    """The deadline of one message, from the reuse check to its ``QUIT``."""
    return MESSAGE_TIMEOUTS * settings.smtp_timeout_seconds


class _DeadlineReader(io.RawIOBase):
    """The session's socket as a file, each read bounded by what is left of the deadline."""

    def __init__(self, smtp: DeadlineSMTP) -> None:
        super().__init__()
        self._smtp = smtp

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        sock = self._smtp.sock
        if sock is None:
            raise OSError("SMTP session closed")
        sock.settimeout(self._smtp.time_left())
        try:
            return sock.recv_into(buffer)
        finally:  # what runs on the socket next (a TLS handshake) waits no longer either
            self._smtp.shrink_timeout()


class DeadlineSMTP(smtplib.SMTP):
    """:class:`smtplib.SMTP` whose socket waits end at ``deadline`` (``time.monotonic()``; None:
    only the per-wait ``timeout``). Past it, the next wait raises ``TimeoutError``, which
    :mod:`smtplib` turns into :class:`smtplib.SMTPServerDisconnected`."""

    def __init__(self, host: str, port: int, *, timeout: float, deadline: float | None) -> None:
        self.deadline = deadline
        super().__init__(host, port, timeout=timeout)

    def time_left(self) -> float:
        """The wait allowed now: the timeout, or less when the deadline is nearer."""
        if self.deadline is None:
            return float(self.timeout)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("SMTP message deadline passed")
        return min(float(self.timeout), left)

    def shrink_timeout(self) -> None:
        if self.sock is not None:
            with suppress(TimeoutError):
                self.sock.settimeout(self.time_left())
                return
            self.sock.settimeout(0.001)  # past the deadline: the next wait fails at once

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        connected: socket.socket = super()._get_socket(host, port, self.time_left())  # type: ignore[misc]
        return connected

    def send(self, s: ReadableBuffer | str) -> None:
        if self.sock is not None:
            try:
                self.sock.settimeout(self.time_left())
            except TimeoutError:
                self.close()
                raise smtplib.SMTPServerDisconnected("SMTP message deadline passed") from None
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        if self.file is None and self.sock is not None:
            self.file = io.BufferedReader(_DeadlineReader(self))
        return super().getreply()


def open_smtp(
    settings: Settings,
    *,
    tls: Callable[[], ssl.SSLContext] = ssl.create_default_context,
    deadline: float | None = None,
) -> DeadlineSMTP:
    """A new session to the configured relay, ready for ``MAIL`` (closed again on failure).

    ``tls`` makes the context for ``STARTTLS`` (called only when it is configured);
    ``deadline`` (``time.monotonic()``) bounds the whole session's waits."""
    s = settings
    smtp = DeadlineSMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, deadline=deadline)
    try:
        if s.smtp_starttls:
            smtp.starttls(context=tls())
        if s.smtp_username and s.smtp_password is not None:
            smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
    except BaseException:
        with suppress(*SMTP_FAILURES):
            smtp.close()
        raise
    return smtp


class SmtpMailer:
    """Sends through the configured relay; failures raise :class:`DependencyUnavailable`.

    With ``SMTP_REUSE_CONNECTIONS`` (the default) its sessions stay open between messages
    (:mod:`shared.mail.connections`); :meth:`close` quits them."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings or get_settings()
        # In production a relay on this machine and a sender at localhost are a missing
        # setting, not a choice (ConfigError naming it, when the function builds its mailer).
        require_in_production(self._settings, "smtp_host", "smtp_from")
        self._connections: SmtpConnections | None = None
        if self._settings.smtp_reuse_connections:
            from shared.mail.connections import SmtpConnections

            self._connections = SmtpConnections(self._settings)

    def close(self) -> None:
        if self._connections is not None:
            self._connections.close()

    def send(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        headers: dict[str, str] | None = None,
    ) -> str:
        s = self._settings
        message = build_message(
            sender=s.smtp_from, to=to, subject=subject, body=body, headers=headers
        )
        deadline = time.monotonic() + message_seconds(s)
        try:
            if self._connections is not None:
                with self._connections.session(deadline=deadline) as smtp:
                    smtp.send_message(message)
            else:
                with open_smtp(s, deadline=deadline) as smtp:  # quits the session on the way out
                    smtp.send_message(message)
        except SMTP_FAILURES as exc:
            raise DependencyUnavailable("smtp", type(exc).__name__, stage="notify") from None
        return str(message["Message-ID"])
