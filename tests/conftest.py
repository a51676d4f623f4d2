"""Fixtures shared by every tier.

- ``os.environ`` is restored after every test, and the cached settings and engine dropped.
- ``stack`` is the local stack of real servers, started once per session on free loopback ports
  and stopped at the end (also on failure or Ctrl-C). If a server of it dies, the run stops at
  the next test that needs the stack with a message naming the server and its log.
- ``stack_env`` puts the stack's addresses into ``os.environ`` for the test's own clients.
- ``mongo_accounts`` is the real account repository on a fresh collection of the stack's MongoDB,
  with the raw collection beside it; dropped after the test.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from typing import Any

import pytest

from infra.fakes.clients import ClaudeStandin, Mailbox, SentrySink
from infra.stack import REPO_ROOT, LocalStack, StackError
from shared.config import reset_settings_cache
from shared.db.engine import dispose_engine


@pytest.fixture(autouse=True)
def _isolated_environ() -> Iterator[None]:
    saved = dict(os.environ)
    reset_settings_cache()
    yield
    os.environ.clear()
    os.environ.update(saved)
    reset_settings_cache()
    dispose_engine()


def _remove_stale_test_stacks() -> None:
    """Logs of earlier runs' stacks (``.local/test-*stack-<pid>``) whose process is gone."""
    import re
    import shutil

    for path in (REPO_ROOT / ".local").glob("test-*stack-*"):
        found = re.search(r"-(\d+)$", path.name)
        if found is None or int(found.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(found.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            continue


@pytest.fixture(scope="session")
def _session_stack() -> Iterator[LocalStack]:
    _remove_stale_test_stacks()
    stack = LocalStack(REPO_ROOT / ".local" / f"test-stack-{os.getpid()}", claude="standin")
    atexit.register(stack.stop)
    try:
        stack.start()
    except StackError as exc:
        pytest.exit(f"local stack failed to start: {exc}", returncode=3)
    yield stack
    _close_sentry()  # flush while the sink is still up, not at interpreter exit
    stack.stop()


def _close_sentry() -> None:
    import sentry_sdk

    client = sentry_sdk.get_client()
    if client.is_active():
        client.close(timeout=2)


@pytest.fixture
def stack(_session_stack: LocalStack) -> LocalStack:
    try:
        _session_stack.assert_healthy()
    except StackError as exc:
        pytest.exit(str(exc), returncode=3)
    return _session_stack


@pytest.fixture
def stack_env(stack: LocalStack) -> dict[str, str]:
    env = stack.env()
    os.environ.update(env)
    reset_settings_cache()
    return env


@pytest.fixture
def claude_standin(stack: LocalStack) -> ClaudeStandin:
    """The Anthropic stand-in, reset for this test."""
    standin = ClaudeStandin(stack.url("claude"))
    standin.reset()
    return standin


@pytest.fixture
def sentry_sink(stack: LocalStack) -> SentrySink:
    sink = SentrySink(stack.url("sentry"))
    sink.reset()
    return sink


@pytest.fixture
def mailbox(stack: LocalStack) -> Iterator[Mailbox]:
    """The SMTP server's mailbox, emptied for this test and accepting mail."""
    box = Mailbox(stack.mailbox_dir)
    box.refuse(False)
    box.clear()
    yield box
    box.refuse(False)


@pytest.fixture
def mongo_accounts(stack_env: dict[str, str]) -> Iterator[tuple[Any, Any]]:
    """``(MongoAccountRepository, its pymongo collection)`` on a fresh collection."""
    import uuid

    import pymongo

    from shared.accounts.mongo import MongoAccountRepository
    from shared.config import get_settings

    name = f"accounts_{uuid.uuid4().hex}"
    repository = MongoAccountRepository(get_settings(), collection_name=name)
    client: Any = pymongo.MongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    collection = client[get_settings().mongodb_database][name]
    yield repository, collection
    collection.drop()
    client.close()
    repository.close()
