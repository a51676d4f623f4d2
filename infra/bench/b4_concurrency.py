"""B4 — concurrency: 64 emails, a Claude stand-in that takes 1 s, processor with 16 threads.

A processor process of its own (``functions-framework``, ``THREADS=16``, the stack's env)
receives 64 Pub/Sub push deliveries at once (64 client threads, the push body the emulator
sends). Wall time runs from the first request to the last answer; every answer must be 200
(acknowledged) and every email get its report. Ideal: 64 / 16 × 1 s = 4 s; target: wall ≤ 1.2 ×
ideal. The figure is the median wall time over the repeated runs (fresh emails each run, after
a warm-up batch of 16).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from infra.bench import workload
from infra.bench.b1_roundtrips import processor_pipeline
from infra.bench.context import BenchContext
from infra.bench.processes import function_process, post_json
from infra.bench.results import Check, Measurement, median

KEY = "B4"
TITLE = "processor concurrency"
TARGET = "wall ≤ 1.2 × ideal"
LIMIT = 1.2


def _burst(url: str, emails: list[workload.BenchEmail]) -> tuple[float, list[int]]:
    with ThreadPoolExecutor(len(emails)) as pool:
        started = time.perf_counter()
        answers = list(pool.map(lambda e: post_json(url, workload.push_body(e))[0], emails))
        return time.perf_counter() - started, answers


def run(ctx: BenchContext) -> Measurement:
    processor_pipeline(ctx)  # NotMeasured when the processor cannot be imported
    sizes = ctx.sizes
    threads, count, delay = sizes.b4_threads, sizes.b4_emails, sizes.b4_claude_seconds
    warm = workload.make_emails(threads, "b4w")
    batches = [workload.make_emails(count, f"b4r{i}") for i in range(sizes.repeats)]
    workload.prepare(ctx.env(), warm + [e for b in batches for e in b], delay_seconds=delay)
    process = function_process(ctx, "b4-processor", function="processor", threads=threads)
    process.start()
    url = f"http://127.0.0.1:{process.port}/"
    walls: list[float] = []
    statuses: list[int] = []
    try:
        _, warm_answers = _burst(url, warm)
        if set(warm_answers) != {200}:
            raise RuntimeError(f"warm-up deliveries answered {sorted(set(warm_answers))}")
        for batch in batches:
            wall, answers = _burst(url, batch)
            walls.append(wall)
            statuses += answers
    finally:
        process.stop()
    ideal = count / threads * delay
    wall = median(walls)
    ok = statuses.count(200)
    reported = _reports([e.email_id for b in batches for e in b])
    return Measurement(
        figure=wall,
        unit="s",
        baseline=ideal,
        ratio=wall / ideal,
        checks=[
            Check.at_most("wall / ideal", wall / ideal, LIMIT, "{:.2f}"),
            Check.equal("deliveries acknowledged (200)", ok, len(statuses)),
            Check.equal("emails with a done report", reported, len(statuses)),
        ],
        details={
            "emails": count,
            "threads": threads,
            "claude_seconds": delay,
            "walls": [round(w, 2) for w in walls],
        },
    )


def _reports(email_ids: list[str]) -> int:
    from sqlalchemy import text

    from shared.db.engine import get_engine

    with get_engine().connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM processing_reports "
                    "WHERE email_id = ANY(:ids) AND status = 'done'"
                ),
                {"ids": email_ids},
            ).scalar_one()
        )
