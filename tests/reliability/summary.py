"""What the reliability suite did, counted while it runs and printed at the end of the session
(``pytest_terminal_summary`` in ``tests/reliability/conftest.py``)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SuiteSummary:
    faults: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    losses: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)  # losses of a strict-xfail (reported) test
    notes: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self, name: str, times: int = 1) -> None:
        with self._lock:
            self.faults[name] += times

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def loss(self, what: str) -> None:
        with self._lock:
            self.losses.append(what)

    def known_loss(self, what: str) -> None:
        with self._lock:
            self.known.append(what)

    def note(self, line: str) -> None:
        with self._lock:
            self.notes.append(line)

    def lines(self) -> list[str]:
        out = [
            f"faults injected: {sum(self.faults.values())} "
            + (
                "(" + ", ".join(f"{k} x{v}" for k, v in sorted(self.faults.items())) + ")"
                if self.faults
                else ""
            )
        ]
        for key in (
            "webhook_posts",
            "emails_accepted",
            "emails_resent",
            "duplicates_sent",
            "reports_checked",
            "notifications_checked",
            "hostile_inputs",
            "injection_emails",
            "log_lines_scanned",
            "sentry_envelopes_scanned",
        ):
            if self.counts.get(key):
                out.append(f"{key.replace('_', ' ')}: {self.counts[key]}")
        for key, value in sorted(self.counts.items()):
            if key.startswith("extra:"):
                out.append(f"{key[6:]}: {value}")
        out.append(f"losses found: {len(self.losses)}")
        out.extend(f"  LOSS {line}" for line in self.losses[:50])
        if self.known:
            out.append(f"known losses (strict xfail): {len(self.known)}")
            out.extend(f"  KNOWN {line}" for line in self.known[:20])
        out.extend(self.notes)
        return out


SUMMARY = SuiteSummary()
