"""The scheduled outbox sweep's loop and its route in the rollup function (fakes only: the
real Postgres and SMTP runs are in tests/integration/test_outbox_sweep.py)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from shared.config import load_settings
from shared.mail import Mailer
from shared.processing.outbox import SendSummary
from shared.processing.outbox_sweep import run_outbox_sweep
from shared.scheduled import handle_scheduled_request
from tests.fakes import RecordingMailer


class ScriptedOutbox:
    """Answers each ``send_pending`` with the next summary; records the limits asked for."""

    def __init__(self, *rounds: SendSummary) -> None:
        self.rounds = list(rounds)
        self.limits: list[int] = []

    def send_pending(
        self, mailer: Mailer, *, email_id: str | None = None, limit: int = 10
    ) -> SendSummary:
        assert email_id is None  # the sweep never targets one email
        self.limits.append(limit)
        return self.rounds.pop(0) if self.rounds else SendSummary()


def test_sweeps_round_after_round_until_a_round_sends_nothing() -> None:
    outbox = ScriptedOutbox(SendSummary(sent=50), SendSummary(sent=3, failed=1), SendSummary())
    settings = load_settings({"OUTBOX_SWEEP_BATCH": "50"})
    total = run_outbox_sweep(settings, outbox=outbox, mailer=RecordingMailer())
    assert (total.sent, total.failed) == (53, 1)
    assert outbox.limits == [50, 50, 50]


def test_a_refusing_relay_ends_the_sweep_after_one_round() -> None:
    outbox = ScriptedOutbox(SendSummary(failed=50), SendSummary(sent=1))
    total = run_outbox_sweep(load_settings({}), outbox=outbox, mailer=RecordingMailer())
    assert (total.sent, total.failed) == (0, 50)
    assert len(outbox.limits) == 1


def test_the_time_budget_ends_the_sweep() -> None:
    ticks = iter([0.0, 10.0, 200.0, 300.0])
    outbox = ScriptedOutbox(*[SendSummary(sent=5)] * 10)
    settings = load_settings({"OUTBOX_SWEEP_MAX_SECONDS": "120"})
    total = run_outbox_sweep(
        settings, outbox=outbox, mailer=RecordingMailer(), clock=lambda: next(ticks)
    )
    assert total.sent == 10 and len(outbox.limits) == 2


def _post(body: bytes) -> Request:
    return Request(EnvironBuilder(method="POST", data=body).get_environ())


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    ran: dict[str, list[Any]] = {"rollup": [], "sweep": []}

    class Summary:
        def as_dict(self) -> dict[str, Any]:
            return {"days_rolled_up": []}

    def fake_rollup(**kwargs: Any) -> Summary:
        ran["rollup"].append(kwargs)
        return Summary()

    def fake_sweep(settings: Any) -> SendSummary:
        ran["sweep"].append(settings)
        return SendSummary(sent=2, failed=1)

    monkeypatch.setattr("shared.metrics.rollup.run_rollup", fake_rollup)
    monkeypatch.setattr("shared.processing.outbox_sweep.run_outbox_sweep", fake_sweep)
    return ran


def test_the_sweep_task_sweeps_and_does_not_roll_up(calls: dict[str, list[Any]]) -> None:
    body, status = handle_scheduled_request(_post(b'{"task": "outbox_sweep"}'))
    assert (status, body) == (200, {"task": "outbox_sweep", "sent": 2, "failed": 1})
    assert len(calls["sweep"]) == 1 and calls["rollup"] == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"task": "drop_tables"}',
        b'{"task": ["outbox_sweep"]}',
        b'{"task": "outbox_sweep", "date": "2026-11-01"}',
        b'{"date": 20261101}',
        b"[]",
        b"not json",
    ],
)
def test_bad_bodies_are_refused_and_run_nothing(raw: bytes, calls: dict[str, list[Any]]) -> None:
    body, status = handle_scheduled_request(_post(raw))
    assert status == 400 and "outbox_sweep" in body["error"]
    assert calls == {"rollup": [], "sweep": []}


def test_the_default_task_is_still_the_rollup(calls: dict[str, list[Any]]) -> None:
    for raw in (b"", b"{}", b'{"task": "rollup", "date": "2026-11-01"}'):
        _, status = handle_scheduled_request(_post(raw))
        assert status == 200
    assert len(calls["rollup"]) == 3 and calls["sweep"] == []
