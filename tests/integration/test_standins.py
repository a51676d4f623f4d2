"""The loopback stand-ins, exercised with the real SDKs (anthropic, sentry-sdk, smtplib)."""

from __future__ import annotations

import gzip
import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import anthropic
import pytest
import sentry_sdk
from anthropic.types import TextBlockParam, ToolParam

from infra.fakes.clients import ClaudeStandin, Mailbox, SentrySink, StandinError

pytestmark = pytest.mark.timeout(60)

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL = "claude-sonnet-5"
READY_TIMEOUT = 15.0
TOOLS: list[ToolParam] = [
    {
        "name": "record_extraction",
        "description": "Record what the email says.",
        "input_schema": {
            "type": "object",
            "properties": {"intent": {"type": "string"}},
        },
    }
]


# --- starting the stand-ins ------------------------------------------------------


@dataclass
class Running:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    state_dir: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/_control/health", timeout=1
        ) as response:
            return bool(response.status == 200 and json.loads(response.read()) == {"ok": True})
    except OSError:
        return False


def smtp_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(512).startswith(b"220")
    except OSError:
        return False


def start(module: str, tmp: Path, ready: Callable[[int], bool]) -> Running:
    port = free_port()
    state_dir = tmp / module
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = tmp / f"{module}.log"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    cmd = [
        sys.executable,
        "-m",
        f"infra.fakes.{module}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    cmd += ["--state-dir", str(state_dir)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    running = Running(module, proc, port, state_dir, log_path)
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(running)
            pytest.fail(f"stand-in {module} did not come up on port {port}:\n{running.log_tail()}")
        time.sleep(0.05)
    return running


def stop(running: Running) -> int | None:
    if running.proc.poll() is None:
        running.proc.send_signal(signal.SIGTERM)
        try:
            running.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            running.proc.kill()
            running.proc.wait()
    return running.proc.returncode


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Running]]:
    tmp = tmp_path_factory.mktemp("standins")
    started: dict[str, Running] = {}
    try:
        started["claude"] = start("claude_standin", tmp, http_ready)
        started["sentry"] = start("sentry_sink", tmp, http_ready)
        started["smtp"] = start("smtp_server", tmp, smtp_ready)
        yield started
    finally:
        codes = {name: stop(running) for name, running in started.items()}
    assert all(code == 0 for code in codes.values()), f"stand-ins did not exit cleanly: {codes}"


@pytest.fixture
def claude(servers: dict[str, Running]) -> ClaudeStandin:
    standin = ClaudeStandin(servers["claude"].base_url)
    standin.reset()
    return standin


@pytest.fixture
def sink(servers: dict[str, Running]) -> SentrySink:
    sentry_sink = SentrySink(servers["sentry"].base_url)
    sentry_sink.reset()
    return sentry_sink


@pytest.fixture
def mailbox(servers: dict[str, Running]) -> Iterator[Mailbox]:
    box = Mailbox(servers["smtp"].state_dir)
    box.clear()
    box.refuse(False)
    yield box
    box.refuse(False)


def client(standin: ClaudeStandin, **kwargs: object) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="test-key-123", base_url=standin.base_url, **kwargs)  # type: ignore[arg-type]


def extract(api: anthropic.Anthropic, text: str, **kwargs: object) -> anthropic.types.Message:
    return api.messages.create(  # type: ignore[call-overload, no-any-return]
        model=MODEL,
        max_tokens=512,
        tools=TOOLS,
        tool_choice={"type": "tool", "name": "record_extraction"},
        messages=[{"role": "user", "content": text}],
        **kwargs,
    )


def expected_tokens(*texts: str) -> int:
    return sum(len(t) for t in texts) // 4


TOOL_TEXT = "record_extractionRecord what the email says." + json.dumps(
    TOOLS[0]["input_schema"], sort_keys=True
)


# --- Claude stand-in ---------------------------------------------------------------


def test_scripted_tool_use_answer_has_the_real_shape(claude: ClaudeStandin) -> None:
    claude.set_default({"kind": "tool_use", "input": {"intent": "payment_confirmation"}})
    message = extract(client(claude, max_retries=0), "I paid invoice 42 yesterday.")

    assert message.type == "message" and message.role == "assistant" and message.model == MODEL
    assert message.id.startswith("msg_")
    assert message.stop_reason == "tool_use" and message.stop_sequence is None
    [block] = message.content
    assert block.type == "tool_use" and block.id.startswith("toolu_")
    assert block.name == "record_extraction" and block.input == {"intent": "payment_confirmation"}
    assert message.usage.input_tokens == expected_tokens(TOOL_TEXT, "I paid invoice 42 yesterday.")
    assert message.usage.output_tokens >= 1
    assert (
        message.usage.cache_creation_input_tokens == 0
        and message.usage.cache_read_input_tokens == 0
    )


def test_cache_control_is_created_once_then_read(claude: ClaudeStandin) -> None:
    api = client(claude, max_retries=0)
    system: list[TextBlockParam] = [
        {
            "type": "text",
            "text": "You extract facts from emails. " * 20,
            "cache_control": {"type": "ephemeral"},
        }
    ]
    first = extract(api, "Email one: please call me.", system=system)
    second = extract(api, "Email two: I dispute this debt.", system=system)

    prefix = expected_tokens(TOOL_TEXT, system[0]["text"])
    assert (
        first.usage.cache_creation_input_tokens == prefix
        and first.usage.cache_read_input_tokens == 0
    )
    assert (
        first.usage.cache_creation is not None
        and first.usage.cache_creation.ephemeral_5m_input_tokens == prefix
    )
    assert (
        second.usage.cache_read_input_tokens == prefix
        and second.usage.cache_creation_input_tokens == 0
    )
    # As the real API: input_tokens + cached tokens = the whole prompt.
    whole = expected_tokens(TOOL_TEXT, system[0]["text"], "Email two: I dispute this debt.")
    assert second.usage.input_tokens + prefix == whole


def test_500_then_success_is_retried_by_the_sdk(claude: ClaudeStandin) -> None:
    claude.enqueue({"kind": "error", "status": 500})
    message = extract(client(claude, max_retries=2), "retry me")

    assert message.stop_reason == "tool_use"
    requests = claude.requests()
    assert [r["status"] for r in requests] == [500, 200]
    assert [r["headers"]["x-stainless-retry-count"] for r in requests] == ["0", "1"]
    assert claude.stats()["by_status"] == {"500": 1, "200": 1}


def test_529_without_retries_raises_overloaded(claude: ClaudeStandin) -> None:
    claude.enqueue({"kind": "error", "status": 529})
    with pytest.raises(anthropic.InternalServerError) as caught:
        extract(client(claude, max_retries=0), "overloaded")

    assert isinstance(caught.value, anthropic.APIStatusError)
    assert caught.value.status_code == 529
    assert caught.value.type == "overloaded_error"
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "stand-in scripted error 529"},
        "request_id": caught.value.request_id,
    }
    assert len(claude.requests()) == 1


def test_429_raises_rate_limit_with_retry_after_header(claude: ClaudeStandin) -> None:
    claude.enqueue({"kind": "error", "status": 429, "retry_after": 7})
    with pytest.raises(anthropic.RateLimitError) as caught:
        extract(client(claude, max_retries=0), "slow down")

    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.type == "rate_limit_error"


def test_400_is_not_retried(claude: ClaudeStandin) -> None:
    claude.enqueue({"kind": "error", "status": 400, "message": "bad tool schema"})
    with pytest.raises(anthropic.BadRequestError) as caught:
        extract(client(claude, max_retries=2), "bad request")

    assert caught.value.api_message == "bad tool schema"
    assert len(claude.requests()) == 1


def test_hang_exceeds_client_timeout(claude: ClaudeStandin) -> None:
    claude.enqueue({"kind": "hang", "seconds": 3})
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        extract(client(claude, max_retries=0, timeout=0.5), "are you there?")

    assert time.monotonic() - started < 2.5
    assert claude.requests()[0]["behaviour"] == "hang"


def test_rules_route_answers_by_email_text(claude: ClaudeStandin) -> None:
    claude.add_rule("EMAIL-A", {"kind": "tool_use", "input": {"intent": "dispute"}})
    claude.add_rule("EMAIL-B", {"kind": "text", "text": "no tool for you"}, times=1)
    api = client(claude, max_retries=0)

    assert extract(api, "Subject: EMAIL-A I dispute").content[0].input == {"intent": "dispute"}  # type: ignore[union-attr]
    b_first = extract(api, "Subject: EMAIL-B hello")
    assert b_first.stop_reason == "end_turn" and b_first.content[0].text == "no tool for you"  # type: ignore[union-attr]
    b_second = extract(api, "Subject: EMAIL-B hello again")  # times=1 used up: the default answers
    assert b_second.stop_reason == "tool_use" and b_second.content[0].input == {}  # type: ignore[union-attr]
    assert extract(api, "Subject: EMAIL-A again").content[0].input == {"intent": "dispute"}  # type: ignore[union-attr]


def test_delayed_requests_are_served_in_parallel(claude: ClaudeStandin) -> None:
    claude.set_default({"kind": "tool_use", "input": {"ok": True}, "delay_seconds": 1.0})
    api = client(claude, max_retries=0, timeout=5.0)  # fail fast if served one by one
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: extract(api, f"email {i}"), range(8)))
    elapsed = time.monotonic() - started

    assert all(r.content[0].input == {"ok": True} for r in results)  # type: ignore[union-attr]
    assert 1.0 <= elapsed < 1.8, f"8 requests of 1 s took {elapsed:.2f} s"


def test_max_tokens_cuts_the_tool_call(claude: ClaudeStandin) -> None:
    claude.enqueue({"kind": "max_tokens"})
    message = extract(client(claude, max_retries=0), "a very long email")

    assert message.stop_reason == "max_tokens"
    assert message.content[0].type == "tool_use" and message.content[0].input == {}
    assert message.usage.output_tokens == 512


def test_malformed_body_surfaces_as_a_decode_error(claude: ClaudeStandin) -> None:
    claude.enqueue({"kind": "malformed"})
    with pytest.raises(ValueError):
        extract(client(claude, max_retries=2), "garbage please")
    assert [r["status"] for r in claude.requests()] == [200]  # the SDK does not retry it


def test_count_tokens_via_the_sdk(claude: ClaudeStandin) -> None:
    system = "Extract the debtor's intent."
    counted = client(claude).messages.count_tokens(
        model=MODEL,
        system=system,
        tools=TOOLS,
        messages=[{"role": "user", "content": "I lost my job."}],
    )
    assert counted.input_tokens == expected_tokens(TOOL_TEXT, system, "I lost my job.")


def test_requests_are_recorded_with_credentials_redacted(claude: ClaudeStandin) -> None:
    extract(client(claude, max_retries=0), "record me")
    [request] = claude.requests()

    assert request["path"] == "/v1/messages" and request["status"] == 200
    assert request["body"]["messages"] == [{"role": "user", "content": "record me"}]
    assert request["headers"]["authorization"] == "<redacted>"
    assert "test-key-123" not in json.dumps(request)
    assert isinstance(request["received_at"], float)


def test_bad_behaviours_are_rejected(claude: ClaudeStandin) -> None:
    with pytest.raises(StandinError, match="400"):
        claude.set_default({"kind": "explode"})
    with pytest.raises(StandinError, match="400"):
        claude.add_rule("x", {"kind": "error"})  # no status


# --- Sentry sink ---------------------------------------------------------------------


class PaymentLookupFailed(RuntimeError):
    pass


def test_sentry_sdk_exception_reaches_the_sink(
    sink: SentrySink, servers: dict[str, Running]
) -> None:
    dsn = f"http://public@127.0.0.1:{servers['sentry'].port}/1"
    sentry_sdk.init(dsn=dsn, default_integrations=False)
    try:
        try:
            raise PaymentLookupFailed("account 123 not reachable")
        except PaymentLookupFailed:
            sentry_sdk.capture_exception()
        with sentry_sdk.new_scope() as scope:
            scope.add_attachment(bytes=b"\x00\xffbinary\n", filename="blob.bin")
            sentry_sdk.capture_message("with attachment")
        sentry_sdk.flush(timeout=5)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init(dsn=None)

    [event, message_event] = sink.wait_for_events(2, timeout=5)
    assert event["exception"]["values"][-1]["type"] == "PaymentLookupFailed"
    assert message_event["message"] == "with attachment"
    envelopes = sink.envelopes()
    assert all(e["endpoint"] == "envelope" and e["project_id"] == "1" for e in envelopes)
    assert "sentry_key=public" in envelopes[0]["request_headers"]["x-sentry-auth"]
    assert envelopes[0]["request_headers"]["content-encoding"] in ("gzip", "br")
    assert envelopes[0]["headers"]["event_id"] == event["event_id"]
    [attachment] = sink.items("attachment")
    assert attachment["headers"]["length"] == 9
    assert attachment["payload"] == "AP9iaW5hcnkK"  # base64 of the raw bytes, "\n" kept


def test_legacy_store_endpoint_with_gzip(sink: SentrySink) -> None:
    body = gzip.compress(json.dumps({"event_id": "ab" * 16, "message": "legacy"}).encode())
    request = urllib.request.Request(
        f"{sink.base_url}/api/7/store/",
        data=body,
        method="POST",
        headers={"Content-Encoding": "gzip"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read()) == {}

    [event] = sink.events()
    assert event["message"] == "legacy"
    assert sink.envelopes()[0]["project_id"] == "7"


# --- SMTP stand-in -----------------------------------------------------------------


def notification(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "noreply@collections.test"
    message["To"] = "staff@collections.test"
    message["Subject"] = subject
    message.set_content("An account needs a look.")
    return message


def test_smtp_keeps_the_message(mailbox: Mailbox, servers: dict[str, Running]) -> None:
    with smtplib.SMTP("127.0.0.1", servers["smtp"].port, timeout=5) as smtp:
        smtp.send_message(notification("Dispute received"))
    [kept] = mailbox.wait_for(1, timeout=5)

    assert kept["Subject"] == "Dispute received"
    assert kept["X-Envelope-From"] == "noreply@collections.test"
    assert kept["X-Envelope-To"] == "staff@collections.test"
    assert kept.get_content().strip() == "An account needs a look."


def test_smtp_accepts_login_without_tls(mailbox: Mailbox, servers: dict[str, Running]) -> None:
    with smtplib.SMTP("127.0.0.1", servers["smtp"].port, timeout=5) as smtp:
        smtp.login("relay-user", "secret")
        smtp.send_message(notification("After login"))
    [kept] = mailbox.wait_for(1, timeout=5)
    assert kept["X-Smtp-Auth-User"] == "relay-user"


def test_smtp_refuses_with_451_then_recovers(mailbox: Mailbox, servers: dict[str, Running]) -> None:
    port = servers["smtp"].port
    mailbox.refuse(True)
    with (
        smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp,
        pytest.raises(smtplib.SMTPDataError) as at_data,
    ):
        smtp.send_message(notification("refused at DATA"))
    assert at_data.value.smtp_code == 451

    mailbox.refuse(True, at="rcpt")
    with (
        smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused) as at_rcpt,
    ):
        smtp.send_message(notification("refused at RCPT"))
    assert at_rcpt.value.recipients["staff@collections.test"][0] == 451
    assert mailbox.messages() == []

    mailbox.refuse(False)
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(notification("accepted again"))
    assert [m["Subject"] for m in mailbox.wait_for(1, timeout=5)] == ["accepted again"]


# --- process lifecycle ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "ready"),
    [
        ("claude_standin", http_ready),
        ("sentry_sink", http_ready),
        ("smtp_server", smtp_ready),
    ],
)
def test_standin_exits_cleanly_on_sigterm(
    module: str, ready: Callable[[int], bool], tmp_path: Path
) -> None:
    running = start(module, tmp_path, ready)
    started = time.monotonic()
    assert stop(running) == 0, running.log_tail()
    assert time.monotonic() - started < 5
    assert not ready(running.port)
