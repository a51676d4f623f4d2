"""A loopback Sentry ingest sink that keeps every envelope the SDK sends.

Point the real ``sentry-sdk`` at it with ``dsn="http://public@127.0.0.1:PORT/1"``.
It accepts ``POST /api/<project>/envelope/`` and the legacy ``/api/<project>/store/``
(gzip, deflate, br when the brotli module is importable, or identity bodies) and
answers 200 ``{}``. ``GET /_control/envelopes`` returns what it kept.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import logging
import re
import threading
import time
import zlib
from typing import Any

from infra.fakes import JsonHandler, parse_args, serve_http, setup_logging

try:  # optional, as in the SDK: it compresses with br only when brotli is importable
    import brotli
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

NAME = "sentry-sink"
log = logging.getLogger(NAME)
INGEST_PATH = re.compile(r"^/api/(?P<project>[^/]+)/(?P<kind>envelope|store)/?$")


class UnsupportedEncoding(ValueError):
    pass


def decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br" and brotli is not None:
        return bytes(brotli.decompress(body))
    raise UnsupportedEncoding(f"unsupported Content-Encoding {encoding!r}")


def _payload(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return base64.b64encode(raw).decode()


def parse_envelope(data: bytes) -> dict[str, Any]:
    """Split an envelope into its header and items, honouring item ``length``."""
    header_line, _, rest = data.partition(b"\n")
    headers = json.loads(header_line) if header_line.strip() else {}
    items = []
    pos = 0
    while pos < len(rest):
        end = rest.find(b"\n", pos)
        line = rest[pos:] if end == -1 else rest[pos:end]
        pos = len(rest) if end == -1 else end + 1
        if not line.strip():
            continue
        item_headers = json.loads(line)
        length = item_headers.get("length")
        if length is not None:
            raw = rest[pos : pos + int(length)]
            pos += int(length)
            if rest[pos : pos + 1] == b"\n":
                pos += 1
        else:
            end = rest.find(b"\n", pos)
            raw = rest[pos:] if end == -1 else rest[pos:end]
            pos = len(rest) if end == -1 else end + 1
        items.append({"headers": item_headers, "payload": _payload(raw)})
    return {"headers": headers, "items": items}


class Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.envelopes: list[dict[str, Any]] = []

    def add(self, envelope: dict[str, Any]) -> None:
        with self.lock:
            self.envelopes.append(envelope)

    def reset(self) -> None:
        with self.lock:
            self.envelopes.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.envelopes)


STORE = Store()


class Handler(JsonHandler):
    logger_name = NAME

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/_control/health":
            self.send_json(200, {"ok": True})
        elif path == "/_control/envelopes":
            self.send_json(200, {"envelopes": STORE.snapshot()})
        else:
            self.send_json(404, {"detail": f"no route GET {path}"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self.read_body()
        if path == "/_control/reset":
            STORE.reset()
            self.send_json(200, {"ok": True})
            return
        match = INGEST_PATH.match(path)
        if match is None:
            self.send_json(404, {"detail": f"no route POST {path}"})
            return
        try:
            data = decompress(body, self.headers.get("Content-Encoding", ""))
            if match["kind"] == "envelope":
                envelope = parse_envelope(data)
            else:  # legacy store endpoint: the body is one event
                envelope = {
                    "headers": {},
                    "items": [{"headers": {"type": "event"}, "payload": json.loads(data)}],
                }
        except (ValueError, OSError, EOFError) as exc:
            log.warning("rejected %s: %s", path, exc)
            self.send_json(400, {"detail": str(exc)})
            return
        envelope["raw"] = data.decode("utf-8", "replace")
        envelope["project_id"] = match["project"]
        envelope["endpoint"] = match["kind"]
        envelope["request_headers"] = {key.lower(): value for key, value in self.headers.items()}
        envelope["received_at"] = time.time()
        STORE.add(envelope)
        item_types = ",".join(str(item["headers"].get("type")) for item in envelope["items"])
        log.info("kept %s with items [%s]", match["kind"], item_types)
        self.send_json(200, {})


def main() -> None:
    args = parse_args("Sentry ingest sink")
    setup_logging(NAME)
    serve_http(Handler, args.host, args.port, NAME)


if __name__ == "__main__":
    main()
