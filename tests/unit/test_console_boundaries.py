"""The console's boundaries: a correction holds only what the processor's own checks accept
(refused with a 400, nothing written), an amount is never rounded, and a dependency that
refuses or stops answering is a 503 naming it (logged by type only), never a 500 or a 401."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pg8000.dbapi
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from google.api_core.exceptions import ServiceUnavailable
from google.auth import crypt, jwt
from google.auth.exceptions import TransportError
from sqlalchemy import create_engine
from sqlalchemy.exc import ProgrammingError

from shared.accounts.mongo import validate_account
from shared.config import load_settings
from shared.console import auth
from shared.console.app import create_app
from shared.console.auth import IAP_HEADER, IAP_ISSUER, Authenticator, IapVerifier, Identity
from shared.console.updates import UnusableReading, account_update
from shared.ops.dlq import DeadLetter
from tests.console_support import account_document

WHO = Identity("rita@example.com", frozenset({"reviewer"}))
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CSRF = "t" * 40
SECRET = "do-not-log-me"  # stands for whatever a library's message may quote


def _update(intent: str, **fields: object) -> Any:
    read = {"intent": intent, "fields": {k: {"value": v} for k, v in fields.items()}}
    return account_update(email_id="em-1", correlation_id="c-1", who=WHO, read=read, now=NOW)


# -- what apply writes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"new_phone": "+" + "4" * 80},  # the model keeps 64 characters of a phone
        {"new_phone": "call me after six"},
        {"new_address": "12"},
        {"new_address": "1 New Street", "new_phone": "0"},  # one bad value refuses both
    ],
)
def test_a_contact_change_the_checks_refuse_is_never_written(fields: dict[str, str]) -> None:
    with pytest.raises(UnusableReading, match="new_"):
        _update("address_change", **fields)


def test_a_contact_change_writes_what_the_account_model_reads_back() -> None:
    action, update = _update(
        "address_change", new_address=" 1 New\r\nStreet, Town ", new_phone=" +44 (20) 7946-0958"
    )
    assert action == "update_contact"
    assert update.set_fields == {
        "debtor.address": "1 New Street, Town",
        "debtor.phone": "+44 (20) 7946-0958",
    }
    document = account_document("ACC-1")
    document["debtor"].update(address=update.set_fields["debtor.address"])
    document["debtor"].update(phone=update.set_fields["debtor.phone"])
    assert validate_account(document) is not None


@pytest.mark.parametrize("amount", ["12.345", "0.001", "100000000.01", "1e3", 12.345, -1])
def test_an_amount_is_refused_rather_than_rounded_or_unbounded(amount: object) -> None:
    with pytest.raises(UnusableReading, match="at most two decimals"):
        _update("payment_confirmation", amount=amount)


def test_an_amount_at_the_limit_is_recorded_exactly() -> None:
    _, update = _update("payment_confirmation", amount="100000000")
    assert str(update.payment) == "100000000.00"


def test_a_payment_date_that_is_no_date_is_refused_not_dropped() -> None:
    with pytest.raises(UnusableReading, match="payment_date"):
        _update("payment_confirmation", amount="10", payment_date="2026-02-30")


# -- a database the pages talk to --------------------------------------------------------


class _Rows:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows

    def mappings(self) -> _Rows:
        return self

    def one_or_none(self) -> dict[str, Any] | None:
        return dict(self._rows[0]) if self._rows else None

    def all(self) -> list[dict[str, Any]]:
        return self._rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows)


class FakeDatabase:
    """One open review item claimed by Rita; every statement is recorded."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.item: dict[str, Any] = {
            "id": 7,
            "email_id": "em-1",
            "reason": "low_confidence",
            "status": "claimed",
            "outcome": None,
            "closed_by": None,
            "claimed_by": "rita@example.com",
            "claimed_until": datetime.now(UTC) + timedelta(minutes=20),
            "claim_active": True,
            "created_at": datetime.now(UTC),
            "correlation_id": "c-1",
            "gcs_uri": None,
            "override": None,
        }

    def execute(self, statement: Any, params: dict[str, Any] | None = None) -> _Rows:
        sql = str(statement)
        self.statements.append(sql)
        if "SET override" in sql:
            self.item["override"] = json.loads((params or {})["o"])
        if "FOR UPDATE" in sql or "JOIN emails" in sql:
            return _Rows([self.item])
        return _Rows([])

    @contextmanager
    def connect(self) -> Iterator[FakeDatabase]:
        yield self

    begin = connect

    def invalidate(self) -> None:
        self.invalidated = True

    def writes(self) -> list[str]:
        return [s for s in self.statements if "SET override" in s or "INSERT INTO" in s]


def _client(app: Flask, roles: tuple[str, ...] = ("reviewer", "operator")) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as session:
        session["dev_identity"] = {"email": "rita@example.com", "roles": list(roles)}
        session["csrf_token"] = CSRF
    return client


def _dev_app() -> Flask:
    return create_app(load_settings({"CONSOLE_DEV_SIGN_IN": "true"}), accounts_factory=object)


def _use_database(monkeypatch: pytest.MonkeyPatch, engine: Any) -> None:
    monkeypatch.setattr("shared.db.engine.get_engine", lambda: engine)


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("new_phone", "9" * 70, "phone number"),
        ("new_address", "x" * 501, "address of 5 to 500"),
        ("amount", "12.345", "at most two decimals"),
        ("amount", "250000000", "at most two decimals, at most 100000000"),
        ("amount", "-5", "positive amount"),
        ("debtor_email", "rita at example", "email address"),
        ("payment_date", "04/12/2026", "YYYY-MM-DD"),
    ],
)
def test_a_correction_the_checks_refuse_is_a_400_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str, rule: str
) -> None:
    database = FakeDatabase()
    _use_database(monkeypatch, database)
    form = {"csrf_token": CSRF, "intent": "address_change", f"field_{field}": value}
    page = _client(_dev_app()).post("/items/em-1/correct", data=form)
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Nothing was changed" in text and rule in text
    assert database.writes() == [] and database.item["override"] is None


def test_a_valid_correction_is_stored_as_the_checks_normalise_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = FakeDatabase()
    _use_database(monkeypatch, database)
    form = {
        "csrf_token": CSRF,
        "intent": "payment_confirmation",
        "field_amount": "12.3",
        "field_new_phone": "+44 20  7946 0958",
    }
    assert _client(_dev_app()).post("/items/em-1/correct", data=form).status_code == 303
    fields = database.item["override"]["fields"]
    assert fields["amount"]["value"] == "12.30"
    assert fields["new_phone"]["value"] == "+44 20 7946 0958"


# -- dependencies down ---------------------------------------------------------------------


# what a log line adds to every event when structured logging is set up in this process
_CONTEXT = ("correlation_id", "function", "logger", "email_id")


def _event_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = dict(record.json_fields)  # type: ignore[attr-defined]
    return {k: v for k, v in fields.items() if k not in _CONTEXT}


def _unavailable_logs(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        _event_fields(r)
        for r in caplog.records
        if r.getMessage() == "console_dependency_unavailable" and r.levelno == logging.WARNING
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("path", ["/queue", "/items/em-1", "/ops/"])
def test_pages_answer_503_while_postgres_refuses_connections(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    port = _free_port()  # nothing listens there
    engine = create_engine(
        f"postgresql+pg8000://u:{SECRET}@127.0.0.1:{port}/x", connect_args={"timeout": 2}
    )
    _use_database(monkeypatch, engine)
    caplog.set_level(logging.INFO)
    page = _client(_dev_app()).get(path)
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "Postgres" in text and "Try again" in text and str(port) not in text
    [logged] = _unavailable_logs(caplog)
    assert logged["dependency"] == "postgres" and logged["error_type"] == "InterfaceError"
    assert str(port) not in caplog.text and SECRET not in caplog.text


def test_an_action_answers_503_while_postgres_refuses_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = create_engine(f"postgresql+pg8000://u:p@127.0.0.1:{_free_port()}/x")
    _use_database(monkeypatch, engine)
    form = {"csrf_token": CSRF, "account_id": "ACC-1"}
    assert _client(_dev_app()).post("/items/em-1/apply", data=form).status_code == 503


def test_a_database_that_stops_answering_is_a_503_too(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        port = silent.getsockname()[1]
        engine = create_engine(
            f"postgresql+pg8000://u:p@127.0.0.1:{port}/x", connect_args={"timeout": 0.3}
        )
        _use_database(monkeypatch, engine)
        caplog.set_level(logging.INFO)
        page = _client(_dev_app()).get("/queue")
    assert page.status_code == 503
    assert [e["error_type"] for e in _unavailable_logs(caplog)] == ["TimeoutError"]


def test_a_statement_whose_answer_times_out_drops_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pg8000 lets a timed-out read through as a bare TimeoutError: back in the pool, the
    connection would hand its late answer to the next page's statement."""

    class TimesOut(FakeDatabase):
        invalidated = False

        def execute(self, statement: Any, params: dict[str, Any] | None = None) -> _Rows:
            raise TimeoutError("timed out")

    database = TimesOut()
    _use_database(monkeypatch, database)
    assert _client(_dev_app()).get("/queue").status_code == 503
    assert database.invalidated


def test_a_statement_the_database_refuses_is_a_bug_not_an_outage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Refusing:
        def connect(self) -> Any:
            fields = {"S": "ERROR", "C": "42601", "M": "syntax error"}
            raise ProgrammingError("SELECT", {}, pg8000.dbapi.ProgrammingError(fields))

    _use_database(monkeypatch, Refusing())
    with pytest.raises(ProgrammingError):  # to the invocation wrapper and Sentry, as before
        _client(_dev_app()).get("/queue")


class FakeDeadLetters:
    def __init__(self, *, pull: Exception | None = None, replay: Exception | None = None) -> None:
        self.pull, self.replayed, self.released = pull, replay, 0
        self.release_fails = False

    def pull_all(self, limit: int) -> list[DeadLetter]:
        if self.pull is not None:
            raise self.pull
        return [DeadLetter("ack-1", "m-1", b'{"email_id": "em-1"}', {}, None)]

    def replay(self, letter: DeadLetter) -> str:
        if self.replayed is not None:
            raise self.replayed
        return "m-2"

    def release(self, letters: list[DeadLetter]) -> None:
        self.released += 1
        if self.release_fails:
            raise ServiceUnavailable(SECRET)


def _with_queue(queue: FakeDeadLetters) -> Flask:
    app = _dev_app()
    app.extensions["console"].dlq_factory = lambda: queue
    return app


def test_the_dead_letter_page_answers_503_while_pubsub_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    page = _client(_with_queue(FakeDeadLetters(pull=ServiceUnavailable(SECRET)))).get(
        "/ops/dead-letters"
    )
    assert page.status_code == 503 and "Pub/Sub" in page.get_data(as_text=True)
    assert _unavailable_logs(caplog) == [
        {
            "dependency": "pubsub",
            "error_type": "DependencyUnavailable",
            "endpoint": "ops.dead_letters",
        }
    ]
    assert SECRET not in caplog.text and SECRET not in page.get_data(as_text=True)


def test_a_replay_pubsub_never_confirms_is_a_503_and_the_lease_is_given_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_database(monkeypatch, FakeDatabase())  # the ops_audit row
    queue = FakeDeadLetters(replay=TimeoutError())
    form = {"csrf_token": CSRF, "message_id": "m-1"}
    page = _client(_with_queue(queue)).post("/ops/dead-letters", data=form)
    assert page.status_code == 503 and "Pub/Sub" in page.get_data(as_text=True)
    assert queue.released == 1


def test_leases_pubsub_cannot_take_back_do_not_fail_the_page(
    caplog: pytest.LogCaptureFixture,
) -> None:
    queue = FakeDeadLetters()
    queue.release_fails = True
    page = _client(_with_queue(queue)).get("/ops/dead-letters")
    assert page.status_code == 200 and "m-1" in page.get_data(as_text=True)
    assert "console_dead_letters_not_released" in caplog.text and SECRET not in caplog.text


# -- IAP's keys unavailable ----------------------------------------------------------------

AUDIENCE = "/projects/123/global/backendServices/456"


def _signer(key_id: str) -> tuple[Any, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return crypt.ES256Signer.from_string(pem, key_id=key_id), public.decode()


SIGNER, PUBLIC = _signer("k1")
ROTATED, _ = _signer("k2")


def _token(signer: Any = SIGNER) -> str:
    now = int(time.time())
    claims = {"iss": IAP_ISSUER, "aud": AUDIENCE, "email": "rita@example.com"}
    return jwt.encode(signer, {**claims, "iat": now, "exp": now + 600}).decode()


def test_keys_that_cannot_be_fetched_are_a_503_not_a_401(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fetch() -> dict[str, str]:
        raise TransportError(f"www.gstatic.com refused: {SECRET}")

    settings = load_settings(
        {"CONSOLE_ROLES": "rita@example.com=operator", "CONSOLE_IAP_AUDIENCE": AUDIENCE}
    )
    app = create_app(settings, authenticator=Authenticator.from_settings(settings, fetch))
    caplog.set_level(logging.INFO)
    page = app.test_client().get("/ops/trace", headers={IAP_HEADER: _token()})
    assert page.status_code == 503
    assert "Sign in through" not in page.get_data(as_text=True)
    logged = [r for r in caplog.records if r.getMessage() == "console_iap_keys_unavailable"]
    assert [_event_fields(r) for r in logged] == [{"error_type": "TransportError"}]
    assert logged[0].levelno == logging.WARNING and SECRET not in caplog.text


def test_fresh_keys_are_kept_through_a_failed_fetch_and_stale_ones_are_not() -> None:
    now = [1000.0]
    fetched: list[float] = []
    failing = [False]

    def fetch() -> dict[str, str]:
        fetched.append(now[0])
        if failing[0]:
            raise TransportError("down")
        return {"k1": PUBLIC}

    verifier = IapVerifier(AUDIENCE, fetch, clock=lambda: now[0])
    assert verifier.email(_token()) == "rita@example.com"
    failing[0] = True
    now[0] += 61
    with pytest.raises(auth.NotSignedIn):  # an unknown key: refetched, failed, still unknown
        verifier.email(_token(ROTATED))
    assert verifier.email(_token()) == "rita@example.com"  # the cached key still serves
    assert fetched == [1000.0, 1061.0]
    now[0] += auth.KEYS_TTL_SECONDS
    for _ in range(3):  # stale and unfetchable: unavailable, and no fetch per request
        with pytest.raises(auth.KeysUnavailable):
            verifier.email(_token())
    assert fetched == [1000.0, 1061.0, now[0]]
    failing[0] = False
    now[0] += 61
    assert verifier.email(_token()) == "rita@example.com"
