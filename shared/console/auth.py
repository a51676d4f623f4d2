"""Who is signed in, and with which roles.

Production: the console sits behind Identity-Aware Proxy (IAP). IAP authenticates the Google
identity before a request reaches the function and adds a signed JWT
(``x-goog-iap-jwt-assertion``); every request's JWT is verified here against IAP's public keys
(ES256), its issuer and the expected audience (``CONSOLE_IAP_AUDIENCE``), so a request that
bypassed the proxy is refused. IAP rather than Google Sign-In in the page: no client secret and
no token handling in the browser, sign-in and session lifetime are Google's, access can be
granted per group in IAM, and the console needs no script (Sign-In needs Google's JavaScript,
which a strict Content-Security-Policy would have to allow).

Roles come from configuration (``CONSOLE_ROLES``: ``a@x=reviewer;b@x=supervisor,operator``): an
identity IAP lets in but the configuration does not name gets 403. ``supervisor`` includes
``reviewer``.

Locally (``CONSOLE_DEV_SIGN_IN=true``, refused with ``APP_ENV=production``) a development
sign-in lets you pick any address and role; the choice lives in the signed session cookie.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.config import ConfigError, Settings
from shared.logs import log_event

logger = logging.getLogger(__name__)

ROLES = ("reviewer", "supervisor", "operator")
IAP_ISSUER = "https://cloud.google.com/iap"
IAP_KEYS_URL = "https://www.gstatic.com/iap/verify/public_key"
IAP_HEADER = "x-goog-iap-jwt-assertion"
KEYS_TTL_SECONDS = 3600.0
# IAP rotates its keys rarely; a token naming a key not yet seen refetches them at most this
# often, so forged tokens cannot queue every sign-in behind fetches of the keys.
KEYS_REFETCH_SECONDS = 60.0
KEYS_TIMEOUT_SECONDS = 10.0


class NotSignedIn(Exception):
    """No valid identity on the request (401)."""


class NotAllowed(Exception):
    """A valid identity without the role the page needs (403)."""


class KeysUnavailable(Exception):
    """IAP's public keys could not be fetched and none still valid are cached (503): nobody's
    sign-in can be checked, which says nothing about the person."""


@dataclass(frozen=True)
class Identity:
    email: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        if role == "reviewer":
            return bool({"reviewer", "supervisor"} & self.roles)
        return role in self.roles

    @property
    def label(self) -> str:
        return ", ".join(r for r in ROLES if r in self.roles)


def parse_roles(value: str) -> dict[str, frozenset[str]]:
    """``a@x=reviewer;b@x=supervisor,operator`` → {email: roles}; unknown roles are an error."""
    mapping: dict[str, frozenset[str]] = {}
    for entry in value.replace("\n", ";").split(";"):
        if not entry.strip():
            continue
        email, _, roles = entry.partition("=")
        names = frozenset(r.strip() for r in roles.split(",") if r.strip())
        unknown = names - set(ROLES)
        if not email.strip() or not names or unknown:
            raise ConfigError("invalid configuration: CONSOLE_ROLES (email=role[,role];…)")
        mapping[email.strip().lower()] = names
    return mapping


KeyFetcher = Callable[[], Mapping[str, str]]


def fetch_iap_keys() -> Mapping[str, str]:
    """IAP's current public keys (PEM by key id), fetched with a timeout."""
    import google.auth.transport.requests
    import requests

    session = requests.Session()
    request = google.auth.transport.requests.Request(session)
    response = request(IAP_KEYS_URL, method="GET", timeout=KEYS_TIMEOUT_SECONDS)
    if response.status != 200:
        raise KeysUnavailable(f"IAP keys: HTTP {response.status}")
    import json

    keys: dict[str, str] = json.loads(response.data)
    return keys


class IapVerifier:
    """Verifies IAP's JWT; keys cached for an hour (refetched on an unknown key id, at most
    once per :data:`KEYS_REFETCH_SECONDS`). A failed fetch keeps the cached keys while they are
    fresh; without fresh keys :class:`KeysUnavailable` (a 503, not a 401)."""

    def __init__(
        self,
        audience: str,
        fetch_keys: KeyFetcher = fetch_iap_keys,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._audience = audience
        self._fetch = fetch_keys
        self._clock = clock
        self._keys: Mapping[str, str] = {}
        self._fetched_at = float("-inf")
        self._tried_at = float("-inf")  # the last fetch, whether it succeeded or not
        self._lock = threading.Lock()

    def _current_keys(self, kid: str) -> Mapping[str, str]:
        with self._lock:
            now = self._clock()
            stale = now - self._fetched_at > KEYS_TTL_SECONDS
            # After a failed fetch the next waits too: while the keys' host is down, requests
            # fail fast instead of queueing one by one behind a fetch's timeout under the lock.
            due = now - self._tried_at > KEYS_REFETCH_SECONDS
            if due and (stale or kid not in self._keys):
                self._tried_at = now
                try:
                    self._keys = dict(self._fetch())
                    self._fetched_at = self._clock()
                    stale = False
                except Exception as exc:  # network, HTTP status or JSON: the keys are unavailable
                    # the type only: a transport error's text may carry the request's details
                    log_event(
                        logger,
                        "console_iap_keys_unavailable",
                        level=logging.WARNING,
                        error_type=type(exc).__name__,
                    )
            if stale:  # the keys cached (if any) are too old to trust: never a 401 for that
                raise KeysUnavailable("IAP keys unavailable")
            return self._keys

    def email(self, assertion: str) -> str:
        from google.auth import exceptions, jwt

        if not self._audience:
            raise NotSignedIn("CONSOLE_IAP_AUDIENCE is not set")
        try:
            kid = jwt.decode_header(assertion).get("kid")  # type: ignore[no-untyped-call]
            if not isinstance(kid, str):  # IAP always names its key; JSON could give a dict
                raise NotSignedIn("IAP assertion refused: no key id")
            claims = jwt.decode(  # type: ignore[no-untyped-call]
                assertion,
                certs=self._current_keys(kid),
                audience=self._audience,
            )
        except (ValueError, exceptions.GoogleAuthError) as exc:
            raise NotSignedIn(f"IAP assertion refused ({type(exc).__name__})") from None
        if claims.get("iss") != IAP_ISSUER or not isinstance(claims.get("email"), str):
            raise NotSignedIn("IAP assertion refused: wrong issuer or no email")
        return str(claims["email"]).lower()


@dataclass
class Authenticator:
    """Turns a request into an :class:`Identity` (see the module docstring)."""

    settings: Settings
    verifier: IapVerifier
    roles: dict[str, frozenset[str]]

    @classmethod
    def from_settings(
        cls, settings: Settings, fetch_keys: KeyFetcher | None = None
    ) -> Authenticator:
        verifier = IapVerifier(settings.console_iap_audience, fetch_keys or fetch_iap_keys)
        return cls(settings, verifier, parse_roles(settings.console_roles))

    @property
    def dev_sign_in(self) -> bool:
        return self.settings.console_dev_sign_in and self.settings.app_env != "production"

    def identify(self, headers: Any, session: Mapping[str, Any]) -> Identity:
        assertion = headers.get(IAP_HEADER)
        if assertion:
            email = self.verifier.email(assertion)
            roles = self.roles.get(email)
            if not roles:
                raise NotAllowed("no console role")
            return Identity(email, roles)
        if self.dev_sign_in:
            signed = session.get("dev_identity")
            if isinstance(signed, dict) and isinstance(signed.get("email"), str):
                roles = frozenset(r for r in signed.get("roles", ()) if r in ROLES)
                if roles:
                    return Identity(signed["email"], roles)
        raise NotSignedIn("no identity")
