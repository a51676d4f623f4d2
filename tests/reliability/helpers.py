"""The reliability suite's driver: a mail workload, senders that behave like providers, and the
checks run after every fault.

Reuses the end-to-end helpers (:class:`tests.e2e.conftest.E2E`, ``make_mime``, ``tool_input``,
``account``) and adds what the faults need:

- :class:`MailCase` — one email with its own debtor account and its own scripted Claude answer
  (a marker in the text selects the stand-in's rule), so its effects can be checked exactly;
- :class:`Harness` — posts like a provider (a 5xx or a refused connection is retried, as
  providers do; only a 200 counts as accepted), keeps the ledger of accepted email ids, and
  :meth:`Harness.verify` — the promise after each fault: every accepted email has exactly one
  report (``done`` unless said otherwise), its account change happened once (one history entry,
  the id once in ``applied_email_ids``, the balance moved once), and each notification row was
  sent and reached the SMTP server exactly once.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from infra.sign_request import build_request
from infra.stack import ManagedProcess
from tests.e2e.conftest import E2E, account, tool_input, wait_until
from tests.reliability.summary import SUMMARY

KEEP_BYTES = 1024 * 1024
ROUTES = ("raw", "mailgun", "mailgun-mime", "sendgrid", "sendgrid-raw", "postmark")
FIRST = ("Maribel", "Oskar", "Ines", "Tobiah", "Yusra", "Leopold", "Quinta", "Ferdinand")
LAST = ("Okonkwo-Vale", "Lindqvist", "Harrowgate", "Petrosyan", "Dunmore", "Castellanos")
STREETS = ("Quillfeather Lane", "Marrowbone Court", "Ostrander Row", "Wexcombe Street")


class SensitiveData:
    """Every debtor name, address, amount, body phrase and secret the suite put into the system;
    the leak scans look for each of them."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str) -> None:
        with self._lock:
            self._values.update(v for v in values if v and len(v) >= 6)

    def values(self) -> list[str]:
        with self._lock:
            return sorted(self._values)


SENSITIVE = SensitiveData()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class MailCase:
    """One email, its account and what Claude answers for it.

    ``kind``: ``payment`` (an exact, confident payment: AUTO_UPDATE, balance lowered, no mail),
    ``plan`` (a payment-plan request: UPDATE_AND_NOTIFY, one mail), ``dispute`` (the account is
    put on hold and compliance alerted, one mail).
    """

    kind: str
    route: str
    marker: str
    account_id: str
    case_number: str
    debtor_name: str
    debtor_email: str
    street: str
    balance: Decimal
    amount: Decimal
    message_id: str
    attachment_bytes: int = 0
    email_id: str | None = None
    correlation_id: str | None = None
    mime: bytes = b""

    @property
    def body_phrase(self) -> str:
        return {
            "payment": f"I transferred {self.amount} EUR this morning",
            "plan": f"could I pay {self.amount} EUR per month instead",
            "dispute": "I dispute this debt entirely, it is not mine",
        }[self.kind]

    def build(self) -> MailCase:
        """Render once; large emails are re-rendered (identically) at each send instead of
        being kept in memory (the soak sends thousands, some of 25 MB)."""
        mime = self.render()
        self.mime = mime if len(mime) <= KEEP_BYTES else b""
        SENSITIVE.add(
            self.debtor_name,
            self.debtor_email,
            self.street,
            str(self.amount),
            self.body_phrase,
            str(self.balance),
        )
        return self

    def payload(self) -> bytes:
        return self.mime or self.render()

    def render(self) -> bytes:
        message = EmailMessage()
        message["From"] = f"{self.debtor_name} <{self.debtor_email}>"
        message["To"] = "inbound@collections.example"
        message["Subject"] = f"Case {self.case_number}"
        message["Date"] = "Mon, 03 Mar 2025 10:15:00 +0000"
        message["Message-ID"] = self.message_id
        message.set_content(
            f"Hello,\n\nregarding case {self.case_number}: {self.body_phrase}.\n"
            f"My address is {self.street}.\n\nRegards,\n{self.debtor_name}\n{self.marker}\n"
        )
        if self.attachment_bytes:
            blob = random.Random(self.marker).randbytes(self.attachment_bytes)
            message.add_attachment(
                blob, maintype="application", subtype="octet-stream", filename="scan.bin"
            )
        return message.as_bytes(policy=policy.SMTP)

    def account_document(self) -> dict[str, Any]:
        return account(
            self.account_id,
            self.case_number,
            email=self.debtor_email,
            name=self.debtor_name,
            amount=float(self.balance),
        )

    def claude_answer(self) -> dict[str, Any]:
        case = (self.case_number, 0.99, f"case {self.case_number}")
        if self.kind == "payment":
            evidence = f"{self.amount} EUR"
            return tool_input(
                "payment_confirmation",
                0.97,
                self.body_phrase,
                case_number=case,
                amount=(float(self.amount), 0.97, evidence),
                currency=("EUR", 0.97, evidence),
            )
        if self.kind == "plan":
            return tool_input(
                "payment_plan_request",
                0.95,
                self.body_phrase,
                case_number=case,
                plan_installment_amount=(float(self.amount), 0.9, f"{self.amount} EUR"),
            )
        return tool_input("dispute", 0.96, self.body_phrase, case_number=case)

    @property
    def expected_decision(self) -> str:
        return "AUTO_UPDATE" if self.kind == "payment" else "UPDATE_AND_NOTIFY"


def make_cases(
    n: int,
    *,
    kinds: Iterable[str] = ("payment", "plan", "dispute"),
    routes: Iterable[str] = ROUTES,
    sizes: Callable[[random.Random], int] | None = None,
    seed: int | None = None,
) -> list[MailCase]:
    rng = random.Random(seed)
    kinds, routes = tuple(kinds), tuple(routes)
    cases = []
    for i in range(n):
        token = uuid.uuid4().hex[:8]
        cases.append(
            MailCase(
                kind=kinds[i % len(kinds)],
                route=routes[i % len(routes)],
                marker=f"MK-{token}",
                account_id=f"ACC-{token}",
                case_number=f"CASE-{token}",
                debtor_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}{token[:3].upper()}",
                debtor_email=f"debtor.{token}@mail.example",
                street=f"{rng.randint(10, 999)} {rng.choice(STREETS)}",
                balance=Decimal(f"{rng.randint(3000, 9000)}.{rng.randint(10, 99)}"),
                amount=Decimal(f"{rng.randint(101, 999)}.{rng.randint(10, 99)}"),
                message_id=f"<{token}.{uuid.uuid4().hex}@mail.example>",
                attachment_bytes=sizes(rng) if sizes else 0,
            ).build()
        )
    return cases


class Harness(E2E):
    """:class:`E2E` plus the ledger and checks of the reliability suite."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._engine: Engine | None = None
        self.accepted: dict[str, MailCase] = {}
        self.accepted_at: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(
                self.stack.database_url, pool_pre_ping=True, pool_size=2, max_overflow=2
            )
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(text(sql), params).mappings()]

    # -- setup ----------------------------------------------------------------------------

    def prepare(self, cases: list[MailCase]) -> None:
        """Seed the cases' accounts and script Claude's answer for each."""
        if not cases:
            return
        with self._mongo() as client:
            coll = client["collections"]["accounts"]
            coll.insert_many([case.account_document() for case in cases])
        for case in cases:
            self.claude.add_rule(case.marker, {"kind": "tool_use", "input": case.claude_answer()})

    # -- sending --------------------------------------------------------------------------

    def post_once(
        self, mime: bytes, route: str, timeout: float = 60.0
    ) -> tuple[int, dict[str, Any]]:
        """One provider POST; ``(599, {})`` when the connection itself failed."""
        env = self.stack.env()
        signed = build_request(route, mime, env)
        request = urllib.request.Request(
            env["WEBHOOK_URL"].rstrip("/") + signed.path,
            data=signed.body,
            headers=signed.headers,
            method="POST",
        )
        SUMMARY.count("webhook_posts")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            body = exc.read()
            try:
                return exc.code, json.loads(body or b"{}")
            except ValueError:
                return exc.code, {"raw": body[:200].decode("latin-1")}
        except OSError:
            return 599, {}

    def send(self, case: MailCase, *, deadline: float = 180.0, resend: bool = False) -> str:
        """POST until the webhook answers 200, like a provider retrying 5xx; returns the id."""
        give_up = time.monotonic() + deadline
        delay = 0.3
        while True:
            status, answer = self.post_once(case.payload(), case.route)
            if status == 200:
                email_id = str(answer["email_id"])
                assert case.email_id in (None, email_id), "a resend got a different email id"
                case.email_id = email_id
                case.correlation_id = str(answer.get("correlation_id"))
                with self._lock:
                    first = email_id not in self.accepted
                    self.accepted[email_id] = case
                    self.accepted_at.setdefault(email_id, time.monotonic())
                if first and not resend:
                    SUMMARY.count("emails_accepted")
                return email_id
            assert status >= 500, f"webhook refused a valid email: {status} {answer}"
            if time.monotonic() > give_up:
                raise TimeoutError(f"webhook kept answering {status} for {deadline:.0f}s")
            time.sleep(delay)
            delay = min(delay * 1.5, 3.0)

    def send_all(
        self,
        cases: list[MailCase],
        *,
        senders: int = 4,
        per_second: float | None = None,
        duplicates: float = 0.0,
    ) -> None:
        """Send every case from ``senders`` threads (optionally paced, optionally re-sending a
        share of them once more later, as providers sometimes do)."""
        queue = list(cases)
        rng = random.Random(len(cases))
        dupes = [c for c in cases if rng.random() < duplicates]
        queue += dupes
        lock = threading.Lock()
        errors: list[BaseException] = []
        started = time.monotonic()
        sent = [0]

        def worker() -> None:
            while True:
                with lock:
                    if not queue or errors:
                        return
                    case = queue.pop(0)
                    index = sent[0]
                    sent[0] += 1
                if per_second:
                    wait = started + index / per_second - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                try:
                    was_sent = case.email_id is not None
                    self.send(case, resend=was_sent)
                    if was_sent:
                        SUMMARY.count("duplicates_sent")
                except BaseException as exc:
                    with lock:
                        errors.append(exc)
                    return

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def send_in_background(self, cases: list[MailCase], **kwargs: Any) -> Callable[[], None]:
        """Start :meth:`send_all` in a thread; the returned function joins it (and re-raises)."""
        errors: list[BaseException] = []

        def run() -> None:
            try:
                self.send_all(cases, **kwargs)
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()

        def join() -> None:
            thread.join()
            if errors:
                raise errors[0]

        return join

    # -- waiting --------------------------------------------------------------------------

    def report_rows(self, ids: list[str]) -> list[dict[str, Any]]:
        return self.query(
            "SELECT email_id, status, decision, actions FROM processing_reports "
            "WHERE email_id = ANY(:ids)",
            ids=ids,
        )

    def kick_subscription(self) -> None:
        """Make the emulator push again what it stopped pushing.

        The Pub/Sub emulator (0.8.20) gives up pushing a message after a few consecutive 5xx
        answers (seen: 3–7 attempts, then nothing for minutes, nothing dead-lettered), where
        Pub/Sub retries with the subscription's backoff up to ``max_delivery_attempts``. A seek
        to a past time — Pub/Sub's own way to make unacknowledged messages deliverable again —
        restarts the pushes. Counted in the summary (``emulator kicks``).
        """
        from google.cloud import pubsub_v1
        from google.protobuf import timestamp_pb2

        from infra.stack import PROJECT

        subscriber = pubsub_v1.SubscriberClient()
        try:
            stamp = timestamp_pb2.Timestamp()
            stamp.FromSeconds(int(time.time()) - 3600)
            path = subscriber.subscription_path(PROJECT, "inbound-emails-processor")
            subscriber.seek(request={"subscription": path, "time": stamp}, timeout=10)
        finally:
            subscriber.close()
        SUMMARY.count("extra:emulator kicks (seek after stalled pushes)")

    def wait_for_reports(
        self,
        cases: list[MailCase],
        timeout: float = 180.0,
        *,
        record: bool = True,
        stall_seconds: float = 15.0,
    ) -> None:
        """Until every accepted case has a report; a timeout is a loss (when ``record``)."""
        ids = [c.email_id for c in cases if c.email_id]
        deadline = time.monotonic() + timeout
        progress_at, seen = time.monotonic(), -1
        while True:
            try:
                done = {r["email_id"] for r in self.report_rows(ids)}
            except Exception:  # Postgres may still be coming back
                done = set()
            if len(done) >= len(set(ids)):
                return
            if len(done) != seen:
                progress_at, seen = time.monotonic(), len(done)
            elif time.monotonic() - progress_at > stall_seconds:
                self.kick_subscription()
                progress_at = time.monotonic()
            if time.monotonic() > deadline:
                missing = sorted(set(ids) - done)
                for email_id in missing if record else []:
                    SUMMARY.loss(f"no report for accepted email {email_id}")
                raise AssertionError(f"{len(missing)} accepted email(s) without a report")
            time.sleep(0.5)

    def wait_for_notifications_sent(self, cases: list[MailCase], timeout: float = 120.0) -> None:
        """Until no notification of these emails is pending; each round sends one more
        harmless email, whose delivery sweeps the outbox (as live traffic does)."""
        ids = [c.email_id for c in cases if c.email_id]
        deadline = time.monotonic() + timeout
        while True:
            pending = self.query(
                "SELECT count(*) AS n FROM notifications WHERE email_id = ANY(:ids) "
                "AND status = 'pending'",
                ids=ids,
            )[0]["n"]
            if pending == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{pending} notification(s) still pending")
            nudge = make_cases(1, kinds=("plan",))
            self.prepare(nudge)
            self.send(nudge[0])
            cases.append(nudge[0])
            time.sleep(1.0)

    # -- the promise ----------------------------------------------------------------------

    def verify(
        self,
        cases: list[MailCase],
        *,
        expect_decisions: bool = True,
        allow_failed: bool = False,
        known_issue: bool = False,
    ) -> dict[str, int]:
        """Every accepted email: one report, effects once, notifications once. Returns counts."""
        accepted = [c for c in cases if c.email_id]
        ids = [str(c.email_id) for c in accepted]
        problems: list[str] = []
        reports: dict[str, list[dict[str, Any]]] = {}
        for row in self.report_rows(ids):
            reports.setdefault(row["email_id"], []).append(row)
        notifications: dict[str, list[dict[str, Any]]] = {}
        for row in self.query(
            "SELECT email_id, kind, status FROM notifications WHERE email_id = ANY(:ids)", ids=ids
        ):
            notifications.setdefault(row["email_id"], []).append(row)
        mails = Counter(
            str(m["X-Inbound-Email-Id"])
            for m in self.mailbox.messages()
            if m["X-Inbound-Email-Id"] is not None
        )
        with self._mongo() as client:
            docs = {
                d["_id"]: d
                for d in client["collections"]["accounts"].find(
                    {"_id": {"$in": [c.account_id for c in accepted]}}
                )
            }
        for case in accepted:
            email_id = str(case.email_id)
            rows = reports.get(email_id, [])
            if len(rows) != 1:
                problems.append(f"{email_id}: {len(rows)} reports")
                continue
            report = rows[0]
            if report["status"] != "done" and not (allow_failed and report["status"] == "failed"):
                problems.append(f"{email_id}: report status {report['status']}")
            if expect_decisions and report["decision"] != case.expected_decision:
                problems.append(f"{email_id}: decision {report['decision']}")
            # "already_applied": an earlier attempt changed the account and then failed before
            # its report was written (e.g. Postgres went away); the change is there, once
            applied = any(
                a.get("result") in ("applied", "already_applied") for a in (report["actions"] or [])
            )
            if applied and case.kind == "payment":
                problems.extend(_balance_problems(email_id, case, report["actions"]))
            doc = docs.get(case.account_id)
            if doc is None:
                problems.append(f"{email_id}: account {case.account_id} missing")
                continue
            entries = [h for h in doc.get("history", []) if _entry_email(h) == email_id]
            in_applied = list(doc.get("applied_email_ids", [])).count(email_id)
            if applied and (len(entries), in_applied) != (1, 1):
                problems.append(f"{email_id}: {len(entries)} history entries, {in_applied} ids")
            if not applied and (entries or in_applied):
                problems.append(f"{email_id}: account changed without an applied action")
            balance = Decimal(str(doc["balance"]["amount"])).quantize(Decimal("0.01"))
            expected = case.balance - (case.amount if applied and case.kind == "payment" else 0)
            if balance != expected:
                problems.append(f"{email_id}: balance {balance}, expected {expected}")
            rows_n = notifications.get(email_id, [])
            wanted = 0 if report["decision"] == "AUTO_UPDATE" else 1
            if report["status"] == "failed":
                wanted = 0
            if len(rows_n) != wanted or any(n["status"] != "sent" for n in rows_n):
                problems.append(f"{email_id}: notifications {[n['status'] for n in rows_n]}")
            if mails[email_id] != len(rows_n):
                problems.append(f"{email_id}: {mails[email_id]} mails for {len(rows_n)} rows")
        SUMMARY.count("reports_checked", len(accepted))
        SUMMARY.count(
            "extra:already_applied reports (balances checked)",
            sum(
                any(a.get("result") == "already_applied" for a in (rows[0]["actions"] or []))
                for rows in reports.values()
                if rows
            ),
        )
        SUMMARY.count("notifications_checked", sum(len(v) for v in notifications.values()))
        for problem in problems:
            (SUMMARY.known_loss if known_issue else SUMMARY.loss)(problem)
        assert not problems, "\n".join(problems[:30])
        return {"accepted": len(accepted), "mails": sum(mails[i] for i in ids)}


def _balance_problems(email_id: str, case: MailCase, actions: Any) -> list[str]:
    """A payment's action, applied now or by an earlier attempt whose report was lost
    (``already_applied``), must say what moved the money: the balance before and after."""
    problems = []
    for action in actions or []:
        if action.get("result") not in ("applied", "already_applied"):
            continue
        try:
            before = Decimal(action["balance_before"])
            after = Decimal(action["balance_after"])
        except (KeyError, TypeError, ArithmeticError):
            problems.append(f"{email_id}: {action.get('result')} action without balances")
            continue
        if (before, after) != (case.balance, case.balance - case.amount):
            problems.append(f"{email_id}: {action.get('result')} balances {before} -> {after}")
    return problems


def _entry_email(entry: Any) -> str | None:
    if isinstance(entry, dict):
        return entry.get("email_id")
    if isinstance(entry, str):  # nx-27017 may hand back documents stored as JSON text
        try:
            return json.loads(entry).get("email_id")
        except ValueError:
            return None
    return None


def wait_for(probe: Callable[[], Any], timeout: float, what: str) -> Any:
    return wait_until(probe, timeout, what)


@dataclass
class Sizes:
    """CI sizes (``make test``) or the full ones (``make soak``, ``RELIABILITY_SIZE=soak``)."""

    name: str
    postgres_emails: int
    postgres_outage: float
    fault_emails: int
    kills: int
    kill_emails: int
    claude_emails: int
    smtp_emails: int
    smtp_outage: float
    soak_emails: int
    soak_seconds: float
    soak_max_bytes: int
    # the memory test (test_memory.py): emails, of which this many of 5-25 MB
    memory_emails: int
    memory_large: int
    fuzz_examples: int
    rollup_rows: int
    extra: dict[str, Any] = field(default_factory=dict)


CI = Sizes(
    name="ci",
    postgres_emails=60,
    postgres_outage=30.0,
    fault_emails=30,
    kills=20,
    kill_emails=60,
    claude_emails=12,
    smtp_emails=24,
    smtp_outage=15.0,
    soak_emails=120,
    soak_seconds=30.0,
    soak_max_bytes=2 * 1024 * 1024,
    memory_emails=80,
    memory_large=12,
    fuzz_examples=60,
    rollup_rows=60_000,
)
SOAK = Sizes(
    name="soak",
    postgres_emails=200,
    postgres_outage=30.0,
    fault_emails=100,
    kills=20,
    kill_emails=200,
    claude_emails=40,
    smtp_emails=100,
    smtp_outage=60.0,
    soak_emails=5000,
    soak_seconds=600.0,
    soak_max_bytes=25 * 1024 * 1024,
    memory_emails=400,
    memory_large=48,
    fuzz_examples=1000,
    rollup_rows=300_000,
)


def rss_mb(server: ManagedProcess) -> float:
    """Resident memory of the server's whole process group (gunicorn master and worker)."""
    assert server.process is not None
    group = server.process.pid
    total = 0
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != group:  # pgrp
                continue
            rss = (status.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        for line in rss.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024
