"""Account documents that no decision can compute with are skipped as invalid, never fatal."""

from __future__ import annotations

from typing import Any

import bson
import pymongo
import pytest
from bson.datetime_ms import DatetimeMS

from shared.accounts.mongo import DECODING, validate_account
from tests.processing_fakes import account_document


@pytest.mark.parametrize("amount", [float("nan"), float("inf"), float("-inf"), 1e300])
def test_a_balance_that_is_no_number_of_money_makes_the_document_invalid(amount: float) -> None:
    document = {**account_document("N1"), "balance": {"amount": amount, "currency": "EUR"}}
    assert validate_account(document) is None
    assert validate_account(account_document("A1")) is not None


def _as_the_client_reads_it(document: dict[str, Any]) -> dict[str, Any]:
    client: Any = pymongo.MongoClient("mongodb://127.0.0.1:9", connect=False, **DECODING)
    try:
        decoded: dict[str, Any] = bson.decode(bson.encode(document), client.codec_options)
        return decoded
    finally:
        client.close()


def test_a_date_outside_pythons_range_is_read_and_makes_the_document_invalid() -> None:
    """A loader's "year 0" would fail the whole reply (InvalidBSON) with Python datetimes."""
    document = {**account_document("D1"), "hold": {"active": True, "since": DatetimeMS(-(10**14))}}
    with pytest.raises(bson.errors.InvalidBSON):
        bson.decode(bson.encode(document), bson.CodecOptions(tz_aware=True))
    assert validate_account(_as_the_client_reads_it(document)) is None


def test_a_string_that_is_not_utf8_is_read_with_replacement_characters() -> None:
    raw = bson.encode({**account_document("U1"), "creditor": "Acme\u0001"})
    broken = raw.replace(b"Acme\x01", b"Acme\xff")
    client: Any = pymongo.MongoClient("mongodb://127.0.0.1:9", connect=False, **DECODING)
    try:
        decoded = bson.decode(broken, client.codec_options)
    finally:
        client.close()
    assert decoded["creditor"] == "Acme\ufffd"
