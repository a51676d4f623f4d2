"""SMTP sending (staff notifications, breaker alerts) behind a small port.

``SmtpMailer`` is the real adapter (STARTTLS and login when configured); ``RecordingMailer``
is the fake for unit tests. Messages are built with :mod:`email.message` and its default policy,
which refuses CR/LF in header values; values are cleaned of controls, also those hidden in
RFC 2047 encoded words, so nothing from an inbound email can inject a header.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING, Protocol

from shared.config import Settings, get_settings, require_in_production
from shared.errors import DependencyUnavailable
from shared.header_values import settle_encoded_words

if TYPE_CHECKING:
    from shared.smtp_connections import SmtpConnections


class Mailer(Protocol):
    def send(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Send one plain-text message; returns its Message-ID."""
        ...


def _printable(value: str) -> str:
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(cleaned.split())


def _one_line(value: str, limit: int = 200) -> str:
    """Header-safe: control characters (CR/LF included) become spaces, encoded words that
    decode to one are decoded and cleaned (the stdlib would fold their decoded CR LF as it is:
    a header of its own), length bounded."""
    settled = settle_encoded_words(_printable(value), _printable)
    return (settled or "")[:limit]


def build_message(
    *, sender: str, to: str, subject: str, body: str, headers: dict[str, str] | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = _one_line(to)
    message["Subject"] = _one_line(subject)
    message["Message-ID"] = make_msgid(domain="inbound-processor.local")
    for name, value in (headers or {}).items():
        message[name] = _one_line(value)
    message.set_content(body)
    return message


class SmtpMailer:
    """Sends through the configured relay; failures raise :class:`DependencyUnavailable`.

    With ``SMTP_REUSE_CONNECTIONS`` (the default) its sessions stay open between messages
    (:mod:`shared.smtp_connections`); :meth:`close` quits them."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings or get_settings()
        # In production a relay on this machine and a sender at localhost are a missing
        # setting, not a choice (ConfigError naming it, when the function builds its mailer).
        require_in_production(self._settings, "smtp_host", "smtp_from")
        self._connections: SmtpConnections | None = None
        if self._settings.smtp_reuse_connections:
            from shared.smtp_connections import SmtpConnections

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
                with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
                    if s.smtp_starttls:
                        smtp.starttls(context=ssl.create_default_context())
                    if s.smtp_username and s.smtp_password is not None:
                        smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
                    smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DependencyUnavailable("smtp", type(exc).__name__, stage="notify") from None
        return str(message["Message-ID"])


@dataclass
class RecordingMailer:
    """Unit-test fake: records what it was asked to send."""

    sent: list[EmailMessage] = field(default_factory=list)
    fail_with: Exception | None = None

    def send(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        headers: dict[str, str] | None = None,
    ) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        message = build_message(
            sender="test@localhost", to=to, subject=subject, body=body, headers=headers
        )
        self.sent.append(message)
        return str(message["Message-ID"])
