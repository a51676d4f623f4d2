"""The port every sender of mail uses (staff notifications, breaker alerts).

The SMTP adapter is :class:`shared.mail.smtp.SmtpMailer`; the unit tests' fake is
``RecordingMailer`` in ``tests/fakes.py``.
"""

from __future__ import annotations

from typing import Protocol


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
