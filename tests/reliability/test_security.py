"""Security checks: callers of the private functions, SQL only through bound parameters, MongoDB
filters only from validated values, and the dependency audit gate.

The processor has no caller check of its own: it is private behind Cloud Functions IAM, and
only the push subscription's service account may invoke it — proven by
``tests/unit/test_terraform.py::test_private_functions_have_no_public_invoker``,
``::test_no_public_member_anywhere_but_the_webhook_invoker`` and
``::test_processor_push_uses_an_oidc_identity_that_may_invoke_it``. The rollup checks the
caller again in code; that check is exercised here on a real process in production config.
"""

from __future__ import annotations

import ast
import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from infra.stack import REPO_ROOT, ManagedProcess, free_port
from tests.reliability.helpers import Harness, make_cases
from tests.reliability.summary import SUMMARY

SOURCE_DIRS = ("shared", "functions", "infra", "migrations")


def _post(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=b"{}", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_rollup_in_production_config_refuses_unauthenticated_callers(harness: Harness) -> None:
    stack = harness.stack
    original = stack.servers["rollup"]
    port = free_port()
    argv = list(original.argv)
    argv[argv.index("--port") + 1] = str(port)
    env = {
        **stack.function_env("rollup"),
        "APP_ENV": "production",
        "ROLLUP_AUDIENCE": f"http://127.0.0.1:{port}/",
        "ROLLUP_ALLOWED_INVOKERS": "scheduler@local-project.iam.gserviceaccount.com",
    }
    server = ManagedProcess(
        "rollup-production",
        port,
        stack.logs / "rollup-production.log",
        argv,
        env=env,
        ready=original.ready,
        cwd=REPO_ROOT,
    )
    day_marker = f"rel_auth_{uuid.uuid4().hex[:6]}"
    harness.query(
        "INSERT INTO operational_metrics (recorded_at, name, value, labels) "
        "VALUES (now() - interval '27 days', :n, 1, '{}'::jsonb) RETURNING id",
        n=day_marker,
    )
    server.start()
    try:
        url = f"http://127.0.0.1:{port}/"
        forged = "eyJhbGciOiJub25lIn0.eyJlbWFpbCI6InNjaGVkdWxlckBsb2NhbC1wcm9qZWN0In0."
        answers = {
            "no header": _post(url, {}),
            "basic auth": _post(url, {"Authorization": "Basic dXNlcjpwYXNz"}),
            "empty bearer": _post(url, {"Authorization": "Bearer "}),
            "unsigned token": _post(url, {"Authorization": f"Bearer {forged}"}),
        }
    finally:
        server.stop()
    SUMMARY.count("extra:unauthenticated rollup calls refused", len(answers))
    assert all(status in (401, 403) for status in answers.values()), answers
    rolled = harness.query(
        "SELECT count(*) AS n FROM operational_metrics_daily WHERE name = :n", n=day_marker
    )
    assert rolled[0]["n"] == 0, "a rejected call still ran the rollup"


def _python_files() -> list[Path]:
    return [p for d in SOURCE_DIRS for p in sorted((REPO_ROOT / d).rglob("*.py"))]


def _is_dynamic_string(node: ast.AST) -> bool:
    """An f-string, ``%``/``+`` formatting or ``.format()`` — SQL text built from values."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return not (_is_constant(node.left) and _is_constant(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format"
    return False


def _is_constant(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left) and _is_constant(node.right)
    return False


SQL_CALLS = {"text", "execute", "exec_driver_sql", "executemany", "literal_column"}


def sql_built_from_values(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = (
            node.func.attr
            if isinstance(node.func, ast.Attribute)
            else getattr(node.func, "id", None)
        )
        if name in SQL_CALLS and _is_dynamic_string(node.args[0]):
            found.append(f"{filename}:{node.lineno}")
    return found


def test_the_sql_check_finds_formatted_sql() -> None:
    bad = (
        "text(f'SELECT * FROM t WHERE id = {x}')\n"
        "conn.execute('SELECT %s' % x)\n"
        "conn.exec_driver_sql('DELETE FROM t WHERE a = ' + a)\n"
        "text('SELECT {}'.format(x))\n"
    )
    good = "text('SELECT * FROM t WHERE id = :id')\nconn.execute(_QUERY, {'id': 1})\n"
    assert len(sql_built_from_values(bad, "bad.py")) == 4
    assert sql_built_from_values(good, "good.py") == []


def test_every_sql_statement_uses_bound_parameters() -> None:
    files = _python_files()
    offenders = [
        hit for path in files for hit in sql_built_from_values(path.read_text(), str(path))
    ]
    SUMMARY.count("extra:python files checked for SQL formatting", len(files))
    assert not offenders, f"SQL text built from values (use bound parameters): {offenders}"


OPERATOR_VALUES: list[Any] = [
    {"$ne": None},
    {"$gt": ""},
    {"$regex": ".*"},
    {"$where": "1 == 1"},
    "$ne",
    '{"$ne": null}',
    "{'$gt': ''}",
    ".*",
    "CASE-\u0000",
]


def test_operator_shaped_extracted_values_match_nothing(harness: Harness) -> None:
    """Claude (fooled) answers with operator-shaped case numbers, references, emails and names;
    the matcher must not turn any of them into a query that finds (and changes) an account."""
    victims = make_cases(3, kinds=("payment",))
    harness.prepare(victims)  # accounts that a working injection would hit
    cases = make_cases(len(OPERATOR_VALUES), kinds=("payment",))
    for case, value in zip(cases, OPERATOR_VALUES, strict=True):
        answer = case.claude_answer()
        evidence = f"case {case.case_number}"
        for field in ("case_number", "account_reference", "debtor_email", "debtor_name"):
            answer[field] = {"value": value, "confidence": 0.99, "evidence": evidence}
        harness.claude.add_rule(case.marker, {"kind": "tool_use", "input": answer})
    harness.send_all(cases)
    SUMMARY.count("hostile_inputs", len(cases))
    harness.wait_for_reports(cases, timeout=120)
    reports = harness.report_rows([str(c.email_id) for c in cases])
    assert len(reports) == len(cases)
    assert all(r["status"] in ("done", "failed") for r in reports)
    assert not [r for r in reports if r["decision"] in ("AUTO_UPDATE", "UPDATE_AND_NOTIFY")]
    ids = [str(c.email_id) for c in cases]
    with harness._mongo() as client:
        touched = client["collections"]["accounts"].count_documents(
            {"applied_email_ids": {"$in": ids}}
        )
        victim_docs = list(
            client["collections"]["accounts"].find(
                {"_id": {"$in": [v.account_id for v in victims]}}
            )
        )
    assert touched == 0
    assert all(d["applied_email_ids"] == [] and d["history"] == [] for d in victim_docs)


def audit_failures(report: dict[str, Any]) -> tuple[list[str], int, int]:
    """(vulnerabilities with a fix, audited count, not-audited count) of a pip-audit JSON."""
    fixable, audited, skipped = [], 0, 0
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep:
            skipped += 1
            continue
        audited += 1
        for vuln in dep.get("vulns", []):
            if vuln.get("fix_versions"):
                fixable.append(f"{dep['name']} {dep.get('version')}: {vuln.get('id')}")
    return fixable, audited, skipped


def test_audit_gate_fails_on_a_fixable_vulnerability() -> None:
    report = {
        "dependencies": [
            {"name": "ok", "version": "1", "vulns": []},
            {"name": "bad", "version": "1", "vulns": [{"id": "PYSEC-1", "fix_versions": ["2"]}]},
            {"name": "nofix", "version": "1", "vulns": [{"id": "PYSEC-2", "fix_versions": []}]},
            {"name": "gone", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    assert audit_failures(report) == (["bad 1: PYSEC-1"], 3, 1)


def test_pip_audit_over_requirements(tmp_path: Path) -> None:
    """``pip-audit`` over the pinned requirements; fails on any known vulnerability with a fix.

    The vulnerability services (PyPI's JSON API, OSV) may be unreachable (they are on the
    build machines here: every package comes back "not audited"); that is reported in the
    summary, not hidden — and not a failure, or CI would be red for a network reason.
    """
    import subprocess
    import sys

    out = tmp_path / "audit.json"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "pip-audit"),
            "-r",
            str(REPO_ROOT / "requirements.txt"),
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--timeout",
            "10",
            "--format",
            "json",
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.exists(), f"pip-audit did not run: {done.stderr[-2000:]}"
    report = json.loads(out.read_text())
    fixable, audited, skipped = audit_failures(report)
    pinned = [
        line
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    ]
    assert audited + skipped == len(pinned), "pip-audit did not see every pinned requirement"
    SUMMARY.note(
        f"pip-audit: {audited} of {len(pinned)} requirements audited"
        + (f", {skipped} NOT AUDITED (vulnerability service unreachable)" if skipped else "")
    )
    assert not fixable, f"known vulnerabilities with a fix: {fixable}"
