"""One deadline per message: a relay answering every command just inside ``SMTP_TIMEOUT_SECONDS``
cannot stretch one message past ``3 × SMTP_TIMEOUT_SECONDS`` (what the outbox's lease budgets a
message). Against a real SMTP conversation over loopback with a relay that answers slowly."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from shared.config import load_settings
from shared.errors import DependencyUnavailable
from shared.mail import SmtpMailer
from shared.mail.smtp import message_seconds

TIMEOUT = 0.5  # SMTP_TIMEOUT_SECONDS: each answer of the relay comes just inside it
DELAY = 0.4


@dataclass
class SlowRelay:
    """An SMTP relay on loopback answering each line after ``delay`` seconds."""

    port: int = 0
    delay: float = 0.0
    accepted: list[bytes] = field(default_factory=list)
    _server: socket.socket | None = None

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        self._server, self.port = server, server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        def say(line: str) -> None:
            time.sleep(self.delay)
            conn.sendall(line.encode() + b"\r\n")

        try:
            say("220 slow.example ESMTP")
            data: list[bytes] | None = None
            for raw in conn.makefile("rb"):
                line = raw.rstrip(b"\r\n")
                if data is not None:
                    if line == b".":
                        self.accepted.append(b"\n".join(data))
                        data = None
                        say("250 queued")
                    else:
                        data.append(line)
                    continue
                command = line.split(b" ")[0].upper()
                if command in (b"EHLO", b"HELO"):
                    say("250 slow.example")
                elif command == b"DATA":
                    data = []
                    say("354 go ahead")
                elif command == b"QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 ok")
        except OSError:
            return
        finally:
            conn.close()


@pytest.fixture
def relay() -> Iterator[SlowRelay]:
    server = SlowRelay()
    server.start()
    yield server
    server.stop()


def _mailer(relay: SlowRelay, *, reuse: bool) -> SmtpMailer:
    settings = load_settings(
        {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(relay.port),
            "SMTP_STARTTLS": "false",
            "SMTP_TIMEOUT_SECONDS": str(TIMEOUT),
            "SMTP_REUSE_CONNECTIONS": "true" if reuse else "false",
        }
    )
    assert message_seconds(settings) == pytest.approx(3 * TIMEOUT)
    return SmtpMailer(settings)


def _timed_failure(mailer: SmtpMailer) -> float:
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):
        mailer.send(to="staff@localhost", subject="s", body="b")
    return time.monotonic() - started


@pytest.mark.parametrize("reuse", [False, True])
def test_a_new_session_to_a_slow_relay_ends_within_the_message_deadline(
    relay: SlowRelay, reuse: bool
) -> None:
    # greeting, EHLO, MAIL, RCPT, DATA, the message: 6 answers of 0.4 s, each inside 0.5 s
    relay.delay = DELAY
    mailer = _mailer(relay, reuse=reuse)
    try:
        assert _timed_failure(mailer) < 3 * TIMEOUT + 0.3
    finally:
        mailer.close()
    assert relay.accepted == []


def test_a_reused_session_to_a_relay_gone_slow_ends_within_the_message_deadline(
    relay: SlowRelay,
) -> None:
    mailer = _mailer(relay, reuse=True)
    try:
        mailer.send(to="staff@localhost", subject="first", body="b")  # a quick relay
        assert len(relay.accepted) == 1
        relay.delay = DELAY  # NOOP, MAIL, RCPT, DATA, the message: 5 × 0.4 s
        assert _timed_failure(mailer) < 3 * TIMEOUT + 0.3
    finally:
        mailer.close()
    assert len(relay.accepted) == 1


def test_a_relay_within_the_deadline_still_gets_the_message(relay: SlowRelay) -> None:
    relay.delay = 0.05
    mailer = _mailer(relay, reuse=True)
    try:
        for _ in range(2):  # a new session, then the same one reused
            mailer.send(to="staff@localhost", subject="s", body="b")
    finally:
        mailer.close()
    assert len(relay.accepted) == 2
