"""Outgoing mail: the ``Mailer`` port and the SMTP adapter (:mod:`.smtp`), with its kept-open
sessions (:mod:`.connections`)."""

from shared.mail.smtp import Mailer, RecordingMailer, SmtpMailer, build_message

__all__ = ["Mailer", "RecordingMailer", "SmtpMailer", "build_message"]
