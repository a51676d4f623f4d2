"""The ops command line's logic around its adapters (fakes: breakers, Cloud Scheduler, Cloud
Logging); the stack tests are in tests/integration/test_ops.py."""

from __future__ import annotations

import io
import sys
import types
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.config import get_settings, load_env_file
from shared.ops import cli, logs


@dataclass(frozen=True)
class Snapshot:
    name: str
    state: str
    failure_count: int
    opened_at: datetime | None = None


class FakeBreakers(types.ModuleType):
    def __init__(self) -> None:
        super().__init__("shared.breakers")
        self.calls: list[tuple[str, str]] = []

    def list_breakers(self) -> list[Snapshot]:
        return [
            Snapshot("claude", "open", 5, datetime(2024, 1, 1, tzinfo=UTC)),
            Snapshot("gcs", "closed", 0),
        ]

    KNOWN_BREAKERS = ("claude", "mongodb", "gcs")

    def _act(self, action: str, name: str, state: str) -> Snapshot:
        if name not in {"claude", "gcs", "mongodb", "claude-test"}:
            raise ValueError(f"unknown breaker {name!r}")
        self.calls.append((action, name))
        return Snapshot(name, state, 0)

    def force_open(self, name: str) -> Snapshot:
        return self._act("force_open", name, "open")

    def force_close(self, name: str) -> Snapshot:
        return self._act("force_close", name, "closed")

    def reset(self, name: str) -> Snapshot:
        return self._act("reset", name, "closed")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return cli.main(list(argv), out=out), out.getvalue()


@pytest.fixture
def no_default_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli, "DEFAULT_ENV_FILE", tmp_path / "absent.env")


def test_breaker_commands(monkeypatch: pytest.MonkeyPatch, no_default_env_file: None) -> None:
    fake = FakeBreakers()
    monkeypatch.setitem(sys.modules, "shared.breakers", fake)
    code, text = run("breakers")
    assert code == 0
    lines = text.splitlines()
    assert lines[0].split() == ["name", "state", "failure_count", "opened_at"]
    assert lines[2].split()[:3] == ["claude", "open", "5"]
    assert run("breaker", "open", "claude") == (0, "breaker claude: open\n")
    assert run("breaker", "reset", "gcs")[0] == 0
    assert run("breaker", "close", "nope")[0] == 2
    assert fake.calls == [("force_open", "claude"), ("reset", "gcs")]


def test_rollup_in_production_triggers_the_scheduler_job(
    monkeypatch: pytest.MonkeyPatch, no_default_env_file: None
) -> None:
    for key, value in {
        "APP_ENV": "production",
        "DATABASE_URL": "postgresql+pg8000://nobody@127.0.0.1:1/none",
        "GOOGLE_CLOUD_PROJECT": "acme-prod",
        "ROLLUP_SCHEDULER_JOB": "rollup-nightly-prod",
        "ROLLUP_SCHEDULER_LOCATION": "europe-west3",
    }.items():
        monkeypatch.setenv(key, value)

    class FakeScheduler:
        names: list[str] = []

        def run_job(self, name: str, timeout: float) -> None:
            assert 0 < timeout <= 300  # a bounded call (OPS_TIMEOUT_SECONDS)
            self.names.append(name)

    scheduler = FakeScheduler()
    parser = cli.build_parser()
    out = io.StringIO()
    assert cli.cmd_rollup(parser.parse_args(["rollup"]), out, scheduler=scheduler) == 0
    assert scheduler.names == ["projects/acme-prod/locations/europe-west3/jobs/rollup-nightly-prod"]
    with pytest.raises(cli.UsageError, match="locally only"):
        cli.cmd_rollup(
            parser.parse_args(["rollup", "--date", "2024-01-01"]), out, scheduler=scheduler
        )
    assert len(scheduler.names) == 1


def test_cloud_logging_trace_uses_the_correlation_filter() -> None:
    class Entry:
        def __init__(self, payload: dict[str, Any]) -> None:
            self.payload = payload
            self.severity = "INFO"
            self.timestamp = datetime(2024, 1, 1, tzinfo=UTC)
            self.resource = types.SimpleNamespace(labels={"service_name": "processor-prod"})

    class FakeLogging:
        filters: list[str] = []

        def list_entries(self, filter_: str, order_by: str, max_results: int) -> list[Entry]:
            self.filters.append(filter_)
            return [
                Entry(
                    {
                        "message": "decision_made",
                        "correlation_id": "cid-12345678",
                        "decision": "AUTO_UPDATE",
                        "logging.googleapis.com/trace": "t",
                    }
                )
            ]

    client = FakeLogging()
    (line,) = logs.cloud_lines("acme", "cid-12345678", client=client)
    assert client.filters == ['jsonPayload.correlation_id="cid-12345678"']
    assert (line.source, line.message, line.fields) == (
        "processor-prod",
        "decision_made",
        {"decision": "AUTO_UPDATE"},
    )
    with pytest.raises(ValueError):
        logs.logging_filter('abc" OR severity>=DEBUG OR "x')


def test_local_log_lines_are_filtered_by_correlation_id(tmp_path: Path) -> None:
    (tmp_path / "webhook.log").write_text(
        "Serving on 127.0.0.1\n"
        '{"correlation_id": "cid-aaaaaaaa", "function": "webhook", "message": "webhook_received",'
        ' "severity": "INFO", "provider": "raw"}\n'
        '{"correlation_id": "cid-bbbbbbbb", "function": "webhook", "message": "other"}\n'
        "not json cid-aaaaaaaa\n"
    )
    (tmp_path / "processor.log").write_text(
        '{"correlation_id": "cid-aaaaaaaa", "function": "processor", "message": "done",'
        ' "severity": "INFO", "logging.googleapis.com/labels": {}}\n'
    )
    found = list(logs.local_lines(tmp_path, "cid-aaaaaaaa"))
    assert [(x.source, x.message, x.fields) for x in found] == [
        ("webhook", "webhook_received", {"provider": "raw"}),
        ("processor", "done", {}),
    ]


def test_env_file_fills_only_missing_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "stack.env"
    path.write_text("# comment\nLOG_LEVEL=DEBUG\nGOOGLE_CLOUD_PROJECT=from-file\n\nJUNK\n")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    assert load_env_file(path) == ["LOG_LEVEL"]
    assert get_settings().log_level == "DEBUG"
    assert get_settings().google_cloud_project == "from-env"
    assert run("--env-file", str(tmp_path / "missing.env"), "breakers")[0] == 2


def test_parse_when() -> None:
    now = datetime(2024, 3, 10, 12, tzinfo=UTC)
    assert cli.parse_when("24h", now=now) == datetime(2024, 3, 9, 12, tzinfo=UTC)
    assert cli.parse_when("7d", now=now) == datetime(2024, 3, 3, 12, tzinfo=UTC)
    assert cli.parse_when("2024-03-01", now=now) == datetime(2024, 3, 1, tzinfo=UTC)
    with pytest.raises(cli.UsageError):
        cli.parse_when("last tuesday", now=now)


def test_breaker_transitions_become_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.metrics import collector

    registered: list[Any] = []
    package = types.ModuleType("shared.breakers")
    events = types.ModuleType("shared.breakers.events")
    events.add_transition_listener = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "shared.breakers", package)
    monkeypatch.setitem(sys.modules, "shared.breakers.events", events)
    assert collector.register_breaker_metrics() is True
    assert registered == [collector.record_breaker_transition]


def test_acting_on_a_breaker_outside_the_system_set_warns(
    monkeypatch: pytest.MonkeyPatch, no_default_env_file: None, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeBreakers()
    monkeypatch.setitem(sys.modules, "shared.breakers", fake)
    assert run("breaker", "open", "claude")[0] == 0
    assert "warning" not in capsys.readouterr().err
    assert run("breaker", "open", "claude-test")[0] == 0
    assert "'claude-test' is not one of the system's breakers" in capsys.readouterr().err
    assert fake.calls[-1] == ("force_open", "claude-test")
