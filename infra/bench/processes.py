"""Function processes the benchmarks start themselves, exactly as the stack starts its own:
``functions-framework --target … --source … --signature-type …`` with the stack's env and a
``THREADS`` setting, on a free loopback port, log under the stack's logs folder."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from infra.bench.context import BenchContext
from infra.stack import (
    FUNCTION_SIGNATURES,
    FUNCTION_TARGETS,
    REPO_ROOT,
    ManagedProcess,
    _http_answers,
    _venv_bin,
    free_port,
)

BASELINES = Path(__file__).resolve().parent / "baselines"


def function_argv(target: str, source: Path, signature: str, port: int) -> list[str]:
    return [
        _venv_bin("functions-framework"),
        "--target",
        target,
        "--source",
        str(source),
        "--signature-type",
        signature,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def function_process(
    ctx: BenchContext,
    label: str,
    *,
    function: str,
    threads: int = 8,
    source: Path | None = None,
    target: str | None = None,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> ManagedProcess:
    """A not yet started process of ``function`` (or of a baseline ``source``/``target``)."""
    port = free_port()
    env = ctx.stack.function_env(function)
    env.update({"THREADS": str(threads), "LOG_LEVEL": "WARNING", **(extra_env or {})})
    return ManagedProcess(
        label,
        port,
        ctx.stack.logs / f"bench-{label}.log",
        function_argv(
            target or FUNCTION_TARGETS[function],
            source or REPO_ROOT / "functions" / function / "main.py",
            FUNCTION_SIGNATURES[function],
            port,
        ),
        env=env,
        ready=lambda s: _http_answers(f"http://127.0.0.1:{s.port}/"),
        cwd=cwd or REPO_ROOT,
    )


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float = 60.0
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def post_json(url: str, payload: Any, timeout: float = 60.0) -> tuple[int, bytes]:
    return post(
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}, timeout=timeout
    )
