"""Leaks, checked last (``zz``): every log line the functions wrote during this pytest session,
every Sentry envelope, every ``.tf`` file and the packaged archives.

Log lines: each line of ``webhook.log``, ``processor.log`` and ``rollup.log`` of every stack
this session started (the functions' whole stdout/stderr) must be one JSON object with
``severity`` and a ``correlation_id`` key. Lines written outside an invocation (start-up,
background threads) carry ``"correlation_id": null`` — the key is always there, so a query on
it never silently skips a line. The stand-ins' and emulators' own logs are not the system's
and are not scanned.

Needles: every debtor name, email address, street, amount, balance and body phrase the suite
put into the system (:data:`tests.reliability.helpers.SENSITIVE`) and every local secret.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from infra import package
from infra.stack import LOCAL_WEBHOOK_SECRETS, REPO_ROOT
from tests.reliability.conftest import stack_log_dirs
from tests.reliability.helpers import SENSITIVE, Harness, make_cases
from tests.reliability.summary import SUMMARY

FUNCTION_LOGS = ("webhook.log", "processor.log", "rollup.log")
# the usernames ("sendgrid", "postmark") are provider names, not secrets
SECRETS = [
    *(v for k, v in LOCAL_WEBHOOK_SECRETS.items() if not k.endswith("_USERNAME")),
    "local-standin-key",
]


def _needles() -> list[str]:
    return SENSITIVE.values() + SECRETS


def _find(text: str, needles: list[str]) -> list[str]:
    """The needles in ``text``; numbers only as whole numbers (``523.45`` is not a leak inside
    the timestamp ``1764376523.456``)."""
    found = []
    for needle in needles:
        if needle not in text:
            continue
        if NUMBER.fullmatch(needle) and not re.search(
            rf"(?<![\d.]){re.escape(needle)}(?![\d])", text
        ):
            continue
        found.append(needle)
    return found


NUMBER = re.compile(r"[\d.]+")


def test_every_function_log_line_is_json_with_severity_and_correlation_id_and_no_data(
    harness: Harness,
) -> None:
    # some traffic of this test's own, with a Claude failure, so the scan never looks at nothing
    cases = make_cases(6)
    for case in cases[:2]:
        harness.claude.add_rule(case.marker, {"kind": "error", "status": 500}, times=2)
    harness.prepare(cases)
    harness.send_all(cases)
    harness.wait_for_reports(cases)
    needles = _needles()
    problems: list[str] = []
    lines = 0
    for logs in stack_log_dirs():
        for name in FUNCTION_LOGS:
            path = logs / name
            if not path.exists():
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if not line.strip():
                    continue
                lines += 1
                where = f"{path.relative_to(REPO_ROOT)}:{number}"
                try:
                    record = json.loads(line)
                except ValueError:
                    problems.append(f"{where}: not JSON: {line[:80]!r}")
                    continue
                if not isinstance(record, dict) or "severity" not in record:
                    problems.append(f"{where}: no severity")
                elif "correlation_id" not in record:
                    problems.append(f"{where}: no correlation_id ({record.get('message')})")
                for needle in _find(line, needles):
                    problems.append(f"{where}: contains test data ({len(needle)} chars)")
    SUMMARY.count("log_lines_scanned", lines)
    for problem in problems[:20]:
        SUMMARY.loss(f"log leak/format: {problem}")
    assert lines > 0
    assert not problems, "\n".join(problems[:30])


def test_no_sentry_envelope_carries_test_data(harness: Harness) -> None:
    from infra.fakes.clients import SentrySink

    sink = SentrySink(harness.stack.url("sentry"))
    envelopes = sink.envelopes()
    needles = _needles()
    leaks = [
        f"envelope {i}: {n!r} (fake test data)"
        for i, envelope in enumerate(envelopes)
        for n in _find(json.dumps(envelope), needles)
    ]
    SUMMARY.count("sentry_envelopes_scanned", len(envelopes))
    assert not leaks, leaks[:20]


def test_tf_files_and_archives_hold_no_secret_values(tmp_path: Path) -> None:
    needles = [*SECRETS, "BEGIN PRIVATE KEY", "sk-ant-", "AKIA"]
    offenders = []
    tf_files = [
        *(REPO_ROOT / "terraform").rglob("*.tf"),
        *(REPO_ROOT / "terraform").rglob("*.tfvars*"),
    ]
    for path in tf_files:
        offenders += [f"{path.name}: {n}" for n in _find(path.read_text(errors="replace"), needles)]
    archives = package.build_all(tmp_path)
    members = 0
    for archive in archives:
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                members += 1
                lowered = info.filename.lower()
                if lowered.endswith((".env", "stack.env")) or "/.local/" in f"/{lowered}":
                    offenders.append(f"{archive.name}: ships {info.filename}")
                text = zipped.read(info).decode("utf-8", "replace")
                offenders += [f"{archive.name}:{info.filename}: {n}" for n in _find(text, needles)]
    assert tf_files and archives and members
    assert not offenders, offenders
