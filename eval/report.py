"""The eval's table (stdout) and the difference against the previous run's JSON."""

from __future__ import annotations

from typing import Any

from eval.harness import ROUTES

HEADLINE = (
    "compliance_recall",
    "compliance_precision",
    "account_match_accuracy",
    "account_match_accuracy_identifiable",
    "money_false_positives",
    "auto_reply_bounce_suppression",
    "intent_accuracy",
    "route_accuracy",
    "field_accuracy",
)


def _pct(value: Any) -> str:
    return "   n/a" if value is None else f"{100 * value:5.1f}%"


def render(result: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    extractors = ", ".join(f"{k} {v}" for k, v in sorted(result["extractors"].items()))
    add(f"emails: {result['emails']}   extractor: {extractors}   failed: {len(result['failed'])}")
    add("")
    add("headline")
    for key in HEADLINE:
        value = result[key]
        shown = str(value) if isinstance(value, int) else _pct(value)
        add(f"  {key:<38} {shown:>7}")
    add("")
    add(f"{'intent':<22} {'support':>7} {'predicted':>9} {'precision':>9} {'recall':>7}")
    for intent, row in result["per_intent"].items():
        add(
            f"{intent:<22} {row['support']:>7} {row['predicted']:>9} "
            f"{_pct(row['precision']):>9} {_pct(row['recall']):>7}"
        )
    comp = result["compliance"]
    add("")
    add(
        f"compliance: {comp['emails']} emails, recall {_pct(comp['recall'])} (held the right "
        "account, or flagged when none is identifiable), detection "
        f"{_pct(comp['detection_recall'])}, precision {_pct(comp['precision'])} "
        f"({comp['flagged']} flagged)"
    )
    add(f"{'  kind':<26} {'emails':>6} {'handled':>7} {'recall':>7}")
    for kind, row in comp["by_kind"].items():
        add(f"  {kind:<24} {row['emails']:>6} {row['handled']:>7} {_pct(row['recall']):>7}")
    add(
        "  by language: "
        + ", ".join(
            f"{lang} {_pct(row['recall']).strip()}" for lang, row in comp["by_lang"].items()
        )
    )
    if comp["false_positives"]:
        add(f"  false positives: {len(comp['false_positives'])}")
    hard = result["hard_negatives"]
    if hard:
        add(
            "  hard negatives flagged: "
            + ", ".join(
                f"{tag} {row['flagged_compliance']}/{row['emails']}" for tag, row in hard.items()
            )
        )
    acc = result["accounts"]
    add("")
    add(
        f"account match: accuracy {_pct(acc['accuracy'])}, where a reference or a known "
        f"sender identifies it {_pct(acc['identifiable_accuracy'])} "
        f"({acc['identifiable_emails']} emails), wrong account {acc['wrong_account']}"
    )
    add(f"{'  by method (processor)':<34} {'emails':>6} {'correct':>7} {'accuracy':>8}")
    for method, row in acc["by_method"].items():
        add(f"  {method:<32} {row['emails']:>6} {row['correct']:>7} {_pct(row['accuracy']):>8}")
    add(f"{'  by basis (label)':<34} {'emails':>6} {'correct':>7} {'accuracy':>8}")
    for basis, row in acc["by_basis"].items():
        add(f"  {basis:<32} {row['emails']:>6} {row['correct']:>7} {_pct(row['accuracy']):>8}")
    fields = result["fields"]
    add("")
    add(f"fields: accuracy {_pct(fields['accuracy'])}")
    add(f"{'  field':<26} {'labelled':>8} {'correct':>7} {'wrong':>5} {'missing':>7}")
    for name, row in fields["by_field"].items():
        add(
            f"  {name:<24} {row['labelled']:>8} {row['correct']:>7} {row['wrong']:>5} "
            f"{row['missing']:>7}"
        )
    add("")
    add("route (rows: label, columns: processor)")
    add("  " + " " * 8 + "".join(f"{r:>8}" for r in ROUTES))
    for want in ROUTES:
        row = result["routes"]["confusion"][want]
        add(f"  {want:<8}" + "".join(f"{row[got]:>8}" for got in ROUTES))
    money = result["money"]
    add("")
    add(
        f"money: moved on {money['moved']} emails ({money['allowed']} labelled as allowed), "
        f"false positives {money['false_positives']}"
    )
    for key, title in (("auto_replies_bounces", "auto-replies/bounces"), ("bulk", "bulk/spam")):
        row = result[key]
        add(
            f"{title}: {row['emails']} emails, {row['suppressed']} without staff notification "
            f"or account change ({_pct(row['rate']).strip()})"
        )
    bounces = result["auto_replies_bounces"]
    add(
        f"bounces noted on the bounced debtor's account: {bounces['bounces_noted_on_account']}"
        f"/{bounces['bounces']}"
    )
    if any(result["tokens"].values()):
        add(f"tokens: {result['tokens']}")
    return "\n".join(lines)


def diff(previous: dict[str, Any], current: dict[str, Any]) -> str:
    """Headline figures that changed, and the emails whose route or match changed."""
    lines = []
    if previous.get("corpus_sha256") != current.get("corpus_sha256"):
        lines.append(
            "  (the emails or labels differ from the previous run's: figures and per-email "
            "changes compare different mail)"
        )
    for key in ("emails", *HEADLINE):
        old, new = previous.get(key), current.get(key)
        if old == new:
            continue
        if isinstance(old, float) and isinstance(new, float):
            lines.append(f"  {key:<38} {_pct(old)} -> {_pct(new)} ({100 * (new - old):+.1f} pt)")
        else:
            lines.append(f"  {key:<38} {old} -> {new}")
    before = previous.get("observed") or {}
    moved = []
    for name, obs in (current.get("observed") or {}).items():
        old = before.get(name)
        if old is None:
            continue
        for what in ("route", "match_account", "intent"):
            if old.get(what) != obs.get(what):
                moved.append(f"    {name}: {what} {old.get(what)} -> {obs.get(what)}")
    if moved:
        lines.append(f"  {len(moved)} per-email changes:")
        lines.extend(moved[:40])
        if len(moved) > 40:
            lines.append(f"    … {len(moved) - 40} more in .local/eval.json")
    return "\n".join(lines) if lines else "  no change"
