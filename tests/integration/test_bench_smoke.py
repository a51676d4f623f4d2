"""``python -m infra.bench --smoke``'s code path on the session's stack: every benchmark runs
with tiny sizes and ends as a measured row or an explicit "not measured: <reason>" — never a
crash, never a row without a figure that claims a result. The figures of a smoke run mean
nothing (tiny sizes, B6's processes started all at once)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from infra.bench.runner import ORDER, run_suite
from infra.stack import REPO_ROOT, LocalStack

pytestmark = pytest.mark.stack

# A few emails as providers deliver them (Received/DKIM/ARC headers, HTML alternatives,
# signatures, quoted and forwarded history), so the smoke run does not depend on the
# evaluation corpus.
PROVIDER_MAIL = REPO_ROOT / "tests" / "fixtures" / "provider_mail"


def test_smoke_run_prints_one_table_and_writes_the_same_rows_as_json(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    json_path = tmp_path / "bench.json"
    started = time.monotonic()
    rows = run_suite(stack, smoke=True, json_path=json_path, b8_corpus=PROVIDER_MAIL)
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    table = captured.out

    assert [row.key for row in rows] == list(ORDER)
    errors = {row.key: row.reason for row in rows if row.status == "error"}
    assert errors == {}
    for row in rows:
        assert row.status in ("measured", "not measured")
        if row.status == "measured":
            assert row.figure is not None and row.checks, row.key
            assert row.met == all(check.ok for check in row.checks)
        else:
            assert row.reason and row.figure is None, row.key
            assert f"{row.key}: not measured: {row.reason}" in table
    header = next(line for line in table.splitlines() if line.startswith("#"))
    assert header.split() == ["#", "benchmark", "figure", "baseline", "ratio", "target", "result"]
    for row in rows:
        assert any(line.startswith(f"{row.key} ") for line in table.splitlines()), row.key

    saved = json.loads(json_path.read_text())
    assert saved["mode"] == "smoke"
    assert [(r["key"], r["status"], r["figure"], r["verdict"]) for r in saved["rows"]] == [
        (row.key, row.status, row.figure, row.verdict) for row in rows
    ]
    # B8 needs only the extraction, which is on main: it must always be measured, against both
    # baselines: provider-shaped mail is mostly headers and markup, its content is not.
    b8 = next(row for row in rows if row.key == "B8")
    assert b8.status == "measured" and b8.details["cacheable_prefix_tokens"] > 0
    assert b8.details["counted"] == 3 and b8.ratio is not None and b8.ratio < 0.5
    assert 0.8 < b8.details["content_ratio_median"] < 2.0
    assert b8.details["input_usd_per_1000_emails"] > 0
    # Every baseline is measured in the same run.
    for key in ("B3", "B5", "B9"):
        row = next(row for row in rows if row.key == key)
        assert row.status != "measured" or (row.baseline and row.baseline > 0), key
    # B3's floor (the baseline plus the claim, the report and the staff mail) ran beside it
    b3 = next(row for row in rows if row.key == "B3")
    if b3.status == "measured":
        assert all(rate > 0 for rate in b3.details["floor_rates"])
        assert "Floor (claim, report and staff mail added" in table
    b5 = next(row for row in rows if row.key == "B5")
    if b5.status == "measured":
        assert b5.details["cpu_ms_per_request"]["bare"]["server"] > 0
    # what each benchmark stored in the emulators was removed after it (B5 stores objects)
    for row in rows:
        assert f"{row.key}: removed " in captured.err, row.key
    assert "B5: removed 0 objects" not in captured.err
    # tiny sizes: a smoke run stays short (the leftovers' listings of the session's buckets,
    # which earlier tests have filled, included)
    assert elapsed < 90, f"the smoke run took {elapsed:.0f}s"


def test_what_a_benchmark_stored_is_removed_and_nothing_else(stack: LocalStack) -> None:
    import pymongo

    from infra.bench import workload
    from infra.bench.leftovers import Leftovers

    env = stack.env()
    emails = workload.make_emails(3, "leftover")
    before, during = emails[0], emails[1:]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", env["STORAGE_EMULATOR_HOST"])
        workload.seed_accounts(env, [before])
        workload.store_emails([before])
        leftovers = Leftovers(env)
        leftovers.snapshot()
        workload.seed_accounts(env, during)
        workload.store_emails(during)

        objects, accounts = leftovers.remove_new()
        # at least these two of each (the session's stack may hold more from earlier tests)
        assert objects >= 2 and accounts >= 2

        bucket = workload.storage_client().bucket("raw-emails")
        assert bucket.blob(before.object_name).exists()
        assert not any(bucket.blob(e.object_name).exists() for e in during)
    client: pymongo.MongoClient = pymongo.MongoClient(env["MONGODB_URI"])
    try:
        accounts = client[env.get("MONGODB_DATABASE", "collections")][workload.ACCOUNTS_COLLECTION]
        assert accounts.count_documents({"_id": before.account_id}) == 1
        assert accounts.count_documents({"_id": {"$in": [e.account_id for e in during]}}) == 0
    finally:
        client.close()
