"""A loopback round-robin HTTP proxy: one push endpoint in front of several processor instances.

Why: Cloud Functions runs N instances of the processor behind *one* URL, and Pub/Sub pushes
each message to that URL once per delivery attempt. Locally, two processor processes need the
same: one endpoint spreading deliveries over both. Two push subscriptions (one per process)
would be wrong — each subscription gets its own copy of every message, so every email would be
delivered twice by design, which is not what production does (even though the system must,
and does, survive it).

    python -m infra.soak_proxy --port 8099 --backend http://127.0.0.1:A --backend http://127.0.0.1:B

Each request goes to the next backend in turn; a backend that refuses the connection gets the
request's turn passed to the next one, and if none answers the proxy says 502 (Pub/Sub
redelivers). Loopback only, for tests and the soak.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from infra.fakes import install_stop_handler, wait_until

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    backends: list[tuple[str, int]]
    turn: itertools.cycle[int]
    lock: threading.Lock
    timeout_seconds: float


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Proxy

    def log_message(self, format: str, *args: object) -> None:  # quiet: one line per push
        return

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        with self.server.lock:
            first = next(self.server.turn)
        count = len(self.server.backends)
        for offset in range(count):
            host, port = self.server.backends[(first + offset) % count]
            connection = http.client.HTTPConnection(host, port, timeout=self.server.timeout_seconds)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except ConnectionRefusedError:
                continue
            except OSError:
                break  # the backend took the request and failed: do not send it twice
            finally:
                connection.close()
            self.send_response(response.status)
            self.send_header(
                "Content-Type", response.getheader("Content-Type") or "application/octet-stream"
            )
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self._forward()

    def do_GET(self) -> None:
        self._forward()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", action="append", required=True)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    stop = install_stop_handler()
    server = _Proxy((args.host, args.port), _Handler)
    server.backends = []
    for url in args.backend:
        parsed = urllib.parse.urlsplit(url)
        server.backends.append((parsed.hostname or "127.0.0.1", parsed.port or 80))
    server.turn = itertools.cycle(range(len(server.backends)))
    server.lock = threading.Lock()
    server.timeout_seconds = args.timeout
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        wait_until(stop)
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
