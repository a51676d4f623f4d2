"""The console's Flask application: built once per instance, served by the ``console`` function.

:func:`create_app` is the one wiring point (the tests hand it their own authenticator or
account repository); :func:`handle` runs the functions-framework request through it.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, render_template, request, session
from google.api_core.exceptions import GoogleAPIError
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.config import ConfigError, Settings, get_settings, require_in_production
from shared.console.actions import ConsoleAccounts
from shared.console.auth import Authenticator, Identity, KeysUnavailable, NotAllowed, NotSignedIn
from shared.console.security import (
    CsrfRefused,
    apply_headers,
    carries_nul,
    check_csrf,
    csrf_token,
)
from shared.db.outages import is_outage
from shared.errors import BreakerOpenError, DependencyUnavailable, TransientError
from shared.logs import log_event

logger = logging.getLogger(__name__)
PACKAGE = Path(__file__).resolve().parent

_lock = threading.Lock()
_app: Flask | None = None

# What a 503 page calls a dependency (DependencyUnavailable.dependency, a breaker's name).
DEPENDENCY_NAMES = {
    "postgres": "The review database (Postgres)",
    "mongodb": "The account database (MongoDB)",
    "gcs": "The email storage (Cloud Storage)",
    "pubsub": "Pub/Sub",
    "claude": "Claude",
    "google_cloud": "A Google Cloud service",
}


@dataclass
class ConsoleDeps:
    """The adapters the pages use, made on first use (nothing connects at import)."""

    settings: Settings
    authenticator: Authenticator
    accounts_factory: Any = None
    raw_emails_factory: Any = None
    _accounts: Any = field(default=None, init=False)
    _raw: Any = field(default=None, init=False)

    def accounts(self) -> ConsoleAccounts:
        if self._accounts is None:
            if self.accounts_factory is not None:
                self._accounts = self.accounts_factory()
            else:
                from shared.accounts.mongo import MongoAccountRepository

                self._accounts = MongoAccountRepository(self.settings, guard=_guard("mongodb"))
        accounts: ConsoleAccounts = self._accounts
        return accounts

    def raw_emails(self) -> Any:
        if self._raw is None:
            if self.raw_emails_factory is not None:
                self._raw = self.raw_emails_factory()
            else:
                from shared.processing.raw_emails import GcsRawEmailStore

                self._raw = GcsRawEmailStore(self.settings, guard=_guard("gcs"))
        return self._raw


def _guard(name: str) -> Any:
    """Calls through the shared breaker ``name``, as the processor's adapters do: while MongoDB
    or GCS is down every instance fails fast instead of waiting out each timeout."""

    def call(func: Any, *args: Any, **kwargs: Any) -> Any:
        from shared.breakers import get_breaker

        return get_breaker(name).call(func, *args, **kwargs)

    return call


def _secret_key(settings: Settings) -> str:
    # Production: IAP's audience and the roles too (without them nobody could get in).
    require_in_production(settings, "console_secret_key", "console_iap_audience", "console_roles")
    if settings.console_secret_key is not None and settings.console_secret_key.get_secret_value():
        return settings.console_secret_key.get_secret_value()
    return secrets.token_urlsafe(32)  # local: sessions last as long as the process


def create_app(
    settings: Settings | None = None,
    *,
    authenticator: Authenticator | None = None,
    accounts_factory: Any = None,
    raw_emails_factory: Any = None,
) -> Flask:
    settings = settings or get_settings()
    if settings.console_dev_sign_in and settings.app_env == "production":
        raise ConfigError("invalid configuration: CONSOLE_DEV_SIGN_IN is refused in production")
    app = Flask(
        "shared.console",
        template_folder=str(PACKAGE / "templates"),
        static_folder=str(PACKAGE / "static"),
        static_url_path="/assets",  # functions-framework owns /static
    )
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_NAME="console_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.app_env == "production",
        MAX_CONTENT_LENGTH=64 * 1024,
        # An unexpected error reaches the invocation wrapper (Sentry, a 500), not a bare page.
        PROPAGATE_EXCEPTIONS=True,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.jinja_env.autoescape = True
    deps = ConsoleDeps(
        settings,
        authenticator or Authenticator.from_settings(settings),
        accounts_factory,
        raw_emails_factory,
    )
    app.extensions["console"] = deps

    @app.before_request
    def _refuse_nul() -> Any:
        # First, for every page (sign-in included): no view ever sees a NUL, which Postgres
        # would refuse mid-request.
        if carries_nul(request.path, request.args, request.form):
            log_event(logger, "console_nul_refused", level=logging.WARNING)
            return _error(
                400,
                "The address or form contains a NUL character, which is never valid here. "
                "Nothing was changed.",
            )
        return None

    @app.before_request
    def _identify() -> Any:
        g.identity = None
        if request.endpoint in ("static", "auth.dev_sign_in", "auth.signed_out"):
            return None
        try:
            g.identity = deps.authenticator.identify(request.headers, session)
        except NotSignedIn:
            if deps.authenticator.dev_sign_in:
                from flask import redirect, url_for

                return redirect(url_for("auth.dev_sign_in"))
            return _error(401, "Sign in through the organisation's identity proxy.")
        except NotAllowed:
            return _error(403, "Your account has no role in the review console.")
        except KeysUnavailable:  # logged where the fetch failed
            return _error(
                503,
                "Sign-in cannot be checked just now: the identity proxy's keys could not be "
                "fetched. Try again in a moment.",
            )
        return None

    @app.before_request
    def _csrf() -> Any:
        if request.method == "POST":
            try:
                check_csrf(session, request.form.get("csrf_token"))
            except CsrfRefused:
                log_event(logger, "console_csrf_refused", level=logging.WARNING, path=request.path)
                return _error(
                    403,
                    "The form was refused (its security token is missing or "
                    "wrong). Reload the page and try again; nothing was changed.",
                )
        return None

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        identity: Identity | None = g.get("identity")
        return {
            "csrf_token": lambda: csrf_token(session),
            "me": identity,
            "dev_sign_in": deps.authenticator.dev_sign_in,
        }

    @app.after_request
    def _headers(response: Response) -> Response:
        apply_headers(response.headers, attachment=g.get("attachment"))
        return response

    @app.errorhandler(404)
    def _not_found(exc: Any) -> Any:
        return _error(404, "Not found.")

    @app.errorhandler(405)
    def _not_allowed(exc: Any) -> Any:
        return _error(405, "Method not allowed.")

    @app.errorhandler(413)
    def _too_large(exc: Any) -> Any:
        return _error(413, "The form is too large.")

    _answer_outages_with_503(app)

    from shared.console.ops_views import ops
    from shared.console.views import auth, staff

    app.register_blueprint(auth)
    app.register_blueprint(staff)
    app.register_blueprint(ops)
    return app


def _error(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, message=message), status


def _answer_outages_with_503(app: Flask) -> None:
    """A dependency that refuses or stops answering is a 503 saying which, never a 500."""

    @app.errorhandler(SQLAlchemyError)
    def _database(exc: SQLAlchemyError) -> Any:
        # An outage as the processor tells one (shared.db.outages); a statement the database
        # refused (a constraint, a syntax error) is a bug, left to reach Sentry as a 500.
        if isinstance(exc, DBAPIError):
            outage = is_outage(exc)
        else:
            outage = isinstance(exc, PoolTimeout | DisconnectionError)
        if not outage:
            raise exc
        return _unavailable("postgres", exc)

    @app.errorhandler(GoogleAPIError)
    def _google(exc: GoogleAPIError) -> Any:
        return _unavailable("google_cloud", exc)

    @app.errorhandler(ConnectionError)
    @app.errorhandler(TimeoutError)
    def _network(exc: OSError) -> Any:
        # pg8000 lets a socket that timed out or was reset through unwrapped (see
        # shared.db.engine): a database that stops answering, named only as what it is
        return _unavailable("network", exc)

    @app.errorhandler(TransientError)
    def _transient(exc: TransientError) -> Any:
        if isinstance(exc, DependencyUnavailable):
            return _unavailable(exc.dependency, exc)
        if isinstance(exc, BreakerOpenError):
            return _unavailable(exc.breaker, exc)
        return _unavailable("console", exc)


def _unavailable(dependency: str, exc: Exception) -> tuple[str, int]:
    """503 for a dependency that refused or stopped answering. The exception's type only, in
    the log and nowhere on the page: a driver's message may quote a statement's values."""
    log_event(
        logger,
        "console_dependency_unavailable",
        level=logging.WARNING,
        dependency=dependency,
        error_type=type(exc).__name__,
        endpoint=request.endpoint,
    )
    name = DEPENDENCY_NAMES.get(dependency, "A service the console depends on")
    return _error(503, f"{name} is not available just now. Try again in a moment.")


def get_app() -> Flask:
    """The instance's application, built on first request."""
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                _app = create_app()
    return _app


def handle(flask_request: Any) -> Any:
    """Run the functions-framework request through the console's own application."""
    return Response.from_app(get_app().wsgi_app, flask_request.environ)
