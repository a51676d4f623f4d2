"""A loopback stand-in for the Anthropic Messages API, scriptable over HTTP.

The real ``anthropic`` SDK talks to it with ``base_url="http://127.0.0.1:PORT"``.
What it answers is chosen per request: first the queue (``/_control/enqueue``),
then the first matching rule (``/_control/rules``), then the default
(``/_control/default``). See ``infra/fakes/clients.py`` for the client side.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
import time
import uuid
from collections import Counter, deque
from typing import Any

from infra.fakes import JsonHandler, Server, parse_args, serve_http, setup_logging

NAME = "claude-standin"
log = logging.getLogger(NAME)

KINDS = {"tool_use", "text", "error", "hang", "max_tokens", "malformed"}
INITIAL_DEFAULT: dict[str, Any] = {"kind": "tool_use", "input": {}}
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
REDACTED_HEADERS = {"x-api-key", "authorization"}


class BadBehaviour(ValueError):
    pass


def validate_behaviour(behaviour: Any) -> dict[str, Any]:
    if not isinstance(behaviour, dict) or behaviour.get("kind") not in KINDS:
        raise BadBehaviour(f"a behaviour needs 'kind' in {sorted(KINDS)}, got {behaviour!r}")
    if behaviour["kind"] == "error" and not isinstance(behaviour.get("status"), int):
        raise BadBehaviour("an error behaviour needs an integer 'status'")
    return copy.deepcopy(behaviour)


# --- reading a request -------------------------------------------------------


def _block_text(block: Any) -> str:
    """The text a content block contributes to token counts."""
    if isinstance(block, str):
        return block
    if not isinstance(block, dict):
        return ""
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        return json.dumps(block.get("input", {}))
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            return "".join(_block_text(b) for b in content)
        return str(content)
    if kind == "document":
        source = block.get("source") or {}
        if source.get("type") == "text":
            return str(source.get("data", ""))
    return ""  # images, base64 PDFs and the like are not counted


def _tool_text(tool: dict[str, Any]) -> str:
    schema = json.dumps(tool.get("input_schema", {}), sort_keys=True)
    return f"{tool.get('name', '')}{tool.get('description', '')}{schema}"


def _segments(body: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """The request's cacheable units in cache order (tools, system, messages)."""
    units: list[tuple[dict[str, Any], str]] = []
    for tool in body.get("tools") or []:
        units.append((tool, _tool_text(tool)))
    system = body.get("system")
    if isinstance(system, str):
        units.append(({"type": "text", "text": system}, system))
    elif isinstance(system, list):
        units.extend((block, _block_text(block)) for block in system)
    for message in body.get("messages") or []:
        content = message.get("content", "")
        if isinstance(content, str):
            units.append(({"type": "text", "text": content}, content))
        else:
            units.extend((block, _block_text(block)) for block in content)
    return units


def count_tokens(body: dict[str, Any]) -> int:
    return sum(len(text) for _, text in _segments(body)) // 4


def cacheable_prefix(body: dict[str, Any]) -> tuple[str, int, str] | None:
    """(key, tokens, ttl) of the prefix ending at the last cache_control breakpoint."""
    units = _segments(body)
    top_level = body.get("cache_control")
    marked = [
        i
        for i, (unit, _) in enumerate(units)
        if isinstance(unit, dict) and unit.get("cache_control")
    ]
    if top_level and units:
        end, control = len(units) - 1, top_level
    elif marked:
        end, control = marked[-1], units[marked[-1]][0]["cache_control"]
    else:
        return None
    prefix = units[: end + 1]
    canonical = [{k: v for k, v in unit.items() if k != "cache_control"} for unit, _ in prefix]
    key = hashlib.sha256(
        json.dumps([body.get("model"), canonical], sort_keys=True).encode()
    ).hexdigest()
    tokens = sum(len(text) for _, text in prefix) // 4
    return key, tokens, str(control.get("ttl", "5m"))


def user_text(body: dict[str, Any]) -> str:
    parts: list[str] = []
    for message in body.get("messages") or []:
        if message.get("role") != "user":
            continue
        content = message.get("content", "")
        blocks = [content] if isinstance(content, str) else content
        parts.extend(_block_text(block) for block in blocks)
    return "\n".join(parts)


def default_tool_name(body: dict[str, Any]) -> str:
    choice = body.get("tool_choice") or {}
    if choice.get("type") == "tool" and choice.get("name"):
        return str(choice["name"])
    tools = body.get("tools") or []
    if tools and tools[0].get("name"):
        return str(tools[0]["name"])
    return "tool"


# --- state -------------------------------------------------------------------


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.default: dict[str, Any] = copy.deepcopy(INITIAL_DEFAULT)
            self.queue: deque[dict[str, Any]] = deque()
            self.rules: list[dict[str, Any]] = []
            self.records: list[dict[str, Any]] = []
            self.cache_keys: set[str] = set()

    def choose(self, body: Any) -> dict[str, Any]:
        with self.lock:
            if self.queue:
                return self.queue.popleft()
            text = user_text(body) if isinstance(body, dict) else ""
            for rule in self.rules:
                if rule["when_contains"] in text:
                    if rule["times"] is not None:
                        rule["times"] -= 1
                        if rule["times"] <= 0:
                            self.rules.remove(rule)
                    return copy.deepcopy(rule["behaviour"])
            return copy.deepcopy(self.default)

    def record(self, path: str, headers: dict[str, str], body: Any) -> dict[str, Any]:
        entry = {
            "path": path,
            "headers": headers,
            "body": body,
            "received_at": time.time(),
            "status": None,
            "behaviour": None,
        }
        with self.lock:
            self.records.append(entry)
        return entry

    def cache_seen(self, key: str) -> bool:
        with self.lock:
            seen = key in self.cache_keys
            self.cache_keys.add(key)
            return seen

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self.records)


STATE = State()


# --- building answers ----------------------------------------------------------


def _usage(body: dict[str, Any], output_text: str) -> dict[str, Any]:
    total = count_tokens(body)
    usage: dict[str, Any] = {
        "input_tokens": total,
        "output_tokens": max(1, len(output_text) // 4),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {
            "ephemeral_5m_input_tokens": 0,
            "ephemeral_1h_input_tokens": 0,
        },
        "service_tier": "standard",
    }
    prefix = cacheable_prefix(body)
    if prefix is not None:
        key, tokens, ttl = prefix
        # As the real API: input_tokens counts only what follows the cached prefix.
        usage["input_tokens"] = total - tokens
        if STATE.cache_seen(key):
            usage["cache_read_input_tokens"] = tokens
        else:
            usage["cache_creation_input_tokens"] = tokens
            usage["cache_creation"][f"ephemeral_{'1h' if ttl == '1h' else '5m'}_input_tokens"] = (
                tokens
            )
    return usage


def _message(
    body: dict[str, Any], content: list[dict[str, Any]], stop_reason: str
) -> dict[str, Any]:
    output_text = "".join(
        block.get("text", "") if block["type"] == "text" else json.dumps(block["input"])
        for block in content
    )
    usage = _usage(body, output_text)
    if stop_reason == "max_tokens":
        usage["output_tokens"] = int(body.get("max_tokens") or usage["output_tokens"])
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-standin"),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def _tool_block(name: str, tool_input: Any) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": f"toolu_{uuid.uuid4().hex[:24]}",
        "name": name,
        "input": tool_input,
    }


def error_answer(
    status: int, message: str, error_type: str | None = None
) -> tuple[int, bytes, dict[str, str]]:
    request_id = f"req_{uuid.uuid4().hex[:24]}"
    kind = error_type or ERROR_TYPES.get(
        status, "api_error" if status >= 500 else "invalid_request_error"
    )
    payload = {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": request_id,
    }
    return status, json.dumps(payload).encode(), {"request-id": request_id}


def answer(body: dict[str, Any], behaviour: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, extra headers) for a /v1/messages request under a behaviour."""
    kind = behaviour["kind"]
    headers = {"request-id": f"req_{uuid.uuid4().hex[:24]}"}
    if kind == "error":
        status = int(behaviour["status"])
        message = behaviour.get("message") or f"stand-in scripted error {status}"
        status, raw, headers = error_answer(status, message, behaviour.get("error_type"))
        if behaviour.get("retry_after") is not None:
            headers["retry-after"] = str(behaviour["retry_after"])
        return status, raw, headers
    if kind == "malformed":  # truncated JSON, or the scripted body as it is
        raw = behaviour.get("body", '{"id": "msg_malformed", "type": "message", "content": [')
        return 200, str(raw).encode(), headers
    if kind == "text":
        message = _message(
            body, [{"type": "text", "text": str(behaviour.get("text", ""))}], "end_turn"
        )
    elif kind == "max_tokens":
        if "text" in behaviour:
            content = [{"type": "text", "text": str(behaviour["text"])}]
        else:
            name = behaviour.get("name") or default_tool_name(body)
            content = [_tool_block(name, behaviour.get("input", {}))]
        message = _message(body, content, "max_tokens")
    else:  # tool_use
        name = behaviour.get("name") or default_tool_name(body)
        message = _message(body, [_tool_block(name, behaviour.get("input", {}))], "tool_use")
    return 200, json.dumps(message).encode(), headers


# --- HTTP ----------------------------------------------------------------------


class Handler(JsonHandler):
    logger_name = NAME
    server: Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/_control/health":
            self.send_json(200, {"ok": True})
        elif path == "/_control/requests":
            self.send_json(200, {"requests": STATE.snapshot()})
        elif path == "/_control/stats":
            records = STATE.snapshot()
            by_status = Counter(str(r["status"]) for r in records if r["status"] is not None)
            in_flight = sum(1 for r in records if r["status"] is None)
            self.send_json(
                200,
                {
                    "total": len(records),
                    "by_status": dict(by_status),
                    "in_flight": in_flight,
                },
            )
        else:
            self._send(*error_answer(404, f"no route GET {path}"))

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        raw = self.read_body()
        if path.startswith("/_control/"):
            self._control(path, raw)
        elif path == "/v1/messages/count_tokens":
            self._count_tokens(path, raw)
        elif path == "/v1/messages":
            self._messages(path, raw)
        else:
            self._send(*error_answer(404, f"no route POST {path}"))

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_bytes(status, body, headers=headers)

    def _control(self, path: str, raw: bytes) -> None:
        try:
            payload = json.loads(raw) if raw.strip() else {}
            if path == "/_control/reset":
                STATE.reset()
            elif path == "/_control/default":
                behaviour = validate_behaviour(payload)
                with STATE.lock:
                    STATE.default = behaviour
            elif path == "/_control/enqueue":
                behaviours = [validate_behaviour(b) for b in payload.get("behaviours", [])]
                with STATE.lock:
                    STATE.queue.extend(behaviours)
            elif path == "/_control/rules":
                rules = []
                for rule in payload.get("rules", []):
                    times = rule.get("times")
                    if not isinstance(rule.get("when_contains"), str) or (
                        times is not None and (not isinstance(times, int) or times < 1)
                    ):
                        raise BadBehaviour(
                            f"a rule needs a string 'when_contains' and times >= 1: {rule!r}"
                        )
                    behaviour = validate_behaviour(rule.get("behaviour"))
                    rules.append(
                        {
                            "when_contains": rule["when_contains"],
                            "behaviour": behaviour,
                            "times": times,
                        }
                    )
                with STATE.lock:
                    STATE.rules.extend(rules)
            else:
                self.send_json(404, {"ok": False, "error": f"no control route {path}"})
                return
        except (ValueError, AttributeError, TypeError) as exc:
            self.send_json(400, {"ok": False, "error": str(exc)})
            return
        self.send_json(200, {"ok": True})

    def _redacted_headers(self) -> dict[str, str]:
        return {
            key.lower(): ("<redacted>" if key.lower() in REDACTED_HEADERS else value)
            for key, value in self.headers.items()
        }

    def _parse(self, path: str, raw: bytes) -> tuple[dict[str, Any], Any]:
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        return STATE.record(path, self._redacted_headers(), body), body

    def _count_tokens(self, path: str, raw: bytes) -> None:
        entry, body = self._parse(path, raw)
        entry["behaviour"] = "count_tokens"
        if not isinstance(body, dict):
            result = error_answer(400, "request body is not JSON")
        else:
            result = (
                200,
                json.dumps({"input_tokens": count_tokens(body)}).encode(),
                {},
            )
        self._finish(entry, *result)

    def _messages(self, path: str, raw: bytes) -> None:
        entry, body = self._parse(path, raw)
        if not (self.headers.get("x-api-key") or self.headers.get("authorization")):
            self._finish(
                entry,
                *error_answer(401, "x-api-key or authorization header is required"),
            )
            return
        if not isinstance(body, dict):
            self._finish(entry, *error_answer(400, "request body is not JSON"))
            return
        if body.get("stream"):
            self._finish(entry, *error_answer(400, "the stand-in does not stream"))
            return
        behaviour = STATE.choose(body)
        entry["behaviour"] = behaviour["kind"]
        stopping = self.server.stopping
        if behaviour.get("delay_seconds"):
            stopping.wait(float(behaviour["delay_seconds"]))
        if behaviour["kind"] == "hang":
            stopping.wait(float(behaviour.get("seconds", 30)))
            with STATE.lock:
                behaviour = copy.deepcopy(STATE.default)
            if behaviour["kind"] == "hang":  # never hang twice
                behaviour = copy.deepcopy(INITIAL_DEFAULT)
        self._finish(entry, *answer(body, behaviour))

    def _finish(
        self, entry: dict[str, Any], status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        with STATE.lock:
            entry["status"] = status
        try:
            self.send_bytes(status, body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            log.info("client went away before the %s answer to %s", status, entry["path"])


def main() -> None:
    args = parse_args("Anthropic Messages API stand-in")
    setup_logging(NAME)
    serve_http(Handler, args.host, args.port, NAME)


if __name__ == "__main__":
    main()
