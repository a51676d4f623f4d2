"""B6 — cold start: from starting a function's process to its first successful answer.

For each function, a fresh ``functions-framework`` process is sent its real first request as
soon as its port accepts connections, retried every 20 ms until the first success: the webhook
a signed Mailgun POST (→ 200, email stored and published), the processor a Pub/Sub push of a
prepared email (→ 200, processed), the rollup ``POST {}`` (→ 200). The baseline is a process
started the same way from :mod:`infra.bench.baselines` that only imports functions-framework
and the client libraries that function truly needs, and answers the same request. Runs
alternate; figures are medians. Target: ≤ 1.2× for each function.

Both sides start from a tree laid out and compiled as a deployed function's is
(:func:`deployed_tree`): the function's archive as ``make package`` builds it (``main.py`` at
the root, ``shared/``), or the baseline's file as ``main.py``, unpacked into the bench's work
folder and byte-compiled with the command Cloud Functions' Python build runs on the source
(``python3 -m compileall -f -q .``); the process runs there with ``PYTHONPATH`` set to it, so
``shared/`` is imported from that bytecode and never from the repository's sources. The
installed libraries are already compiled on both sides (pip compiles what it installs). The
function also gets the ``SENTRY_RELEASE`` Terraform gives it (``<function>@<archive MD5>``).

Beside the wall time (the target), each start's CPU time is reported: user + system seconds of
the process tree (functions-framework's worker included, from ``/proc``) read at the first
success. On a machine shared with other work the wall time moves with the load; the CPU time
much less, so the summary line gives both ratios.

That the webhook never imports anthropic, SQLAlchemy, pymongo or pybreaker is checked by the
intake's test ``tests/integration/test_webhook_process.py``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.bench import workload
from infra.bench.context import BenchContext, require
from infra.bench.cpu import tree_cpu_seconds
from infra.bench.processes import BASELINES, function_process
from infra.bench.results import Check, Measurement, NotMeasured, median
from infra.package import build_archive
from infra.stack import ManagedProcess, _venv_bin

KEY = "B6"
TITLE = "cold start (worst function)"
TARGET = "≤ 1.2 × baseline, each function"
LIMIT = 1.2
GIVE_UP_SECONDS = 60.0

Request = tuple[str, bytes, dict[str, str]]  # path, body, headers


@dataclass
class Subject:
    function: str
    baseline_source: str
    next_request: Callable[[], Request]


@dataclass
class ColdStart:
    seconds: float  # process start → first 200
    refused: list[str]  # statuses answered before the first success
    cpu_seconds: float  # user + system CPU of the process tree at the first 200


def deployed_tree(root: Path, files: dict[str, Path | bytes]) -> Path:
    """Write ``files`` (archive member name → file or bytes) under a fresh ``root`` and
    byte-compile them as Cloud Functions' Python build compiles a function's source.

    That build (Google's ``python/functions_framework`` buildpack, GoogleCloudPlatform/buildpacks
    ``cmd/python/functions_framework/lib/lib.go``) runs ``python3 -m compileall -f -q .`` in the
    source folder before the image is made, so the ``__pycache__`` folders ship with the
    deployed source; the packages of ``requirements.txt`` get their bytecode at install time
    (``pkg/python/python.go``, ``compileBytecode``). Timing a start from bare sources would
    count a compilation of ``shared/`` that no deployed instance does (``PYTHONDONTWRITEBYTECODE``
    on this machine keeps it from being cached)."""
    if root.exists():
        shutil.rmtree(root)
    for member, source in files.items():
        target = root / member
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source if isinstance(source, bytes) else source.read_bytes())
    subprocess.run(
        [_venv_bin("python"), "-m", "compileall", "-f", "-q", "."],
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return root


def _first_success(process: ManagedProcess, request: Callable[[], Request]) -> ColdStart:
    started = time.perf_counter()
    process.start()  # returns at once: ``ready`` is always true here
    deadline = started + GIVE_UP_SECONDS
    path, body, headers = request()
    refused: list[str] = []
    while time.perf_counter() < deadline:
        try:
            answer = urllib.request.Request(
                f"http://127.0.0.1:{process.port}{path}", data=body, headers=headers, method="POST"
            )
            with urllib.request.urlopen(answer, timeout=GIVE_UP_SECONDS) as response:
                if response.status == 200:
                    elapsed = time.perf_counter() - started
                    pid = process.process.pid if process.process is not None else -1
                    return ColdStart(elapsed, refused, tree_cpu_seconds(pid))
                refused.append(str(response.status))
        except urllib.error.HTTPError as exc:
            refused.append(str(exc.code))
            path, body, headers = request()  # reached the app: never resend a used request
        except OSError:
            pass  # not listening yet
        if not process.alive():
            raise RuntimeError(f"{process.name} exited while starting; log {process.log_path}")
        time.sleep(0.02)
    raise RuntimeError(f"{process.name}: no successful answer in {GIVE_UP_SECONDS}s {refused}")


def _subjects(ctx: BenchContext, skipped: dict[str, str]) -> list[Subject]:
    env = ctx.env()
    subjects: list[Subject] = []
    try:
        require("shared.intake.handler", "ROUTES")
        mailgun_request = require("infra.sign_request", "mailgun_request").mailgun_request
    except NotMeasured as exc:
        skipped["webhook"] = str(exc)
    else:
        from infra.bench.b5_intake import _mime

        mime = _mime()

        def webhook_request() -> Request:
            marker = f"<cold-{time.time_ns()}@bench.example>"
            signed = mailgun_request(
                mime.replace(b"<BENCHMID" + b"0" * 24 + b"@bench.example>", marker.encode()),
                signing_key=env["WEBHOOK_MAILGUN_SIGNING_KEY"],
            )
            return signed.path, signed.body, dict(signed.headers)

        subjects.append(Subject("webhook", "webhook_imports.py", webhook_request))
    try:
        require("shared.processing.bootstrap", "get_pipeline")
        require("shared.breakers", "get_breaker")
    except NotMeasured as exc:
        skipped["processor"] = str(exc)
    else:
        emails = workload.make_emails(ctx.sizes.b6_repeats * 2 + 4, "b6")
        workload.prepare(env, emails)
        pending = list(emails)
        lock = threading.Lock()

        def processor_request() -> Request:
            with lock:
                email = pending.pop()
            body = json.dumps(workload.push_body(email)).encode()
            return "/", body, {"Content-Type": "application/json"}

        subjects.append(Subject("processor", "processor_imports.py", processor_request))
    try:
        require("shared.metrics.rollup", "run_rollup")
    except NotMeasured as exc:
        skipped["rollup"] = str(exc)
    else:
        subjects.append(
            Subject(
                "rollup",
                "rollup_imports.py",
                lambda: ("/", b"{}", {"Content-Type": "application/json"}),
            )
        )
    return subjects


def run(ctx: BenchContext) -> Measurement:
    ctx.use_stack_env()
    skipped: dict[str, str] = {}
    subjects = _subjects(ctx, skipped)
    if not subjects:
        raise NotMeasured("; ".join(f"{k}: {v}" for k, v in skipped.items()))
    starts = [
        (subject, index, side)
        for subject in subjects
        for index in range(ctx.sizes.b6_repeats)
        for side in ("function", "baseline")
    ]

    trees: dict[tuple[str, str], Path] = {}
    releases: dict[str, str] = {}
    for subject in subjects:
        archive = build_archive(subject.function, ctx.work_dir / "b6-dist")
        with zipfile.ZipFile(archive) as unpacked:
            members: dict[str, Path | bytes] = {n: unpacked.read(n) for n in unpacked.namelist()}
        trees[(subject.function, "function")] = deployed_tree(
            ctx.work_dir / f"b6-{subject.function}-function", members
        )
        trees[(subject.function, "baseline")] = deployed_tree(
            ctx.work_dir / f"b6-{subject.function}-baseline",
            {"main.py": BASELINES / subject.baseline_source},
        )
        # as Terraform names a deployed function's release (terraform/functions.tf); unset,
        # the Sentry SDK would run ``git rev-parse HEAD`` at every start to guess one
        digest = hashlib.md5(archive.read_bytes(), usedforsecurity=False).hexdigest()
        releases[subject.function] = f"{subject.function}@{digest[:12]}"

    def cold_start(start: tuple[Subject, int, str]) -> ColdStart:
        subject, index, side = start
        tree = trees[(subject.function, side)]
        process = function_process(
            ctx,
            f"b6-{subject.function}-{side}-{index}",
            function=subject.function,
            source=tree / "main.py",
            target="baseline" if side == "baseline" else None,
            extra_env={"PYTHONPATH": str(tree), "SENTRY_RELEASE": releases[subject.function]},
            cwd=tree,
        )
        process.ready = lambda _server: True
        try:
            return _first_success(process, subject.next_request)
        finally:
            process.stop()

    if ctx.sizes.b6_parallel:
        with ThreadPoolExecutor(len(starts)) as pool:
            colds = list(pool.map(cold_start, starts))
    else:
        colds = [cold_start(start) for start in starts]
    timings: dict[str, dict[str, list[float]]] = {}
    cpu: dict[str, dict[str, list[float]]] = {}
    refusals: dict[str, dict[str, list[str]]] = {}
    for (subject, _, side), cold in zip(starts, colds, strict=True):
        timings.setdefault(subject.function, {"function": [], "baseline": []})[side].append(
            cold.seconds
        )
        cpu.setdefault(subject.function, {"function": [], "baseline": []})[side].append(
            cold.cpu_seconds
        )
        refusals.setdefault(subject.function, {"function": [], "baseline": []})[side] += (
            cold.refused
        )
    per_function: dict[str, dict[str, Any]] = {}
    for function, times in timings.items():
        figure, base = median(times["function"]), median(times["baseline"])
        cpu_figure, cpu_base = median(cpu[function]["function"]), median(cpu[function]["baseline"])
        per_function[function] = {
            "seconds": round(figure, 3),
            "baseline_seconds": round(base, 3),
            "ratio": round(figure / base, 3),
            "runs": {side: [round(t, 3) for t in ts] for side, ts in times.items()},
            "cpu_seconds": round(cpu_figure, 3),
            "baseline_cpu_seconds": round(cpu_base, 3),
            "cpu_ratio": round(cpu_figure / cpu_base, 3) if cpu_base else None,
            "cpu_runs": {side: [round(t, 3) for t in ts] for side, ts in cpu[function].items()},
            "answers_before_success": refusals[function],
        }
    worst = max(per_function, key=lambda f: per_function[f]["ratio"])
    return Measurement(
        figure=per_function[worst]["seconds"],
        unit=f"s ({worst})",
        baseline=per_function[worst]["baseline_seconds"],
        ratio=per_function[worst]["ratio"],
        summary="; ".join(
            f"{function} wall {data['seconds']:.3g}/{data['baseline_seconds']:.3g} s, "
            f"CPU {data['cpu_seconds']:.3g}/{data['baseline_cpu_seconds']:.3g} s"
            + (f" (CPU ratio {data['cpu_ratio']:.2f})" if data["cpu_ratio"] else "")
            for function, data in per_function.items()
        ),
        checks=[
            Check.at_most(f"{function} / baseline", data["ratio"], LIMIT, "{:.2f}")
            for function, data in per_function.items()
        ]
        + [
            Check(f"{function} measured", False, f"not measured: {why}")
            for function, why in skipped.items()
        ],
        details={"functions": per_function, "not_measured": skipped},
    )
