"""SharedBreaker's logic with an in-memory store, a fake clock and a recording mailer."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import pybreaker
import pytest

from shared.breakers.alerts import BreakerAlerter
from shared.breakers.breaker import SharedBreaker
from shared.breakers.events import add_transition_listener, remove_transition_listener
from shared.errors import BreakerOpenError, DependencyUnavailable, MissingObject
from tests.fakes import RecordingMailer
from tests.unit.breaker_fakes import DownStore, FakeClock, FlakyStore, MemoryBreakerStore


class Outage(DependencyUnavailable):
    def __init__(self) -> None:
        super().__init__("claude", "timeout")


class RateLimited(DependencyUnavailable):
    def __init__(self) -> None:
        super().__init__("claude", "429")
        self.status_code = 429


def fail() -> None:
    raise Outage()


def rate_limited() -> None:
    raise RateLimited()


def ok() -> str:
    return "ok"


def make(
    store: MemoryBreakerStore | None = None,
    clock: FakeClock | None = None,
    mailer: RecordingMailer | None = None,
    **options: float,
) -> tuple[SharedBreaker, MemoryBreakerStore, FakeClock, RecordingMailer]:
    store = store if store is not None else MemoryBreakerStore()
    clock = clock or FakeClock()
    mailer = mailer or RecordingMailer()
    options.setdefault("cache_seconds", 0)
    breaker = SharedBreaker(
        "claude",
        store=store,
        clock=clock,
        fail_max=int(options.pop("fail_max", 5)),
        reset_timeout=options.pop("reset_timeout", 60.0),
        alerter=BreakerAlerter(mailer, "ops@example.test"),
        **options,
    )
    return breaker, store, clock, mailer


def trip(breaker: SharedBreaker, times: int = 5) -> None:
    for _ in range(times):
        with pytest.raises(Outage):
            breaker.call(fail)


def test_construction_does_no_io() -> None:
    store = MemoryBreakerStore()
    make(store)
    assert store.calls == []


def test_opens_after_fail_max_consecutive_failures_and_refuses_without_calling() -> None:
    breaker, store, _, mailer = make()
    trip(breaker, 4)
    assert breaker.snapshot().state == "closed"
    trip(breaker, 1)
    assert breaker.snapshot().state == "open"
    called: list[int] = []
    with pytest.raises(BreakerOpenError) as info:
        breaker.call(called.append, 1)
    assert called == []
    assert info.value.breaker == "claude"
    assert len(mailer.sent) == 1
    alert = mailer.sent[0]
    body = alert.get_content()
    assert "claude" in str(alert["Subject"])
    assert "Consecutive failures: 5" in body
    assert "Last error type: Outage" in body
    assert "after 60 s (at 2026-11-29 12:01:00 UTC)" in body
    assert store.rows["claude"].alerted_at is not None


def test_original_exception_is_reraised_unchanged() -> None:
    breaker, *_ = make()
    error = Outage()

    def raise_it() -> None:
        raise error

    with pytest.raises(Outage) as info:
        breaker.call(raise_it)
    assert info.value is error


def test_success_resets_the_streak() -> None:
    breaker, store, *_ = make()
    trip(breaker, 4)
    assert breaker.call(ok) == "ok"
    assert store.rows["claude"].failure_count == 0
    trip(breaker, 4)
    assert breaker.snapshot().state == "closed"


def test_neutral_errors_neither_count_nor_reset() -> None:
    breaker, store, *_ = make()
    trip(breaker, 4)
    for raising in (rate_limited, lambda: (_ for _ in ()).throw(MissingObject("gone"))):
        for _ in range(10):
            with pytest.raises(Exception):  # noqa: B017
                breaker.call(raising)
    assert store.rows["claude"].failure_count == 4
    assert breaker.snapshot().state == "closed"
    trip(breaker, 1)
    assert breaker.snapshot().state == "open"


def test_unknown_errors_are_neutral() -> None:
    breaker, store, *_ = make()
    trip(breaker, 2)
    with pytest.raises(KeyError):
        breaker.call(lambda: {}["x"])
    assert store.rows["claude"].failure_count == 2


def test_trial_exactly_at_reset_timeout_not_before() -> None:
    breaker, store, clock, _ = make()
    trip(breaker)
    clock.advance(59.9)
    assert breaker.is_open()
    with pytest.raises(BreakerOpenError):
        breaker.call(ok)
    assert "reserve_trial" not in store.calls
    clock.advance(0.1)
    assert not breaker.is_open()
    assert breaker.call(ok) == "ok"
    assert breaker.snapshot().state == "closed"


def test_half_open_admits_one_trial_and_others_fail_fast() -> None:
    breaker, store, clock, _ = make()
    other, *_ = make(store, clock)
    trip(breaker)
    clock.advance(60)
    inside = threading.Event()
    release = threading.Event()
    seen: list[str] = []

    def trial() -> str:
        inside.set()
        release.wait(5)
        return "trial"

    thread = threading.Thread(target=lambda: seen.append(breaker.call(trial)))
    thread.start()
    assert inside.wait(5)
    assert store.rows["claude"].state == "half_open"
    for candidate in (breaker, other):
        with pytest.raises(BreakerOpenError):
            candidate.call(ok)
    release.set()
    thread.join(5)
    assert seen == ["trial"]
    assert store.rows["claude"].state == "closed"


def test_successful_trial_closes_and_sends_one_all_clear() -> None:
    breaker, store, clock, mailer = make()
    trip(breaker)
    clock.advance(61)
    breaker.call(ok)
    breaker.call(ok)
    subjects = [str(m["Subject"]) for m in mailer.sent]
    assert subjects == [
        "Circuit breaker 'claude' opened",
        "Circuit breaker 'claude' closed: all clear",
    ]
    assert store.rows["claude"].failure_count == 0
    assert store.rows["claude"].opened_at is None


def test_failed_trial_reopens_with_fresh_opened_at_and_no_second_alert() -> None:
    breaker, store, clock, mailer = make()
    trip(breaker)
    first_opened = store.rows["claude"].opened_at
    clock.advance(60)
    with pytest.raises(Outage):
        breaker.call(fail)
    row = store.rows["claude"]
    assert row.state == "open"
    assert first_opened is not None and row.opened_at == first_opened + timedelta(seconds=60)
    assert len(mailer.sent) == 1
    clock.advance(59)
    with pytest.raises(BreakerOpenError):
        breaker.call(ok)
    clock.advance(1)
    breaker.call(ok)
    assert len(mailer.sent) == 2  # the all-clear
    trip(breaker)  # a new outage after a close alerts again
    assert len(mailer.sent) == 3


def test_neutral_trial_releases_the_reservation() -> None:
    breaker, store, clock, _ = make()
    trip(breaker)
    clock.advance(60)
    with pytest.raises(RateLimited):
        breaker.call(rate_limited)
    row = store.rows["claude"]
    assert row.state == "half_open" and row.trial_reserved_until is None
    assert breaker.call(ok) == "ok"
    assert store.rows["claude"].state == "closed"


def test_expired_trial_reservation_can_be_taken_again() -> None:
    breaker, store, clock, _ = make(trial_timeout=30)
    trip(breaker)
    clock.advance(60)
    assert breaker._admit().trial_token is not None  # a trial caller that then dies
    with pytest.raises(BreakerOpenError):
        breaker.call(ok)
    clock.advance(30.001)
    assert breaker.call(ok) == "ok"
    assert store.rows["claude"].state == "closed"


def test_smtp_failure_while_alerting_is_logged_and_state_stays_open(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mailer = RecordingMailer(fail_with=DependencyUnavailable("smtp", "SMTPDataError"))
    breaker, store, *_ = make(mailer=mailer)
    with caplog.at_level(logging.INFO):
        trip(breaker)
    assert store.rows["claude"].state == "open"
    assert store.rows["claude"].alerted_at is None
    assert "breaker_alert_failed" in [r.getMessage() for r in caplog.records]


def test_failed_alert_is_retried_when_the_trial_fails() -> None:
    mailer = RecordingMailer(fail_with=DependencyUnavailable("smtp", "SMTPDataError"))
    breaker, store, clock, _ = make(mailer=mailer)
    trip(breaker)
    mailer.fail_with = None
    clock.advance(60)
    with pytest.raises(Outage):
        breaker.call(fail)
    assert len(mailer.sent) == 1
    assert store.rows["claude"].alerted_at is not None


def test_store_unavailable_fails_open_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    breaker, _, _, mailer = make(DownStore())
    with caplog.at_level(logging.WARNING):
        assert breaker.call(ok) == "ok"
        with pytest.raises(Outage):
            breaker.call(fail)
    assert not breaker.is_open()
    events = [r.getMessage() for r in caplog.records]
    assert events.count("breaker_store_unavailable") >= 2
    assert mailer.sent == []


def test_trial_that_cannot_be_reserved_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore()
    breaker, _, clock, _ = make(store)
    trip(breaker)
    clock.advance(60)
    store.down = {"reserve_trial"}
    calls: list[int] = []
    with caplog.at_level(logging.WARNING), pytest.raises(BreakerOpenError):
        breaker.call(calls.append, 1)
    assert calls == []
    assert store.rows["claude"].state == "open"
    [record] = [r for r in caplog.records if r.getMessage() == "breaker_store_unavailable"]
    assert record.json_fields["operation"] == "reserve_trial"  # type: ignore[attr-defined]
    assert record.json_fields["outcome"] == "refused"  # type: ignore[attr-defined]
    store.down = set()
    assert breaker.call(ok) == "ok"  # the store back: the trial is taken and closes it
    assert store.rows["claude"].state == "closed"


def test_failed_read_answers_the_last_known_row_not_closed() -> None:
    store = FlakyStore()
    breaker, _, clock, _ = make(store)
    trip(breaker)
    store.down = {"read", "reserve_trial"}
    breaker._storage.forget()  # a dropped cache does not drop what was known
    calls: list[int] = []
    for advance in (0, 60, 600):  # before and after the trial is due
        clock.advance(advance)
        with pytest.raises(BreakerOpenError):
            breaker.call(calls.append, 1)
        assert breaker.snapshot().state == "open"
    assert calls == []
    store.down = set()
    assert breaker.call(ok) == "ok"


def test_failed_read_of_a_known_closed_breaker_lets_calls_through() -> None:
    store = FlakyStore()
    breaker, _, _, _ = make(store)
    trip(breaker, 2)
    store.down = {"read", "record_failure", "reset_failures"}
    assert breaker.call(ok) == "ok"  # fail open: the closed path works without its store
    with pytest.raises(Outage):
        breaker.call(fail)
    assert not breaker.is_open()


def test_naive_clock_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make(clock=FakeClock(datetime(2026, 1, 1)))


def test_steady_closed_state_costs_one_read_per_call_or_none_with_fresh_cache() -> None:
    breaker, store, _clock, _ = make()
    breaker.call(ok)
    assert store.calls == ["read"]
    cached, cached_store, cached_clock, _ = make(cache_seconds=1.0)
    cached.call(ok)
    cached_clock.advance(0.5)
    cached.call(ok)
    cached.call(ok)
    assert cached_store.calls == ["read"]
    cached_clock.advance(0.6)
    cached.call(ok)
    assert cached_store.calls == ["read", "read"]


def test_success_after_failures_costs_one_reset() -> None:
    breaker, store, *_ = make()
    trip(breaker, 2)
    store.calls.clear()
    breaker.call(ok)
    assert store.calls == ["read", "reset_failures"]
    store.calls.clear()
    breaker.call(ok)
    assert store.calls == ["read"]


def test_protected_calls_run_in_parallel() -> None:
    breaker, *_ = make()
    started = time.monotonic()
    threads = [threading.Thread(target=breaker.call, args=(time.sleep, 0.3)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 0.6


def test_transitions_reach_listeners_once(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[str, str, str]] = []

    def on_transition(name: str, old: str, new: str) -> None:
        seen.append((name, old, new))

    class Recorder(pybreaker.CircuitBreakerListener):
        def __init__(self) -> None:
            self.changes: list[tuple[str, str]] = []

        def state_change(self, cb: object, old_state: object, new_state: object) -> None:
            self.changes.append((old_state.name, new_state.name))  # type: ignore[attr-defined]

    recorder = Recorder()

    def broken(name: str, old: str, new: str) -> None:
        raise RuntimeError("metrics down")

    add_transition_listener(on_transition)
    add_transition_listener(broken)
    try:
        breaker, _, clock, _ = make()
        breaker.add_listener(recorder)
        with caplog.at_level(logging.INFO):
            trip(breaker)
            clock.advance(60)
            breaker.call(ok)
    finally:
        remove_transition_listener(on_transition)
        remove_transition_listener(broken)
    assert seen == [
        ("claude", "closed", "open"),
        ("claude", "open", "half_open"),
        ("claude", "half_open", "closed"),
    ]
    assert recorder.changes == [("closed", "open"), ("open", "half-open"), ("half-open", "closed")]
    events = [r.getMessage() for r in caplog.records]
    assert events.count("breaker_opened") == 1
    assert events.count("breaker_half_open") == 1
    assert events.count("breaker_closed") == 1
    opened = next(r for r in caplog.records if r.getMessage() == "breaker_opened")
    assert opened.json_fields["breaker"] == "claude"  # type: ignore[attr-defined]


def test_force_open_holds_until_force_close() -> None:
    breaker, _store, clock, mailer = make()
    breaker.force_open()
    assert breaker.is_open()
    clock.advance(3600)
    assert breaker.is_open()
    with pytest.raises(BreakerOpenError):
        breaker.call(ok)
    assert mailer.sent == []
    breaker.force_close()
    assert breaker.call(ok) == "ok"
    assert [str(m["Subject"]) for m in mailer.sent] == [
        "Circuit breaker 'claude' closed: all clear"
    ]


def test_reset_clears_the_row() -> None:
    breaker, _store, *_ = make()
    trip(breaker, 3)
    row = breaker.reset()
    assert (row.state, row.failure_count, row.last_error_type) == ("closed", 0, None)


def test_pybreaker_surface() -> None:
    breaker, *_ = make()
    assert breaker.current_state == "closed"
    assert breaker.fail_max == 5 and breaker.reset_timeout == 60.0
    decorated = breaker(ok)
    assert decorated() == "ok"
    with breaker.calling():
        pass
    trip(breaker, 2)
    assert breaker.fail_counter == 2
    with pytest.raises(NotImplementedError):
        breaker.half_open()


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError, match="fail_max"):
        SharedBreaker("x", store=MemoryBreakerStore(), fail_max=0)


def test_transition_log_lines_carry_breaker_and_correlation_id() -> None:
    import io
    import json

    from shared.context import invocation_context
    from shared.logs import configure_logging

    stream = io.StringIO()
    configure_logging("unit-test", stream=stream)
    breaker, _, clock, _ = make()
    with invocation_context("corr-breaker-0001"):
        trip(breaker)
    with invocation_context("corr-breaker-0002"):
        clock.advance(60)
        breaker.call(ok)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    transitions = {
        line["message"]: line
        for line in lines
        if line["message"] in ("breaker_opened", "breaker_half_open", "breaker_closed")
    }
    assert transitions["breaker_opened"]["correlation_id"] == "corr-breaker-0001"
    assert transitions["breaker_opened"]["breaker"] == "claude"
    assert transitions["breaker_opened"]["severity"] == "WARNING"
    assert transitions["breaker_opened"]["failure_count"] == 5
    assert transitions["breaker_closed"]["correlation_id"] == "corr-breaker-0002"
    assert transitions["breaker_half_open"]["breaker"] == "claude"
