"""Identifiers that log lines carry instead of personal data."""

from __future__ import annotations

import hashlib

from bson import ObjectId

from shared.accounts.mongo import document_ref
from shared.scheduled import invoker_for_log


def test_an_account_document_is_named_by_its_object_id_or_a_hash_of_its_id() -> None:
    oid = ObjectId()
    assert document_ref(oid) == str(oid)
    reference = "ACC-100234"
    named = document_ref(reference)
    assert reference not in named
    assert named == "sha256:" + hashlib.sha256(reference.encode()).hexdigest()[:16]


def test_a_person_calling_the_rollup_is_not_named() -> None:
    robot = "scheduler-prod@proj.iam.gserviceaccount.com"
    assert invoker_for_log(robot) == robot
    assert invoker_for_log("maria.keller@example.com") == "user_account"
    assert invoker_for_log(None) is None
