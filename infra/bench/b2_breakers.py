"""B2 — breaker cost: database round trips per successful protected call, closed state.

Two cases, on a breaker row of its own (``bench-b2-…``) in the stack's Postgres:

- no fresh snapshot: a :class:`~shared.breakers.SharedBreaker` with ``cache_seconds=0``, so
  every call reads the row (what a call costs once the ≤ 1 s cached snapshot has expired);
- fresh cached snapshot: the process's breaker from :func:`~shared.breakers.get_breaker`
  (``CIRCUIT_BREAKER_CACHE_SECONDS``), called in a tight loop right after a first call.

Round trips are counted at the driver (:mod:`infra.bench.dbcount`: statements plus implicit
BEGIN, COMMIT and the pool's pre-ping); statements are reported beside them. Target: ≤ 1 round
trip per call without a fresh snapshot, 0 with one.
"""

from __future__ import annotations

import uuid

from infra.bench.context import BenchContext, require
from infra.bench.dbcount import count_database
from infra.bench.results import Check, Measurement, median

KEY = "B2"
TITLE = "breaker round trips per call"
TARGET = "≤ 1 per call (0 with fresh snapshot)"


def _per_call(engine: object, call: object, calls: int) -> tuple[list[int], list[int]]:
    round_trips, statements = [], []
    with count_database(engine) as counts:  # type: ignore[arg-type]
        for _ in range(calls):
            before = counts.snapshot()
            call()  # type: ignore[operator]
            after = counts.snapshot()
            statements.append(after[0] - before[0])
            round_trips.append(after[1] - before[1])
    return round_trips, statements


def run(ctx: BenchContext) -> Measurement:
    breakers = require("shared.breakers", "SharedBreaker", "get_breaker")
    store = require("shared.breakers.store", "PostgresBreakerStore")
    ctx.use_stack_env()
    from shared.db.engine import get_breaker_engine

    engine = get_breaker_engine()  # the breaker store's own pool: its statements are counted there
    name = f"bench-b2-{uuid.uuid4().hex[:8]}"
    uncached = breakers.SharedBreaker(name, store=store.PostgresBreakerStore(), cache_seconds=0)
    cached = breakers.get_breaker(name)

    def work() -> int:
        return 1

    uncached.call(work)  # creates the row, warms the pool
    stale_trips, stale_statements = _per_call(
        engine, lambda: uncached.call(work), ctx.sizes.b2_calls
    )
    cached.call(work)  # fresh snapshot from here on
    fresh_trips, fresh_statements = _per_call(engine, lambda: cached.call(work), ctx.sizes.b2_calls)
    assert cached.current_state == "closed" and uncached.current_state == "closed"
    stale = median(stale_trips)
    fresh = median(fresh_trips)
    return Measurement(
        summary=f"per call without a fresh snapshot: {median(stale_statements):g} SQL statement(s)",
        figure=stale,
        unit="rt",
        checks=[
            Check.at_most("round trips per call, no fresh snapshot", stale, 1, "{:g}"),
            Check.at_most("round trips per call, fresh snapshot", fresh, 0, "{:g}"),
        ],
        details={
            "calls_per_case": ctx.sizes.b2_calls,
            "no_fresh_snapshot": {
                "round_trips_median": stale,
                "round_trips_max": max(stale_trips),
                "statements_median": median(stale_statements),
            },
            "fresh_snapshot": {
                "round_trips_median": fresh,
                "round_trips_max": max(fresh_trips),
                "statements_median": median(fresh_statements),
            },
        },
    )
