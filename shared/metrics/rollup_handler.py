"""The rollup function's HTTP handling: caller check in production, run, JSON summary.

Production (``APP_ENV=production``): the function is private (Cloud Functions IAM), and the
handler checks again — the request must carry ``Authorization: Bearer <OIDC token>`` signed by
Google, for one of ``ROLLUP_AUDIENCE`` (comma-separated; the function's URL), whose ``email``
is one of ``ROLLUP_ALLOWED_INVOKERS`` (the Cloud Scheduler service account). Locally, calls
are accepted unauthenticated.

Body (optional JSON): ``{}`` catches up every complete day not yet rolled up (what Cloud
Scheduler sends nightly); ``{"date": "YYYY-MM-DD"}`` re-aggregates that day;
``{"task": "outbox_sweep"}`` sends the due staff notifications instead
(:mod:`shared.processing.outbox_sweep`, called every 5 minutes by a second Scheduler job).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from shared.config import Settings, get_settings
from shared.logs import log_event

logger = logging.getLogger(__name__)

TokenVerifier = Callable[[str, list[str]], Mapping[str, Any]]
Answer = tuple[dict[str, Any], int]


class CallerRejected(Exception):
    """The caller is not an allowed invoker; ``status`` is 401 or 403."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify_google_oidc(token: str, audiences: list[str]) -> Mapping[str, Any]:
    """Verify a Google-signed ID token (signature, expiry, issuer, audience); return claims."""
    from functools import partial

    from google.auth.transport import requests as google_requests
    from google.oauth2 import id_token

    # The certificates fetch would otherwise wait google-auth's default 120 s.
    request = partial(google_requests.Request(), timeout=get_settings().rollup_oidc_timeout_seconds)
    return id_token.verify_oauth2_token(token, request, audience=audiences)  # type: ignore[no-any-return,no-untyped-call]


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def check_caller(
    authorization: str | None, settings: Settings, verify: TokenVerifier
) -> str | None:
    """In production, return the verified invoker's email or raise :class:`CallerRejected`;
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
        claims = verify(token.strip(), audiences)
    except Exception as exc:  # any verification failure is a rejected caller
        raise CallerRejected(401, f"invalid token ({type(exc).__name__})") from None
    email = claims.get("email")
    if claims.get("email_verified") is not True or email not in invokers:
        raise CallerRejected(403, "caller is not an allowed invoker")
    return str(email)


TASKS = ("rollup", "outbox_sweep")
_BAD_BODY = 'body must be {}, {"date": "YYYY-MM-DD"} or {"task": "outbox_sweep"}'


def _requested(request: Any) -> tuple[str, date | None]:
    """(task, day) from the body; ``ValueError`` for anything else."""
    raw_body = request.get_data(cache=True)
    body = request.get_json(force=True, silent=True) if raw_body.strip() else {}
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


def handle_rollup_request(request: Any, *, verify: TokenVerifier | None = None) -> Answer:
    """Authenticate (production), run the rollup or the outbox sweep; answer a JSON summary."""
    if request.method != "POST":
        return {"error": "use POST (Cloud Scheduler sends POST {})"}, 405
    settings = get_settings()
    try:
        invoker = check_caller(
            request.headers.get("Authorization"), settings, verify or verify_google_oidc
        )
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
