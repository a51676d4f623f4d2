"""SMTP sessions reused across messages, against the real SMTP stand-in."""

from __future__ import annotations

import smtplib
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.fakes.clients import Mailbox
from infra.stack import LocalStack
from shared.config import Settings, load_settings
from shared.errors import DependencyUnavailable
from shared.mail import SmtpMailer
from shared.mail.connections import SmtpConnections
from shared.mail.smtp import open_smtp


def _settings(env: dict[str, str], **extra: str) -> Settings:
    return load_settings({**env, **extra})


class CountingConnect:
    """Opens sessions like the product does and counts the ones it opened."""

    def __init__(self) -> None:
        self.opened = 0

    def __call__(self, settings: Settings, **kwargs: Any) -> smtplib.SMTP:
        smtp = open_smtp(settings, **kwargs)
        self.opened += 1
        return smtp


def _counted(settings: Settings, **options: Any) -> tuple[SmtpMailer, CountingConnect]:
    """A mailer whose kept-open sessions are opened through a counter."""
    counter = CountingConnect()
    mailer = SmtpMailer(settings)
    mailer._connections = SmtpConnections(settings, connect=counter, **options)
    return mailer, counter


def _send(mailer: SmtpMailer, tag: str, n: int = 1) -> None:
    for index in range(n):
        mailer.send(
            to="staff@localhost", subject=f"reuse {index}", body="b", headers={"X-Tag": tag}
        )


def _tagged(mailbox: Mailbox, tag: str, n: int) -> list:
    mailbox.wait_for(n)
    return [m for m in mailbox.messages() if m["X-Tag"] == tag]


def test_one_session_carries_many_messages(stack_env: dict[str, str], mailbox: Mailbox) -> None:
    tag = uuid.uuid4().hex
    mailer, counter = _counted(_settings(stack_env))
    _send(mailer, tag, 5)
    assert len(_tagged(mailbox, tag, 5)) == 5
    assert mailer._connections is not None
    assert (counter.opened, mailer._connections.idle()) == (1, 1)
    mailer.close()
    assert mailer._connections.idle() == 0


def test_without_reuse_each_message_has_its_own_session(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    tag = uuid.uuid4().hex
    mailer = SmtpMailer(_settings(stack_env, SMTP_REUSE_CONNECTIONS="false"))
    assert mailer._connections is None
    _send(mailer, tag, 2)
    assert len(_tagged(mailbox, tag, 2)) == 2


def test_a_session_the_relay_dropped_is_replaced(
    stack: LocalStack, stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    tag = uuid.uuid4().hex
    mailer, counter = _counted(_settings(stack_env))
    _send(mailer, tag)
    stack.restart("smtp")  # the idle session's server side is gone
    mailbox = Mailbox(stack.mailbox_dir)
    _send(mailer, tag)  # NOOP fails, a new session sends it
    assert len(_tagged(mailbox, tag, 2)) == 2
    assert counter.opened == 2
    mailer.close()


def test_idle_sessions_expire_and_sessions_end_after_their_message_limit(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    tag = uuid.uuid4().hex
    now = [0.0]
    settings = _settings(
        stack_env, SMTP_CONNECTION_IDLE_SECONDS="30", SMTP_MAX_MESSAGES_PER_CONNECTION="2"
    )
    mailer, counter = _counted(settings, clock=lambda: now[0])
    connections = mailer._connections
    assert connections is not None
    _send(mailer, tag, 2)  # the second message ends the session (limit 2)
    assert (counter.opened, connections.idle()) == (1, 0)
    _send(mailer, tag)
    assert (counter.opened, connections.idle()) == (2, 1)
    now[0] += 31  # idle too long: closed, not reused
    _send(mailer, tag)
    assert counter.opened == 3
    assert len(_tagged(mailbox, tag, 4)) == 4
    mailer.close()


def test_concurrent_senders_never_share_a_session(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    tag = uuid.uuid4().hex
    mailer, counter = _counted(_settings(stack_env))
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: _send(mailer, tag, 5), range(6)))
    messages = _tagged(mailbox, tag, 30)
    assert len(messages) == 30
    assert len({m["Message-ID"] for m in messages}) == 30
    assert mailer._connections is not None
    assert counter.opened <= 6 and mailer._connections.idle() <= 4
    mailer.close()


def test_a_refused_message_fails_and_its_session_is_not_kept(
    stack_env: dict[str, str], mailbox: Mailbox
) -> None:
    tag = uuid.uuid4().hex
    mailer, counter = _counted(_settings(stack_env))
    _send(mailer, tag)
    mailbox.refuse(True)
    with pytest.raises(DependencyUnavailable):
        _send(mailer, tag)
    assert mailer._connections is not None and mailer._connections.idle() == 0
    mailbox.refuse(False)
    _send(mailer, tag)
    assert len(_tagged(mailbox, tag, 2)) == 2
    assert counter.opened == 2
    mailer.close()
