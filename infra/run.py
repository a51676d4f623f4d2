"""``make run``: bring up the local stack, seed demo accounts, post the sample emails through the
webhook, wait until each one has a processing report, print the results; then keep serving.

``--once`` exits after the table: status 0 if every sample was processed (a ``done`` report),
1 otherwise. Without ``ANTHROPIC_API_KEY`` in the environment the processor uses the rules
extractor; with it, real Claude (the key is passed through to the processor).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from infra.stack import REPO_ROOT, LocalStack, StackError

STATE_DIR = REPO_ROOT / ".local" / "stack"
ENV_FILE = REPO_ROOT / ".local" / "stack.env"
SAMPLES_DIR = REPO_ROOT / "infra" / "samples"
REPORT_TIMEOUT_SECONDS = 180.0


@dataclass
class Posted:
    sample: str
    route: str
    email_id: str | None = None
    error: str | None = None
    report: dict[str, Any] | None = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--once", action="store_true", help="exit after the samples are processed")
    parser.add_argument("--no-samples", action="store_true", help="start and seed only")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    # The user's ANTHROPIC_API_KEY (if any) reaches the processor through the inherited
    # environment; "fallback" keeps the stack from pointing it at the stand-in.
    using_claude = bool(os.environ.get("ANTHROPIC_API_KEY"))
    stack = LocalStack(STATE_DIR, claude="fallback")
    print(f"starting servers (logs in {stack.logs})", flush=True)
    try:
        stack.start()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        stack.write_env_file(ENV_FILE)
        _print_summary(stack)
        from infra.seed import seed_accounts

        count = seed_accounts(stack.env()["MONGODB_URI"], "collections")
        print(f"seeded {count} demo accounts into MongoDB (collections.accounts)", flush=True)
        ok = True
        if not args.no_samples:
            print(
                "extractor: "
                + ("Claude (ANTHROPIC_API_KEY is set)" if using_claude else "rules (no API key)"),
                flush=True,
            )
            posted = post_samples(stack)
            wait_for_reports(stack, posted, REPORT_TIMEOUT_SECONDS, stop)
            print_table(posted)
            print(f"\nstaff notifications (SMTP stand-in): {stack.mailbox_dir / 'mail'}/*.eml")
            ok = all(p.report is not None and p.report["status"] == "done" for p in posted)
            if not ok:
                print("error: not every sample was processed (see the table)", file=sys.stderr)
        if args.once:
            return 0 if ok else 1
        print("serving; press Ctrl-C to stop", flush=True)
        while not stop.wait(1.0):
            try:
                stack.assert_healthy()
            except StackError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
        return 0
    finally:
        print("stopping servers", flush=True)
        stack.stop()
        ENV_FILE.unlink(missing_ok=True)
        print("stopped", flush=True)


def load_manifest(samples_dir: Path = SAMPLES_DIR) -> list[dict[str, str]]:
    manifest = json.loads((samples_dir / "samples.json").read_text())
    return list(manifest["samples"])


def post_samples(stack: LocalStack, samples_dir: Path = SAMPLES_DIR) -> list[Posted]:
    """POST every sample through its webhook route; records the email id the webhook gave."""
    from infra.sign_request import build_request

    env = stack.env()
    posted = []
    for entry in load_manifest(samples_dir):
        item = Posted(entry["file"], entry["route"])
        mime = (samples_dir / entry["file"]).read_bytes()
        signed = build_request(entry["route"], mime, env)
        request = urllib.request.Request(
            env["WEBHOOK_URL"].rstrip("/") + signed.path,
            data=signed.body,
            headers=signed.headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                item.email_id = json.loads(response.read())["email_id"]
        except urllib.error.HTTPError as exc:
            item.error = f"webhook answered {exc.code}: {exc.read()[:200]!r}"
        except (OSError, ValueError, KeyError) as exc:
            item.error = f"post failed: {type(exc).__name__}"
        posted.append(item)
    print(f"posted {sum(1 for p in posted if p.email_id)} of {len(posted)} samples", flush=True)
    return posted


def _reports(stack: LocalStack, email_ids: list[str]) -> dict[str, dict[str, Any]]:
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT email_id, status, decision, intent, extractor, degraded, "
                    "overall_confidence, match, errors FROM processing_reports "
                    "WHERE email_id IN :ids"
                ).bindparams(bindparam("ids", expanding=True)),
                {"ids": email_ids},
            ).mappings()
            return {row["email_id"]: dict(row) for row in rows}
    finally:
        engine.dispose()


def wait_for_reports(
    stack: LocalStack, posted: list[Posted], timeout: float, stop: threading.Event
) -> None:
    """Poll Postgres until every posted sample has a report (bounded by ``timeout``)."""
    wanted = [p.email_id for p in posted if p.email_id]
    deadline = time.monotonic() + timeout
    found: dict[str, dict[str, Any]] = {}
    while wanted and not stop.is_set():
        found = _reports(stack, wanted)
        if len(found) == len(set(wanted)) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for item in posted:
        if item.email_id:
            item.report = found.get(item.email_id)
            if item.report is None and item.error is None:
                item.error = f"no report within {timeout:.0f}s"


def print_table(posted: list[Posted]) -> None:
    header = ("email", "route", "intent", "decision", "account", "conf", "extractor")
    rows = []
    for item in posted:
        report = item.report
        if report is None:
            rows.append((item.sample, item.route, "-", item.error or "-", "-", "-", "-"))
            continue
        match = report["match"] or {}
        confidence = report["overall_confidence"]
        extractor = report["extractor"] or "-"
        if report["degraded"]:
            extractor += " (degraded)"
        rows.append(
            (
                item.sample,
                item.route,
                report["intent"] or report["status"],
                report["decision"] or report["status"],
                match.get("account_id") or ("ambiguous" if match.get("ambiguous") else "-"),
                f"{confidence:.2f}" if confidence is not None else "-",
                extractor,
            )
        )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(value).ljust(width) for value, width in zip(row, widths, strict=True)))


def _print_summary(stack: LocalStack) -> None:
    env = stack.env()
    print("\nlocal stack is up:")
    for name, server in stack.servers.items():
        print(f"  {name:<10} 127.0.0.1:{server.port:<6} log {server.log_path}")
    print(f"\n  webhook URL   {env['WEBHOOK_URL']}  (routes /mailgun /sendgrid /postmark /raw)")
    if "CONSOLE_URL" in env:
        print(f"  console URL   {env['CONSOLE_URL']}/  (development sign-in: pick a role)")
    print(f"  addresses     {ENV_FILE}  (set -a; . {ENV_FILE}; set +a)")
    print(f"  mailbox       {stack.mailbox_dir / 'mail'}\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
