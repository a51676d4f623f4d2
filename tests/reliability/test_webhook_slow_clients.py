"""Slow, stalled and lying clients against a real webhook process (functions-framework,
gunicorn's threaded worker, 8 threads), over real sockets on loopback.

The process is the reliability stack's webhook started a second time on its own port with
short limits (``WEBHOOK_READ_TIMEOUT_SECONDS=2``, ``WEBHOOK_REQUEST_DEADLINE_SECONDS=6``,
``WEBHOOK_MAX_BODY_BYTES=8 MiB``), so the bounds show within seconds; production's values
are the defaults (10 s, 60 s, 30 MiB). Every loop is bounded, every socket has a timeout.

What must hold:
- 16 connections (twice the threads) that stall in their head or their body do not stop a
  valid email from being answered 200 within the read timeout plus a margin; each stalled
  body gets a 408 and each stalled head is closed;
- a body trickled slower than the deadline allows gets a 408 at the deadline;
- a declared ``Content-Length`` over the limit is a 413 before any body byte is sent, and the
  worker's memory does not grow; a chunked body over the limit is a 413 and the worker never
  holds much more than the limit;
- a body shorter than its ``Content-Length`` (half-close) is a 400 and nothing is published;
  a reset during the body logs no traceback; ``//raw``, ``/%2Fraw`` and ``/raw%2F`` are 404;
- a malformed chunked body (a bad chunk size or extension, a missing terminator, a bad or
  endless trailer) is a 400 ``malformed_payload`` with a WARNING, within the limit and in the
  rest read after a 413, and no log line quotes the client's bytes or holds a traceback.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.sign_request import raw_request
from infra.stack import REPO_ROOT, LocalStack, ManagedProcess, _http_answers, free_port
from tests.intake_payloads.probes import TopicProbe
from tests.reliability.helpers import Harness, rss_mb, unique
from tests.reliability.summary import SUMMARY

READ_TIMEOUT = 2.0
DEADLINE = 6.0
LIMIT = 8 * 1024 * 1024
THREADS = 8


@pytest.fixture(scope="module")
def tight_webhook(rel_stack: LocalStack) -> Iterator[ManagedProcess]:
    base = rel_stack.servers["webhook"]
    port = free_port()
    argv = list(base.argv)
    argv[argv.index("--port") + 1] = str(port)
    env = {
        **rel_stack.function_env("webhook"),
        "THREADS": str(THREADS),
        "WEBHOOK_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
        "WEBHOOK_REQUEST_DEADLINE_SECONDS": str(DEADLINE),
        "WEBHOOK_MAX_BODY_BYTES": str(LIMIT),
    }
    server = ManagedProcess(
        "webhook-tight",
        port,
        rel_stack.logs / "webhook-tight.log",
        argv,
        env=env,
        ready=lambda s: _http_answers(f"http://127.0.0.1:{s.port}/"),
        cwd=REPO_ROOT,
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def probe(harness: Harness) -> Iterator[TopicProbe]:
    topic = TopicProbe()
    try:
        yield topic
    finally:
        topic.close()


def _mime(tag: str) -> bytes:
    return (
        f"From: Slow <slow@sender.example>\r\nTo: inbound@collections.example\r\n"
        f"Subject: slow clients {tag}\r\nMessage-ID: <{tag}@slow.example>\r\n"
        "Date: Mon, 03 Mar 2025 10:15:00 +0000\r\n\r\nhello\r\n"
    ).encode()


def _connect(server: ManagedProcess, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def _head(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _answer(sock: socket.socket, timeout: float) -> tuple[int, bytes]:
    """``(status, raw answer)``; status 0 when the server closed without answering."""
    sock.settimeout(timeout)
    data = b""
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            if len(rest) >= length:
                break
    if not data.startswith(b"HTTP/1."):
        return 0, data
    return int(data.split(b" ", 2)[1]), data


def _post_signed(
    server: ManagedProcess, harness: Harness, mime: bytes, *, path: str = "/raw", timeout: float
) -> tuple[int, bytes, float]:
    signed = raw_request(mime, secret=harness.stack.env()["WEBHOOK_RAW_SECRET"])
    started = time.monotonic()
    with _connect(server, timeout) as sock:
        headers = {**signed.headers, "Content-Length": str(len(signed.body))}
        sock.sendall(_head(path, headers) + signed.body)
        status, data = _answer(sock, timeout)
    return status, data, time.monotonic() - started


def _log_size(server: ManagedProcess) -> int:
    return server.log_path.stat().st_size if server.log_path.exists() else 0


def _log_since(server: ManagedProcess, offset: int) -> str:
    with Path(server.log_path).open("rb") as log:
        log.seek(offset)
        return log.read().decode("utf-8", "replace")


def _outcomes(
    socks: list[socket.socket], started: float, timeout: float
) -> list[tuple[int, float]]:
    """For each socket, ``(status or 0 when closed unanswered or -1 when still open, seconds
    since ``started``)``, watched together so each time is its own."""
    found: dict[int, tuple[int, float]] = {}
    with selectors.DefaultSelector() as selector:
        for index, sock in enumerate(socks):
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, index)
        ends = time.monotonic() + timeout
        while len(found) < len(socks) and time.monotonic() < ends:
            for key, _ in selector.select(0.5):
                try:
                    data = key.fileobj.recv(4096)  # type: ignore[union-attr]
                except OSError:
                    data = b""
                status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else 0
                found[key.data] = (status, round(time.monotonic() - started, 2))
                selector.unregister(key.fileobj)
    return [found.get(index, (-1, timeout)) for index in range(len(socks))]


def test_stalled_clients_do_not_take_every_thread(
    tight_webhook: ManagedProcess, harness: Harness, probe: TopicProbe
) -> None:
    offset = _log_size(tight_webhook)
    stalled_heads, stalled_bodies = [], []
    started = time.monotonic()
    try:
        for _ in range(THREADS):  # the request line and part of the head, then nothing
            sock = _connect(tight_webhook)
            sock.sendall(b"POST /raw HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
            stalled_heads.append(sock)
        for _ in range(THREADS):  # the whole head and 10 of 1000 body bytes, then nothing
            sock = _connect(tight_webhook)
            head = {"Content-Type": "message/rfc822", "Content-Length": "1000"}
            sock.sendall(_head("/raw", head) + b"From: a@b\r\n")
            stalled_bodies.append(sock)
        SUMMARY.count("hostile_inputs", 2 * THREADS)
        outcomes: list[tuple[int, float]] = []
        watcher = threading.Thread(
            target=lambda: outcomes.extend(
                _outcomes(stalled_heads + stalled_bodies, started, READ_TIMEOUT * 3 + 5)
            )
        )
        watcher.start()
        time.sleep(0.5)
        tag = unique("slow")
        status, data, seconds = _post_signed(
            tight_webhook, harness, _mime(tag), timeout=READ_TIMEOUT * 2 + 10
        )
        watcher.join(timeout=READ_TIMEOUT * 3 + 10)
        assert status == 200, f"a valid email got {status} behind 16 stalled clients: {data!r}"
        assert seconds < READ_TIMEOUT * 2 + 3, f"answered after {seconds:.1f}s"
        heads, bodies = outcomes[:THREADS], outcomes[THREADS:]
    finally:
        for sock in stalled_heads + stalled_bodies:
            sock.close()
    # heads: dropped unanswered after one read timeout, all at once (never one after another)
    assert all(s == 0 and t < READ_TIMEOUT + 1.5 for s, t in heads), heads
    # bodies: a 408 once a thread is free and one read timeout has passed
    assert all(s == 408 and t < READ_TIMEOUT * 2 + 2 for s, t in bodies), bodies
    SUMMARY.note(
        f"16 stalled connections on 8 threads: a valid email answered in {seconds:.2f}s; "
        f"stalled heads closed by {max(t for _, t in heads):.1f}s, stalled bodies answered "
        f"408 by {max(t for _, t in bodies):.1f}s (read timeout {READ_TIMEOUT:.0f}s)"
    )
    assert tight_webhook.alive()
    logged = _log_since(tight_webhook, offset)
    assert "Traceback" not in logged and '"severity": "ERROR"' not in logged, logged[-2000:]


def test_a_trickled_body_ends_at_the_deadline(
    tight_webhook: ManagedProcess, harness: Harness
) -> None:
    started = time.monotonic()
    with _connect(tight_webhook) as sock:
        head = {"Content-Type": "message/rfc822", "Content-Length": "100000"}
        sock.sendall(_head("/raw", head))
        sent = 0
        status = 0
        for _ in range(int(DEADLINE * 4)):  # one byte every 0.5 s, under the idle timeout
            try:
                sock.sendall(b"x")
            except OSError:
                break
            sent += 1
            time.sleep(0.5)
            sock.settimeout(0.01)
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        status, data = _answer(sock, 5)
    seconds = time.monotonic() - started
    SUMMARY.count("hostile_inputs")
    assert status == 408, f"trickled body got {status}: {data!r}"
    assert DEADLINE - 1 < seconds < DEADLINE + READ_TIMEOUT + 2, f"ended after {seconds:.1f}s"
    SUMMARY.note(f"body trickled at 2 B/s ended with 408 after {seconds:.1f}s ({sent} bytes)")


def test_a_declared_oversized_body_is_refused_before_it_is_sent(
    tight_webhook: ManagedProcess,
) -> None:
    before = rss_mb(tight_webhook)
    declared = 200 * 1024 * 1024
    started = time.monotonic()
    with _connect(tight_webhook) as sock:
        head = {"Content-Type": "message/rfc822", "Content-Length": str(declared)}
        sock.sendall(_head("/raw", head) + b"From: a@b\r\n\r\n")
        status, data = _answer(sock, 5)
    seconds = time.monotonic() - started
    after = rss_mb(tight_webhook)
    SUMMARY.count("hostile_inputs")
    assert status == 413, f"declared 200 MiB got {status}: {data!r}"
    assert b"payload_too_large" in data
    assert seconds < 2, f"the 413 took {seconds:.1f}s"
    assert after - before < 5, f"worker grew {after - before:.1f} MB"
    SUMMARY.note(
        f"declared 200 MiB: 413 in {seconds * 1000:.0f} ms, RSS {before:.0f} -> {after:.0f} MB"
    )


def test_a_chunked_body_over_the_limit_is_never_held(tight_webhook: ManagedProcess) -> None:
    before = rss_mb(tight_webhook)
    peak = [before]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(tight_webhook))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    chunk = b"x" * (1024 * 1024)
    sent = 0
    try:
        with _connect(tight_webhook, timeout=30) as sock:
            head = {"Content-Type": "message/rfc822", "Transfer-Encoding": "chunked"}
            sock.sendall(_head("/raw", head))
            for _ in range(64):  # 64 MiB, eight times the limit
                try:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except OSError:
                    break
                sent += 1
            status, data = _answer(sock, 10)
    finally:
        time.sleep(0.3)
        done.set()
        watcher.join(timeout=5)
    growth = peak[0] - before
    SUMMARY.count("hostile_inputs")
    assert status == 413, f"chunked 64 MiB got {status}: {data!r}"
    assert growth < LIMIT / 2**20 * 2 + 16, f"worker grew {growth:.0f} MB for an 8 MiB limit"
    SUMMARY.note(
        f"chunked body of {sent} MiB over an 8 MiB limit: 413 (the rest read and dropped), "
        f"peak RSS growth {growth:.0f} MB"
    )


def test_a_short_body_with_a_longer_content_length_is_not_accepted(
    tight_webhook: ManagedProcess, harness: Harness, probe: TopicProbe
) -> None:
    mime = _mime(unique("short"))
    signed = raw_request(mime, secret=harness.stack.env()["WEBHOOK_RAW_SECRET"])
    with _connect(tight_webhook) as sock:
        headers = {**signed.headers, "Content-Length": str(len(signed.body) + 500)}
        sock.sendall(_head("/raw", headers) + signed.body)
        sock.shutdown(socket.SHUT_WR)
        status, data = _answer(sock, READ_TIMEOUT + 5)
    assert status == 400 and b"incomplete_body" in data, (status, data)
    assert probe.pull(0, timeout=3) == [], "a truncated body was published"


def test_a_reset_during_the_body_logs_no_traceback(tight_webhook: ManagedProcess) -> None:
    """Within the limit (the handler is reading) and over a declared limit (refused before
    reading; functions-framework used to read the rest after the handler and log the reset
    as an ERROR with a traceback)."""
    offset = _log_size(tight_webhook)
    for declared in (100_000, LIMIT * 2):
        for _ in range(3):
            sock = _connect(tight_webhook)
            head = {"Content-Type": "message/rfc822", "Content-Length": str(declared)}
            sock.sendall(_head("/raw", head) + b"From: a@b\r\n" * 100)
            time.sleep(0.2)
            linger = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # on, 0 s: close() sends RST
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            sock.close()
    time.sleep(1.0)
    logged = _log_since(tight_webhook, offset)
    assert "Traceback" not in logged, logged[-2000:]
    assert '"severity": "ERROR"' not in logged, logged[-2000:]
    assert tight_webhook.alive()


def test_an_empty_path_segment_names_no_route(
    tight_webhook: ManagedProcess, harness: Harness
) -> None:
    for path in ("//raw", "/raw//", "//raw/", "/%2Fraw", "/raw%2F", "/%2fraw/", "/r%61w"):
        status, _data, _ = _post_signed(
            tight_webhook, harness, _mime(unique("path")), path=path, timeout=10
        )
        assert status == 404, f"{path} got {status}"
    status, _, _ = _post_signed(
        tight_webhook, harness, _mime(unique("path")), path="/raw/", timeout=10
    )
    assert status == 200


MALFORMED_CHUNKS = {
    "negative size": b"-5\r\nhello\r\n0\r\n\r\n",
    "size not hex": b"zz\r\nhello\r\n0\r\n\r\n",
    "missing terminator": b"5\r\nhelloXX0\r\n\r\n",
    "control in extension": b"5;ext=\x01\x7f\r\nhello\r\n0\r\n\r\n",
    "5000 trailer lines": b"5\r\nhello\r\n0\r\n" + b"X-Trailer: t\r\n" * 5000 + b"\r\n",
    "bad trailer": b"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n",
}
CLIENT_BYTES = ("zz", "helloXX", "bad trailer", "X-Trailer", "\\u0001", "\\x01")


@pytest.mark.parametrize("oversized", [False, True], ids=["within-limit", "after-413"])
def test_a_malformed_chunked_body_is_a_quiet_4xx(
    tight_webhook: ManagedProcess, oversized: bool
) -> None:
    offset = _log_size(tight_webhook)
    head = _head("/raw", {"Content-Type": "message/rfc822", "Transfer-Encoding": "chunked"})
    big = b"x" * (1024 * 1024)
    for name, body in MALFORMED_CHUNKS.items():
        with _connect(tight_webhook) as sock:
            sock.sendall(head)
            try:
                if oversized:  # past the limit first: the 413, then the rest is discarded
                    for _ in range(LIMIT // len(big) + 1):
                        sock.sendall(b"%x\r\n%s\r\n" % (len(big), big))
                sock.sendall(body)
            except OSError:
                pass
            status, data = _answer(sock, READ_TIMEOUT + 5)
        SUMMARY.count("hostile_inputs")
        expected = (413, b"payload_too_large") if oversized else (400, b"malformed_payload")
        assert (status, expected[1] in data) == (expected[0], True), f"{name}: {status} {data!r}"
    time.sleep(1.0)
    logged = _log_since(tight_webhook, offset)
    assert "Traceback" not in logged, logged[-2000:]
    assert '"severity": "ERROR"' not in logged and "[ERROR]" not in logged, logged[-2000:]
    quoted = [text for text in CLIENT_BYTES if text in logged]
    assert not quoted, f"client bytes in the log: {quoted}"
    if not oversized:
        assert logged.count("the chunked body is malformed") == len(MALFORMED_CHUNKS)
    assert tight_webhook.alive()
