"""Small typed helpers to script and inspect the loopback stand-ins (stdlib only)."""

from __future__ import annotations

import email
import json
import time
import urllib.error
import urllib.request
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

Behaviour = dict[str, Any]


class StandinError(RuntimeError):
    pass


def _call(base_url: str, method: str, path: str, payload: Any = None, timeout: float = 10.0) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        base_url.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data is not None else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        raise StandinError(f"{method} {path} -> {exc.code}: {detail}") from exc


class ClaudeStandin:
    """Scripts the Messages API stand-in (``infra.fakes.claude_standin``)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def reset(self) -> None:
        _call(self.base_url, "POST", "/_control/reset", {})

    def set_default(self, behaviour: Behaviour) -> None:
        _call(self.base_url, "POST", "/_control/default", behaviour)

    def enqueue(self, *behaviours: Behaviour) -> None:
        _call(self.base_url, "POST", "/_control/enqueue", {"behaviours": list(behaviours)})

    def add_rule(self, when_contains: str, behaviour: Behaviour, times: int | None = None) -> None:
        rule: dict[str, Any] = {"when_contains": when_contains, "behaviour": behaviour}
        if times is not None:
            rule["times"] = times
        _call(self.base_url, "POST", "/_control/rules", {"rules": [rule]})

    def requests(self) -> list[dict[str, Any]]:
        return list(_call(self.base_url, "GET", "/_control/requests")["requests"])

    def stats(self) -> dict[str, Any]:
        return dict(_call(self.base_url, "GET", "/_control/stats"))


class SentrySink:
    """Reads what the Sentry sink (``infra.fakes.sentry_sink``) received."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def reset(self) -> None:
        _call(self.base_url, "POST", "/_control/reset", {})

    def envelopes(self) -> list[dict[str, Any]]:
        return list(_call(self.base_url, "GET", "/_control/envelopes")["envelopes"])

    def items(self, item_type: str | None = None) -> list[dict[str, Any]]:
        """All envelope items (``{"headers", "payload"}``), optionally of one type."""
        return [
            item
            for envelope in self.envelopes()
            for item in envelope["items"]
            if item_type is None or item["headers"].get("type") == item_type
        ]

    def events(self) -> list[dict[str, Any]]:
        """The payloads of all ``event`` items, in arrival order."""
        return [
            item["payload"] for item in self.items("event") if isinstance(item["payload"], dict)
        ]

    def wait_for_events(self, n: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            events = self.events()
            if len(events) >= n or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        if len(events) < n:
            raise TimeoutError(
                f"sentry sink holds {len(events)} event(s), wanted {n} within {timeout}s"
            )
        return events


class Mailbox:
    """Reads and steers the SMTP stand-in (``infra.fakes.smtp_server``) via its state dir."""

    def __init__(self, state_dir: str | Path) -> None:
        self.state_dir = Path(state_dir)
        self.mail_dir = self.state_dir / "mail"

    def _files(self) -> list[Path]:
        if not self.mail_dir.is_dir():
            return []
        return sorted(p for p in self.mail_dir.glob("*.eml") if not p.name.startswith("."))

    def messages(self) -> list[EmailMessage]:
        """Every kept message, parsed with ``policy.default``, in arrival order."""
        return [
            email.message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in self._files()
        ]

    def wait_for(self, n: int, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self._files()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        messages = self.messages()
        if len(messages) < n:
            raise TimeoutError(
                f"mailbox holds {len(messages)} message(s), wanted {n} within {timeout}s"
            )
        return messages

    def clear(self) -> None:
        for path in self._files():
            path.unlink(missing_ok=True)

    def refuse(self, on: bool, at: str = "data") -> None:
        """While on, the server answers 451 at DATA (or at RCPT with ``at="rcpt"``)."""
        refuse_file = self.state_dir / "REFUSE"
        if on:
            if at not in ("data", "rcpt"):
                raise ValueError("at must be 'data' or 'rcpt'")
            self.state_dir.mkdir(parents=True, exist_ok=True)
            refuse_file.write_text(at)
        else:
            refuse_file.unlink(missing_ok=True)
