"""The figures of an eval run: a pure function of the labels and what the processor did.

``observed`` is one :meth:`eval.harness.Observed.to_json` per email. See docs/evaluation.md for
what each figure means.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from rapidfuzz import fuzz

from eval.harness import ROUTES
from shared.extraction.models import INTENTS

IDENTIFIABLE = ("reference", "reference_quoted", "reference_attachment", "sender")
SUPPRESSED_KINDS = ("auto_reply", "bounce")
BULK_KINDS = ("newsletter", "spam")


def _ratio(hit: int, total: int) -> float | None:
    return None if total == 0 else round(hit / total, 4)


def predicted_account(obs: dict[str, Any]) -> str:
    if obs.get("match_ambiguous"):
        return "ambiguous"
    return obs.get("match_account") or "none"


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value) if ch.isdigit())


def field_correct(name: str, expected: Any, got: Any) -> bool:
    if got is None:
        return False
    if name in ("amount", "plan_installment_amount"):
        try:
            return abs(float(got) - float(expected)) < 0.005
        except (TypeError, ValueError):
            return False
    if name == "currency":
        return str(got).strip().upper() == str(expected).upper()
    if name == "new_phone":
        return _digits(got)[-9:] == _digits(expected)[-9:]
    if name == "new_address":
        return fuzz.token_set_ratio(str(got).lower(), str(expected).lower()) >= 85
    return str(got).strip() == str(expected)


def _per_intent(pairs: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for intent in INTENTS:
        tp = sum(1 for want, got in pairs if want == intent and got == intent)
        fp = sum(1 for want, got in pairs if want != intent and got == intent)
        fn = sum(1 for want, got in pairs if want == intent and got != intent)
        out[intent] = {
            "support": tp + fn,
            "predicted": tp + fp,
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
        }
    return out


def _compliance(labels: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    positives = [n for n, lab in labels.items() if lab["compliance"]]
    flagged = [n for n, obs in observed.items() if obs["compliance_flagged"]]
    handled: list[str] = []
    missed: list[str] = []
    for name in positives:
        lab, obs = labels[name], observed[name]
        account = lab["account"]
        if account in ("none", "ambiguous"):
            ok = obs["compliance_flagged"]
        else:
            ok = account in obs["held"]
        (handled if ok else missed).append(name)
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted({labels[n]["compliance"] for n in positives}):
        names = [n for n in positives if labels[n]["compliance"] == kind]
        hit = sum(1 for n in names if n in handled)
        by_kind[kind] = {"emails": len(names), "handled": hit, "recall": _ratio(hit, len(names))}
    by_lang: dict[str, dict[str, Any]] = {}
    for lang in sorted({labels[n]["lang"] for n in positives}):
        names = [n for n in positives if labels[n]["lang"] == lang]
        hit = sum(1 for n in names if n in handled)
        by_lang[lang] = {"emails": len(names), "handled": hit, "recall": _ratio(hit, len(names))}
    detected = [n for n in positives if observed[n]["compliance_flagged"]]
    true_flags = [n for n in flagged if labels[n]["compliance"]]
    wrong_hold = [
        n for n in positives if any(a != labels[n]["account"] for a in observed[n]["held"])
    ]
    return {
        "emails": len(positives),
        "recall": _ratio(len(handled), len(positives)),
        "detection_recall": _ratio(len(detected), len(positives)),
        "precision": _ratio(len(true_flags), len(flagged)),
        "flagged": len(flagged),
        "by_kind": by_kind,
        "by_lang": by_lang,
        "missed": sorted(missed),
        "detected_not_held": sorted(set(detected) & set(missed)),
        "false_positives": sorted(set(flagged) - set(true_flags)),
        "held_other_account": sorted(wrong_hold),
    }


def _accounts(labels: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    by_method: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_basis: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    correct = identifiable = identifiable_ok = wrong = 0
    for name, lab in labels.items():
        obs = observed[name]
        got = predicted_account(obs)
        ok = got == lab["account"]
        correct += ok
        method = "ambiguous" if obs.get("match_ambiguous") else (obs.get("match_method") or "none")
        by_method[method][0] += 1
        by_method[method][1] += ok
        by_basis[lab["match_basis"]][0] += 1
        by_basis[lab["match_basis"]][1] += ok
        if lab["match_basis"] in IDENTIFIABLE:
            identifiable += 1
            identifiable_ok += ok
        if got not in ("none", "ambiguous") and not ok:
            wrong += 1

    def table(counts: dict[str, list[int]]) -> dict[str, Any]:
        return {
            key: {"emails": n, "correct": k, "accuracy": _ratio(k, n)}
            for key, (n, k) in sorted(counts.items())
        }

    return {
        "accuracy": _ratio(correct, len(labels)),
        "identifiable_emails": identifiable,
        "identifiable_accuracy": _ratio(identifiable_ok, identifiable),
        "wrong_account": wrong,
        "by_method": table(by_method),
        "by_basis": table(by_basis),
    }


def _fields(labels: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for name, lab in labels.items():
        got_fields = observed[name]["fields"]
        for field_name, expected in lab["fields"].items():
            got = got_fields.get(field_name)
            state = (
                "missing"
                if got is None
                else ("correct" if field_correct(field_name, expected, got) else "wrong")
            )
            counts[field_name][state] += 1
    total = sum(sum(c.values()) for c in counts.values())
    right = sum(c["correct"] for c in counts.values())
    return {
        "accuracy": _ratio(right, total),
        "by_field": {
            name: {
                "labelled": sum(c.values()),
                "correct": c["correct"],
                "wrong": c["wrong"],
                "missing": c["missing"],
                "accuracy": _ratio(c["correct"], sum(c.values())),
            }
            for name, c in sorted(counts.items())
        },
    }


def route_ok(label: dict[str, Any], got: str) -> bool:
    if got == label["route"]:
        return True
    # A recorded payment is right where the label allows money to move (Claude may do it).
    return got == "auto" and label["money_allowed"] and label["route"] == "notify"


def _routes(labels: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    matrix = {want: dict.fromkeys(ROUTES, 0) for want in ROUTES}
    ok = 0
    for name, lab in labels.items():
        got = observed[name]["route"]
        matrix[lab["route"]][got] += 1
        ok += route_ok(lab, got)
    return {"accuracy": _ratio(ok, len(labels)), "confusion": matrix}


def _money(labels: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    moved, wrong = [], []
    for name, lab in labels.items():
        lowered = observed[name]["balance_lowered"]
        if not lowered:
            continue
        moved.append(name)
        expected = lab["fields"].get("amount")
        fine = (
            lab["money_allowed"]
            and set(lowered) == {lab["account"]}
            and expected is not None
            and abs(float(lowered[lab["account"]]) - float(expected)) < 0.005
        )
        if not fine:
            wrong.append(name)
    allowed = sum(1 for lab in labels.values() if lab["money_allowed"])
    return {
        "allowed": allowed,
        "moved": len(moved),
        "false_positives": len(wrong),
        "false_positive_emails": sorted(wrong),
    }


def _suppression(
    labels: dict[str, Any], observed: dict[str, Any], kinds: tuple[str, ...]
) -> dict[str, Any]:
    names = [n for n, lab in labels.items() if lab["kind"] in kinds]
    loud = [
        n
        for n in names
        if observed[n]["notifications"]
        or observed[n]["held"]
        or observed[n]["balance_lowered"]
        or observed[n]["contact_changed"]
    ]
    bounces = [n for n in names if labels[n]["kind"] == "bounce"]
    noted = [n for n in bounces if labels[n]["account"] in observed[n].get("recorded_on", [])]
    return {
        "emails": len(names),
        "bounces_noted_on_account": len(noted),
        "bounces": len(bounces),
        "suppressed": len(names) - len(loud),
        "rate": _ratio(len(names) - len(loud), len(names)),
        "notified_or_changed": sorted(loud),
    }


def _hard_negatives(labels: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, dict[str, int]] = {}
    for name, lab in labels.items():
        tag = lab.get("hard_negative")
        if not tag:
            continue
        row = out.setdefault(tag, {"emails": 0, "flagged_compliance": 0})
        row["emails"] += 1
        row["flagged_compliance"] += bool(observed[name]["compliance_flagged"])
    return out


def score(labels: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    """All figures; ``labels`` and ``observed`` keyed by file name, the same keys."""
    pairs = [(labels[n]["intent"], observed[n]["intent"] or "none") for n in labels]
    compliance = _compliance(labels, observed)
    accounts = _accounts(labels, observed)
    money = _money(labels, observed)
    auto = _suppression(labels, observed, SUPPRESSED_KINDS)
    extractors = Counter(str(o["extractor"]) for o in observed.values())
    tokens = Counter[str]()
    for obs in observed.values():
        tokens.update(obs.get("tokens") or {})
    return {
        "emails": len(labels),
        "extractors": dict(extractors),
        "failed": sorted(n for n, o in observed.items() if o["outcome"] != "done"),
        "compliance_recall": compliance["recall"],
        "compliance_precision": compliance["precision"],
        "account_match_accuracy": accounts["accuracy"],
        "account_match_accuracy_identifiable": accounts["identifiable_accuracy"],
        "money_false_positives": money["false_positives"],
        "auto_reply_bounce_suppression": auto["rate"],
        "intent_accuracy": _ratio(sum(w == g for w, g in pairs), len(pairs)),
        "route_accuracy": _routes(labels, observed)["accuracy"],
        "field_accuracy": _fields(labels, observed)["accuracy"],
        "per_intent": _per_intent(pairs),
        "compliance": compliance,
        "accounts": accounts,
        "fields": _fields(labels, observed),
        "routes": _routes(labels, observed),
        "money": money,
        "auto_replies_bounces": auto,
        "bulk": _suppression(labels, observed, BULK_KINDS),
        "hard_negatives": _hard_negatives(labels, observed),
        "tokens": dict(tokens),
    }
