"""The Sentry scrubber on hand-made events (no SDK, no network)."""

from __future__ import annotations

import pytest

from shared.observability.scrub import keep_breadcrumb, scrub_event, scrub_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from jane.doe+x@mail.example.co.uk today", "from [email] today"),
        ("paid €1.234,56 now", "paid [amount] now"),
        ("paid 1,234.56 EUR", "paid [amount]"),
        ("balance USD 250", "balance [amount]"),
        ("balance 99.90", "balance [amount]"),
        ("iban DE89 3704 0044 0532 0130 00", "iban [iban]"),
        ("account 445566778", "account [number]"),
        ("gcs: timeout after 30s", "gcs: timeout after 30s"),
    ],
)
def test_scrub_text(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def test_scrub_event_keeps_only_the_allow_list() -> None:
    event = {
        "event_id": "abc",
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": "KeyError",
                    "module": None,
                    "value": "'Jane Doe'",
                    "stacktrace": {"frames": [{"function": "f", "vars": {"body": "Dear..."}}]},
                },
                {
                    "type": "InvalidMessage",
                    "module": "shared.errors",
                    "value": "bad from a@b.example",
                },
                {"type": "InvalidMessage", "module": "evil.errors", "value": "Jane Doe"},
            ]
        },
        "logentry": {"message": "failed for %s", "params": ["Jane Doe"]},
        "request": {
            "method": "POST",
            "url": "http://h/raw?from=a@b.example",
            "data": "Dear..",
            "headers": {"X-Sender": "a@b.example"},
            "cookies": "c",
        },
        "extra": {"body": "Dear..."},
        "user": {"email": "a@b.example"},
        "contexts": {"runtime": {"name": "CPython"}, "state": {"body": "Dear..."}},
        "tags": {"email_id": "e-1", "debtor": "Jane", "correlation_id": "x@y"},
        "breadcrumbs": {
            "values": [
                {"category": "stage", "message": "extract", "data": {"seconds": 0.5, "x": "Jane"}},
                {"category": "log", "message": "Jane Doe paid"},
                {"category": "httplib", "data": {"url": "http://h/?q=Jane"}},
            ]
        },
        "custom_key": "Jane",
    }
    out = scrub_event(event)
    values = out["exception"]["values"]
    assert [v["value"] for v in values] == ["", "bad from [email]", ""]
    assert "vars" not in values[0]["stacktrace"]["frames"][0]
    assert out["logentry"] == {"message": "[redacted]"}
    assert out["request"] == {"method": "POST", "url": "http://h/raw"}
    assert "extra" not in out and "user" not in out and "custom_key" not in out
    assert out["contexts"] == {"runtime": {"name": "CPython"}}
    assert out["tags"] == {"email_id": "e-1"}
    assert out["breadcrumbs"]["values"] == [
        {
            "category": "stage",
            "message": "extract",
            "level": "info",
            "type": "default",
            "data": {"seconds": 0.5},
        }
    ]


def test_event_name_log_messages_are_kept() -> None:
    out = scrub_event({"logentry": {"message": "rollup_failed", "params": []}})
    assert out["logentry"] == {"message": "rollup_failed"}
    assert keep_breadcrumb({"category": "stage", "message": "Jane Doe"}) is None
