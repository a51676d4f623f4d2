"""The bench harness's judging and table, without any server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.bench.loadgen import MESSAGE_ID, STAMP, TOKEN, cut_template
from infra.bench.results import Check, Row, percentile, render_table, write_json
from infra.bench.runner import ORDER, parse_args


def test_checks_judge_limits_inclusively() -> None:
    assert Check.at_most("x", 8, 8).ok and not Check.at_most("x", 8.01, 8).ok
    assert Check.at_least("r", 0.5, 0.5).ok and not Check.at_least("r", 0.49, 0.5).ok
    assert Check.equal("n", 3, 3).ok and not Check.equal("n", 2, 3).ok


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([10], 0.95) == 10
    assert percentile([0, 100], 0.95) == pytest.approx(95)


def test_table_says_missed_and_not_measured_with_the_reason(tmp_path: Path) -> None:
    rows = [
        Row(
            "B1",
            "DB round trips",
            "≤ 8",
            "measured",
            figure=20,
            unit="rt",
            met=False,
            checks=[Check.at_most("median", 20, 8)],
        ),
        Row("B2", "breakers", "≤ 1", "not measured", reason="shared.breakers cannot be imported"),
    ]
    table = render_table(rows)
    assert "MISSED" in table.splitlines()[2]
    assert "B1: MISSED median ≤ 8 (observed 20)" in table
    assert "B2: not measured: shared.breakers cannot be imported" in table
    write_json(tmp_path / "b.json", rows, {"mode": "full"})
    saved = json.loads((tmp_path / "b.json").read_text())
    assert [r["verdict"] for r in saved["rows"]] == [
        "MISSED",
        "not measured: shared.breakers cannot be imported",
    ]


def test_only_selects_in_run_order_and_refuses_unknown_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert parse_args(["--only", "b5,B1"]).selected == ("B1", "B5")
    assert parse_args([]).selected == ORDER
    with pytest.raises(SystemExit):
        parse_args(["--only", "B10"])
    assert "unknown benchmark(s) B10" in capsys.readouterr().err


def test_template_is_cut_at_every_placeholder_and_rebuilt_with_new_values() -> None:
    signature = "5" * 64
    body = f"a{TOKEN}b{STAMP}c{signature}d<{MESSAGE_ID}@x>e<{MESSAGE_ID}@x>".encode()
    template = cut_template("/mailgun", {}, body, signature)
    row = ("t" * 50, "1700000000", "s" * 64, "m" * 32)
    assert (
        template.body(row)
        == f"a{'t' * 50}b1700000000c{'s' * 64}d<{'m' * 32}@x>e<{'m' * 32}@x>".encode()
    )


def test_template_refuses_a_placeholder_that_is_not_unique() -> None:
    with pytest.raises(RuntimeError, match="placeholder 0 occurs 2 times"):
        cut_template("/mailgun", {}, f"{TOKEN}{TOKEN}{STAMP}{'5' * 64}".encode(), "5" * 64)
