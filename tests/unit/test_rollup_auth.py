"""The rollup's caller check in production, with real JWTs (no network).

Cloud Run verifies the OIDC token before the request reaches the function and then replaces
its signature with ``SIGNATURE_REMOVED_BY_GOOGLE``; the handler must accept such a token (and
a still-signed one) on its claims alone, and reject everything else."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Request
from google.auth import crypt, jwt
from werkzeug.test import EnvironBuilder

from shared.config import load_settings
from shared.scheduled import (
    CallerRejected,
    audience_matches,
    check_caller,
    handle_scheduled_request,
    read_unverified_claims,
)

SCHEDULER = "scheduler@proj.iam.gserviceaccount.com"
AUDIENCE = "https://rollup-production-abc123xyz-ew.a.run.app"
PRODUCTION = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql+pg8000://nobody@127.0.0.1:1/none",
    # What Terraform sets: the deterministic and the hashed run.app URL of the function.
    "ROLLUP_AUDIENCE": (
        "https://rollup-production-123456789012.europe-west1.run.app,"
        "https://rollup-production-*.a.run.app"
    ),
    "ROLLUP_ALLOWED_INVOKERS": f"other@proj.iam.gserviceaccount.com, {SCHEDULER}",
}
OTHER_SERVICE = "https://webhook-production-x.a.run.app"
OLD_URL = "https://europe-west1-proj.cloudfunctions.net/rollup-production"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "email": SCHEDULER,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
        "sub": "1234567890",
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_PUBLIC_PEM = _KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def _signed(claims: dict[str, Any]) -> str:
    pem = _KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = crypt.RSASigner.from_string(pem, key_id="test-key")
    return jwt.encode(signer, claims).decode()


def _signature_removed(claims: dict[str, Any]) -> str:
    """What the function receives behind Cloud Run: header.payload.SIGNATURE_REMOVED_BY_GOOGLE."""
    header, payload, _ = _signed(claims).split(".")
    return f"{header}.{payload}.SIGNATURE_REMOVED_BY_GOOGLE"


def _request(headers: dict[str, str] | None = None, method: str = "POST") -> Request:
    return Request(EnvironBuilder(method=method, headers=headers or {}, data=b"{}").get_environ())


def test_local_calls_need_no_token() -> None:
    assert check_caller(None, load_settings({})) is None


@pytest.mark.parametrize("make_token", [_signed, _signature_removed], ids=["signed", "removed"])
def test_scheduler_token_is_accepted_signed_or_with_its_signature_removed(
    make_token: Any,
) -> None:
    token = make_token(_claims())
    assert check_caller(f"Bearer {token}", load_settings(PRODUCTION)) == SCHEDULER


def test_the_deterministic_run_app_url_is_an_accepted_audience_too() -> None:
    token = _signature_removed(
        _claims(aud="https://rollup-production-123456789012.europe-west1.run.app/")
    )
    assert check_caller(f"Bearer {token}", load_settings(PRODUCTION)) == SCHEDULER


def test_signature_removed_token_cannot_be_read_by_a_verifying_library() -> None:
    """Why the handler reads claims itself: google-auth's verification rejects the token."""
    claims = _claims()
    certs = {"test-key": _PUBLIC_PEM}
    assert jwt.decode(_signed(claims), certs=certs, audience=AUDIENCE)["email"] == SCHEDULER
    removed = _signature_removed(claims)
    with pytest.raises(ValueError):
        jwt.decode(removed, certs=certs, audience=AUDIENCE)
    assert read_unverified_claims(removed)["email"] == SCHEDULER


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("Basic dXNlcjpwdw==", 401),
        ("Bearer ", 401),
        ("Bearer not-a-jwt", 401),
        ("Bearer a.b.c", 401),
        (f"Bearer {_signature_removed(_claims(iss='https://evil.example'))}", 401),
        (f"Bearer {_signature_removed(_claims(exp=int(time.time()) - 3600))}", 401),
        (f"Bearer {_signature_removed(_claims(exp=None))}", 401),
        (
            f"Bearer {_signature_removed(_claims(aud=OTHER_SERVICE))}",
            401,
        ),
        (
            f"Bearer {_signature_removed(_claims(aud=OLD_URL))}",
            401,
        ),
        (f"Bearer {_signature_removed(_claims(email='attacker@example.com'))}", 403),
        (f"Bearer {_signature_removed(_claims(email_verified=False))}", 403),
        (f"Bearer {_signature_removed(_claims(email=None))}", 403),
    ],
)
def test_other_callers_are_rejected(header: str | None, status: int) -> None:
    with pytest.raises(CallerRejected) as caught:
        check_caller(header, load_settings(PRODUCTION))
    assert caught.value.status == status


def test_a_wildcard_audience_matches_one_hostname_label_only() -> None:
    allowed = ["https://rollup-production-*.a.run.app"]
    assert audience_matches("https://rollup-production-abc-ew.a.run.app", allowed)
    assert not audience_matches("https://rollup-production-abc.evil.com/.a.run.app", allowed)
    assert not audience_matches("https://rollup-production-abc.a.run.app.evil.com", allowed)
    assert not audience_matches(["https://rollup-production-abc-ew.a.run.app"], allowed)


def test_claims_of_a_token_that_is_no_jwt_are_refused() -> None:
    payload = base64.urlsafe_b64encode(json.dumps(["not", "an", "object"]).encode()).decode()
    with pytest.raises(ValueError):
        read_unverified_claims(f"{payload}.{payload}.sig")


def test_production_without_auth_settings_fails_closed() -> None:
    settings = load_settings({**PRODUCTION, "ROLLUP_ALLOWED_INVOKERS": ""})
    with pytest.raises(CallerRejected) as caught:
        check_caller(f"Bearer {_signature_removed(_claims())}", settings)
    assert caught.value.status == 500


def test_handler_rejects_before_touching_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in PRODUCTION.items():
        monkeypatch.setenv(key, value)
    ran: list[Any] = []
    monkeypatch.setattr("shared.metrics.rollup.run_rollup", lambda **kw: ran.append(kw))
    token = _signature_removed(_claims(email="attacker@example.com"))
    body, status = handle_scheduled_request(_request({"Authorization": f"Bearer {token}"}))
    assert status == 403
    assert "not an allowed invoker" in body["error"]
    body, status = handle_scheduled_request(_request())
    assert status == 401
    assert ran == []


def test_handler_runs_for_the_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in PRODUCTION.items():
        monkeypatch.setenv(key, value)

    class Summary:
        def as_dict(self) -> dict[str, Any]:
            return {"days_rolled_up": ["2024-01-01"]}

    monkeypatch.setattr("shared.metrics.rollup.run_rollup", lambda **kw: Summary())
    token = _signature_removed(_claims())
    body, status = handle_scheduled_request(_request({"Authorization": f"Bearer {token}"}))
    assert (body, status) == ({"days_rolled_up": ["2024-01-01"]}, 200)
    _, status = handle_scheduled_request(_request(method="GET"))
    assert status == 405
