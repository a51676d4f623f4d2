"""Authenticity checks, without I/O: Mailgun HMAC, Basic credentials, the /raw signature."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from shared.intake.auth import (
    sign_mailgun,
    sign_raw,
    verify_basic_auth,
    verify_mailgun,
    verify_raw_signature,
)
from shared.intake.errors import NotConfigured, Unauthenticated

KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
NOW = 1_750_000_000
TOLERANCE = 300


def _mailgun(timestamp: int | str, token: str, signature: str, key: str | None = KEY) -> None:
    verify_mailgun(
        timestamp=str(timestamp),
        token=token,
        signature=signature,
        signing_key=SecretStr(key) if key is not None else None,
        now=NOW,
        tolerance_seconds=TOLERANCE,
    )


def test_mailgun_signature_from_the_signing_key_is_accepted() -> None:
    token = "a" * 50
    _mailgun(NOW, token, sign_mailgun(KEY, str(NOW), token))


@pytest.mark.parametrize(
    "signature",
    [
        sign_mailgun("wrong-key", str(NOW), "t" * 50),  # wrong key
        sign_mailgun(KEY, str(NOW), "t" * 50)[:-2],  # wrong length
        sign_mailgun(KEY, str(NOW), "t" * 50) + "00",
        "é" * 64,  # non-ASCII
        sign_mailgun(KEY, str(NOW), "t" * 50).upper(),  # not the hex Mailgun sends
        "",
    ],
)
def test_mailgun_bad_signatures_are_unauthenticated(signature: str) -> None:
    with pytest.raises(Unauthenticated):
        _mailgun(NOW, "t" * 50, signature)


def test_mailgun_signature_does_not_transfer_to_another_token() -> None:
    with pytest.raises(Unauthenticated, match="bad Mailgun signature"):
        _mailgun(NOW, "u" * 50, sign_mailgun(KEY, str(NOW), "t" * 50))


@pytest.mark.parametrize("skew", [-TOLERANCE, -TOLERANCE + 1, 0, TOLERANCE - 1, TOLERANCE])
def test_mailgun_timestamp_within_tolerance_is_accepted(skew: int) -> None:
    stamp = NOW + skew
    _mailgun(stamp, "t" * 50, sign_mailgun(KEY, str(stamp), "t" * 50))


@pytest.mark.parametrize("skew", [-TOLERANCE - 1, TOLERANCE + 1, -10 * TOLERANCE])
def test_mailgun_timestamp_outside_tolerance_is_refused_even_if_signed(skew: int) -> None:
    stamp = NOW + skew
    with pytest.raises(Unauthenticated, match="tolerance"):
        _mailgun(stamp, "t" * 50, sign_mailgun(KEY, str(stamp), "t" * 50))


@pytest.mark.parametrize("stamp", ["", "abc", "1e9", " 1750000000", "+1750000000", "١٢٣", "-5"])
def test_mailgun_malformed_timestamps_are_refused(stamp: str) -> None:
    with pytest.raises(Unauthenticated, match="timestamp"):
        _mailgun(stamp, "t" * 50, sign_mailgun(KEY, stamp, "t" * 50))


def test_mailgun_without_a_key_configured_is_not_configured_not_accepted() -> None:
    with pytest.raises(NotConfigured, match="WEBHOOK_MAILGUN_SIGNING_KEY"):
        _mailgun(NOW, "t" * 50, sign_mailgun("", str(NOW), "t" * 50), key=None)


def _basic(value: bytes) -> str:
    return "Basic " + base64.b64encode(value).decode()


def _check_basic(header: str | None) -> None:
    verify_basic_auth(
        header, username=SecretStr("sendgrid"), password=SecretStr("s3cret:pw"), provider="sendgrid"
    )


def test_basic_auth_accepts_the_configured_pair_even_with_a_colon_in_the_password() -> None:
    _check_basic(_basic(b"sendgrid:s3cret:pw"))
    _check_basic("basic " + base64.b64encode(b"sendgrid:s3cret:pw").decode())


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer abc",
        _basic(b"sendgrid:wrong"),
        _basic(b"other:s3cret:pw"),
        _basic(b"sendgrid"),
        _basic(b"sendgrid:s3cret:pw "),
        _basic("sendgrid:s3cret:pwé".encode()),
        "Basic !!!not-base64!!!",
        "Basic " + "é" * 8,
    ],
)
def test_basic_auth_refuses_anything_else(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        _check_basic(header)


def test_basic_auth_without_credentials_configured_is_not_configured() -> None:
    with pytest.raises(NotConfigured, match="WEBHOOK_POSTMARK_USERNAME"):
        verify_basic_auth(_basic(b"a:b"), username=None, password=None, provider="postmark")


RAW_SECRET = SecretStr("raw-secret")


def _raw(header: str | None, body: bytes) -> None:
    verify_raw_signature(header, body, secret=RAW_SECRET, now=NOW, tolerance_seconds=TOLERANCE)


def test_raw_signature_covers_timestamp_and_body() -> None:
    body = b"From: a@example.com\r\n\r\nhi\r\n"
    _raw(sign_raw("raw-secret", NOW, body), body)
    with pytest.raises(Unauthenticated):
        _raw(sign_raw("raw-secret", NOW, body), body + b"tampered")
    forged = sign_raw("raw-secret", NOW, body).replace(f"t={NOW}", f"t={NOW + 1}")
    with pytest.raises(Unauthenticated):
        _raw(forged, body)


def test_raw_signature_accepts_any_of_several_v1_values_for_rotation() -> None:
    body = b"x"
    good = sign_raw("raw-secret", NOW, body).split("v1=")[1]
    _raw(f"t={NOW},v1={'0' * 64},v1={good}", body)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "v1=abc",
        f"t={NOW}",
        f"t={NOW},v1=",
        f"t={NOW},v1={'é' * 64}",
        f"t={NOW - TOLERANCE - 1},v1=" + "0" * 64,
        "t=" + "9" * 40 + ",v1=00",
        "x" * 5000,
    ],
)
def test_raw_signature_refuses_malformed_headers(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        _raw(header, b"body")


@pytest.mark.parametrize("skew", [-TOLERANCE - 1, TOLERANCE + 1])
def test_raw_signature_outside_tolerance_is_refused(skew: int) -> None:
    with pytest.raises(Unauthenticated, match="tolerance"):
        _raw(sign_raw("raw-secret", NOW + skew, b"b"), b"b")


@pytest.mark.parametrize("skew", [-TOLERANCE + 1, TOLERANCE - 1])
def test_raw_signature_inside_tolerance_is_accepted(skew: int) -> None:
    _raw(sign_raw("raw-secret", NOW + skew, b"b"), b"b")
