"""The eval's fast subset through the real pipeline on the local stack (rules extractor).

Fails when compliance recall drops below, or money-moving false positives rise above, the
floors in ``eval/thresholds.json`` (today's measured figures; raised as the processor improves).
The subset: every compliance email, every email that could move money, the auto-replies and
bounces, and the hard negatives (:mod:`eval.subset`).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from eval.harness import load_labels
from eval.paths import THRESHOLDS_PATH
from eval.runner import evaluate
from eval.subset import subset_names
from infra.fakes.clients import ClaudeStandin


def test_the_subset_keeps_compliance_recall_and_moves_no_money_wrongly(
    stack_env: dict[str, str],
) -> None:
    floors = json.loads(THRESHOLDS_PATH.read_text())["subset"]
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


def test_with_claude_a_recorded_payment_the_label_allows_is_not_a_false_positive(
    stack_env: dict[str, str], claude_standin: ClaudeStandin
) -> None:
    """The Claude path of the eval (here the stand-in): the pipeline records the garnishment
    remittance's payment, and the eval reads the lowered balance back from MongoDB."""
    name = "0221-en-garnishment-remittance.eml"
    label = load_labels()[name]
    paid_on = date.fromisoformat(label["fields"]["payment_date"])

    def found(value: Any, evidence: str) -> dict[str, Any]:
        return {"value": value, "confidence": 0.97, "evidence": evidence}

    claude_standin.set_default(
        {
            "kind": "tool_use",
            "input": {
                "intent": "payment_confirmation",
                "intent_confidence": 0.95,
                "intent_evidence": "Remittance Advice - Wage Garnishment",
                "contains_instructions_to_ai": False,
                "case_number": found("MR 78 0107", "Case / Order No.: MR 78 0107"),
                "amount": found(312.40, "Amount withheld: $312.40"),
                "currency": found("USD", "$312.40"),
                "payment_date": found(
                    paid_on.isoformat(), f"Check date: {paid_on.strftime('%m/%d/%Y')}"
                ),
            },
        }
    )

    result, observed = evaluate([name], use_claude=True)

    assert result["extractors"] == {"claude": 1}
    assert observed[name]["balance_lowered"] == {label["account"]: "312.40"}
    assert result["money"]["moved"] == 1 and result["money_false_positives"] == 0
    assert observed[name]["route"] == "auto" and result["route_accuracy"] == 1.0
