"""The reliability suite's own local stack, sized for faults, and its closing summary.

``rel_stack`` is a second :class:`~infra.stack.LocalStack` (the session's ``stack`` is left
alone, its tests assume default timings). It differs from the default in what the faults need:

- a 10 s processor lease, a 3 s Claude timeout with one SDK retry, a 5 s breaker reset, and
  an outbox that sweeps every 5 s (a never-tried row once 2 s old) with a 1–8 s retry backoff
  instead of 30 s–1 h, and a 60 s send lease instead of 300 s, so recoveries happen within a
  test: a processor killed between committing its report and mailing leaves its notifications
  leased, and the sweep mails them when the lease ends. Recording a sent row is retried for 40 s
  of it, longer than the 30 s Postgres outage, or the row would be mailed twice;
- Pub/Sub push backoff 0.5–3 s and 100 delivery attempts (the most Pub/Sub allows), so a 30 s
  outage is retried, not dead-lettered;
- MongoDB (nx-27017) on a SQLite *file* and fake-gcs-server on its *filesystem* backend, so
  that killing and restarting them keeps their data, as the managed services do (their
  in-memory modes would turn a restart into data loss that production cannot have — then the
  test would only prove that the fake forgets). The Pub/Sub emulator has no durable mode: its
  restart test re-sends what the emulator forgot, as the issue asks;
- a processor with 16 threads (the production setting).

Sizes: ``RELIABILITY_SIZE=soak`` (``make soak``) runs the full sizes, anything else the CI ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.fakes.clients import ClaudeStandin, Mailbox, SentrySink
from infra.stack import REPO_ROOT, LocalStack, StackError
from shared.config import reset_settings_cache
from tests.reliability.helpers import CI, SOAK, Harness, Sizes
from tests.reliability.summary import SUMMARY

REL_ENV = {
    "PROCESSOR_LEASE_SECONDS": "10",
    "CLAUDE_TIMEOUT_SECONDS": "3",
    "CLAUDE_MAX_RETRIES": "1",
    "CIRCUIT_BREAKER_RESET_TIMEOUT": "5",
    "NOTIFICATION_SWEEP_MIN_AGE_SECONDS": "2",
    "NOTIFICATION_SWEEP_INTERVAL_SECONDS": "5",
    "NOTIFICATION_RETRY_BASE_SECONDS": "1",
    "NOTIFICATION_RETRY_MAX_SECONDS": "8",
    "NOTIFICATION_SEND_LEASE_SECONDS": "60",
    "NOTIFICATION_RECORD_SENT_WITHIN_SECONDS": "40",
    "MONGODB_TIMEOUT_MS": "2000",
    "SMTP_TIMEOUT_SECONDS": "5",
    "PUBSUB_PUBLISH_TIMEOUT_SECONDS": "5",
}


def sizes() -> Sizes:
    return SOAK if os.environ.get("RELIABILITY_SIZE") == "soak" else CI


def durable_backends(stack: LocalStack) -> None:
    """Point MongoDB at a SQLite file and fake-gcs-server at a directory (see the docstring)."""
    mongo = stack.servers["mongodb"]
    at = mongo.argv.index("--db") + 1
    mongo.argv[at] = str(stack.state_dir / "mongodb.sqlite")
    gcs = stack.servers["gcs"]
    at = gcs.argv.index("-backend") + 1
    root = stack.state_dir / "gcs-data"
    root.mkdir(parents=True, exist_ok=True)
    gcs.argv[at : at + 1] = ["filesystem", "-filesystem-root", str(root)]


@pytest.fixture(scope="session")
def size() -> Sizes:
    return sizes()


@pytest.fixture(scope="session")
def rel_stack() -> Iterator[LocalStack]:
    stack = LocalStack(
        REPO_ROOT / ".local" / f"test-rel-stack-{os.getpid()}",
        claude="standin",
        processor_threads=16,
        extra_env=REL_ENV,
        push_min_backoff_seconds=0.5,
        push_max_backoff_seconds=3.0,
        max_delivery_attempts=100,
    )
    durable_backends(stack)
    try:
        stack.start()
    except StackError as exc:
        pytest.fail(f"reliability stack failed to start: {exc}")
    yield stack
    stack.stop()


@pytest.fixture
def harness(rel_stack: LocalStack) -> Iterator[Harness]:
    """The reliability stack's env in ``os.environ``, Claude reset, mailbox accepting."""
    for name, server in rel_stack.servers.items():
        if not server.alive():  # a previous test's fault left it down: bring it back
            rel_stack.start_server(name)
    os.environ.update(rel_stack.env())
    reset_settings_cache()
    claude = ClaudeStandin(rel_stack.url("claude"))
    claude.reset()
    mailbox = Mailbox(rel_stack.mailbox_dir)
    mailbox.refuse(False)
    rig = Harness(rel_stack, claude, mailbox)
    try:
        yield rig
    finally:
        mailbox.refuse(False)
        rig.close()


@pytest.fixture
def rel_sentry(rel_stack: LocalStack) -> SentrySink:
    return SentrySink(rel_stack.url("sentry"))


def stack_log_dirs() -> list[Path]:
    """The log folders of every stack this pytest process started."""
    return sorted((REPO_ROOT / ".local").glob(f"test-*-{os.getpid()}/logs"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Faults and the soak outlast the project's 300 s default per test."""
    limit = 3600 if sizes().name == "soak" else 900
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.timeout(limit))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not (SUMMARY.faults or SUMMARY.counts or SUMMARY.losses):
        return
    terminalreporter.section(f"reliability summary ({sizes().name} sizes)")
    for line in SUMMARY.lines():
        terminalreporter.write_line(line)
