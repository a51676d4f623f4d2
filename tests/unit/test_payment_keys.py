"""Which recorded payments a new one duplicates (the keys behind the apply's atomic guard)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from shared.accounts.payment_keys import clashing_keys, legacy_payment_keys, payment_keys

TODAY = date(2026, 11, 28)
PAID = date(2026, 11, 14)


def clashes(
    recorded: tuple[str, date | None, date], new: tuple[str, date | None, date], window: int = 14
) -> bool:
    old_keys = payment_keys(Decimal(recorded[0]), recorded[1], recorded[2])
    return bool(set(clashing_keys(Decimal(new[0]), new[1], new[2], window)) & set(old_keys))


@pytest.mark.parametrize(
    ("recorded", "new", "expected"),
    [
        (("500", PAID, TODAY), ("500.00", PAID, TODAY), True),  # same amount, same date
        (("500", PAID, TODAY - timedelta(days=200)), ("500", PAID, TODAY), True),  # any age
        (("500", PAID, TODAY), ("500", PAID - timedelta(days=1), TODAY), False),  # dates differ
        (("500", PAID, TODAY), ("500.01", PAID, TODAY), False),  # amounts differ
        (("500", None, TODAY - timedelta(days=14)), ("500", None, TODAY), True),  # in window
        (("500", None, TODAY - timedelta(days=15)), ("500", None, TODAY), False),  # outside
        (("500", PAID, TODAY - timedelta(days=3)), ("500", None, TODAY), True),  # new undated
        (("500", None, TODAY - timedelta(days=3)), ("500", PAID, TODAY), True),  # old undated
        (("500", None, TODAY - timedelta(days=20)), ("500", PAID, TODAY), False),
        (("500", PAID, TODAY - timedelta(days=20)), ("500", None, TODAY), False),
    ],
)
def test_what_clashes(
    recorded: tuple[str, date | None, date], new: tuple[str, date | None, date], expected: bool
) -> None:
    assert clashes(recorded, new) is expected


def test_the_window_is_a_setting() -> None:
    recorded = ("500", None, TODAY - timedelta(days=3))
    assert clashes(recorded, ("500", None, TODAY), window=3)
    assert not clashes(recorded, ("500", None, TODAY), window=2)
    assert clashes(("500", None, TODAY), ("500", None, TODAY), window=0)  # the same day


def test_legacy_entries_give_keys_and_malformed_ones_are_skipped() -> None:
    at = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    history = [
        {  # written before the keys: amount and date only in the extracted fields
            "email_id": "old",
            "action": "record_payment",
            "at": at,
            "fields": {"amount": {"value": 500}, "payment_date": {"value": "2026-11-14"}},
        },
        {"email_id": "new", "action": "record_payment", "at": at, "amount": "75.50"},
        {"email_id": "note", "action": "note", "at": at, "amount": "9.00"},  # no money moved
        {"email_id": "bad", "action": "record_payment", "at": "soon", "amount": "x"},
        {"email_id": "noat", "action": "record_payment", "amount": "9.00"},  # undated, no at
        "not an entry",
    ]
    assert legacy_payment_keys(history) == [
        "500.00|recorded|2026-11-20",
        "500.00|on|2026-11-14",
        "75.50|recorded|2026-11-20",
        "75.50|undated|2026-11-20",
    ]
    assert legacy_payment_keys(None) == [] and legacy_payment_keys("x") == []
