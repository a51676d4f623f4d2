"""Loopback stand-ins for the external services the system talks to.

Each stand-in is a process started as
``python -m infra.fakes.<module> --host 127.0.0.1 --port PORT [--state-dir DIR]``.
The HTTP ones share the small helpers below: argument parsing, JSON replies and a
serve loop that stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("infra.fakes")


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", default=None)
    return parser.parse_args()


def setup_logging(name: str) -> logging.Logger:
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s {name} %(levelname)s %(message)s",
    )
    return logging.getLogger(name)


def install_stop_handler() -> threading.Event:
    """Route SIGTERM/SIGINT to an event. Call it before the port opens, so that a
    signal sent as soon as the server looks ready still ends the process cleanly."""
    stop = threading.Event()

    def _handle(signum: int, _frame: object) -> None:
        log.info("received signal %s, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    return stop


def wait_until(stop: threading.Event) -> None:
    """Block the main thread (waking now and then, so signals are handled) until stop is set."""
    while not stop.wait(0.5):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # listen backlog: benchmarks open many connections at once
    # Set when the process is stopping so that sleeping handlers wake up early.
    stopping: threading.Event


def serve_http(handler: type[BaseHTTPRequestHandler], host: str, port: int, name: str) -> None:
    """Serve until SIGTERM/SIGINT, then shut down and return."""
    stop = install_stop_handler()
    server = Server((host, port), handler)
    server.stopping = threading.Event()
    thread = threading.Thread(target=server.serve_forever, name=f"{name}-serve", daemon=True)
    thread.start()
    logging.getLogger(name).info("listening on http://%s:%s", host, server.server_address[1])
    try:
        wait_until(stop)
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        logging.getLogger(name).info("stopped")


class JsonHandler(BaseHTTPRequestHandler):
    """Request handler with JSON helpers; HTTP/1.1 so SDK connection pools keep-alive."""

    protocol_version = "HTTP/1.1"
    logger_name = "infra.fakes"
    # TCP_NODELAY on each connection: ``send_bytes`` writes the headers and the body in two
    # sends, and with Nagle's algorithm the body waits for the client's delayed ACK of the
    # headers (~40 ms on Linux) — an "instant" stand-in answered in ~45 ms on keep-alive
    # connections. Real APIs (and Go's and asyncio's servers) set TCP_NODELAY too.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        logging.getLogger(self.logger_name).info("%s %s", self.address_string(), format % args)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def read_json(self) -> Any:
        raw = self.read_body()
        return json.loads(raw) if raw.strip() else {}

    def send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), headers=headers)
