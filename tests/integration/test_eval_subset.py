"""The eval's fast subset through the real pipeline on the local stack (rules extractor).

Fails when compliance recall drops below, or money-moving false positives rise above, the
floors in ``eval/thresholds.json`` (today's measured figures; raised as the processor improves).
The subset: every compliance email, every email that could move money, the auto-replies and
bounces, and the hard negatives (:mod:`eval.subset`).
"""

from __future__ import annotations

import json
from typing import Any

from eval.build_corpus import EVAL_DIR
from eval.harness import load_labels
from eval.runner import evaluate
from eval.subset import subset_names


def test_the_subset_keeps_compliance_recall_and_moves_no_money_wrongly(
    stack_env: dict[str, str],
) -> None:
    floors = json.loads((EVAL_DIR / "thresholds.json").read_text())["subset"]
    labels = load_labels()
    names = subset_names(labels)
    assert any(labels[n]["money_allowed"] for n in names)
    assert sum(1 for n in names if labels[n]["compliance"]) == sum(
        1 for lab in labels.values() if lab["compliance"]
    )

    result, observed = evaluate(names, use_claude=False)

    assert result["failed"] == []
    assert set(result["extractors"]) == {"rules"}  # the key in the stack's env is not used
    missed = result["compliance"]["missed"]
    assert result["compliance_recall"] >= floors["compliance_recall_min"], _first(missed)
    wrong: list[Any] = result["money"]["false_positive_emails"]
    assert result["money_false_positives"] <= floors["money_false_positives_max"], wrong
    # what the figures are computed from was really read back from the stores
    assert any(obs["held"] for obs in observed.values())
    assert any(obs["match_method"] == "case_number" for obs in observed.values())


def _first(names: list[str]) -> str:
    return "compliance emails not handled, e.g. " + ", ".join(names[:10])
