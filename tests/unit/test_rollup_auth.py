"""The rollup's caller check in production, with a fake token verifier (no network)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from shared.config import load_settings
from shared.metrics.rollup_handler import CallerRejected, check_caller, handle_rollup_request

SCHEDULER = "scheduler@proj.iam.gserviceaccount.com"
AUDIENCE = "https://rollup-abc-ew.a.run.app"
PRODUCTION = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql+pg8000://nobody@127.0.0.1:1/none",
    "ROLLUP_AUDIENCE": AUDIENCE,
    "ROLLUP_ALLOWED_INVOKERS": f"other@proj.iam.gserviceaccount.com, {SCHEDULER}",
}


class FakeVerifier:
    """Accepts the token ``good`` (claims as given); records what it was asked."""

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, token: str, audiences: list[str]) -> dict[str, Any]:
        self.calls.append((token, audiences))
        if token != "good":
            raise ValueError("Token has wrong signature")
        return self.claims


def _request(headers: dict[str, str] | None = None, method: str = "POST") -> Request:
    return Request(EnvironBuilder(method=method, headers=headers or {}, data=b"{}").get_environ())


def test_local_calls_need_no_token() -> None:
    assert check_caller(None, load_settings({}), FakeVerifier({})) is None


def test_scheduler_token_is_accepted_for_the_function_audience() -> None:
    verify = FakeVerifier({"email": SCHEDULER, "email_verified": True})
    assert check_caller("Bearer good", load_settings(PRODUCTION), verify) == SCHEDULER
    assert verify.calls == [("good", [AUDIENCE])]


@pytest.mark.parametrize(
    ("header", "claims", "status"),
    [
        (None, {"email": SCHEDULER, "email_verified": True}, 401),
        ("Basic dXNlcjpwdw==", {"email": SCHEDULER, "email_verified": True}, 401),
        ("Bearer ", {"email": SCHEDULER, "email_verified": True}, 401),
        ("Bearer forged", {"email": SCHEDULER, "email_verified": True}, 401),
        ("Bearer good", {"email": "attacker@example.com", "email_verified": True}, 403),
        ("Bearer good", {"email": SCHEDULER, "email_verified": False}, 403),
        ("Bearer good", {"sub": "123"}, 403),
    ],
)
def test_other_callers_are_rejected(
    header: str | None, claims: dict[str, Any], status: int
) -> None:
    with pytest.raises(CallerRejected) as caught:
        check_caller(header, load_settings(PRODUCTION), FakeVerifier(claims))
    assert caught.value.status == status


def test_production_without_auth_settings_fails_closed() -> None:
    settings = load_settings({**PRODUCTION, "ROLLUP_ALLOWED_INVOKERS": ""})
    with pytest.raises(CallerRejected) as caught:
        check_caller("Bearer good", settings, FakeVerifier({"email": SCHEDULER}))
    assert caught.value.status == 500


def test_handler_rejects_before_touching_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in PRODUCTION.items():
        monkeypatch.setenv(key, value)
    ran: list[Any] = []
    monkeypatch.setattr("shared.metrics.rollup.run_rollup", lambda **kw: ran.append(kw))
    verify = FakeVerifier({"email": "attacker@example.com", "email_verified": True})
    body, status = handle_rollup_request(_request({"Authorization": "Bearer good"}), verify=verify)
    assert status == 403
    assert "not an allowed invoker" in body["error"]
    body, status = handle_rollup_request(_request(), verify=verify)
    assert status == 401
    assert ran == []


def test_handler_runs_for_the_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in PRODUCTION.items():
        monkeypatch.setenv(key, value)

    class Summary:
        def as_dict(self) -> dict[str, Any]:
            return {"days_rolled_up": ["2024-01-01"]}

    monkeypatch.setattr("shared.metrics.rollup.run_rollup", lambda **kw: Summary())
    verify = FakeVerifier({"email": SCHEDULER, "email_verified": True})
    body, status = handle_rollup_request(_request({"Authorization": "Bearer good"}), verify=verify)
    assert (body, status) == ({"days_rolled_up": ["2024-01-01"]}, 200)
    _, status = handle_rollup_request(_request(method="GET"), verify=verify)
    assert status == 405


def test_the_certificate_fetch_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """google-auth would wait 120 s for Google's certificates; ROLLUP_OIDC_TIMEOUT_SECONDS."""
    from google.oauth2 import id_token

    from shared.config import reset_settings_cache
    from shared.metrics.rollup_handler import verify_google_oidc

    seen: list[Any] = []

    def verify(token: str, request: Any, audience: Any = None) -> dict[str, Any]:
        seen.append(request)
        return {"email": "scheduler@p.iam"}

    monkeypatch.setattr(id_token, "verify_oauth2_token", verify)
    monkeypatch.setenv("ROLLUP_OIDC_TIMEOUT_SECONDS", "4")
    reset_settings_cache()
    assert verify_google_oidc("t", ["aud"]) == {"email": "scheduler@p.iam"}
    assert seen[0].keywords == {"timeout": 4.0}
