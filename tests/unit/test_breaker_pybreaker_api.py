"""What SharedBreaker inherits from pybreaker 1.4.1 works as pybreaker documents it, or refuses
clearly: the exclusion list, the listeners, ``state``/``current_state``, ``open``/``close``,
``calling()`` and generators, ``call_async``, and the storage interface."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pybreaker
import pytest

from shared.breakers.breaker import CircuitOpenError, SharedBreaker
from shared.breakers.storage import BreakerRowStorage
from shared.errors import BreakerOpenError, DependencyUnavailable
from tests.unit.breaker_fakes import FakeClock, MemoryBreakerStore


class Outage(DependencyUnavailable):
    def __init__(self) -> None:
        super().__init__("claude", "timeout")


class RateLimited(DependencyUnavailable):
    def __init__(self) -> None:
        super().__init__("claude", "429")
        self.status_code = 429


class Overloaded(DependencyUnavailable):
    def __init__(self) -> None:
        super().__init__("claude", "529")
        self.status_code = 529


def fail() -> None:
    raise Outage()


def ok() -> str:
    return "ok"


def make(**options: Any) -> tuple[SharedBreaker, MemoryBreakerStore, FakeClock]:
    store, clock = MemoryBreakerStore(), FakeClock()
    breaker = SharedBreaker("claude", store=store, clock=clock, cache_seconds=0, **options)
    return breaker, store, clock


def failures(store: MemoryBreakerStore) -> int:
    return store.rows["claude"].failure_count


def trip(breaker: SharedBreaker, times: int = 5) -> None:
    for _ in range(times):
        with pytest.raises(Outage):
            breaker.call(fail)


# -- the exclusion list -------------------------------------------------------------------


def test_add_excluded_exception_stops_counting_and_remove_restores_it() -> None:
    breaker, store, _ = make()
    trip(breaker, 2)
    breaker.add_excluded_exception(Outage)
    assert Outage in breaker.excluded_exceptions
    assert not breaker.is_system_error(Outage())
    trip(breaker, 10)  # excluded: neither counted nor a success (the streak stays at 2)
    assert failures(store) == 2
    assert breaker.current_state == "closed"
    breaker.remove_excluded_exception(Outage)
    trip(breaker, 3)
    assert breaker.current_state == "open"


def test_exclude_in_the_constructor_takes_types_and_predicates() -> None:
    breaker, store, _ = make(exclude=[Overloaded, lambda exc: str(exc) == "claude: timeout"])
    for raising in (Overloaded, Outage):
        for _ in range(6):
            with pytest.raises(raising):
                breaker.call(lambda raising=raising: (_ for _ in ()).throw(raising()))
    assert "claude" not in store.rows or failures(store) == 0
    assert breaker.current_state == "closed"


def test_the_classifier_is_an_exclusion_predicate_of_pybreaker() -> None:
    breaker, *_ = make()
    assert breaker.is_system_error(Outage())
    assert not breaker.is_system_error(RateLimited())  # 429: back off, not an outage
    assert not breaker.is_system_error(KeyError("x"))  # our own bug: never opens a breaker
    assert any(callable(e) and not isinstance(e, type) for e in breaker.excluded_exceptions)


def test_a_broken_exclusion_predicate_neither_counts_nor_masks_the_error() -> None:
    def broken(exc: BaseException) -> bool:
        raise RuntimeError("bug in a predicate")

    breaker, store, _ = make(exclude=[broken])
    with pytest.raises(Outage):
        breaker.call(fail)
    assert "claude" not in store.rows or failures(store) == 0


# -- listeners ----------------------------------------------------------------------------


class Recorder(pybreaker.CircuitBreakerListener):
    def __init__(self) -> None:
        self.events: list[str] = []

    def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
        self.events.append("before_call")

    def success(self, cb: Any) -> None:
        self.events.append("success")

    def failure(self, cb: Any, exc: BaseException) -> None:
        self.events.append(f"failure:{type(exc).__name__}:{cb.fail_counter}")

    def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
        self.events.append(f"{old_state.name}->{new_state.name}")


def test_listeners_hear_calls_outcomes_and_transitions_as_pybreaker_tells_them() -> None:
    recorder = Recorder()
    breaker, _, clock = make(listeners=[recorder], fail_max=2)
    assert breaker.call(ok) == "ok"
    with pytest.raises(RateLimited):  # neutral: no success, no failure
        breaker.call(lambda: (_ for _ in ()).throw(RateLimited()))
    trip(breaker, 2)
    with pytest.raises(CircuitOpenError):  # refused: the function is not called, nor announced
        breaker.call(ok)
    clock.advance(60)
    breaker.call(ok)
    assert recorder.events == [
        "before_call",
        "success",
        "before_call",
        "before_call",
        "failure:Outage:1",
        "before_call",
        "failure:Outage:2",
        "closed->open",
        "open->half-open",
        "before_call",
        "half-open->closed",
        "success",
    ]


def test_add_listener_and_a_raising_listener_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(pybreaker.CircuitBreakerListener):
        def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("telemetry down")

    recorder = Recorder()
    breaker, *_ = make()
    breaker.add_listeners(Broken(), recorder)
    with caplog.at_level(logging.WARNING):
        assert breaker.call(ok) == "ok"
    assert recorder.events == ["before_call", "success"]
    assert "breaker_listener_failed" in [r.getMessage() for r in caplog.records]
    breaker.remove_listener(recorder)
    breaker.call(ok)
    assert recorder.events == ["before_call", "success"]


def test_protected_calls_keep_any_keyword_arguments_with_listeners() -> None:
    breaker, *_ = make(listeners=[Recorder()])
    assert breaker.call(lambda event: event, event="e") == "e"


# -- state and current_state --------------------------------------------------------------


def test_state_is_pybreakers_state_object_and_current_state_its_name() -> None:
    recorder = Recorder()
    breaker, store, clock = make(listeners=[recorder])
    assert isinstance(breaker.state, pybreaker.CircuitClosedState)
    assert breaker.state.name == breaker.current_state == pybreaker.STATE_CLOSED
    trip(breaker)
    assert isinstance(breaker.state, pybreaker.CircuitOpenState)
    assert breaker.current_state == pybreaker.STATE_OPEN
    assert breaker.fail_counter == 5 and breaker.success_counter == 0
    clock.advance(60)
    assert breaker._admit().trial_token is not None  # a trial in flight
    assert isinstance(breaker.state, pybreaker.CircuitHalfOpenState)
    assert breaker.current_state == pybreaker.STATE_HALF_OPEN
    # Reading the state writes nothing and tells no listener (the maker of a transition does).
    events, calls = list(recorder.events), list(store.calls)
    for _ in range(3):
        _ = breaker.state, breaker.current_state, breaker.fail_counter
    assert recorder.events == events
    assert set(store.calls[len(calls) :]) == {"read"}


def test_an_instance_that_notices_a_transition_tells_its_listeners_nothing() -> None:
    store, clock = MemoryBreakerStore(), FakeClock()
    maker, other = Recorder(), Recorder()
    here = SharedBreaker("claude", store=store, clock=clock, cache_seconds=0, listeners=[maker])
    there = SharedBreaker("claude", store=store, clock=clock, cache_seconds=0, listeners=[other])
    trip(here)
    assert there.state.name == there.current_state == "open"  # noticed through the row
    with pytest.raises(CircuitOpenError):
        there.call(ok)
    clock.advance(60)
    there.call(ok)  # this instance takes the trial and closes it: it announces those two
    assert here.state.name == "closed"
    assert [e for e in maker.events if "->" in e] == ["closed->open"]
    assert [e for e in other.events if "->" in e] == ["open->half-open", "half-open->closed"]


def test_state_cannot_be_assigned_and_name_and_success_threshold_are_fixed() -> None:
    breaker, *_ = make()
    with pytest.raises(AttributeError, match="open\\(\\) or close\\(\\)"):
        breaker.state = pybreaker.STATE_OPEN  # type: ignore[assignment]
    with pytest.raises(AttributeError, match="row's key"):
        breaker.name = "other"
    breaker.success_threshold = 1
    with pytest.raises(ValueError, match="one successful trial"):
        breaker.success_threshold = 3
    assert breaker.success_threshold == 1
    breaker.fail_max, breaker.reset_timeout = 3, 30.0  # pybreaker's setters still work
    trip(breaker, 3)
    assert breaker.current_state == "open"


# -- open, close, half_open ---------------------------------------------------------------


def test_open_refuses_until_reset_timeout_then_one_trial_closes() -> None:
    breaker, store, clock = make()
    assert breaker.open() is False  # throw_new_error_on_trip: the tripping call re-raises its own
    assert breaker.current_state == "open" and not store.rows["claude"].forced
    with pytest.raises(pybreaker.CircuitBreakerError) as refused:
        breaker.call(ok)
    assert isinstance(refused.value, BreakerOpenError)  # what the processor catches
    clock.advance(60)
    assert breaker.call(ok) == "ok"
    assert breaker.current_state == "closed"


def test_close_closes_and_half_open_is_refused_clearly() -> None:
    breaker, store, _ = make()
    trip(breaker)
    breaker.close()
    assert breaker.current_state == "closed" and failures(store) == 0
    with pytest.raises(NotImplementedError, match="trial call by itself"):
        breaker.half_open()


# -- calling(), generators, the decorator, call_async -------------------------------------


def test_calling_counts_an_error_raised_in_the_block() -> None:
    breaker, store, _ = make()
    with pytest.raises(Outage), breaker.calling():
        raise Outage()
    assert failures(store) == 1
    with breaker.calling():
        pass
    assert failures(store) == 0


def test_a_generator_is_judged_when_it_ends_as_pybreaker_does() -> None:
    breaker, store, _ = make()

    @breaker
    def produce(fail_after: int) -> Iterator[int]:
        yield 1
        if fail_after:
            raise Outage()
        yield 2

    assert list(produce(0)) == [1, 2]
    gen = produce(1)
    assert next(gen) == 1
    assert "claude" not in store.rows or failures(store) == 0  # not judged yet
    with pytest.raises(Outage):
        next(gen)
    assert failures(store) == 1


def test_call_async_raises_not_implemented_with_the_reason() -> None:
    breaker, store, _ = make()

    async def work() -> str:
        return "ok"

    with pytest.raises(NotImplementedError, match="Tornado") as info:
        breaker.call_async(work)
    assert "asyncio.to_thread(breaker.call" in str(info.value)
    assert store.calls == []  # refused before admission: nothing counted, nothing reserved


# -- the storage --------------------------------------------------------------------------


def test_the_storage_speaks_pybreakers_interface_in_single_statements() -> None:
    store, clock = MemoryBreakerStore(), FakeClock()
    storage = BreakerRowStorage("claude", store, clock=clock, cache_seconds=0)
    assert isinstance(storage, pybreaker.CircuitBreakerStorage)
    assert storage.state == "closed"  # not yet allowed to read: no I/O while a breaker is built
    assert store.calls == []
    storage.allow_io()
    storage.increment_counter()
    storage.increment_counter()
    assert storage.counter == 2
    assert store.calls.count("record_failure") == 2  # one statement each, no read-modify-write
    storage.reset_counter()
    assert storage.counter == 0
    storage.state = pybreaker.STATE_OPEN
    assert (storage.state, storage.opened_at) == ("open", clock.now)
    storage.state = pybreaker.STATE_CLOSED
    assert storage.state == "closed"
    with pytest.raises(ValueError, match="reserved"):
        storage.state = pybreaker.STATE_HALF_OPEN
    with pytest.raises(NotImplementedError, match="opens the breaker"):
        storage.opened_at = clock.now
    storage.increment_success_counter()
    assert storage.success_counter == 0
