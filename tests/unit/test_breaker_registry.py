"""Looking a breaker up needs no SMTP settings: only its first alert does (the ops commands and
the review console look breakers up and never alert)."""

from __future__ import annotations

import logging

import pytest

from shared.breakers import registry
from shared.breakers.model import BreakerSnapshot
from shared.config import reset_settings_cache


@pytest.fixture
def production_without_smtp(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("APP_ENV", "production")
    for name in ("SMTP_HOST", "SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()
    registry.forget_breakers()
    yield
    registry.forget_breakers()
    reset_settings_cache()


def test_a_breaker_is_looked_up_without_smtp_settings(production_without_smtp: object) -> None:
    breaker = registry.get_breaker("claude-registry-probe")
    assert breaker.name == "claude-registry-probe"


def test_its_alert_then_fails_as_an_alert_not_as_the_lookup(
    production_without_smtp: object, caplog: pytest.LogCaptureFixture
) -> None:
    breaker = registry.get_breaker("claude-registry-probe")
    alerter = breaker._alerter  # the one the breaker sends through
    with caplog.at_level(logging.ERROR):
        sent = alerter.opened(BreakerSnapshot.closed("claude-registry-probe"), 60.0)
    assert sent is False
    assert "breaker_alert_failed" in caplog.text
