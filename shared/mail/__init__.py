"""Outgoing mail: the :class:`Mailer` port (:mod:`.port`), message building (:mod:`.compose`)
and the SMTP adapter (:mod:`.smtp`, with its kept-open sessions in :mod:`.connections`)."""

from shared.mail.compose import build_message, one_line
from shared.mail.port import Mailer
from shared.mail.smtp import SmtpMailer

__all__ = ["Mailer", "SmtpMailer", "build_message", "one_line"]
