"""``python -m shared.ops breakers`` and ``breaker open|close|reset NAME`` as an operator runs
them: a separate process of the real package (``shared.breakers`` included), pointed at the
running stack by ``--env-file`` only, on a breaker name unique to this test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from infra.fakes.clients import Mailbox
from infra.stack import REPO_ROOT, LocalStack
from shared.breakers.breaker import SharedBreaker
from shared.breakers.store import PostgresBreakerStore
from shared.errors import BreakerOpenError, DependencyUnavailable

# Not in the operator's shell: everything of the stack comes from the env file.
_STACK_KEYS = ("DATABASE_URL", "SMTP_HOST", "SMTP_PORT", "CIRCUIT_BREAKER_ALERT_EMAIL", "APP_ENV")


def ops(env_file: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _STACK_KEYS}
    return subprocess.run(
        [sys.executable, "-m", "shared.ops", "--env-file", str(env_file), *argv],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def table_row(output: str, name: str) -> dict[str, str]:
    """The ``breakers`` table's row for ``name``, keyed by the header."""
    lines = output.splitlines()
    header = lines[0].split()
    (line,) = [ln for ln in lines[2:] if ln.split()[:1] == [name]]
    return dict(zip(header, line.split(), strict=True))


class Db:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(sql), params).mappings()]

    def breaker(self, name: str) -> dict[str, Any] | None:
        found = self.rows("SELECT * FROM circuit_breakers WHERE name = :n", n=name)
        return found[0] if found else None

    def transitions(self, name: str) -> list[tuple[str, str]]:
        return [
            (r["f"], r["t"])
            for r in self.rows(
                "SELECT labels->>'from' AS f, labels->>'to' AS t FROM operational_metrics "
                "WHERE name = 'breaker_transition' AND labels->>'breaker' = :n ORDER BY id",
                n=name,
            )
        ]


@pytest.fixture
def name(stack: LocalStack) -> Iterator[str]:
    breaker = f"ops-test-{uuid.uuid4().hex[:8]}"
    yield breaker
    db = Db(stack.database_url)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM circuit_breakers WHERE name = :n"), {"n": breaker})
        conn.execute(
            text(
                "DELETE FROM operational_metrics WHERE name = 'breaker_transition' "
                "AND labels->>'breaker' = :n"
            ),
            {"n": breaker},
        )
    db.engine.dispose()


def test_breaker_commands_change_the_shared_row(
    stack: LocalStack, stack_env: dict[str, str], mailbox: Mailbox, name: str, tmp_path: Path
) -> None:
    env_file = tmp_path / "stack.env"
    stack.write_env_file(env_file)
    db = Db(stack.database_url)
    try:
        # Two real failures recorded by an instance's breaker: the table shows them.
        instance = SharedBreaker(name, store=PostgresBreakerStore(), fail_max=5)
        for _ in range(2):
            with pytest.raises(DependencyUnavailable):
                instance.call(_outage)
        done = ops(env_file, "breakers")
        assert done.returncode == 0, done.stderr
        shown = table_row(done.stdout, name)
        assert (shown["state"], shown["failure_count"], shown["forced"]) == ("closed", "2", "False")
        assert shown["last_error_type"] == "DependencyUnavailable"
        assert {"claude", "mongodb", "gcs"} <= {ln.split()[0] for ln in done.stdout.splitlines()}

        # open: held open everywhere, no trial call even long after the reset timeout.
        done = ops(env_file, "breaker", "open", name)
        assert (done.returncode, done.stdout) == (0, f"breaker {name}: open\n"), done.stderr
        row = db.breaker(name)
        assert row is not None
        assert (row["state"], row["forced"]) == ("open", True)
        assert row["opened_at"] is not None and row["opened_at"].tzinfo is not None
        later = datetime.now(UTC) + timedelta(hours=1)
        elsewhere = SharedBreaker(name, store=PostgresBreakerStore(), clock=lambda: later)
        with pytest.raises(BreakerOpenError):
            elsewhere.call(lambda: "never called")
        shown = table_row(ops(env_file, "breakers").stdout, name)
        assert (shown["state"], shown["forced"]) == ("open", "True")
        assert shown["opened_at"] != "-"

        # close: calls go through again; the counter starts at zero; one all-clear email.
        done = ops(env_file, "breaker", "close", name)
        assert (done.returncode, done.stdout) == (0, f"breaker {name}: closed\n"), done.stderr
        row = db.breaker(name)
        assert row is not None
        assert (row["state"], row["failure_count"], row["forced"], row["opened_at"]) == (
            "closed",
            0,
            False,
            None,
        )
        assert row["last_error_type"] == "DependencyUnavailable"  # close keeps the history
        assert elsewhere.refresh().state == "closed"
        assert elsewhere.call(lambda: "called") == "called"
        mine = wait_for_mail(mailbox, name)
        assert [m["X-Breaker-Event"] for m in mine] == ["closed"]
        assert mine[0]["To"] == stack_env.get("CIRCUIT_BREAKER_ALERT_EMAIL", "ops@localhost")

        # reset: a clean row (no last failure), still closed; nothing to announce.
        with pytest.raises(DependencyUnavailable):
            instance.call(_outage)
        done = ops(env_file, "breaker", "reset", name)
        assert (done.returncode, done.stdout) == (0, f"breaker {name}: closed\n"), done.stderr
        row = db.breaker(name)
        assert row is not None
        assert (row["state"], row["failure_count"]) == ("closed", 0)
        assert (row["last_error_type"], row["last_failure_at"], row["alerted_at"]) == (
            None,
            None,
            None,
        )
        shown = table_row(ops(env_file, "breakers").stdout, name)
        assert (shown["state"], shown["failure_count"], shown["last_error_type"]) == (
            "closed",
            "0",
            "-",
        )

        # Each change is one breaker_transition metric; the reset of a closed row is none.
        assert db.transitions(name) == [("closed", "open"), ("open", "closed")]
        assert len([m for m in mailbox.messages() if m["X-Breaker"] == name]) == 1
    finally:
        db.engine.dispose()


def test_bad_breaker_name_is_refused_and_changes_nothing(
    stack: LocalStack, stack_env: dict[str, str], tmp_path: Path
) -> None:
    env_file = tmp_path / "stack.env"
    stack.write_env_file(env_file)
    db = Db(stack.database_url)
    try:
        before = db.rows("SELECT name, state, updated_at FROM circuit_breakers ORDER BY name")
        for bad in ("Claude", "claude; DROP TABLE circuit_breakers"):  # more: unit tests
            done = ops(env_file, "breaker", "open", bad)
            assert done.returncode == 2, (bad, done.stdout, done.stderr)
            assert "breaker name must be" in done.stderr and done.stdout == ""
        done = ops(env_file, "breaker", "jam", "claude")
        assert done.returncode == 2 and "invalid choice" in done.stderr
        assert db.rows("SELECT name, state, updated_at FROM circuit_breakers ORDER BY name") == (
            before
        )
    finally:
        db.engine.dispose()


def wait_for_mail(mailbox: Mailbox, name: str, timeout: float = 30.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        mine = [m for m in mailbox.messages() if m["X-Breaker"] == name]
        if mine or time.monotonic() > deadline:
            return mine
        time.sleep(0.1)


def _outage() -> None:
    raise DependencyUnavailable("ops-test", "simulated outage")
