"""The scheduled tasks' HTTP handler: the nightly metrics rollup and the outbox sweep.

Cloud Scheduler calls one function for both: nightly with ``{}`` (the rollup) and every five
minutes with ``{"task": "outbox_sweep"}``. That function is deployed as ``rollup`` (entry point
``rollup`` in ``functions/rollup/main.py`` and ``terraform/functions.tf``) and keeps that name:
renaming a deployed function or its Terraform resources makes ``terraform apply`` destroy and
recreate them. This module's name says what the function does; the deployed name is history.
Here: the caller check in production, the task picked from the body, a JSON summary.

Production (``APP_ENV=production``): the function is private. Cloud Run checks the caller's
OIDC token (signature, expiry, audience) and its ``roles/run.invoker`` before the request
reaches the function, and then replaces the token's signature with ``SIGNATURE_REMOVED_BY_GOOGLE``:
the signature cannot be verified here, and the platform's IAM check is what authenticates the
caller (only the Cloud Scheduler service account is an invoker). As defence in depth the handler
reads the token's claims without verifying the signature and requires a Google issuer, an
unexpired token, an audience matching ``ROLLUP_AUDIENCE`` (comma-separated; ``*`` stands for
one run of letters, digits and hyphens, e.g. ``https://rollup-production-*.a.run.app``) and an
``email`` in ``ROLLUP_ALLOWED_INVOKERS`` (the Cloud Scheduler service account). Locally, calls
are accepted unauthenticated.

Body (optional JSON): ``{}`` catches up every complete day not yet rolled up (what Cloud
Scheduler sends nightly); ``{"date": "YYYY-MM-DD"}`` re-aggregates that day;
``{"task": "outbox_sweep"}`` sends the due staff notifications instead
(:mod:`shared.processing.outbox_sweep`, called every 5 minutes by a second Scheduler job).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from shared.config import Settings, get_settings
from shared.logs import log_event

logger = logging.getLogger(__name__)

ClaimsReader = Callable[[str], Mapping[str, Any]]
Answer = tuple[dict[str, Any], int]

GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
# Clock skew tolerated on the token's expiry (Cloud Run has checked it already).
EXPIRY_LEEWAY_SECONDS = 60


class CallerRejected(Exception):
    """The caller is not an allowed invoker; ``status`` is 401 or 403."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _b64url_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def read_unverified_claims(token: str) -> Mapping[str, Any]:
    """The payload of a JWT whose signature Cloud Run has checked and then removed.

    The third segment is ignored (``SIGNATURE_REMOVED_BY_GOOGLE`` in production, or the
    original signature when a caller reaches the function some other way); ``ValueError``
    when the token is not a JWT with a JSON object payload."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    try:
        header, claims = _b64url_json(parts[0]), _b64url_json(parts[1])
    except (binascii.Error, UnicodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("not a JWT") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("not a JWT")
    return claims


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def audience_matches(audience: object, allowed: list[str]) -> bool:
    """Whether the token's ``aud`` is one of the allowed audiences (``*`` = one run of
    letters, digits and hyphens; a trailing slash on either side is ignored)."""
    if not isinstance(audience, str):
        return False
    candidate = audience.rstrip("/")
    for pattern in allowed:
        regex = r"[a-z0-9-]+".join(re.escape(part) for part in pattern.rstrip("/").split("*"))
        if re.fullmatch(regex, candidate):
            return True
    return False


def check_caller(
    authorization: str | None,
    settings: Settings,
    read_claims: ClaimsReader = read_unverified_claims,
    now: float | None = None,
) -> str | None:
    """In production, return the invoker's email or raise :class:`CallerRejected`;
    elsewhere return ``None`` (unauthenticated calls are fine on the local stack)."""
    if settings.app_env != "production":
        return None
    audiences, invokers = _split(settings.rollup_audience), _split(settings.rollup_allowed_invokers)
    if not audiences or not invokers:
        raise CallerRejected(500, "ROLLUP_AUDIENCE and ROLLUP_ALLOWED_INVOKERS must be set")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CallerRejected(401, "missing bearer token")
    try:
        claims = read_claims(token.strip())
    except ValueError:
        raise CallerRejected(401, "malformed token") from None
    if claims.get("iss") not in GOOGLE_ISSUERS:
        raise CallerRejected(401, "token not issued by Google")
    expiry = claims.get("exp")
    current = time.time() if now is None else now
    if not isinstance(expiry, int | float) or expiry + EXPIRY_LEEWAY_SECONDS < current:
        raise CallerRejected(401, "token expired")
    if not audience_matches(claims.get("aud"), audiences):
        raise CallerRejected(401, "token for another audience")
    email = claims.get("email")
    if claims.get("email_verified") is not True or email not in invokers:
        raise CallerRejected(403, "caller is not an allowed invoker")
    return str(email)


TASKS = ("rollup", "outbox_sweep")
_BAD_BODY = 'body must be {}, {"date": "YYYY-MM-DD"} or {"task": "outbox_sweep"}'


def _requested(request: Any) -> tuple[str, date | None]:
    """(task, day) from the body; ``ValueError`` for anything else."""
    raw_body = request.get_data(cache=True)
    try:
        body = request.get_json(force=True, silent=True) if raw_body.strip() else {}
    except RecursionError:  # nested past any request
        body = None
    if body is None:
        raise ValueError("body must be JSON")
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    task = body.get("task", "rollup")
    if task not in TASKS:
        raise ValueError("unknown task")
    raw = body.get("date", request.args.get("date"))
    if raw is None:
        return task, None
    if not isinstance(raw, str) or task != "rollup":
        raise ValueError("date must be a string YYYY-MM-DD, for the rollup only")
    return task, date.fromisoformat(raw)


def handle_scheduled_request(
    request: Any, *, read_claims: ClaimsReader = read_unverified_claims
) -> Answer:
    """Authenticate (production), run the rollup or the outbox sweep; answer a JSON summary."""
    if request.method != "POST":
        return {"error": "use POST (Cloud Scheduler sends POST {})"}, 405
    settings = get_settings()
    try:
        invoker = check_caller(request.headers.get("Authorization"), settings, read_claims)
    except CallerRejected as exc:
        log_event(
            logger,
            "rollup_failed" if exc.status == 500 else "rollup_caller_rejected",
            level=logging.ERROR if exc.status == 500 else logging.WARNING,
            status=exc.status,
            reason=exc.reason,
        )
        return {"error": exc.reason}, exc.status
    try:
        task, day = _requested(request)
    except ValueError:
        return {"error": _BAD_BODY}, 400
    if task == "outbox_sweep":
        return _sweep_outbox(settings)
    return _roll_up(day, invoker)


def invoker_for_log(invoker: str | None) -> str | None:
    """A service account is named; a person allowed to call by hand is not (their address is
    personal data)."""
    if invoker is None or invoker.endswith(".gserviceaccount.com"):
        return invoker
    return "user_account"


def _roll_up(day: date | None, invoker: str | None) -> Answer:
    from shared.metrics.rollup import RollupError, run_rollup

    log_event(
        logger,
        "rollup_started",
        day=day.isoformat() if day else None,
        invoker=invoker_for_log(invoker),
    )
    try:
        summary = run_rollup(day=day)
    except RollupError as exc:
        return {"error": str(exc)}, 400
    except Exception as exc:  # logged as rollup_failed by run_rollup; answer 500
        return {"error": "rollup failed", "error_type": type(exc).__name__}, 500
    return summary.as_dict(), 200


def _sweep_outbox(settings: Settings) -> Answer:
    from shared.processing.outbox_sweep import run_outbox_sweep

    try:
        summary = run_outbox_sweep(settings)
    except Exception as exc:  # Postgres unreachable, a bug: logged, 500 (the next run retries)
        log_event(logger, "outbox_sweep_failed", level=logging.ERROR, error_type=type(exc).__name__)
        return {"error": "outbox sweep failed", "error_type": type(exc).__name__}, 500
    return {
        "task": "outbox_sweep",
        "sent": summary.sent,
        "failed": summary.failed,
    }, 200
