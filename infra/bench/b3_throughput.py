"""B3 — processor overhead: emails per second vs. only the unavoidable I/O.

Both sides run in this process, one email after another, with warm clients, on emails of
their own (fresh accounts, stored MIME):

- processor: the real pipeline with an instant Claude stand-in (as B1);
- baseline: per email only what cannot be avoided — read the object from GCS, one Claude call
  (the raw email as the user turn, through an ``anthropic`` client built exactly as the
  extractor builds it, to the same stand-in, the answer parsed by the SDK), one MongoDB find
  of the account and one update of it, one Postgres insert (a row in ``emails``, committed).

Each side runs ``repeats`` times, alternating; the figure and the baseline are the median
rates, the ratio the median of the ratios of each run and the baseline run right after it.
Target: processor / baseline ≥ 0.7.
"""

from __future__ import annotations

import time
from typing import Any

from infra.bench import workload
from infra.bench.b1_roundtrips import deliver, processor_pipeline
from infra.bench.context import BenchContext
from infra.bench.results import Check, Measurement, median

KEY = "B3"
TITLE = "processor throughput"
TARGET = "processor/baseline ≥ 0.7"
LIMIT = 0.7


class UnavoidableIo:
    """The baseline: GCS read, one Claude call, one Mongo find and one update, one Postgres
    insert, warm clients."""

    def __init__(self, env: dict[str, str]) -> None:
        import pymongo

        from shared.config import get_settings
        from shared.db.engine import get_engine
        from shared.extraction.claude import default_client_factory

        settings = get_settings()
        self._claude: Any = default_client_factory(settings)
        self._model = settings.claude_model
        self._max_tokens = settings.claude_max_tokens

        self._storage = workload.storage_client()
        self._bucket = self._storage.bucket("raw-emails")
        self._mongo: Any = pymongo.MongoClient(env["MONGODB_URI"])
        self._accounts = self._mongo[env.get("MONGODB_DATABASE", "collections")][
            workload.ACCOUNTS_COLLECTION
        ]
        self._engine = get_engine()

    def handle(self, email: workload.BenchEmail) -> None:
        from sqlalchemy import text

        raw = self._bucket.blob(email.object_name).download_as_bytes()
        if not raw:
            raise RuntimeError("empty object")
        answer = self._claude.messages.create(
            model=self._model,
            max_tokens=self._max_tokens,
            messages=[{"role": "user", "content": raw.decode("utf-8", "replace")}],
        )
        if answer.content[0].type != "tool_use":
            raise RuntimeError("baseline Claude call got no tool answer")
        if self._accounts.find_one({"case_number": email.case}) is None:
            raise RuntimeError("baseline account find matched nothing")
        done = self._accounts.update_one(
            {"_id": email.account_id, "applied_email_ids": {"$nin": [email.email_id]}},
            {"$inc": {"balance.amount": -120.5}, "$push": {"applied_email_ids": email.email_id}},
        )
        if done.modified_count != 1:
            raise RuntimeError("baseline account update matched nothing")
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO emails (email_id, correlation_id, provider, gcs_uri, status) "
                    "VALUES (:id, :cid, 'raw', :uri, 'done')"
                ),
                {"id": email.email_id, "cid": f"bench-{email.marker}", "uri": email.gcs_uri},
            )

    def close(self) -> None:
        self._claude.close()
        self._mongo.close()
        self._storage.close()


def _rate(emails: list[workload.BenchEmail], handle: Any, cpu: list[float]) -> float:
    """Emails per second; this process's CPU per email (ms) appended to ``cpu``."""
    cpu_started = time.process_time()
    started = time.perf_counter()
    for email in emails:
        handle(email)
    seconds = time.perf_counter() - started
    cpu.append((time.process_time() - cpu_started) * 1000 / len(emails))
    return len(emails) / seconds


def stage_medians(email_ids: list[str]) -> dict[str, float]:
    """Median milliseconds per pipeline stage, from the reports' own stage timings."""
    from sqlalchemy import text

    from shared.db.engine import get_engine

    with get_engine().connect() as conn:
        rows = conn.execute(
            text(
                "SELECT pipeline -> 'stage_seconds' AS stages FROM processing_reports "
                "WHERE email_id = ANY(:ids)"
            ),
            {"ids": email_ids},
        )
        per_stage: dict[str, list[float]] = {}
        for row in rows:
            for stage, seconds in (row.stages or {}).items():
                per_stage.setdefault(stage, []).append(float(seconds) * 1000)
    return {stage: round(median(values), 2) for stage, values in sorted(per_stage.items())}


def run(ctx: BenchContext) -> Measurement:
    pipeline = processor_pipeline(ctx)
    sizes = ctx.sizes
    runs = sizes.repeats
    warm = workload.make_emails(3, "b3w")
    baseline_warm = workload.make_emails(1, "b3bw")
    batches = [workload.make_emails(sizes.b3_emails, f"b3p{i}") for i in range(runs)]
    baseline_batches = [workload.make_emails(sizes.b3_emails, f"b3b{i}") for i in range(runs)]
    every = warm + baseline_warm + [e for batch in batches + baseline_batches for e in batch]
    workload.prepare(ctx.env(), every)
    for email in warm:
        deliver(email, pipeline)
    baseline = UnavoidableIo(ctx.env())
    outcomes: list[str] = []
    processor_rates: list[float] = []
    baseline_rates: list[float] = []
    processor_cpu: list[float] = []
    baseline_cpu: list[float] = []
    try:
        baseline.handle(baseline_warm[0])
        for batch, baseline_batch in zip(batches, baseline_batches, strict=True):
            processor_rates.append(
                _rate(
                    batch,
                    lambda email: outcomes.append(deliver(email, pipeline)),
                    processor_cpu,
                )
            )
            baseline_rates.append(_rate(baseline_batch, baseline.handle, baseline_cpu))
    finally:
        baseline.close()
    if outcomes.count("done") != len(outcomes):
        raise RuntimeError(f"not every email was processed: {sorted(set(outcomes))}")
    figure, base = median(processor_rates), median(baseline_rates)
    # Each run is paired with the baseline run right after it: the median of the pairs' ratios
    # keeps a change of the machine's load between runs out of the ratio.
    ratio = median(p / b for p, b in zip(processor_rates, baseline_rates, strict=True))
    cpu, base_cpu = median(processor_cpu), median(baseline_cpu)
    stages = stage_medians([e.email_id for batch in batches for e in batch])
    return Measurement(
        summary=(
            f"CPU per email {cpu:.1f} ms (baseline {base_cpu:.1f} ms); wall per email "
            f"{1000 / figure:.1f} ms (baseline {1000 / base:.1f} ms); stage medians (ms) "
            + ", ".join(f"{stage} {ms:g}" for stage, ms in stages.items())
        ),
        figure=figure,
        unit="email/s",
        baseline=base,
        ratio=ratio,
        checks=[Check.at_least("processor/baseline", ratio, LIMIT, "{:.2f}")],
        details={
            "emails_per_run": sizes.b3_emails,
            "runs": runs,
            "processor_rates": [round(r, 1) for r in processor_rates],
            "baseline_rates": [round(r, 1) for r in baseline_rates],
            "ratio_per_pair": [
                round(p / b, 3) for p, b in zip(processor_rates, baseline_rates, strict=True)
            ],
            "processor_cpu_ms_per_email": [round(c, 2) for c in processor_cpu],
            "baseline_cpu_ms_per_email": [round(c, 2) for c in baseline_cpu],
            "stage_medians_ms": stages,
        },
    )
