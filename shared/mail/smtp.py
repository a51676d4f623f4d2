"""The SMTP adapter of :class:`~shared.mail.port.Mailer` and the one way a session is opened.

:func:`open_smtp` is the connect sequence (connect with a timeout, ``STARTTLS`` and login when
configured); :class:`SmtpMailer` sends through a new session per message or, with
``SMTP_REUSE_CONNECTIONS`` (the default), through sessions kept open
(:mod:`shared.mail.connections`). Failures raise :class:`DependencyUnavailable`.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from shared.config import Settings, get_settings, require_in_production
from shared.errors import DependencyUnavailable
from shared.mail.compose import build_message

if TYPE_CHECKING:
    from shared.mail.connections import SmtpConnections

SMTP_FAILURES = (OSError, smtplib.SMTPException)


def open_smtp(
    settings: Settings, *, tls: Callable[[], ssl.SSLContext] = ssl.create_default_context
) -> smtplib.SMTP:
    """A new session to the configured relay, ready for ``MAIL`` (closed again on failure).

    ``tls`` makes the context for ``STARTTLS`` (called only when it is configured)."""
    s = settings
    smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
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
        try:
            if self._connections is not None:
                with self._connections.session() as smtp:
                    smtp.send_message(message)
            else:
                with open_smtp(s) as smtp:  # quits the session on the way out
                    smtp.send_message(message)
        except SMTP_FAILURES as exc:
            raise DependencyUnavailable("smtp", type(exc).__name__, stage="notify") from None
        return str(message["Message-ID"])
