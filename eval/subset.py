"""The fast subset ``make test`` runs: every email that can move money or must hold, the
auto-replies and bounces, and the hard negatives for compliance precision."""

from __future__ import annotations

from typing import Any


def in_subset(label: dict[str, Any]) -> bool:
    return bool(
        label["compliance"]
        or label["intent"] == "payment_confirmation"
        or label["money_allowed"]
        or label["kind"] in ("auto_reply", "bounce")
        or label["hard_negative"]
    )


def subset_names(labels: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(name for name, label in labels.items() if in_subset(label))
