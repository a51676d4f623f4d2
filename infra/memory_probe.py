"""Reproduce and diagnose the webhook's memory growth in minutes (see docs/reliability.md).

    python -m infra.memory_probe [--emails 300] [--large 24] [--env KEY=VALUE …] [--trace]
    python -m infra.memory_probe --peak [--mb 25]

The first form starts a local stack with only the webhook function (started as the stack and
the soak start it: functions-framework, gunicorn, 8 threads), posts ``--emails`` emails over
every provider route from 8 senders (mostly small, ``--large`` of 5–25 MB spread through the
run) and prints the webhook's RSS at ten points, with glibc's own view of its heap
(``mallinfo2``: in use, free but kept, mmapped) taken inside the process. ``--env`` adds
variables to the webhook's environment only (``MALLOC_ARENA_MAX=2``,
``MEMORY_TUNING_ENABLED=false``, …). ``--trace`` also runs ``tracemalloc`` in the worker and
prints what Python holds at the first sample against the last, and the gc object counts: a leak
shows up there, the allocator's retention does not.

``--peak`` measures the Python allocations of one request of ``--mb`` MB per route, in-process
through the framework's test client with the real adapters on a local stack's GCS and Pub/Sub:
the peak of traced memory during the request, against the body's size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from infra.sign_request import ROUTES, build_request
from infra.stack import REPO_ROOT, LocalStack, ManagedProcess

# Loaded into the webhook worker through PYTHONPATH: a thread that answers "sample-N" requests
# (files in the probe directory) with glibc's heap figures, gc counts and, with --trace, a
# tracemalloc snapshot. Started after gunicorn forks the worker.
_HOOK = r"""
import ctypes, gc, json, os, threading, time, tracemalloc
from collections import Counter

_DIR = os.environ["MEMORY_PROBE_DIR"]
_TRACE = os.environ.get("MEMORY_PROBE_TRACE") == "1"


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def _mallinfo():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    return {"heap": info.arena, "mmapped": info.hblkhd, "in_use": info.uordblks,
            "free_kept": info.fordblks}


def _answer(name):
    out = {"mallinfo": _mallinfo(), "gc_objects": len(gc.get_objects()),
           "threads": threading.active_count()}
    types = Counter(type(o).__name__ for o in gc.get_objects())
    out["gc_top"] = types.most_common(12)
    if _TRACE:
        out["traced"] = tracemalloc.get_traced_memory()
        tracemalloc.take_snapshot().dump(os.path.join(_DIR, name + ".snapshot"))
    with open(os.path.join(_DIR, name + ".json.tmp"), "w") as f:
        json.dump(out, f)
    os.replace(os.path.join(_DIR, name + ".json.tmp"), os.path.join(_DIR, name + ".json"))


def _watch():
    if _TRACE:
        tracemalloc.start(12)
    while True:
        for entry in os.listdir(_DIR):
            if entry.endswith(".request"):
                os.remove(os.path.join(_DIR, entry))
                _answer(entry[: -len(".request")])
        time.sleep(0.1)


def _in_child():
    threading.Thread(target=_watch, daemon=True).start()


if os.environ.get("FUNCTION_NAME") == "webhook":
    os.register_at_fork(after_in_child=_in_child)
"""

MB = 1024 * 1024


def make_email(index: int, attachment_bytes: int, seed: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Probe Sender <probe.{index}@mail.example>"
    message["To"] = "inbound@collections.example"
    message["Subject"] = f"Probe {index}"
    message["Date"] = "Mon, 03 Mar 2025 10:15:00 +0000"
    message["Message-ID"] = f"<probe-{seed}-{index}@mail.example>"
    message.set_content(f"Hello,\n\nprobe email number {index}.\n\nRegards\n")
    if attachment_bytes:
        blob = random.Random(seed * 100_003 + index).randbytes(attachment_bytes)
        message.add_attachment(
            blob, maintype="application", subtype="octet-stream", filename="scan.bin"
        )
    return message.as_bytes(policy=policy.SMTP)


def plan_sizes(emails: int, large: int, seed: int) -> list[int]:
    """Attachment sizes: 80 % up to 20 KB, the rest up to 1 MB, ``large`` of 5–25 MB (whole
    email; base64 inflates by 4/3) spread evenly through the run."""
    rng = random.Random(seed)
    sizes = [
        rng.randint(0, 20_000) if rng.random() < 0.8 else rng.randint(20_000, MB)
        for _ in range(emails)
    ]
    for k in range(large):
        at = int((k + 0.5) * emails / max(large, 1))
        sizes[at] = int(rng.randint(5 * MB, 25 * MB) * 0.74)
    return sizes


def rss_mb(server: ManagedProcess) -> float:
    """VmRSS of the server's process group (gunicorn master + worker), in MB."""
    assert server.process is not None
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != server.process.pid:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def _sample(probe_dir: Path, name: str, timeout: float = 120.0) -> dict[str, Any]:
    (probe_dir / f"{name}.request").touch()
    answer = probe_dir / f"{name}.json"
    deadline = time.monotonic() + timeout
    while not answer.exists():
        if time.monotonic() > deadline:
            return {}
        time.sleep(0.1)
    return dict(json.loads(answer.read_text()))


def _post(url: str, route: str, mime: bytes, env: dict[str, str]) -> int:
    signed = build_request(route, mime, env)
    request = urllib.request.Request(
        url + signed.path, data=signed.body, headers=signed.headers, method="POST"
    )
    for _ in range(20):
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return int(exc.code)
        except OSError:
            pass
        time.sleep(1.0)
    return 599


def soak(args: argparse.Namespace) -> None:
    seed = int(time.time())
    probe_dir = Path(tempfile.mkdtemp(prefix="memory-probe-"))
    hook_dir = probe_dir / "hook"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(_HOOK)
    stack = LocalStack(REPO_ROOT / ".local" / f"memory-probe-{os.getpid()}", functions=("webhook",))
    stack.start()
    try:
        webhook = stack.servers["webhook"]
        webhook.stop()
        webhook.env.update(dict(item.split("=", 1) for item in args.env))
        webhook.env["PYTHONPATH"] = f"{hook_dir}{os.pathsep}{webhook.env['PYTHONPATH']}"
        webhook.env["MEMORY_PROBE_DIR"] = str(probe_dir)
        webhook.env["MEMORY_PROBE_TRACE"] = "1" if args.trace else "0"
        webhook.start()
        env = stack.env()
        url = stack.url("webhook")
        sizes = plan_sizes(args.emails, args.large, seed)
        marks = {max(1, round(args.emails * k / 10)) for k in range(1, 11)}
        print(
            f"webhook env extras: {args.env or 'none'}; {args.emails} emails, "
            f"{args.large} of 5-25 MB; probe dir {probe_dir}"
        )
        header = f"{'sent':>6} {'RSS MB':>7} {'heap':>7} {'in use':>7} {'free kept':>9} "
        print(header + f"{'mmapped':>8} {'gc objs':>8}")
        queue = list(enumerate(sizes))
        lock = threading.Lock()
        done = [0]
        statuses: dict[int, int] = {}

        def worker() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    index, size = queue.pop(0)
                status = _post(url, ROUTES[index % len(ROUTES)], make_email(index, size, seed), env)
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    done[0] += 1

        # samples are taken by the main thread at the marks; senders keep going meanwhile
        first = _sample(probe_dir, "s0")
        _print_row(0, rss_mb(webhook), first)
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.senders)]
        for thread in threads:
            thread.start()
        taken: list[tuple[int, dict[str, Any]]] = [(0, first)]
        pending = sorted(marks)
        while pending:
            with lock:
                count = done[0]
            if count >= pending[0]:
                mark = pending.pop(0)
                answer = _sample(probe_dir, f"s{mark}")
                _print_row(count, rss_mb(webhook), answer)
                taken.append((mark, answer))
            time.sleep(0.05)
        for thread in threads:
            thread.join()
        print(f"answers: {statuses}")
        print("top gc types at the end:", taken[-1][1].get("gc_top"))
        if args.trace:
            _print_trace_diff(probe_dir, taken)
    finally:
        stack.stop()


def _print_row(sent: int, rss: float, answer: dict[str, Any]) -> None:
    info = answer.get("mallinfo", {})
    mb = {key: info.get(key, 0) / MB for key in ("heap", "in_use", "free_kept", "mmapped")}
    print(
        f"{sent:>6} {rss:>7.0f} {mb['heap']:>7.0f} {mb['in_use']:>7.0f} "
        f"{mb['free_kept']:>9.0f} {mb['mmapped']:>8.0f} {answer.get('gc_objects', 0):>8}",
        flush=True,
    )


def _print_trace_diff(probe_dir: Path, taken: list[tuple[int, dict[str, Any]]]) -> None:
    import tracemalloc

    first = tracemalloc.Snapshot.load(str(probe_dir / f"s{taken[1][0]}.snapshot"))
    last = tracemalloc.Snapshot.load(str(probe_dir / f"s{taken[-1][0]}.snapshot"))
    for mark, answer in taken:
        traced = answer.get("traced", (0, 0))
        print(f"traced at {mark}: current {traced[0] / MB:.1f} MB, peak {traced[1] / MB:.1f} MB")
    print(f"tracemalloc growth from sample {taken[1][0]} to {taken[-1][0]} (top 12 by size):")
    for stat in last.compare_to(first, "lineno")[:12]:
        print("  ", stat)


def peak(args: argparse.Namespace) -> None:
    """Python-level peak per request for one ``--mb`` MB email on each route: in-process through
    the framework's test client, with the real adapters on a local stack's GCS and Pub/Sub."""
    import tracemalloc

    from functions_framework import create_app

    from shared.config import reset_settings_cache
    from shared.intake.bootstrap import reset_dependencies

    stack = LocalStack(REPO_ROOT / ".local" / f"memory-peak-{os.getpid()}", functions=())
    stack.start()
    try:
        env = stack.env()
        os.environ.update(env)
        reset_settings_cache()
        reset_dependencies()
        app = create_app("webhook", str(REPO_ROOT / "functions" / "webhook" / "main.py"))
        client = app.test_client()
        tracemalloc.start()
        for n, route in enumerate(ROUTES):
            mime = make_email(n, int(args.mb * MB * 0.74), seed=int(time.time()))
            signed = build_request(route, mime, env)
            body, path, headers = signed.body, signed.path, signed.headers
            del signed, mime
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            answer = client.post(path, data=body, headers=headers)
            after, top = tracemalloc.get_traced_memory()
            print(
                f"{route:>13}: status {answer.status_code}, body {len(body) / MB:5.1f} MB, "
                f"peak {(top - before) / MB:6.1f} MB above the request's start "
                f"({(top - before) / len(body):.1f}x the body), "
                f"left after {(after - before) / MB:.1f} MB",
                flush=True,
            )
            del answer, body
        reset_dependencies()
    finally:
        stack.stop()


def _local_secrets() -> dict[str, str]:
    from infra.stack import LOCAL_WEBHOOK_SECRETS

    return dict(LOCAL_WEBHOOK_SECRETS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=300)
    parser.add_argument("--large", type=int, default=24, help="emails of 5-25 MB")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the webhook")
    parser.add_argument("--trace", action="store_true", help="tracemalloc in the worker")
    parser.add_argument("--peak", action="store_true", help="per-request peak, in-process")
    parser.add_argument("--mb", type=float, default=25.0, help="--peak: email size in MB")
    args = parser.parse_args(argv)
    if args.peak:
        peak(args)
    else:
        soak(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
