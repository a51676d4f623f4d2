"""A loopback SMTP relay stand-in (aiosmtpd) that keeps every message as a file.

Each message is saved atomically as ``<state-dir>/mail/<ns-timestamp>-<uuid>.eml``:
the raw bytes as received, preceded by ``X-Envelope-From`` and ``X-Envelope-To``
headers (and ``X-Smtp-Auth-User`` when the client logged in).

No TLS. AUTH PLAIN/LOGIN is advertised and any credentials are accepted, so
code that logs in when ``SMTP_USERNAME`` is set works here too.

While ``<state-dir>/REFUSE`` exists, mail is refused with
``451 4.3.0 temporarily refusing mail``: at DATA, or at RCPT when the file's
content is ``rcpt``. Removing the file restores service.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from infra.fakes import install_stop_handler, parse_args, setup_logging, wait_until

NAME = "smtp-server"
log = logging.getLogger(NAME)
REFUSAL = "451 4.3.0 temporarily refusing mail"


def accept_any_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    return AuthResult(success=True, auth_data=auth_data)


class MailKeeper:
    """aiosmtpd handler: saves messages, refuses them while REFUSE exists."""

    def __init__(self, state_dir: Path) -> None:
        self.mail_dir = state_dir / "mail"
        self.refuse_file = state_dir / "REFUSE"
        self.mail_dir.mkdir(parents=True, exist_ok=True)

    def _refusing_at(self) -> str | None:
        try:
            content = self.refuse_file.read_text().strip().lower()
        except FileNotFoundError:
            return None
        return "rcpt" if content == "rcpt" else "data"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self._refusing_at() == "rcpt":
            log.info("refusing RCPT %s", address)
            return REFUSAL
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._refusing_at() is not None:
            log.info("refusing DATA from %s", envelope.mail_from)
            return REFUSAL
        name = self.save(envelope, session)
        log.info("kept %s for %d recipient(s)", name, len(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def save(self, envelope: Envelope, session: Session) -> str:
        extra = [
            f"X-Envelope-From: {envelope.mail_from or ''}",
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}",
        ]
        login = getattr(session, "auth_data", None)
        if isinstance(login, LoginPassword):
            extra.append(f"X-Smtp-Auth-User: {login.login.decode('utf-8', 'replace')}")
        content = envelope.original_content or b""
        data = ("\r\n".join(extra) + "\r\n").encode() + content
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex}.eml"
        tmp = self.mail_dir / f".{name}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.mail_dir / name)
        return name


def main() -> None:
    args = parse_args("SMTP relay stand-in")
    setup_logging(NAME)
    if not args.state_dir:
        raise SystemExit("--state-dir is required for the SMTP stand-in")
    stop = install_stop_handler()
    controller = Controller(
        MailKeeper(Path(args.state_dir)),
        hostname=args.host,
        port=args.port,
        server_hostname="smtp-standin.local",
        auth_require_tls=False,
        authenticator=accept_any_login,
    )
    controller.start()
    log.info(
        "listening on smtp://%s:%s, mail in %s",
        args.host,
        args.port,
        Path(args.state_dir) / "mail",
    )
    try:
        wait_until(stop)
    finally:
        controller.stop()
        log.info("stopped")


if __name__ == "__main__":
    main()
