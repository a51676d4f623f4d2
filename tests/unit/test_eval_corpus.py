"""The committed evaluation corpus: what the generator writes, and labels a scorer can trust."""

from __future__ import annotations

import email
import json
from email import policy

from eval import build_corpus
from eval.harness import ROUTES, load_accounts, load_labels
from shared.accounts.mongo import validate_account
from shared.extraction.models import INTENTS

COMPLIANCE_KINDS = {
    "dispute",
    "validation_request",
    "cease_and_desist",
    "attorney_representation",
    "bankruptcy",
    "deceased",
    "identity_theft",
}


def test_the_committed_corpus_is_what_the_generator_writes() -> None:
    built, accounts = build_corpus.build_all()
    on_disk = sorted(p.name for p in build_corpus.CORPUS_DIR.glob("*.eml"))
    assert on_disk == sorted(b.name for b in built)
    for item in built:
        assert (build_corpus.CORPUS_DIR / item.name).read_bytes() == item.raw, item.name
    assert load_labels() == json.loads(json.dumps({b.name: b.label for b in built}))
    assert load_accounts() == json.loads(json.dumps(accounts, default=str))


def test_labels_use_the_processor_s_names_and_the_seed_s_accounts() -> None:
    labels = load_labels()
    seed = {doc["account_id"] for doc in load_accounts()}
    assert len(labels) >= 200
    for name, label in labels.items():
        assert label["intent"] in INTENTS, name
        assert label["route"] in ROUTES, name
        assert label["compliance"] is None or label["compliance"] in COMPLIANCE_KINDS, name
        assert label["account"] in seed | {"none", "ambiguous"}, name
        assert (label["route"] == "hold") == bool(label["compliance"]), name
        if label["money_allowed"]:
            assert label["intent"] == "payment_confirmation", name
            assert label["account"] in seed, name
            assert "amount" in label["fields"], name
    assert {lab["lang"] for lab in labels.values()} >= {"en", "de", "fr", "es", "it", "nl"}
    assert {lab["compliance"] for lab in labels.values()} - {None} == COMPLIANCE_KINDS
    kinds = {lab["kind"] for lab in labels.values()}
    assert kinds >= {"debtor", "attorney", "relative", "auto_reply", "bounce", "newsletter", "spam"}


def test_the_accounts_seed_is_valid_and_has_sender_only_and_reference_only_debtors() -> None:
    docs = load_accounts()
    assert all(validate_account(doc) is not None for doc in docs)
    emails = [doc["debtor"]["email"] for doc in docs]
    assert None in emails  # debtors found only by a reference
    assert len({e for e in emails if e}) < len([e for e in emails if e])  # one address, two files
    references = [doc["case_number"] for doc in docs] + [doc["account_reference"] for doc in docs]
    assert len(set(references)) == len(references)


def test_every_email_parses_and_the_special_structures_are_there() -> None:
    types = set()
    for path in build_corpus.CORPUS_DIR.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert message["Date"] and message["From"], path.name
        types.update(part.get_content_type() for part in message.walk())
    assert {
        "multipart/alternative",
        "multipart/report",
        "message/delivery-status",
        "message/rfc822",
        "application/pdf",
        "text/html",
    } <= types
