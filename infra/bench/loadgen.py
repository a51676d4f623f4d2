"""A loopback HTTP load generator for B5: ``wrk`` (Debian's) with a Lua script, or Python.

Every request must be a different, validly signed Mailgun POST (one-time tokens, a unique
Message-ID so each is a new email), yet building 250 KB bodies must not cost the client more
than the server. So the body is built once as a :class:`Template` with fixed-length
placeholders (token, timestamp, signature, Message-ID) and cut into chunks; per request the
generator joins the chunks with the next row of pre-computed values. Both servers under test
get the same generator, the same values file shape and the same connection count.

``wrk`` is installed with ``apt-get install -y wrk`` when missing and running as root; without
it, :func:`run_python` (threads with keep-alive ``http.client`` connections) is used and the
row says so.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TOKEN = "7e57c0de" * 6 + "ab"  # 50 hex characters, like Mailgun's
STAMP = "1999999999"
MESSAGE_ID = "BENCHMID" + "0" * 24  # 32 characters inside <…@bench.example>

_LUA = r"""
local dir = os.getenv("BENCH_WRK_DIR")
local chunks, slots, vars = {}, {}, {}
local counter = 0
local out
local function slurp(path)
  local f = assert(io.open(path, "rb")); local data = f:read("*a"); f:close(); return data
end
function init(args)
  for s in slurp(dir .. "/layout.txt"):gmatch("%d+") do slots[#slots + 1] = tonumber(s) end
  for i = 0, #slots do chunks[i] = slurp(dir .. "/chunk-" .. i .. ".bin") end
  for line in io.lines(dir .. "/vars.txt") do
    local row = {}
    for v in line:gmatch("%S+") do row[#row + 1] = v end
    vars[#vars + 1] = row
  end
  out = assert(io.open(dir .. "/accepted.txt", "w"))
end
function request()
  counter = counter + 1
  local row = vars[((counter - 1) % #vars) + 1]
  local parts = {chunks[0]}
  for i = 1, #slots do
    parts[#parts + 1] = row[slots[i]]
    parts[#parts + 1] = chunks[i]
  end
  return wrk.format("POST", nil, nil, table.concat(parts))
end
function response(status, headers, body)
  if status == 200 then
    local id = body:match('"email_id"%s*:%s*"([^"]+)"')
    if id then out:write(id, "\n"); out:flush() end
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class Template:
    """A request body cut at its placeholders: ``chunks[0] v[slots[0]] chunks[1] …``."""

    path: str
    headers: dict[str, str]
    chunks: list[bytes]
    slots: list[int]  # index into a values row: 0 token, 1 stamp, 2 signature, 3 message id

    def body(self, row: tuple[str, ...]) -> bytes:
        parts = [self.chunks[0]]
        for slot, chunk in zip(self.slots, self.chunks[1:], strict=True):
            parts += [row[slot].encode(), chunk]
        return b"".join(parts)


def cut_template(path: str, headers: dict[str, str], body: bytes, signature: str) -> Template:
    placeholders = [TOKEN, STAMP, signature, MESSAGE_ID]
    for index, text in enumerate(placeholders[:3]):
        found = body.count(text.encode())
        if found != 1:
            raise RuntimeError(f"placeholder {index} occurs {found} times in the template body")
    if body.count(MESSAGE_ID.encode()) < 1:
        raise RuntimeError("the Message-ID placeholder is not in the template body")
    pattern = re.compile(b"|".join(re.escape(p.encode()) for p in placeholders))
    chunks, slots, position = [], [], 0
    for match in pattern.finditer(body):
        chunks.append(body[position : match.start()])
        slots.append(placeholders.index(match.group().decode()))
        position = match.end()
    chunks.append(body[position:])
    return Template(path, headers, chunks, slots)


def make_rows(
    count: int, signing_key: str, sign: Callable[[str, str, str], str]
) -> list[tuple[str, ...]]:
    """``count`` fresh (token, timestamp, signature, message id) rows, each used once."""
    stamp = str(int(time.time()))
    run = secrets.token_hex(4)
    rows = []
    for index in range(count):
        token = secrets.token_hex(25)
        rows.append((token, stamp, sign(signing_key, stamp, token), f"B{run}{index:023d}"))
    assert all(len(r[0]) == len(TOKEN) and len(r[3]) == len(MESSAGE_ID) for r in rows)
    return rows


@dataclass
class LoadResult:
    tool: str
    requests: int
    seconds: float
    status_errors: int
    socket_errors: int
    accepted: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk(log: Callable[[str], None]) -> str | None:
    """The path of ``wrk``, installing Debian's package when missing (root only)."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    log("installing wrk with apt-get (once)")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    for commands in ([install], [["apt-get", "update", "-q"], install]):
        if all(
            subprocess.run(c, capture_output=True, timeout=300, check=False).returncode == 0
            for c in commands
        ):
            return shutil.which("wrk")
    return None


def _write_inputs(work: Path, template: Template, rows: list[tuple[str, ...]]) -> None:
    work.mkdir(parents=True, exist_ok=True)
    (work / "layout.txt").write_text(" ".join(str(slot + 1) for slot in template.slots) + "\n")
    for index, chunk in enumerate(template.chunks):
        (work / f"chunk-{index}.bin").write_bytes(chunk)
    (work / "vars.txt").write_text("\n".join(" ".join(row) for row in rows) + "\n")
    (work / "load.lua").write_text(_LUA)
    (work / "accepted.txt").unlink(missing_ok=True)


def run_wrk(
    wrk: str,
    url: str,
    template: Template,
    rows: list[tuple[str, ...]],
    *,
    seconds: int,
    connections: int,
    work: Path,
) -> LoadResult:
    _write_inputs(work, template, rows)
    argv = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    for name, value in template.headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv += ["-s", str(work / "load.lua"), url.rstrip("/") + template.path]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        env={**os.environ, "BENCH_WRK_DIR": str(work)},
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_RESULT")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout)[-500:]}")
    values = dict(item.split("=") for item in line.split()[1:])
    accepted_file = work / "accepted.txt"
    accepted = accepted_file.read_text().split() if accepted_file.exists() else []
    return LoadResult(
        tool="wrk",
        requests=int(values["requests"]),
        seconds=int(values["duration_us"]) / 1e6,
        status_errors=int(values["status"]),
        socket_errors=sum(int(values[k]) for k in ("connect", "read", "write", "timeout")),
        accepted=accepted,
    )


def run_python(
    url: str,
    template: Template,
    rows: list[tuple[str, ...]],
    *,
    seconds: int,
    connections: int,
) -> LoadResult:
    target = urllib.parse.urlsplit(url.rstrip("/") + template.path)
    lock = threading.Lock()
    state = {"next": 0, "requests": 0, "status": 0, "socket": 0}
    accepted: list[str] = []
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        while time.perf_counter() < deadline:
            with lock:
                row = rows[state["next"] % len(rows)]
                state["next"] += 1
            try:
                conn.request("POST", target.path, template.body(row), template.headers)
                response = conn.getresponse()
                payload = response.read()
            except OSError:
                with lock:
                    state["socket"] += 1
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                continue
            with lock:
                state["requests"] += 1
                if response.status == 200:
                    email_id = _email_id(payload)
                    if email_id:
                        accepted.append(email_id)
                else:
                    state["status"] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(
        tool="python",
        requests=state["requests"],
        seconds=time.perf_counter() - started,
        status_errors=state["status"],
        socket_errors=state["socket"],
        accepted=accepted,
    )


def _email_id(payload: bytes) -> str | None:
    try:
        value = json.loads(payload).get("email_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
