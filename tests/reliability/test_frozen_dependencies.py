"""Each dependency frozen: the connection stays open and no byte comes back.

A refused or reset connection fails at once; a frozen one (a stalled network path, a failover
in progress) is what turns a missing timeout into a hang. Every client here talks to its real
local server through :class:`FreezeProxy`; after a first call that works (a pooled connection
exists), the proxy freezes and the call must end within its budget with the outcome the
system promises:

- the breaker store is given up within about a second and the protected call runs (fail open,
  ``breaker_store_unavailable``);
- a processing statement, the rollup and an ops command end with a transient error
  (``DependencyUnavailable``: Pub/Sub redelivers; the rollup answers 500, the scheduler retries);
- MongoDB, GCS, SMTP and Claude end with ``DependencyUnavailable`` (redelivery; the breaker
  counts it; the outbox keeps the notification pending);
- a Pub/Sub publish ends with ``IntakeUnavailable`` (the webhook answers 503, the provider
  retries).

Each call runs in a thread joined with a hard limit, so a missing timeout fails the test
("still waiting after N s") instead of hanging the suite.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from infra.stack import LocalStack
from shared.config import get_settings, reset_settings_cache
from shared.db.engine import dispose_engine
from shared.errors import DependencyUnavailable
from tests.reliability.freeze_proxy import FreezeProxy
from tests.reliability.summary import SUMMARY

# Small budgets so the suite stays quick; the defaults are in docs/reliability.md.
DB_BUDGET = {
    "DB_CONNECT_TIMEOUT_SECONDS": "2",
    "DB_SOCKET_TIMEOUT_SECONDS": "3",
    "DB_STATEMENT_TIMEOUT_SECONDS": "2",
    "DB_LOCK_TIMEOUT_SECONDS": "1",
}
HARD_LIMIT = 30.0  # what "hung" means here: far above every budget used


def timed(
    call: Callable[[], Any], label: str | None = None, limit: float = HARD_LIMIT
) -> tuple[Any, float]:
    """``(result or the exception raised, seconds)``; fails if ``call`` is still running.
    With ``label``, the time goes into the suite's summary (the figures in the docs)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit)
    elapsed = time.monotonic() - started
    assert not worker.is_alive(), f"still waiting after {limit:.0f} s: no timeout on this call"
    if label is not None:
        SUMMARY.fault("frozen dependency")
        result = outcome[0]
        shown = type(result).__name__ if isinstance(result, BaseException) else repr(result)[:40]
        SUMMARY.note(f"frozen {label}: ended in {elapsed:.2f} s with {shown}")
    return outcome[0], elapsed


@pytest.fixture
def frozen_env(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``use(server, variable, value_for)``: a FreezeProxy in front of one stack server, its
    address put into ``variable``; proxies stop at the end."""
    for key, value in stack.env().items():
        monkeypatch.setenv(key, value)
    proxies: list[FreezeProxy] = []

    def use(server: str, variable: str, value_for: Callable[[str], str]) -> FreezeProxy:
        proxy = FreezeProxy("127.0.0.1", stack.servers[server].port).start()
        proxies.append(proxy)
        monkeypatch.setenv(variable, value_for(proxy.address))
        reset_settings_cache()
        dispose_engine()
        return proxy

    yield use
    dispose_engine()
    for proxy in proxies:
        proxy.stop()


def postgres(frozen_env: Any, monkeypatch: pytest.MonkeyPatch, **env: str) -> FreezeProxy:
    for key, value in {**DB_BUDGET, **env}.items():
        monkeypatch.setenv(key, value)
    return frozen_env(
        "postgres", "DATABASE_URL", lambda at: f"postgresql+pg8000://postgres@{at}/emails"
    )


# -- Postgres: the breaker store ------------------------------------------------------------


def test_breaker_store_on_a_frozen_postgres_fails_open_within_about_a_second(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from shared.breakers.breaker import SharedBreaker
    from shared.breakers.store import PostgresBreakerStore

    proxy = postgres(frozen_env, monkeypatch)
    breaker = SharedBreaker(
        f"claude_{uuid.uuid4().hex[:8]}", store=PostgresBreakerStore(), cache_seconds=0
    )
    assert breaker.call(lambda: "ok") == "ok"  # a pooled connection through the proxy
    proxy.freeze()
    calls: list[str] = []

    def protected() -> str:
        calls.append("ran")
        return "done"

    with caplog.at_level(logging.WARNING):
        result, pooled = timed(lambda: breaker.call(protected), "postgres, breaker store (pooled)")
        assert result == "done"
        dispose_engine()  # a fresh connection: the proxy accepts it and then says nothing
        result, fresh = timed(lambda: breaker.call(protected), "postgres, breaker store (new)")
        assert result == "done"
    assert calls == ["ran", "ran"]
    # CIRCUIT_BREAKER_STORE_TIMEOUT_SECONDS is 1 s; the margin is for a loaded machine.
    assert pooled < 2.0, pooled
    assert fresh < 2.0, fresh
    events = [record.getMessage() for record in caplog.records]
    assert events.count("breaker_store_unavailable") >= 2


# -- Postgres: processing, the rollup, the ops commands -------------------------------------


def test_processing_statements_on_a_frozen_postgres_end_as_transient_errors(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.db.outages import autocommit_or_unavailable, transaction_or_unavailable

    proxy = postgres(frozen_env, monkeypatch)

    def single() -> Any:
        with autocommit_or_unavailable() as conn:
            return conn.execute(text("SELECT 1")).scalar()

    def in_transaction() -> Any:
        with transaction_or_unavailable() as session:
            return session.execute(text("SELECT 1")).scalar()

    assert single() == 1 and in_transaction() == 1
    proxy.freeze()
    for call in (single, in_transaction):  # the first on its pooled connection
        outcome, seconds = timed(call, f"postgres, {call.__name__}")
        assert isinstance(outcome, DependencyUnavailable), outcome
        assert outcome.dependency == "postgres"
        assert seconds < 5.0, seconds  # DB_SOCKET_TIMEOUT_SECONDS=3
    dispose_engine()
    outcome, seconds = timed(single, "postgres, statement (new connection)")
    assert isinstance(outcome, DependencyUnavailable), outcome
    assert seconds < 4.0, seconds  # DB_CONNECT_TIMEOUT_SECONDS=2
    proxy.thaw()
    dispose_engine()
    assert single() == 1  # nothing stays broken once the database answers again


def test_rollup_on_a_frozen_postgres_ends_and_answers_500(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.scheduled import handle_scheduled_request

    proxy = postgres(frozen_env, monkeypatch)

    class Request:
        method = "POST"
        path = "/"
        headers: dict[str, str] = {}
        args: dict[str, str] = {}

        def get_data(self, cache: bool = True) -> bytes:
            return b"{}"

        def get_json(self, force: bool = False, silent: bool = False) -> dict[str, str]:
            return {}

    first, _ = timed(lambda: handle_scheduled_request(Request()))
    assert first[1] == 200, first
    proxy.freeze()
    answer, seconds = timed(lambda: handle_scheduled_request(Request()), "postgres, rollup")
    assert answer[1] == 500, answer  # Cloud Scheduler retries
    assert seconds < 8.0, seconds


def test_ops_command_on_a_frozen_postgres_ends_with_an_error(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from shared.ops import cli

    proxy = postgres(frozen_env, monkeypatch)
    out = io.StringIO()
    assert cli.main(["breakers"], out=out) == 0
    proxy.freeze()
    outcome, seconds = timed(
        lambda: cli.main(["metrics", "--days", "1"], out=io.StringIO()), "postgres, ops metrics"
    )
    assert isinstance(outcome, BaseException) or outcome != 0, outcome
    assert seconds < 8.0, seconds


def test_server_side_statement_and_lock_timeouts_are_transient(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement or lock wait past its budget is cancelled by Postgres itself (57014,
    55P03): a transient error, and the connection stays usable."""
    from shared.db.engine import get_engine
    from shared.db.outages import autocommit_or_unavailable

    postgres(frozen_env, monkeypatch)
    outcome, seconds = timed(lambda: _run("SELECT pg_sleep(10)"))
    assert isinstance(outcome, DependencyUnavailable), outcome
    assert seconds < 4.0, seconds  # DB_STATEMENT_TIMEOUT_SECONDS=2
    with get_engine().connect() as holder, holder.begin():
        holder.execute(text("LOCK TABLE circuit_breakers IN ACCESS EXCLUSIVE MODE"))
        outcome, seconds = timed(lambda: _run("SELECT count(*) FROM circuit_breakers"))
    assert isinstance(outcome, DependencyUnavailable), outcome
    assert seconds < 3.0, seconds  # DB_LOCK_TIMEOUT_SECONDS=1
    with autocommit_or_unavailable() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1


def _run(sql: str) -> Any:
    from shared.db.outages import autocommit_or_unavailable

    with autocommit_or_unavailable() as conn:
        return conn.execute(text(sql)).scalar()


# -- the other dependencies -----------------------------------------------------------------


def test_mongodb_frozen_ends_as_a_transient_error(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.accounts.mongo import MongoAccountRepository

    monkeypatch.setenv("MONGODB_TIMEOUT_MS", "1000")
    proxy = frozen_env(
        "mongodb", "MONGODB_URI", lambda at: f"mongodb://{at}/?directConnection=true"
    )
    repository = MongoAccountRepository(
        get_settings(), collection_name=f"accounts_{uuid.uuid4().hex}"
    )
    try:
        assert repository.find_by_case_number("CASE-1").accounts == []
        proxy.freeze()
        outcome, seconds = timed(lambda: repository.find_by_case_number("CASE-2"), "mongodb")
        assert isinstance(outcome, DependencyUnavailable), outcome
        assert outcome.dependency == "mongodb"
        assert seconds < 4.0, seconds  # MONGODB_TIMEOUT_MS=1000 (+ server selection)
    finally:
        repository.close()


def test_gcs_frozen_ends_as_a_transient_error(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.errors import MissingObject
    from shared.processing.raw_emails import GcsRawEmailStore

    monkeypatch.setenv("PROCESSOR_GCS_TIMEOUT_SECONDS", "2")
    proxy = frozen_env("gcs", "STORAGE_EMULATOR_HOST", lambda at: f"http://{at}")
    store = GcsRawEmailStore(get_settings())
    bucket = get_settings().raw_email_bucket
    with pytest.raises(MissingObject):  # a first answer: the pool holds a connection
        store.read(bucket, f"missing/{uuid.uuid4().hex}")
    proxy.freeze()
    outcome, seconds = timed(lambda: store.read(bucket, f"missing/{uuid.uuid4().hex}"), "gcs")
    assert isinstance(outcome, DependencyUnavailable), outcome
    assert outcome.dependency == "gcs"
    assert seconds < 8.0, seconds  # PROCESSOR_GCS_TIMEOUT_SECONDS=2, retries inside it


def test_smtp_frozen_ends_as_a_transient_error(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.mail import SmtpMailer

    monkeypatch.setenv("SMTP_TIMEOUT_SECONDS", "1")
    proxy = frozen_env("smtp", "SMTP_PORT", lambda at: at.rsplit(":", 1)[1])
    mailer = SmtpMailer(get_settings())
    try:
        mailer.send(to="staff@localhost", subject="first", body="kept open")
        proxy.freeze()
        outcome, seconds = timed(
            lambda: mailer.send(to="staff@localhost", subject="second", body="frozen"), "smtp"
        )
        assert isinstance(outcome, DependencyUnavailable), outcome
        assert outcome.dependency == "smtp"
        # the reused session's NOOP check, then a new session's greeting: 1 s each
        assert seconds < 4.0, seconds
    finally:
        timed(mailer.close)


def test_claude_frozen_ends_as_a_transient_error(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.extraction.claude import ClaudeExtractor
    from shared.extraction.email_parser import parse_email
    from shared.extraction.errors import is_outage

    monkeypatch.setenv("CLAUDE_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("CLAUDE_MAX_RETRIES", "1")
    proxy = frozen_env("claude", "ANTHROPIC_BASE_URL", lambda at: f"http://{at}")
    emails = Path(__file__).resolve().parents[1] / "fixtures" / "emails"
    sample = parse_email(sorted(emails.glob("*.eml"))[0].read_bytes())
    import anthropic  # the extractor imports the SDK on first use: 2-3 s on a loaded machine

    extractor = ClaudeExtractor(settings=get_settings())
    assert anthropic.Anthropic  # imported before the clock starts
    try:
        proxy.freeze()
        outcome, seconds = timed(lambda: extractor.extract(sample), "claude")
        assert isinstance(outcome, Exception) and is_outage(outcome), outcome  # breaker counts
        assert seconds < 6.0, seconds  # 1 s per attempt, 2 attempts, the SDK's backoff
    finally:
        extractor.close()


def test_pubsub_publish_frozen_ends_as_intake_unavailable(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.intake.errors import IntakeUnavailable
    from shared.intake.pubsub import PubSubPublisher, make_publisher_client

    settings = get_settings()
    topic = f"frozen-{uuid.uuid4().hex[:8]}"  # nobody subscribes: the processor never sees it
    direct = make_publisher_client()
    direct.create_topic(name=direct.topic_path(settings.google_cloud_project, topic), timeout=10)
    direct.transport.close()
    proxy = frozen_env("pubsub", "PUBSUB_EMULATOR_HOST", lambda at: at)
    publisher = PubSubPublisher(
        make_publisher_client(), settings.google_cloud_project, topic, timeout=2
    )
    try:
        assert publisher.publish(b"warm", {"correlation_id": "frozen-test"})
        proxy.freeze()
        outcome, seconds = timed(
            lambda: publisher.publish(b"x", {"correlation_id": "frozen"}), "pubsub publish"
        )
        assert isinstance(outcome, IntakeUnavailable), outcome  # the webhook's 503
        assert seconds < 5.0, seconds  # PUBSUB_PUBLISH_TIMEOUT_SECONDS (2 here)
    finally:
        publisher.close()


def test_sentry_frozen_never_holds_an_invocation_past_its_flush_timeout(
    frozen_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sentry_sdk

    from shared.observability.sentry import init_sentry, shutdown_sentry

    monkeypatch.setenv("SENTRY_FLUSH_TIMEOUT_SECONDS", "1")
    proxy = frozen_env("sentry", "SENTRY_DSN", lambda at: f"http://public@{at}/1")
    assert init_sentry(get_settings())
    try:
        proxy.freeze()
        sentry_sdk.capture_message("frozen sink")  # sent by the SDK's background worker
        _, seconds = timed(lambda: sentry_sdk.flush(timeout=1), "sentry flush")
        assert seconds < 2.0, seconds  # SENTRY_FLUSH_TIMEOUT_SECONDS=1
    finally:
        timed(shutdown_sentry)


# -- the processor function, as a process ---------------------------------------------------


def _push(url: str, email_id: str, gcs_uri: str) -> int:
    import base64
    import json
    import urllib.error
    import urllib.request

    notice = {
        "email_id": email_id,
        "gcs_uri": gcs_uri,
        "provider": "raw",
        "received_at": "2026-01-02T03:04:05+00:00",
        "size_bytes": 100,
        "attachment_count": 0,
        "message_id": None,
    }
    body = {
        "message": {
            "data": base64.b64encode(json.dumps(notice).encode()).decode(),
            "attributes": {"correlation_id": f"corr-{email_id}", "email_id": email_id},
            "messageId": f"frozen-{email_id}",
            "publishTime": "2026-01-02T03:04:06Z",
        },
        "subscription": "projects/local-project/subscriptions/inbound-emails-processor",
    }
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=HARD_LIMIT) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_processor_deliveries_on_a_frozen_postgres_end_with_5xx(
    stack: LocalStack, tmp_path: Any
) -> None:
    """The processor as Cloud Functions runs it (functions-framework, 4 threads), Postgres
    frozen under it: four concurrent deliveries each end with a 5xx within the budget, so
    Pub/Sub redelivers them; nothing hangs."""
    import os
    import subprocess
    import urllib.request

    from infra.stack import FUNCTION_SIGNATURES, FUNCTION_TARGETS, REPO_ROOT, free_port

    port = free_port()
    with FreezeProxy("127.0.0.1", stack.servers["postgres"].port) as proxy:
        env = {
            **os.environ,
            **stack.function_env("processor"),
            **DB_BUDGET,
            "DATABASE_URL": f"postgresql+pg8000://postgres@{proxy.address}/emails",
            "THREADS": "4",
        }
        log = (tmp_path / "processor.log").open("wb")
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "functions-framework"),
                "--target",
                FUNCTION_TARGETS["processor"],
                "--source",
                str(REPO_ROOT / "functions" / "processor" / "main.py"),
                "--signature-type",
                FUNCTION_SIGNATURES["processor"],
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(url, timeout=2).close()
                    break
                except OSError as exc:
                    if getattr(exc, "code", None):  # an HTTP answer: it is up
                        break
                    time.sleep(0.2)
            bucket = get_settings().raw_email_bucket
            warm = f"em-frozen-warm-{uuid.uuid4().hex[:8]}"
            # a delivery whose object is missing: a failed report, acknowledged (pool warmed)
            assert _push(url, warm, f"gs://{bucket}/2026/01/02/{warm}.eml") < 300
            proxy.freeze()
            statuses: list[int] = []

            def deliver() -> None:
                email_id = f"em-frozen-{uuid.uuid4().hex[:8]}"
                statuses.append(_push(url, email_id, f"gs://{bucket}/x/{email_id}.eml"))

            def all_four() -> None:
                workers = [threading.Thread(target=deliver) for _ in range(4)]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join(HARD_LIMIT)

            _, seconds = timed(all_four, "postgres, 4 processor deliveries at once")
            assert len(statuses) == 4 and all(status >= 500 for status in statuses), statuses
            assert seconds < 12.0, seconds  # connect 2 s / socket 3 s per delivery, in parallel
        finally:
            process.terminate()
            process.wait(10)
            log.close()
