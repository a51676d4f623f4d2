"""Input from outside that once crashed a boundary instead of being refused or read safely:
JSON nested past any real body, numbers past any real value, text no encoder takes, a
credential refresh that fails, and a request URL carrying personal data into the logs."""

from __future__ import annotations

import base64
import io
import json
import logging
from typing import Any

import flask
import google.auth.exceptions
import pytest

from shared.config import ConfigError, load_settings
from shared.errors import DependencyUnavailable
from shared.extraction.email_parser import parse_email
from shared.extraction.injection import without_surrogates
from shared.extraction.validation import clamp_confidence
from shared.intake.forms import decode_text
from shared.logs import configure_logging, log_event
from shared.ops.dlq import DeadLetter
from shared.processing.raw_emails import GcsRawEmailStore
from shared.scheduled import _requested, read_unverified_claims

NESTED = b"[" * 100_000


def test_a_dead_letter_nested_past_any_notice_has_no_id_instead_of_failing_the_page() -> None:
    letter = DeadLetter(ack_id="a", message_id="m", data=NESTED, attributes={}, publish_time=None)
    assert letter.email_id is None


def test_a_rollup_request_or_token_nested_past_any_body_is_refused() -> None:
    app = flask.Flask("t")
    with app.test_request_context("/", method="POST", data=NESTED), pytest.raises(ValueError):
        _requested(flask.request)
    segment = base64.urlsafe_b64encode(NESTED).decode().rstrip("=")
    with pytest.raises(ValueError, match="not a JWT"):
        read_unverified_claims(f"{segment}.{segment}.sig")


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "nan", "1e400"])
def test_a_timeout_that_is_no_number_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="CLAUDE_TIMEOUT_SECONDS"):
        load_settings({"CLAUDE_TIMEOUT_SECONDS": value})


def test_a_confidence_of_hundreds_of_digits_is_no_confidence() -> None:
    assert clamp_confidence(10**400) is None
    assert clamp_confidence(7) == 1.0


def test_text_that_decodes_to_lone_surrogates_is_read_with_replacement_characters() -> None:
    """A UTF-7 part (``+2AA-`` is a lone surrogate) could be neither sent to the model nor
    written to Postgres."""
    assert without_surrogates("a\ud800b") == "a\ufffdb"
    raw = (
        b"From: a@example.org\r\nSubject: =?utf-7?Q?+2AA-?=\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-7\r\n\r\nI paid +2AA- 50 EUR\r\n"
    )
    email = parse_email(raw)
    assert "\ufffd" in email.text and "I paid" in email.text
    email.text.encode("utf-8")  # raises on a surrogate
    decoded = decode_text(b"Subject: +2AA-", "utf-7")
    assert decoded == "Subject: \ufffd"


def test_a_credential_refresh_that_fails_is_a_gcs_outage() -> None:
    """A stalled metadata server: the breaker counts it and the delivery is retried, instead of
    an unmapped crash."""

    class Blob:
        def download_as_bytes(self, **_: Any) -> bytes:
            raise google.auth.exceptions.TransportError("metadata server timed out")

    class Storage:
        def bucket(self, _: str) -> Any:
            return type("Bucket", (), {"blob": lambda self, _: Blob()})()

    store = GcsRawEmailStore(load_settings({}))
    store._client = Storage()
    with pytest.raises(DependencyUnavailable, match="TransportError"):
        store.read("raw-emails", "2026/01/02/x.eml")


def test_a_line_logged_in_a_request_leaves_out_the_query_string() -> None:
    """A console search (``?account=<a name>``) would otherwise be written into every line
    logged during the request, in ``httpRequest.requestUrl``."""
    stream = io.StringIO()
    configure_logging("unit-test", project_id="proj-1", stream=stream)
    app = flask.Flask("t")
    with app.test_request_context("/items/em-1?account=Jane+Doe&creditor=jane%40example.org"):
        log_event(logging.getLogger("test.request"), "console_account_unavailable")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert "Jane" not in stream.getvalue() and "jane" not in stream.getvalue()
    assert line["httpRequest"]["requestUrl"] == "http://localhost/items/em-1"
    assert line["httpRequest"]["requestMethod"] == "GET"
