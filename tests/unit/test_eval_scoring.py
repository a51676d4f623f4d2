"""The eval's figures from labels and observations (no stack)."""

from __future__ import annotations

from typing import Any

from eval.harness import Observed
from eval.scoring import field_correct, score


def _label(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "lang": "en",
        "kind": "debtor",
        "intent": "other",
        "compliance": None,
        "account": "ev-a",
        "match_basis": "reference",
        "fields": {},
        "route": "review",
        "money_allowed": False,
        "hard_negative": None,
    }
    base.update(kw)
    return base


def _seen(name: str, **kw: Any) -> dict[str, Any]:
    obs = Observed(name=name, outcome="done", intent="other", extractor="rules")
    for key, value in kw.items():
        setattr(obs, key, value)
    return obs.to_json()


def test_routes_read_from_what_the_pipeline_did() -> None:
    assert _seen("a", held=["x"], decision="UPDATE_AND_NOTIFY")["route"] == "hold"
    alert = _seen("a", reasons=["compliance:dispute"], decision="MANUAL_REVIEW")
    assert alert["route"] == "hold"
    assert _seen("a", decision="AUTO_UPDATE", actions=["note"])["route"] == "auto"
    assert _seen("a", decision="MANUAL_REVIEW", notifications=["review_request"])["route"] == (
        "review"
    )
    assert _seen("a", decision="MANUAL_REVIEW")["route"] == "ignore"  # nobody told, nothing done


def test_compliance_recall_needs_the_labelled_account_held() -> None:
    labels = {
        "held": _label(compliance="dispute", route="hold"),
        "alert_only": _label(compliance="dispute", route="hold"),
        "no_account": _label(compliance="deceased", route="hold", account="none"),
        "negated": _label(intent="payment_plan_request", hard_negative="negated_dispute"),
    }
    observed = {
        "held": _seen("held", held=["ev-a"], decision="UPDATE_AND_NOTIFY"),
        "alert_only": _seen("alert_only", reasons=["compliance:dispute"]),
        "no_account": _seen("no_account", reasons=["compliance_wording:cease_and_desist"]),
        "negated": _seen("negated", held=["ev-a"]),
    }
    result = score(labels, observed)
    assert result["compliance_recall"] == round(2 / 3, 4)
    assert result["compliance"]["detection_recall"] == 1.0
    assert result["compliance_precision"] == 0.75
    assert result["compliance"]["false_positives"] == ["negated"]
    assert result["hard_negatives"]["negated_dispute"] == {"emails": 1, "flagged_compliance": 1}


def test_money_false_positives_count_any_balance_lowered_the_label_does_not_allow() -> None:
    pay = {"amount": 50.0, "currency": "USD"}
    labels = {
        "allowed": _label(intent="payment_confirmation", fields=pay, money_allowed=True),
        "wrong_amount": _label(intent="payment_confirmation", fields=pay, money_allowed=True),
        "not_allowed": _label(intent="payment_promise", fields=pay),
    }
    observed = {
        "allowed": _seen("allowed", balance_lowered={"ev-a": "50.00"}),
        "wrong_amount": _seen("wrong_amount", balance_lowered={"ev-a": "500.00"}),
        "not_allowed": _seen("not_allowed", balance_lowered={"ev-a": "50.00"}),
    }
    result = score(labels, observed)
    assert result["money"]["moved"] == 3
    assert result["money_false_positives"] == 2
    assert result["money"]["false_positive_emails"] == ["not_allowed", "wrong_amount"]


def test_account_accuracy_by_method_and_suppression() -> None:
    labels = {
        "ref": _label(),
        "amb": _label(account="ambiguous", match_basis="sender_several_accounts"),
        "ooo": _label(kind="auto_reply", route="ignore", match_basis="sender"),
    }
    observed = {
        "ref": _seen("ref", match_account="ev-a", match_method="case_number"),
        "amb": _seen("amb", match_ambiguous=True, match_method="sender_email"),
        "ooo": _seen("ooo", match_account="ev-b", notifications=["review_request"]),
    }
    result = score(labels, observed)
    assert result["account_match_accuracy"] == round(2 / 3, 4)
    assert result["accounts"]["wrong_account"] == 1
    assert result["accounts"]["by_method"]["ambiguous"]["correct"] == 1
    assert result["auto_reply_bounce_suppression"] == 0.0
    assert result["auto_replies_bounces"]["notified_or_changed"] == ["ooo"]


def test_field_comparison_tolerates_formatting_not_other_values() -> None:
    assert field_correct("amount", 150.0, "150.00")
    assert not field_correct("amount", 150.0, 15.0)
    assert field_correct("currency", "EUR", "eur")
    assert field_correct("new_phone", "06 5550 1234", "+31 6 5550 1234")
    assert field_correct(
        "new_address", "Lindenstraße 14, 28203 Bremen", "lindenstraße 14 28203 bremen"
    )
    assert not field_correct("payment_date", "2026-11-03", "2026-11-04")
    assert not field_correct("amount", 1.0, None)


def test_a_bounce_counts_as_noted_only_on_the_bounced_debtor_s_account() -> None:
    labels = {
        "b1": _label(kind="bounce", route="ignore", match_basis="bounce_recipient"),
        "b2": _label(kind="bounce", route="ignore", match_basis="bounce_recipient"),
    }
    observed = {
        "b1": _seen("b1", recorded_on=["ev-a"]),
        "b2": _seen("b2", recorded_on=["ev-b"], notifications=["review_request"]),
    }
    result = score(labels, observed)["auto_replies_bounces"]
    assert (result["bounces_noted_on_account"], result["bounces"]) == (1, 2)
    assert result["suppressed"] == 1
