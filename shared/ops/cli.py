"""``python -m shared.ops COMMAND …``: the operator's view of the system.

    trace CORRELATION_ID            report(s) and log lines of one email
    report EMAIL_ID [--show-values] one processing report
    reports [--since 24h] [--until …] [--decision D] [--intent I] [--failed]
            [--low-confidence T [--field F]] [--by-day] [--limit N]
    breakers                        state and counters of every circuit breaker
    breaker open|close|reset NAME   force a breaker (all instances follow)
    rollup [--date YYYY-MM-DD]      run the nightly rollup now
    metrics [--days N] [--name NAME]  daily aggregates
    dlq list [--limit N]            dead-lettered messages
    dlq replay (--all | ID …)       republish to the main topic, then ack

Locally (``APP_ENV`` not ``production``) it reads ``.local/stack.env`` when present, or the file
given with ``--env-file``. In production it uses Cloud SQL (connector), Pub/Sub, Cloud Logging
and Cloud Scheduler with the operator's Application Default Credentials.
Exit codes: 0 done, 1 not found or failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from shared.config import ConfigError, get_settings, load_env_file
from shared.ops.tables import cell, format_table

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ENV_FILE = REPO_ROOT / ".local" / "stack.env"
_RELATIVE = re.compile(r"^(\d+)([mhd])$")


class UsageError(ValueError):
    """Bad arguments: exit code 2 with the message."""


def parse_when(value: str, *, now: datetime | None = None) -> datetime:
    """``30m``, ``24h``, ``7d`` (ago), ``YYYY-MM-DD`` (UTC midnight) or an ISO date-time."""
    now = now or datetime.now(UTC)
    match = _RELATIVE.fullmatch(value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now - timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"not a time: {value!r} (use 24h, 7d, 2024-03-01 or ISO)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _mask(value: Any, show: bool) -> str:
    if show or value is None or isinstance(value, bool | int | float):
        return cell(value)
    return "[hidden: --show-values]"


def _print_report(report: Any, out: TextIO, *, show_values: bool) -> None:
    for label, value in (
        ("email_id", report.email_id),
        ("correlation_id", report.correlation_id),
        ("status", report.status),
        ("decision", report.decision),
        ("intent", report.intent),
        ("extractor", report.extractor),
        ("degraded", report.degraded),
        ("overall_confidence", report.overall_confidence),
        ("attempt", report.attempt),
        ("created_at", report.created_at),
    ):
        print(f"{label:<20}{cell(value)}", file=out)
    rows = []
    for name, raw in sorted((report.fields or {}).items()):
        entry = raw if isinstance(raw, dict) else {"value": raw}
        rows.append((name, entry.get("confidence"), _mask(entry.get("value"), show_values)))
    print("\nfields", file=out)
    print(format_table(["field", "confidence", "value"], rows), file=out)
    print(f"\nmissing_fields      {', '.join(report.missing_fields or []) or '-'}", file=out)
    match = report.match or {}
    shown = {k: _mask(v, show_values) for k, v in sorted(match.items())}
    print(f"match               {cell(shown) if shown else '-'}", file=out)
    print(f"actions             {len(report.actions or [])}", file=out)
    if show_values and report.actions:
        print(json.dumps(report.actions, default=str, indent=2), file=out)
    print(f"pipeline            {json.dumps(report.pipeline or {}, default=str)}", file=out)
    print(f"errors              {json.dumps(report.errors or [], default=str)}", file=out)


def _report_rows(reports: list[Any]) -> str:
    return format_table(
        ["created_at", "email_id", "status", "decision", "intent", "confidence", "correlation_id"],
        [
            (
                r.created_at,
                r.email_id,
                r.status,
                r.decision,
                r.intent,
                r.overall_confidence,
                r.correlation_id,
            )
            for r in reports
        ],
    )


# -- commands ---------------------------------------------------------------------------------


def cmd_trace(args: argparse.Namespace, out: TextIO) -> int:
    from shared.db.engine import transaction
    from shared.ops import logs
    from shared.reports import reports_by_correlation_id

    settings = get_settings()
    try:
        text_filter = logs.logging_filter(args.correlation_id)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with transaction() as session:
        reports = reports_by_correlation_id(session, args.correlation_id)
    print(f"correlation id {args.correlation_id}\n\nreports", file=out)
    print(_report_rows(reports), file=out)
    if settings.app_env == "production":
        print(f"\nLogs Explorer filter: {text_filter}\n", file=out)
        lines = list(logs.cloud_lines(settings.google_cloud_project, args.correlation_id))
    else:
        if not settings.stack_log_dir:
            raise UsageError("STACK_LOG_DIR is not set (start the stack with `make run`)")
        print(f"\nlog lines (from {settings.stack_log_dir})", file=out)
        lines = list(logs.local_lines(Path(settings.stack_log_dir), args.correlation_id))
    print(
        format_table(
            ["time", "function", "severity", "event", "fields"],
            [(x.timestamp, x.source, x.severity, x.message, x.fields) for x in lines],
        ),
        file=out,
    )
    return 0 if reports or lines else 1


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    from shared.db.engine import transaction
    from shared.reports import report_by_email_id

    with transaction() as session:
        report = report_by_email_id(session, args.email_id)
    if report is None:
        print(f"no report for email {args.email_id}", file=out)
        return 1
    _print_report(report, out, show_values=args.show_values)
    return 0


def cmd_reports(args: argparse.Namespace, out: TextIO) -> int:
    from shared import reports as queries
    from shared.db.engine import transaction

    since = parse_when(args.since)
    until = parse_when(args.until) if args.until else None
    with transaction() as session:
        if args.by_day:
            counts = queries.daily_counts(
                session, since, until, time_zone=get_settings().rollup_time_zone
            )
            print(
                format_table(
                    ["day", "decision", "intent", "count"],
                    [(c.day, c.decision, c.intent, c.count) for c in counts],
                ),
                file=out,
            )
            return 0
        if args.failed:
            found = queries.failed_reports(session, since=since, limit=args.limit)
        elif args.low_confidence is not None:
            found = queries.low_confidence_reports(
                session, args.low_confidence, field=args.field, since=since, limit=args.limit
            )
        else:
            found = queries.reports_between(
                session,
                since,
                until,
                decision=args.decision,
                intent=args.intent,
                limit=args.limit,
            )
    print(_report_rows(found), file=out)
    return 0


def _breakers_module() -> Any:
    import importlib

    try:
        return importlib.import_module("shared.breakers")
    except ImportError:
        msg = "breaker administration needs shared.breakers, which did not import"
        raise UsageError(msg) from None


def _as_dict(row: Any) -> dict[str, Any]:
    if is_dataclass(row) and not isinstance(row, type):
        return asdict(row)
    if isinstance(row, dict):
        return dict(row)
    return {k: v for k, v in vars(row).items() if not k.startswith("_")}


def cmd_breakers(args: argparse.Namespace, out: TextIO) -> int:
    rows = [_as_dict(row) for row in _breakers_module().list_breakers()]
    columns = [
        "name",
        "state",
        "failure_count",
        "opened_at",
        "last_failure_at",
        "last_error_type",
        "forced",
        "updated_at",
    ]
    columns = [c for c in columns if any(c in r for r in rows)] or ["name", "state"]
    print(format_table(columns, [[r.get(c) for c in columns] for r in rows]), file=out)
    return 0


def cmd_breaker(args: argparse.Namespace, out: TextIO) -> int:
    from shared.metrics.collector import register_breaker_metrics

    breakers = _breakers_module()
    register_breaker_metrics()  # a forced change is a transition too: one metric row, like any
    action = {"open": breakers.force_open, "close": breakers.force_close, "reset": breakers.reset}
    known = set(getattr(breakers, "KNOWN_BREAKERS", ()))
    if known and args.name not in known:
        # Any well-formed name is a breaker (tests use their own); a typo must not pass unseen.
        print(
            f"warning: {args.name!r} is not one of the system's breakers "
            f"({', '.join(sorted(known))}); acting on it anyway",
            file=sys.stderr,
        )
    try:
        row = _as_dict(action[args.action](args.name))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"breaker {args.name}: {row.get('state', '?')}", file=out)
    return 0


def cmd_rollup(args: argparse.Namespace, out: TextIO, *, scheduler: Any = None) -> int:
    settings = get_settings()
    if settings.app_env == "production":
        if args.date is not None:
            raise UsageError(
                "--date runs locally only; in production the job catches up every missed day"
            )
        job = settings.rollup_scheduler_job
        if not job.startswith("projects/"):
            job = (
                f"projects/{settings.google_cloud_project}/locations/"
                f"{settings.rollup_scheduler_location}/jobs/{job}"
            )
        if scheduler is None:
            from google.cloud import scheduler_v1

            scheduler = scheduler_v1.CloudSchedulerClient()
        scheduler.run_job(name=job, timeout=settings.ops_timeout_seconds)
        print(f"triggered Cloud Scheduler job {job}; watch rollup_completed in its logs", file=out)
        return 0
    from shared.metrics.rollup import RollupError, run_rollup

    try:
        summary = run_rollup(day=args.date, progress=lambda line: print(line, file=sys.stderr))
    except RollupError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(summary.as_dict(), indent=2), file=out)
    return 0


def cmd_metrics(args: argparse.Namespace, out: TextIO) -> int:
    from sqlalchemy import select

    from shared.db.engine import transaction
    from shared.db.models import OperationalMetricDaily as Daily

    first = date.today() - timedelta(days=args.days)
    query = select(Daily).where(Daily.day >= first)
    if args.name:
        query = query.where(Daily.name == args.name)
    query = query.order_by(Daily.day, Daily.name, Daily.labels)
    with transaction() as session:
        rows = [
            (r.day, r.name, r.labels, r.count, r.avg, r.p50, r.p95, r.p99, r.max)
            for r in session.scalars(query)
        ]
    headers = ["day", "name", "labels", "count", "avg", "p50", "p95", "p99", "max"]
    print(format_table(headers, rows), file=out)
    return 0


def cmd_dlq(args: argparse.Namespace, out: TextIO, *, queue: Any = None) -> int:
    from shared.ops.dlq import DeadLetterQueue

    queue = queue or DeadLetterQueue(get_settings())
    if args.dlq_command == "list":
        letters = queue.pull_all(args.limit)
        queue.release(letters)
        print(
            format_table(
                ["message_id", "published", "email_id", "correlation_id", "attempts"],
                [
                    (
                        m.message_id,
                        m.publish_time,
                        m.email_id,
                        m.correlation_id,
                        m.delivery_attempts,
                    )
                    for m in letters
                ],
            ),
            file=out,
        )
        return 0
    if not args.all and not args.ids:
        raise UsageError("dlq replay needs --all or one or more message ids")
    if args.all and args.ids:
        raise UsageError("give either --all or message ids, not both")
    done, missing = queue.replay_selected(
        None if args.all else list(args.ids),
        progress=lambda line: print(line, file=sys.stderr),
        limit=args.limit,
    )
    print(
        format_table(
            ["dead_letter_id", "new_message_id", "email_id", "correlation_id"],
            [(m.message_id, new, m.email_id, m.correlation_id) for m, new in done],
        ),
        file=out,
    )
    for message_id in missing:
        print(f"not in the dead-letter subscription: {message_id}", file=out)
    return 1 if missing else 0


# -- parsing ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shared.ops",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--env-file", type=Path, help=f"KEY=VALUE file to load (default {DEFAULT_ENV_FILE})"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    trace = sub.add_parser("trace", help="report and log lines of one correlation id")
    trace.add_argument("correlation_id")

    report = sub.add_parser("report", help="one processing report")
    report.add_argument("email_id")
    report.add_argument("--show-values", action="store_true", help="print extracted values")

    reports = sub.add_parser("reports", help="processing reports over a time range")
    reports.add_argument("--since", default="24h")
    reports.add_argument("--until")
    reports.add_argument(
        "--decision",
        help="AUTO_UPDATE, UPDATE_AND_NOTIFY, MANUAL_REVIEW or AUTOMATED (auto-replies, bounces, "
        "bulk mail)",
    )
    reports.add_argument("--intent")
    reports.add_argument("--failed", action="store_true")
    reports.add_argument("--low-confidence", type=float, metavar="THRESHOLD")
    reports.add_argument("--field")
    reports.add_argument("--by-day", action="store_true", help="counts per day, decision, intent")
    reports.add_argument("--limit", type=int, default=100)

    sub.add_parser("breakers", help="state and counters of every breaker")
    breaker = sub.add_parser("breaker", help="force a breaker open, closed, or reset it")
    breaker.add_argument("action", choices=["open", "close", "reset"])
    breaker.add_argument("name")

    rollup = sub.add_parser("rollup", help="run the nightly rollup now")
    rollup.add_argument("--date", type=date.fromisoformat, help="re-aggregate this day")

    metrics = sub.add_parser("metrics", help="daily metric aggregates")
    metrics.add_argument("--days", type=int, default=7)
    metrics.add_argument("--name")

    dlq = sub.add_parser("dlq", help="dead-lettered messages")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    dlq_list = dlq_sub.add_parser("list")
    dlq_list.add_argument("--limit", type=int, default=1000)
    replay = dlq_sub.add_parser("replay")
    replay.add_argument("--all", action="store_true")
    replay.add_argument("ids", nargs="*", metavar="ID")
    replay.add_argument("--limit", type=int, default=1000)
    return parser


COMMANDS = {
    "trace": cmd_trace,
    "report": cmd_report,
    "reports": cmd_reports,
    "breakers": cmd_breakers,
    "breaker": cmd_breaker,
    "rollup": cmd_rollup,
    "metrics": cmd_metrics,
    "dlq": cmd_dlq,
}


def load_environment(env_file: Path | None) -> Path | None:
    """Load ``env_file``, or ``.local/stack.env`` when not in production; the file loaded."""
    if env_file is not None:
        load_env_file(env_file)
        return env_file
    if get_settings().app_env != "production" and DEFAULT_ENV_FILE.is_file():
        load_env_file(DEFAULT_ENV_FILE)
        return DEFAULT_ENV_FILE
    return None


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        load_environment(args.env_file)
        return int(COMMANDS[args.command](args, out))
    except (UsageError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
