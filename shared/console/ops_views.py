"""Operator pages: overview charts, breakers, dead letters, trace by correlation id."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import text

from shared.console import charts
from shared.console.auth import Identity
from shared.db.engine import connection, core_transaction
from shared.errors import DependencyUnavailable
from shared.logs import log_event

logger = logging.getLogger(__name__)
ops = Blueprint("ops", __name__, url_prefix="/ops")

OVERVIEW_DAYS = 14
# Estimated cost per million tokens (USD), list prices of the configured Claude model family.
INPUT_PER_MILLION = 3.0
OUTPUT_PER_MILLION = 15.0

_DAILY = text(
    """
    SELECT day, name, labels, count, sum, p50, p95 FROM operational_metrics_daily
     WHERE day >= :since AND name IN ('decision', 'processing_seconds', 'tokens_input',
                                       'tokens_output', 'error')
    """
)
_TODAY = text(
    """
    SELECT CAST(:today AS date) AS day, name,
           CASE WHEN name = 'decision' THEN jsonb_build_object('decision', labels->>'decision')
                WHEN name = 'processing_seconds' THEN jsonb_build_object('stage', labels->>'stage')
                ELSE '{}'::jsonb END AS labels,
           count(*) AS count, sum(value) AS sum,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS p50,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY value) AS p95
      FROM operational_metrics
     WHERE recorded_at >= CAST(:today AS date)
       AND name IN ('decision', 'processing_seconds', 'tokens_input', 'tokens_output', 'error')
     GROUP BY 1, 2, 3
    """
)
_CONFIDENCE = text(
    """
    SELECT width_bucket(value, 0, 1.0000001, 10) AS bucket, count(*) FROM operational_metrics
     WHERE name = 'extraction_confidence' AND labels->>'field' = 'overall'
       AND recorded_at >= now() - interval '14 days'
     GROUP BY 1 ORDER BY 1
    """
)


def _operator() -> Identity:
    me: Identity | None = g.get("identity")
    if me is None or not me.has("operator"):
        abort(403)
    return me


_AUDIT = text(
    "INSERT INTO ops_audit (actor, role, action, target, email_id) "
    "VALUES (:actor, 'operator', :action, :target, :email_id)"
)


def _audit(me: Identity, action: str, target: str, email_id: str | None = None) -> None:
    """Who did it, in ``ops_audit`` (append-only): forcing the MongoDB breaker open stops all
    processing, and the trail of who did so belongs in the database, not in the logs, which
    carry no staff address."""
    with core_transaction() as conn:
        conn.execute(
            _AUDIT, {"actor": me.email, "action": action, "target": target, "email_id": email_id}
        )


def overview_data(conn: Any, today: date) -> dict[str, Any]:
    since = today - timedelta(days=OVERVIEW_DAYS - 1)
    rows = [dict(r) for r in conn.execute(_DAILY, {"since": since}).mappings()]
    rows += [dict(r) for r in conn.execute(_TODAY, {"today": today}).mappings()]
    days = [(since + timedelta(days=i)).isoformat() for i in range(OVERVIEW_DAYS)]
    routes: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(days))
    p50, p95 = [0.0] * len(days), [0.0] * len(days)
    tokens_in, tokens_out, errors = [0.0] * len(days), [0.0] * len(days), [0.0] * len(days)
    for row in rows:
        key = row["day"].isoformat() if hasattr(row["day"], "isoformat") else str(row["day"])
        if key not in days:
            continue
        i = days.index(key)
        labels = row["labels"] or {}
        if row["name"] == "decision":
            routes[str(labels.get("decision", "?"))][i] += float(row["count"])
        elif row["name"] == "processing_seconds" and labels.get("stage") == "total":
            p50[i], p95[i] = float(row["p50"]), float(row["p95"])
        elif row["name"] == "tokens_input":
            tokens_in[i] += float(row["sum"])
        elif row["name"] == "tokens_output":
            tokens_out[i] += float(row["sum"])
        elif row["name"] == "error":
            errors[i] += float(row["count"])
    cost = [
        round(a / 1e6 * INPUT_PER_MILLION + b / 1e6 * OUTPUT_PER_MILLION, 4)
        for a, b in zip(tokens_in, tokens_out, strict=True)
    ]
    buckets = {int(b): int(n) for b, n in conn.execute(_CONFIDENCE).all()}
    confidence = [(f"{(k - 1) / 10:.1f}", float(buckets.get(k, 0))) for k in range(1, 11)]
    return {
        "days": days,
        "routes": dict(routes),
        "p50": p50,
        "p95": p95,
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "cost": cost,
        "errors": errors,
        "confidence": confidence,
        "emails_total": int(sum(sum(v) for v in routes.values())),
    }


@ops.route("/")
def overview() -> Any:
    _operator()
    with connection() as conn:
        data = overview_data(conn, datetime.now(UTC).date())
    svg = {
        "routes": charts.stacked_bars("Emails per day by route", data["days"], data["routes"]),
        "latency": charts.lines(
            "Processing time (s)", data["days"], {"p50": data["p50"], "p95": data["p95"]}
        ),
        "tokens": charts.stacked_bars(
            "Tokens per day",
            data["days"],
            {"input": data["tokens_in"], "output": data["tokens_out"]},
        ),
        "cost": charts.lines("Estimated cost per day (USD)", data["days"], {"cost": data["cost"]}),
        "confidence": charts.histogram("Overall confidence (14 days)", data["confidence"]),
        "errors": charts.stacked_bars("Errors per day", data["days"], {"errors": data["errors"]}),
    }
    return render_template("ops_overview.html", svg=svg, data=data)


@ops.route("/breakers", methods=["GET", "POST"])
def breakers() -> Any:
    me = _operator()
    from shared import breakers as module
    from shared.metrics.collector import register_breaker_metrics

    if request.method == "POST":
        name = request.form.get("name", "")
        action = request.form.get("action", "")
        known = set(module.KNOWN_BREAKERS)
        forced = {"open": module.force_open, "close": module.force_close, "reset": module.reset}
        if name not in known or action not in forced:
            return render_template(
                "error.html", status=400, message="Unknown breaker or action."
            ), 400
        register_breaker_metrics()
        _audit(me, f"breaker_{action}", name)  # first: no action without its trail
        forced[action](name)
        log_event(logger, "console_breaker_forced", breaker=name, action=action)
        flash(f"Breaker {name}: {action} done.")
        return redirect(url_for("ops.breakers"), 303)
    rows = [vars(r) if not isinstance(r, dict) else r for r in module.list_breakers()]
    return render_template("ops_breakers.html", rows=rows, known=sorted(module.KNOWN_BREAKERS))


def _queue() -> Any:
    from shared.ops.dlq import DeadLetterQueue

    factory = current_app.extensions["console"].__dict__.get("dlq_factory")
    return factory() if factory else DeadLetterQueue(current_app.extensions["console"].settings)


@contextmanager
def _pubsub() -> Iterator[None]:
    """Pub/Sub refusing (an API error) or not answering (a publish's confirmation timing out)
    as :class:`DependencyUnavailable`, which the console answers with a 503 naming Pub/Sub."""
    from google.api_core.exceptions import GoogleAPIError

    try:
        yield
    except (GoogleAPIError, TimeoutError) as exc:
        raise DependencyUnavailable("pubsub", type(exc).__name__) from None


def _release(queue: Any, letters: list[Any]) -> None:
    """Give the leases back; when Pub/Sub cannot take them they run out by themselves, which
    is no reason to fail a page already done."""
    from google.api_core.exceptions import GoogleAPIError

    try:
        queue.release(letters)
    except (GoogleAPIError, TimeoutError) as exc:
        log_event(
            logger,
            "console_dead_letters_not_released",
            level=logging.WARNING,
            error_type=type(exc).__name__,
        )


@ops.route("/dead-letters", methods=["GET", "POST"])
def dead_letters() -> Any:
    me = _operator()
    queue = _queue()
    with _pubsub():
        letters = queue.pull_all(limit=100)
    try:
        if request.method == "POST":
            wanted = request.form.get("message_id", "")
            chosen = [x for x in letters if x.message_id == wanted]
            if not chosen:
                return render_template(
                    "error.html", status=404, message="That dead letter is gone."
                ), 404
            _audit(me, "dead_letter_replay", wanted, (chosen[0].email_id or "")[:128] or None)
            with _pubsub():
                queue.replay(chosen[0])
            letters = [x for x in letters if x.message_id != wanted]
            log_event(logger, "console_dead_letter_replayed")
            flash("Replayed to the main topic.")
            return redirect(url_for("ops.dead_letters"), 303)
        rows = [
            {
                "message_id": x.message_id,
                "email_id": x.email_id,
                "correlation_id": x.correlation_id,
                "attempts": x.delivery_attempts,
                "published": x.publish_time,
            }
            for x in letters
        ]
        return render_template("ops_dlq.html", rows=rows)
    finally:
        _release(queue, letters)


@ops.route("/trace")
def trace() -> Any:
    _operator()
    from shared.ops import logs as oplogs

    correlation_id = (request.args.get("correlation_id") or "").strip()[:128]
    reports: list[dict[str, Any]] = []
    lines: list[Any] = []
    logging_url = None
    error = None
    if correlation_id:
        try:
            text_filter = oplogs.logging_filter(correlation_id)
        except ValueError as exc:
            return render_template(
                "ops_trace.html",
                correlation_id=correlation_id,
                reports=[],
                logging_url=None,
                error=str(exc),
            ), 400
        with connection() as conn:
            reports = [
                dict(r)
                for r in conn.execute(
                    text(
                        "SELECT email_id, status, decision, intent, extractor, pipeline, errors, "
                        "created_at FROM processing_reports WHERE correlation_id = :c "
                        "ORDER BY created_at"
                    ),
                    {"c": correlation_id},
                ).mappings()
            ]
        settings = current_app.extensions["console"].settings
        if settings.app_env != "production" and settings.stack_log_dir:
            from pathlib import Path

            # The local stack's per-function JSON lines: the timeline of this email's stages.
            lines = list(oplogs.local_lines(Path(settings.stack_log_dir), correlation_id))[:500]
        project = settings.google_cloud_project
        logging_url = (
            "https://console.cloud.google.com/logs/query;query="
            + quote(text_filter, safe="")
            + f"?project={quote(project, safe='')}"
        )
    return render_template(
        "ops_trace.html",
        correlation_id=correlation_id,
        reports=reports,
        lines=lines,
        logging_url=logging_url,
        error=error,
    )
