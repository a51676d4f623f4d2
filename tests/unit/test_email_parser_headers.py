"""The parser's header registry that makes each header class once gives the same parsed email
as ``policy.default``'s, on every sample and corpus email."""

from __future__ import annotations

from email import policy
from pathlib import Path

import pytest

from shared.extraction import email_parser
from shared.extraction.email_parser import parse_email

ROOT = Path(__file__).resolve().parents[2]
EMAILS = sorted((ROOT / "infra" / "samples").glob("*.eml")) + sorted(
    (ROOT / "eval" / "corpus").glob("*.eml")
)


def test_the_same_parse_as_the_stdlib_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(EMAILS) > 100
    cached = [parse_email(path.read_bytes()) for path in EMAILS]
    monkeypatch.setattr(email_parser, "_HEADER_FACTORY", policy.default.header_factory)
    assert [parse_email(path.read_bytes()) for path in EMAILS] == cached


def test_one_class_per_registered_class() -> None:
    factory = email_parser._HEADER_FACTORY
    assert factory["X-Other"] is factory["X-Anything"]  # both unstructured
    assert factory["To"] is factory["to"] is not factory["Subject"]
    assert issubclass(factory["Date"], policy.default.header_factory["Date"].__mro__[1])
