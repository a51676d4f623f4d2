"""Each invocation flushes Sentry only when it captured something."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sentry_sdk

from shared.config import load_settings
from shared.observability import sentry


@pytest.fixture
def flushes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float | None]]:
    # Nothing listens on port 9: events are queued, never delivered; flush is recorded instead.
    assert sentry.init_sentry(load_settings({"SENTRY_DSN": "http://public@127.0.0.1:9/1"}))
    calls: list[float | None] = []
    monkeypatch.setattr(sentry_sdk, "flush", lambda timeout=None, **_: calls.append(timeout))
    yield calls
    sentry.shutdown_sentry()


def test_an_invocation_that_captured_nothing_does_not_flush(flushes: list) -> None:
    with sentry.sentry_invocation("unit", "corr-00000001"):
        pass
    assert flushes == []


def test_an_invocation_that_failed_flushes_its_event(flushes: list) -> None:
    with pytest.raises(LookupError), sentry.sentry_invocation("unit", "corr-00000002"):
        raise LookupError("boom")
    assert len(flushes) == 1


def test_a_handled_capture_is_flushed_too(flushes: list) -> None:
    with sentry.sentry_invocation("unit", "corr-00000003"):
        sentry.capture_handled(ValueError("permanent"))
    assert len(flushes) == 1
    with sentry.sentry_invocation("unit", "corr-00000004"):
        pass
    assert len(flushes) == 1  # a fresh isolation scope: the earlier event does not count
