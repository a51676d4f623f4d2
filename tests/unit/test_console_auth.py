"""Console identity: IAP's signed header verified (key, audience, issuer), roles from
configuration, the development sign-in only where allowed; CSRF and security headers."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.auth import crypt, jwt

from shared.config import ConfigError, load_settings
from shared.console.auth import (
    IAP_HEADER,
    IAP_ISSUER,
    Authenticator,
    IapVerifier,
    Identity,
    NotAllowed,
    NotSignedIn,
    parse_roles,
)
from shared.console.security import (
    CsrfRefused,
    apply_headers,
    carries_nul,
    check_csrf,
    csrf_token,
)

AUDIENCE = "/projects/123/global/backendServices/456"


def _key(key_id: str | None = "k1", private: Any = None) -> tuple[Any, str]:
    private = private or ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return crypt.ES256Signer.from_string(pem, key_id=key_id), public.decode()


_IAP_KEY = ec.generate_private_key(ec.SECP256R1())
SIGNER, PUBLIC = _key(private=_IAP_KEY)
UNNAMED_SIGNER, _ = _key(None, private=_IAP_KEY)  # IAP's key, its id left out
OTHER_SIGNER, _ = _key()
ROTATED_SIGNER, ROTATED_PUBLIC = _key("k2")  # a key IAP publishes later


def _token(signer: Any = SIGNER, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": IAP_ISSUER,
        "aud": AUDIENCE,
        "email": "Rita@Example.com",
        "sub": "accounts.google.com:1",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return jwt.encode(signer, claims).decode()


def _authenticator(roles: str = "rita@example.com=reviewer", **env: str) -> Authenticator:
    settings = load_settings({"CONSOLE_ROLES": roles, "CONSOLE_IAP_AUDIENCE": AUDIENCE, **env})
    return Authenticator.from_settings(settings, fetch_keys=lambda: {"k1": PUBLIC})


def test_a_valid_iap_assertion_gives_the_configured_roles() -> None:
    identity = _authenticator().identify({IAP_HEADER: _token()}, {})
    assert identity == Identity("rita@example.com", frozenset({"reviewer"}))


@pytest.mark.parametrize(
    "token",
    [
        _token(OTHER_SIGNER),  # not IAP's key
        _token(aud="/projects/999/global/backendServices/1"),
        _token(iss="https://accounts.google.com"),
        _token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "not-a-jwt",
    ],
)
def test_a_forged_or_foreign_assertion_is_refused(token: str) -> None:
    with pytest.raises(NotSignedIn):
        _authenticator().identify({IAP_HEADER: token}, {})


def test_an_identity_without_a_role_is_not_allowed() -> None:
    with pytest.raises(NotAllowed):
        _authenticator("someone@example.com=operator").identify({IAP_HEADER: _token()}, {})


def test_no_header_and_no_dev_sign_in_is_not_signed_in() -> None:
    session = {"dev_identity": {"email": "x@example.com", "roles": ["supervisor"]}}
    with pytest.raises(NotSignedIn):
        _authenticator().identify({}, session)


def test_the_dev_sign_in_works_only_when_enabled() -> None:
    auth = _authenticator(CONSOLE_DEV_SIGN_IN="true")
    session = {"dev_identity": {"email": "x@example.com", "roles": ["supervisor", "root"]}}
    assert auth.identify({}, session) == Identity("x@example.com", frozenset({"supervisor"}))


def test_production_refuses_the_dev_sign_in() -> None:
    with pytest.raises(ConfigError, match="CONSOLE_DEV_SIGN_IN"):
        load_settings({"APP_ENV": "production", "CONSOLE_DEV_SIGN_IN": "true"})


def test_production_needs_a_session_key() -> None:
    from shared.console.app import create_app

    with pytest.raises(
        ConfigError, match="CONSOLE_SECRET_KEY, CONSOLE_IAP_AUDIENCE, CONSOLE_ROLES"
    ):
        create_app(load_settings({"APP_ENV": "production"}))
    app = create_app(
        load_settings(
            {
                "APP_ENV": "production",
                "CONSOLE_SECRET_KEY": "k" * 40,
                "CONSOLE_IAP_AUDIENCE": AUDIENCE,
                "CONSOLE_ROLES": "rita@example.com=reviewer",
            }
        ),
        authenticator=_authenticator(),
    )
    client = app.test_client()
    assert client.get("/dev/sign-in").status_code == 404
    assert client.get("/queue").status_code == 401  # no IAP header: no way in


def test_keys_are_cached_and_refetched_for_an_unknown_key_id() -> None:
    calls: list[int] = []

    def fetch() -> dict[str, str]:
        calls.append(1)
        return {"k1": PUBLIC}

    verifier = IapVerifier(AUDIENCE, fetch)
    for _ in range(3):
        assert verifier.email(_token()) == "rita@example.com"
    assert len(calls) == 1


def test_roles_configuration() -> None:
    assert parse_roles(" a@x.com = reviewer ; B@x.com=supervisor,operator;") == {
        "a@x.com": frozenset({"reviewer"}),
        "b@x.com": frozenset({"supervisor", "operator"}),
    }
    for bad in ("a@x.com=admin", "a@x.com=", "=reviewer"):
        with pytest.raises(ConfigError, match="CONSOLE_ROLES"):
            parse_roles(bad)
    supervisor = Identity("s@x.com", frozenset({"supervisor"}))
    assert supervisor.has("reviewer") and not supervisor.has("operator")


def test_csrf_token_must_match_the_session() -> None:
    session: dict[str, Any] = {}
    token = csrf_token(session)
    assert csrf_token(session) == token and len(token) >= 32
    check_csrf(session, token)
    for submitted in (None, "", token[:-1] + "x"):
        with pytest.raises(CsrfRefused):
            check_csrf(session, submitted)
    with pytest.raises(CsrfRefused):
        check_csrf({}, token)


def test_security_headers() -> None:
    headers: dict[str, str] = {}
    apply_headers(headers)
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'none'" in csp
    assert "img-src 'self' data:" in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    image: dict[str, str] = {}
    apply_headers(image, attachment="image/png")
    assert image["Content-Security-Policy"].startswith("default-src 'none'")
    assert "sandbox" in image["Content-Security-Policy"]
    pdf: dict[str, str] = {"Cache-Control": "no-cache"}  # as send_file sets it
    apply_headers(pdf, attachment="application/pdf")
    assert pdf["Content-Security-Policy"].startswith("default-src 'none'")
    assert pdf["Cache-Control"] == "no-store"


def test_a_nul_anywhere_in_path_query_or_form_is_found() -> None:
    from werkzeug.datastructures import MultiDict

    clean = MultiDict([("creditor", "Northwind"), ("age", "24h")])
    assert not carries_nul("/items/em-1", clean, MultiDict())
    assert carries_nul("/items/em\x00", clean)
    assert carries_nul("/queue", MultiDict([("creditor", "a"), ("creditor", "b\x00")]))
    assert carries_nul("/queue", clean, MultiDict([("\x00", "x")]))


def test_a_nul_is_refused_with_a_400_before_any_page_runs() -> None:
    from shared.console.app import create_app

    app = create_app(load_settings({"CONSOLE_DEV_SIGN_IN": "true"}))
    client = app.test_client()
    for url in ("/items/%00", "/items/em-1%00/attachments/0", "/queue?creditor=%00", "/ops/x%00"):
        answer = client.get(url)
        assert answer.status_code == 400, url
        assert "NUL character" in answer.get_data(as_text=True)
    with client.session_transaction() as session:
        session["csrf_token"] = "t" * 40  # a valid form: only the NUL is wrong
    form = {"csrf_token": "t" * 40, "email": "rita\x00@example.com", "role": "reviewer"}
    refused = client.post("/dev/sign-in", data=form)
    assert refused.status_code == 400
    with client.session_transaction() as session:
        assert "dev_identity" not in session  # nobody was signed in


def test_production_pages_open_with_a_valid_iap_assertion_only() -> None:
    from shared.console.app import create_app

    env = {
        "APP_ENV": "production",
        "CONSOLE_SECRET_KEY": "k" * 40,
        "CONSOLE_IAP_AUDIENCE": AUDIENCE,
        "CONSOLE_ROLES": "rita@example.com=operator",
    }
    app = create_app(load_settings(env), authenticator=_authenticator("rita@example.com=operator"))
    client = app.test_client()
    page = client.get("/ops/trace", headers={IAP_HEADER: _token()})
    assert page.status_code == 200 and "rita@example.com (operator)" in page.get_data(as_text=True)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert client.get("/ops/trace", headers={IAP_HEADER: _token(OTHER_SIGNER)}).status_code == 401
    assert client.get("/queue", headers={IAP_HEADER: _token()}).status_code == 403


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("kid", [{"a": 1}, ["k1"], 1, "missing"])
def test_an_assertion_whose_key_id_is_not_a_string_is_a_401(kid: Any) -> None:
    from shared.console.app import create_app

    if kid == "missing":  # validly signed by IAP's key, without naming it
        token = _token(UNNAMED_SIGNER)
        assert "kid" not in jwt.decode_header(token)
    else:
        token = f"{_b64({'alg': 'ES256', 'typ': 'JWT', 'kid': kid})}.{_b64({'email': 'a@x'})}.c2ln"
    verifier = IapVerifier(AUDIENCE, lambda: {"k1": PUBLIC})
    assert verifier.email(_token()) == "rita@example.com"  # the keys are fetched and fresh
    with pytest.raises(NotSignedIn):
        verifier.email(token)
    env = {
        "APP_ENV": "production",
        "CONSOLE_SECRET_KEY": "k" * 40,
        "CONSOLE_IAP_AUDIENCE": AUDIENCE,
        "CONSOLE_ROLES": "rita@example.com=operator",
    }
    app = create_app(load_settings(env), authenticator=_authenticator("rita@example.com=operator"))
    client = app.test_client()
    assert client.get("/ops/trace", headers={IAP_HEADER: _token()}).status_code == 200
    assert client.get("/ops/trace", headers={IAP_HEADER: token}).status_code == 401


def test_unknown_key_ids_refetch_the_keys_at_most_once_a_minute() -> None:
    now = [1000.0]
    published = {"k1": PUBLIC}
    fetched: list[float] = []

    def fetch() -> dict[str, str]:
        fetched.append(now[0])
        return dict(published)

    verifier = IapVerifier(AUDIENCE, fetch, clock=lambda: now[0])
    assert verifier.email(_token()) == "rita@example.com"
    forged = [
        f"{_b64({'alg': 'ES256', 'kid': f'bogus-{n}'})}.{_b64({'email': 'a@x'})}.c2ln"
        for n in range(20)
    ]
    for token in forged:  # each would have fetched the keys, one at a time under a lock
        with pytest.raises(NotSignedIn):
            verifier.email(token)
    assert fetched == [1000.0]
    now[0] += 30
    published["k2"] = ROTATED_PUBLIC  # IAP rotates: the new key is refused for a while
    with pytest.raises(NotSignedIn):
        verifier.email(_token(ROTATED_SIGNER))
    assert fetched == [1000.0]
    now[0] += 31  # more than a minute since the last fetch
    assert verifier.email(_token(ROTATED_SIGNER)) == "rita@example.com"
    assert fetched == [1000.0, 1061.0]
    now[0] += 61
    for token in forged:
        with pytest.raises(NotSignedIn):
            verifier.email(token)
    assert fetched == [1000.0, 1061.0, 1122.0]
    assert verifier.email(_token()) == "rita@example.com"


def test_signing_in_and_out_start_a_new_session() -> None:
    """A CSRF token or a message left by one identity never serves the next one."""
    import re

    from shared.console.app import create_app

    form_token = re.compile(r'name="csrf_token" value="([^"]+)"')
    client = create_app(load_settings({"CONSOLE_DEV_SIGN_IN": "true"})).test_client()

    def sign_in_token() -> str:
        return form_token.search(client.get("/dev/sign-in").get_data(as_text=True)).group(1)

    first = sign_in_token()
    form = {"csrf_token": first, "email": "sam@example.com", "role": "supervisor"}
    assert client.post("/dev/sign-in", data=form).status_code == 303
    second = sign_in_token()
    assert second != first
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Applied to account ACC-1.")]  # sam's, not shown yet
    form = {"csrf_token": second, "email": "rita@example.com", "role": "reviewer"}
    assert client.post("/dev/sign-in", data=form).status_code == 303
    with client.session_transaction() as session:
        assert dict(session) == {
            "dev_identity": {"email": "rita@example.com", "roles": ["reviewer"]}
        }
    third = sign_in_token()
    assert third != second
    assert client.post("/sign-out", data={"csrf_token": second}).status_code == 403
    assert client.post("/sign-out", data={"csrf_token": third}).status_code == 303
    with client.session_transaction() as session:
        assert dict(session) == {}
