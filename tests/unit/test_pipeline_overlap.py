"""The claim and the GCS read (then the parse) run side by side: their result and errors are
taken where they stood before (after a successful claim), a claim that is not ours drops them,
and their own durations are the reported stage times."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from shared.config import load_settings
from shared.errors import DependencyUnavailable, LeaseHeldError
from shared.extraction.models import ParsedEmail
from shared.processing.claim import Claim
from shared.processing.envelope import Delivery, EmailNotice
from tests.processing_fakes import Harness, harness, notice


def delivery(email_id: str = "em-overlap-01") -> Delivery:
    return Delivery(
        notice=notice(email_id),
        correlation_id="corr-overlap-0001",
        pubsub_message_id="7",
        publish_time=datetime(2026, 1, 1, tzinfo=UTC),
        delivery_attempt=1,
    )


class SlowClaim:
    """Wraps the fake store's claim: waits until the read has started (both at once)."""

    def __init__(self, h: Harness, read_started: threading.Event) -> None:
        self._claim = h.store.claim
        self._read_started = read_started

    def __call__(self, notice: EmailNotice, *, correlation_id: str, owner: str) -> Claim:
        assert self._read_started.wait(5), "the read did not start while claiming"
        return self._claim(notice, correlation_id=correlation_id, owner=owner)


def test_the_read_runs_while_claiming_and_its_own_time_is_reported() -> None:
    h = harness()
    d = delivery()
    h.raw.put(d.notice, b"raw")
    started = threading.Event()
    read = h.raw.read

    def slow_read(bucket: str, name: str) -> bytes:
        started.set()
        time.sleep(0.05)
        return read(bucket, name)

    h.raw.read = slow_read  # type: ignore[method-assign]
    h.store.claim = SlowClaim(h, started)  # type: ignore[method-assign]
    assert h.pipeline.process(d) == "done"
    seconds = h.store.reports[d.notice.email_id].pipeline["stage_seconds"]["read"]
    assert seconds >= 0.05


def test_a_read_error_after_a_claim_releases_it_as_before() -> None:
    h = harness()
    h.raw.fail_with = DependencyUnavailable("gcs", "ReadTimeout", stage="read")
    with pytest.raises(DependencyUnavailable):
        h.pipeline.process(delivery())
    assert h.store.released == ["em-overlap-01"]
    assert h.store.emails["em-overlap-01"]["status"] == "processing"
    assert h.store.metrics_written == 1


def test_a_missing_object_after_a_claim_is_a_failed_report() -> None:
    h = harness()
    assert h.pipeline.process(delivery()) == "failed"
    assert h.store.reports["em-overlap-01"].errors[0]["stage"] == "read"


def test_a_duplicate_or_a_held_lease_drops_the_read_and_its_error() -> None:
    h = harness()
    h.raw.fail_with = DependencyUnavailable("gcs", "ReadTimeout", stage="read")
    h.store.emails["em-overlap-01"] = {"status": "done", "attempts": 1, "owner": None}
    assert h.pipeline.process(delivery()) == "duplicate"
    h.store.emails["em-overlap-01"] = {"status": "processing", "attempts": 1, "owner": "other"}
    with pytest.raises(LeaseHeldError):
        h.pipeline.process(delivery())
    assert h.store.released == [] and h.store.reports == {}


def test_a_claim_error_is_raised_whatever_the_read_does() -> None:
    h = harness()
    h.raw.fail_with = DependencyUnavailable("gcs", "ReadTimeout", stage="read")

    def claim(notice: EmailNotice, *, correlation_id: str, owner: str) -> Claim:
        raise DependencyUnavailable("postgres", "OperationalError", stage="claim")

    h.store.claim = claim  # type: ignore[method-assign]
    with pytest.raises(DependencyUnavailable) as raised:
        h.pipeline.process(delivery())
    assert raised.value.dependency == "postgres"


def test_the_parse_runs_beside_the_claim_too_and_a_slow_one_is_no_read_timeout() -> None:
    settings = load_settings({"PROCESSOR_GCS_TIMEOUT_SECONDS": "0.01"})
    h = harness(settings=settings)
    d = delivery()
    h.raw.put(d.notice, b"raw")
    parse = h.pipeline.deps.parse_email
    threads: list[int] = []

    def slow_parse(raw: bytes) -> ParsedEmail:
        threads.append(threading.get_ident())
        time.sleep(0.2)  # longer than the read's bound: the parse has none of its own
        return parse(raw)

    object.__setattr__(h.pipeline.deps, "parse_email", slow_parse)
    assert h.pipeline.process(d) == "done"
    assert threads and threads[0] != threading.get_ident()
    stages = h.store.reports[d.notice.email_id].pipeline["stage_seconds"]
    assert stages["parse"] >= 0.2 and stages["read"] < 0.2


def test_a_parse_error_after_a_claim_is_raised_as_before() -> None:
    h = harness()
    d = delivery()
    h.raw.put(d.notice, b"raw")

    def broken(raw: bytes) -> ParsedEmail:
        raise RuntimeError("parser bug")

    object.__setattr__(h.pipeline.deps, "parse_email", broken)
    with pytest.raises(RuntimeError, match="parser bug"):
        h.pipeline.process(d)
    assert h.store.released == ["em-overlap-01"]  # released like any unexpected error


@pytest.mark.parametrize("status", ["done", "held"])
def test_an_email_read_for_a_claim_that_is_not_ours_is_never_parsed(status: str) -> None:
    """The read is under way when the claim answers: the bytes are dropped, not parsed."""
    h = harness()
    d = delivery()
    h.raw.put(d.notice, b"raw")
    reading, claimed = threading.Event(), threading.Event()
    read = h.raw.read

    returned = threading.Event()

    def read_until_claimed(bucket: str, name: str) -> bytes:
        reading.set()
        assert claimed.wait(5)
        try:
            return read(bucket, name)
        finally:
            returned.set()

    parsed: list[bytes] = []
    parse = h.pipeline.deps.parse_email

    def counted_parse(raw: bytes) -> ParsedEmail:
        parsed.append(raw)
        return parse(raw)

    h.raw.read = read_until_claimed  # type: ignore[method-assign]
    object.__setattr__(h.pipeline.deps, "parse_email", counted_parse)
    owner = None if status == "done" else "other"
    h.store.emails[d.notice.email_id] = {
        "status": "done" if status == "done" else "processing",
        "attempts": 1,
        "owner": owner,
    }
    claim = h.store.claim

    def claim_while_reading(notice: EmailNotice, *, correlation_id: str, owner: str) -> Claim:
        assert reading.wait(5), "the read did not start while claiming"
        return claim(notice, correlation_id=correlation_id, owner=owner)

    h.store.claim = claim_while_reading  # type: ignore[method-assign]
    try:
        if status == "done":
            assert h.pipeline.process(d) == "duplicate"
        else:
            with pytest.raises(LeaseHeldError):
                h.pipeline.process(d)
    finally:
        claimed.set()
    assert returned.wait(5)  # the read finished on the pool after the claim answered ...
    time.sleep(0.05)  # ... and what follows it there (a parse, before) has had its turn
    assert parsed == []
