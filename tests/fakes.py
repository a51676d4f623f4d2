"""Fakes of the ports shared by several areas (mail, metrics, breakers, telemetry, intake).

They live beside the tests, never in ``shared/`` (``tests/unit/test_layout.py`` checks that no
test double is importable from the product). The processor's own fakes are in
``tests/processing_fakes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage

from shared.mail import build_message


@dataclass
class RecordingMailer:
    """Fake :class:`~shared.mail.port.Mailer`: records what it was asked to send."""

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
