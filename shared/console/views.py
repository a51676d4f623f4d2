"""Staff pages: the queue, an item, its actions; and the development sign-in."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)

from shared.console import actions as act
from shared.console import email_view, queries
from shared.console.auth import ROLES, Identity
from shared.console.updates import reading
from shared.db.engine import connection, core_transaction
from shared.errors import ProcessingError
from shared.extraction.email_parser import MimeNestedTooDeep
from shared.extraction.models import FIELD_NAMES, INTENTS
from shared.logs import log_event

logger = logging.getLogger(__name__)

auth = Blueprint("auth", __name__)
staff = Blueprint("staff", __name__)

# The processor failed the same message permanently: reloading will not help.
_UNREADABLE = "The raw email could not be read: its MIME parts nest too deeply."


def _deps() -> Any:
    return current_app.extensions["console"]


def _me() -> Identity:
    identity: Identity | None = g.get("identity")
    if identity is None:
        abort(401)
    return identity


def _require(role: str) -> Identity:
    me = _me()
    if not me.has(role):
        abort(
            Response(
                render_template("error.html", status=403, message=f"This needs the {role} role."),
                403,
            )
        )
    return me


# -- sign-in ------------------------------------------------------------------------------


@auth.route("/dev/sign-in", methods=["GET", "POST"])
def dev_sign_in() -> Any:
    """Local only (CONSOLE_DEV_SIGN_IN): pick an address and a role."""
    if not _deps().authenticator.dev_sign_in:
        abort(404)
    if request.method == "POST":
        from shared.console.security import CsrfRefused, check_csrf

        try:
            check_csrf(session, request.form.get("csrf_token"))
        except CsrfRefused:
            return render_template("error.html", status=403, message="Form refused."), 403
        email = (request.form.get("email") or "").strip().lower()[:200]
        role = request.form.get("role")
        if "@" not in email or role not in ROLES:
            return render_template(
                "sign_in.html", roles=ROLES, error="Give an address and a role."
            ), 400
        # A new identity starts a new session: no CSRF token or message of the last one.
        session.clear()
        session["dev_identity"] = {"email": email, "roles": [role]}
        return redirect(url_for("ops.overview" if role == "operator" else "staff.queue"), 303)
    return render_template("sign_in.html", roles=ROLES, error=None)


@auth.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    session.clear()
    return redirect(url_for("auth.signed_out"), 303)


@auth.route("/signed-out")
def signed_out() -> Any:
    return render_template("error.html", status=200, message="Signed out.")


# -- queue --------------------------------------------------------------------------------


@staff.route("/")
def home() -> Any:
    me = _me()
    if not me.has("reviewer") and me.has("operator"):
        return redirect(url_for("ops.overview"))
    return redirect(url_for("staff.queue"))


@staff.route("/queue")
def queue() -> Any:
    _require("reviewer")
    flt = queries.QueueFilter.from_args(request.args)
    with connection() as conn:
        items = queries.queue(conn, flt)
        counts = queries.counts(conn)
    now = datetime.now(UTC)
    for item in items:
        item["waited"] = queries.waited(item["created_at"], now)
    return render_template(
        "queue.html",
        items=items,
        counts=counts,
        flt=flt,
        labels=queries.REASON_LABELS,
        ages=queries.AGES,
    )


# -- one item -----------------------------------------------------------------------------


def _reasons(report: dict[str, Any] | None) -> list[str]:
    for action in (report or {}).get("actions") or ():
        if isinstance(action, dict) and action.get("type") == "decision_reasons":
            return [str(r) for r in action.get("reasons") or ()]
    return []


def _account_view(account: Any) -> dict[str, Any] | None:
    if account is None:
        return None
    return {
        **act.account_snapshot(account),
        "creditor": account.creditor,
        "case_number": account.case_number,
        "debtor_name": account.debtor.name,
        "hold_reason": account.hold.reason,
        "history": list(reversed(account.history[-10:])),
    }


def _load_email(item: dict[str, Any]) -> tuple[Any, list[email_view.Attachment], str | None]:
    """(parsed email, attachments, problem)."""
    if not item.get("gcs_uri"):
        return None, [], "The raw email is not stored (the message could not be read)."
    try:
        bucket, name = email_view.split_gcs_uri(item["gcs_uri"])
        raw = _deps().raw_emails().read(bucket, name)
    except (ValueError, ProcessingError) as exc:
        log_event(
            logger,
            "console_email_unavailable",
            level=logging.WARNING,
            error_type=type(exc).__name__,
        )
        return None, [], "The raw email could not be read from storage just now."
    try:
        return email_view.parse(raw), email_view.attachments(raw), None
    except MimeNestedTooDeep:
        log_event(logger, "console_email_unreadable", level=logging.WARNING)
        return None, [], _UNREADABLE


def _render_item(email_id: str, *, message: str | None = None, status: int = 200) -> Any:
    me = _require("reviewer")
    minutes = _deps().settings.console_claim_minutes
    chosen_id = request.args.get("account") or request.form.get("account_id")
    with core_transaction() as conn:
        found = queries.item(conn, email_id)
        if found is None:
            abort(404)
        act.claim(conn, email_id, me, minutes)
    with connection() as conn:
        item = queries.item(conn, email_id)
        report = queries.report(conn, email_id)
        trail = queries.audit(conn, item["id"]) if item else []
    assert item is not None
    read = reading(report, item)
    parsed, files, problem = _load_email(item)
    segments = email_view.highlight(parsed.text, read["fields"]) if parsed else []
    accounts = _deps().accounts()
    match = (report or {}).get("match") or {}
    candidates = []
    for candidate in match.get("candidates") or ():
        if isinstance(candidate, dict) and candidate.get("account_id"):
            candidates.append(dict(candidate))
    chosen_id = chosen_id or match.get("account_id")
    if not chosen_id and len(candidates) == 1:
        chosen_id = candidates[0]["account_id"]
    chosen = None
    lookup_error = None
    if chosen_id:
        try:
            hits = accounts.find_by_account_id(str(chosen_id)[:128]).accounts
        except (ProcessingError, ValueError) as exc:
            log_event(
                logger,
                "console_account_unavailable",
                level=logging.WARNING,
                error_type=type(exc).__name__,
            )
            hits = []
            lookup_error = "The account database is not reachable just now."
        chosen = _account_view(hits[0]) if hits else None
        if chosen is None and lookup_error is None:
            lookup_error = "No account with that id."
    if chosen and all(c["account_id"] != chosen["account_id"] for c in candidates):
        candidates.append({"account_id": chosen["account_id"], "score": None, "method": "picked"})
    held_by_other = bool(item.get("claim_active") and item.get("claimed_by") != me.email)
    return (
        render_template(
            "item.html",
            item=item,
            report=report,
            read=read,
            reasons=_reasons(report),
            email=parsed,
            email_problem=problem,
            segments=segments,
            attachments=files,
            candidates=candidates,
            chosen=chosen,
            lookup_error=lookup_error,
            trail=trail,
            held_by_other=held_by_other,
            labels=queries.REASON_LABELS,
            field_names=FIELD_NAMES,
            intents=INTENTS,
            message=message,
        ),
        status,
    )


@staff.route("/items/<email_id>")
def item(email_id: str) -> Any:
    return _render_item(email_id)


def _act(email_id: str, run: Callable[[Any, Identity], act.Done], *, to_queue: bool) -> Any:
    me = _require("reviewer")
    try:
        with core_transaction() as conn:
            done = run(conn, me)
    except act.ItemNotFound:
        abort(404)
    except act.ActionRefused as exc:
        log_event(logger, "console_action_refused", level=logging.INFO, status=exc.status)
        return _render_item(email_id, message=str(exc), status=exc.status)
    except ProcessingError as exc:  # MongoDB unreachable or refused: nothing was recorded
        log_event(
            logger, "console_action_failed", level=logging.WARNING, error_type=type(exc).__name__
        )
        return _render_item(
            email_id,
            message="The account database is not reachable just now; "
            "nothing was changed. Try again.",
            status=503,
        )
    log_event(logger, "console_action_done", endpoint=request.endpoint)
    flash(done.message)
    if to_queue:
        return redirect(url_for("staff.queue"), 303)
    account_id = (request.form.get("account_id") or "")[:128] or None
    return redirect(url_for("staff.item", email_id=email_id, account=account_id), 303)


def _report(email_id: str) -> dict[str, Any] | None:
    with connection() as conn:
        return queries.report(conn, email_id)


def _actions() -> act.Actions:
    return act.Actions(_deps().accounts())


@staff.route("/items/<email_id>/apply", methods=["POST"])
def apply(email_id: str) -> Any:
    report = _report(email_id)
    return _act(
        email_id,
        lambda conn, me: _actions().apply(
            conn,
            email_id,
            me,
            account_id=request.form.get("account_id"),
            report=report,
            reason=request.form.get("reason"),
        ),
        to_queue=True,
    )


@staff.route("/items/<email_id>/correct", methods=["POST"])
def correct(email_id: str) -> Any:
    report = _report(email_id)
    values = {
        name: request.form.get(f"field_{name}", "")
        for name in FIELD_NAMES
        if f"field_{name}" in request.form
    }
    return _act(
        email_id,
        lambda conn, me: _actions().correct(
            conn,
            email_id,
            me,
            intent=request.form.get("intent"),
            values=values,
            report=report,
            reason=request.form.get("reason"),
        ),
        to_queue=False,
    )


@staff.route("/items/<email_id>/hold", methods=["POST"])
def place_hold(email_id: str) -> Any:
    return _act(
        email_id,
        lambda conn, me: _actions().place_hold(
            conn,
            email_id,
            me,
            account_id=request.form.get("account_id"),
            reason=request.form.get("reason"),
        ),
        to_queue=False,
    )


@staff.route("/items/<email_id>/release", methods=["POST"])
def release_hold(email_id: str) -> Any:
    return _act(
        email_id,
        lambda conn, me: _actions().release_hold(
            conn,
            email_id,
            me,
            account_id=request.form.get("account_id"),
            reason=request.form.get("reason"),
        ),
        to_queue=False,
    )


@staff.route("/items/<email_id>/dismiss", methods=["POST"])
def dismiss(email_id: str) -> Any:
    return _act(
        email_id,
        lambda conn, me: _actions().dismiss(conn, email_id, me, reason=request.form.get("reason")),
        to_queue=True,
    )


@staff.route("/items/<email_id>/attachments/<int:index>")
def attachment(email_id: str, index: int) -> Any:
    _require("reviewer")
    with connection() as conn:
        item = queries.item(conn, email_id)
    if item is None or not item.get("gcs_uri"):
        abort(404)
    try:
        bucket, name = email_view.split_gcs_uri(item["gcs_uri"])
        raw = _deps().raw_emails().read(bucket, name)
    except (ValueError, ProcessingError):
        abort(Response("storage unavailable", 503))
    try:
        found = email_view.attachment_bytes(raw, index)
    except MimeNestedTooDeep:
        return render_template("error.html", status=422, message=_UNREADABLE), 422
    if found is None:
        abort(404)
    info, data = found
    g.attachment = info.content_type
    # send_file writes the name as RFC 6266 asks: an ASCII filename= and, for any other name,
    # filename*=UTF-8''… (the server encodes headers as Latin-1: a raw name would be a 500).
    return send_file(
        io.BytesIO(data),
        mimetype=info.content_type,
        as_attachment=not info.inline,
        download_name=info.filename,
        conditional=False,
        etag=False,
    )


@staff.route("/items/<email_id>/rerun", methods=["POST"])
def rerun(email_id: str) -> Any:
    from shared.console import rerun as rerun_module

    me = _require("reviewer")
    with connection() as conn:
        found = queries.item(conn, email_id)
    if found is None:
        abort(404)
    if found["status"] == "closed" or (
        found.get("claim_active") and found.get("claimed_by") != me.email
    ):
        return _render_item(
            email_id,
            message="Nothing changed: the item is closed or claimed by someone else.",
            status=409,
        )
    parsed, _, problem = _load_email(found)
    if parsed is None:
        return _render_item(email_id, message=problem, status=503)
    try:
        extraction = rerun_module.extract(_deps().settings, parsed)
    except ProcessingError as exc:
        log_event(
            logger, "console_rerun_failed", level=logging.WARNING, error_type=type(exc).__name__
        )
        return _render_item(email_id, message="Extraction failed just now; try again.", status=503)
    report = _report(email_id)
    return _act(
        email_id,
        lambda conn, who: rerun_module.store_rerun(
            conn, email_id, who, extraction=extraction, report=report
        ),
        to_queue=False,
    )


@staff.route("/items/<email_id>/unclaim", methods=["POST"])
def unclaim(email_id: str) -> Any:
    return _act(email_id, lambda conn, me: act.unclaim(conn, email_id, me), to_queue=True)
