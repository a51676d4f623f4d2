"""The demo accounts and sample emails of ``make run``: valid, varied, and matching each other."""

from __future__ import annotations

from collections import Counter

from infra.run import SAMPLES_DIR, load_manifest
from infra.seed import DEMO_ACCOUNTS
from infra.sign_request import ROUTES
from shared.accounts.mongo import validate_account
from shared.config import load_settings
from shared.extraction.email_parser import parse_email
from shared.extraction.models import INTENTS
from shared.extraction.rules import RulesExtractor
from shared.processing.matching import AccountMatcher
from tests.processing_fakes import FakeAccounts


def test_at_least_fifteen_valid_demo_accounts_with_unique_keys() -> None:
    assert len(DEMO_ACCOUNTS) >= 15
    assert all(validate_account(doc) is not None for doc in DEMO_ACCOUNTS)
    for key in ("_id", "case_number", "account_reference"):
        assert len({doc[key] for doc in DEMO_ACCOUNTS}) == len(DEMO_ACCOUNTS), key


def test_twenty_samples_over_every_route_with_the_required_kinds() -> None:
    manifest = load_manifest()
    assert len(manifest) >= 20
    assert all((SAMPLES_DIR / entry["file"]).is_file() for entry in manifest)
    routes = Counter(entry["route"] for entry in manifest)
    assert set(routes) == set(ROUTES)
    raw = {entry["file"]: (SAMPLES_DIR / entry["file"]).read_bytes() for entry in manifest}
    parsed = {name: parse_email(data) for name, data in raw.items()}
    assert any(a.content_type == "application/pdf" for p in parsed.values() for a in p.attachments)
    assert any(
        b"Content-Type: text/html" in data and b"text/plain" not in data for data in raw.values()
    )
    assert any(
        b"charset=iso-8859-1" in data.lower() or b"windows-1252" in data.lower()
        for data in raw.values()
    )
    assert any(p.quoted_text for p in parsed.values())
    assert any("injection" in name for name in raw)


def test_the_rules_extractor_finds_every_intent_and_an_account_for_each_sample() -> None:
    settings = load_settings({})
    rules = RulesExtractor(settings, degraded=True)
    matcher = AccountMatcher(
        FakeAccounts([dict(doc) for doc in DEMO_ACCOUNTS]),
        ambiguity_margin=0.05,
        fuzzy_min_score=85,
    )
    intents = set()
    unmatched = []
    for entry in load_manifest():
        email = parse_email((SAMPLES_DIR / entry["file"]).read_bytes())
        extraction = rules.extract(email)
        intents.add(extraction.intent)
        if matcher.match(extraction, email).account is None:
            unmatched.append(entry["file"])
    assert intents == set(INTENTS)
    assert unmatched == []
