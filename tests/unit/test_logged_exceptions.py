"""Exceptions a function raises, as the framework logs them: findable, and without the values
a library's message may quote.

A real functions-framework app (the one Cloud Functions runs) logs "Exception on / [POST]"
with the traceback for every exception a function raises; these tests capture that line.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import functions_framework
import pytest

from shared.logs import configure_logging
from shared.observability.scrub import safe_traceback

SOURCE = """
import functions_framework

from shared.errors import DependencyUnavailable
from shared.runtime import invocation


# Values reach messages at run time, never through a source line (which tracebacks show).
DRIVER_MESSAGE = 'invalid input syntax for type integer: "ACC-100234"'
OWN_MESSAGE = "maria.keller@example.com owes EUR 450.00"


@functions_framework.cloud_event
def crash(event):
    with invocation("unit-test", "corr-crash-000001"):
        try:
            raise ValueError(DRIVER_MESSAGE)
        except ValueError as exc:
            raise RuntimeError(OWN_MESSAGE) from exc


@functions_framework.cloud_event
def retry(event):
    with invocation("unit-test", "corr-retry-000001"):
        raise DependencyUnavailable("mongodb", "timed out", stage="match")
"""
SECRETS = ("maria", "example.com", "450", "ACC-100234", "invalid input syntax")
CLOUD_EVENT = {
    "ce-id": "1",
    "ce-specversion": "1.0",
    "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
    "ce-source": "//pubsub.googleapis.com/projects/p/topics/t",
}


@pytest.fixture
def stream() -> io.StringIO:
    captured = io.StringIO()
    configure_logging("unit-test", project_id="proj-1", stream=captured)
    return captured


def _post(tmp_path: Path, target: str) -> int:
    source = tmp_path / "main.py"
    source.write_text(SOURCE)
    app = functions_framework.create_app(target, str(source), "cloudevent")
    app.testing = False  # as deployed: the exception becomes a logged 500
    response = app.test_client().post("/", headers=CLOUD_EVENT, json={})
    return response.status_code


def _exception_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line["message"].startswith("Exception on")]


def test_a_crash_is_logged_with_its_ids_and_traceback_but_no_message(
    tmp_path: Path, stream: io.StringIO
) -> None:
    assert _post(tmp_path, "crash") == 500
    (line,) = _exception_lines(stream)
    assert line["severity"] == "ERROR"
    assert line["correlation_id"] == "corr-crash-000001"
    text = line["message"]
    assert "Traceback (most recent call last)" in text
    assert "in crash\n" in text  # the frames are kept
    assert "builtins.ValueError (message withheld" in text
    assert "builtins.RuntimeError (message withheld" in text
    assert "During handling of the above exception" in text
    for secret in SECRETS:
        assert secret not in text, secret


def test_an_expected_retry_is_a_warning_with_our_message(
    tmp_path: Path, stream: io.StringIO
) -> None:
    assert _post(tmp_path, "retry") == 500
    (line,) = _exception_lines(stream)
    assert line["severity"] == "WARNING"
    assert line["correlation_id"] == "corr-retry-000001"
    assert "shared.errors.DependencyUnavailable: mongodb: timed out" in line["message"]


def test_exceptions_logged_anywhere_else_lose_their_message_too(stream: io.StringIO) -> None:
    address = "maria.keller@example.com"
    try:
        raise KeyError(address)
    except KeyError:
        logging.getLogger("test.elsewhere").exception("lookup_failed")
    # Only this logger's lines: a thread left by an earlier test may log meanwhile.
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    (line,) = [x for x in lines if x.get("logger") == "test.elsewhere"]
    assert line["severity"] == "ERROR"
    assert line["message"].startswith("lookup_failed\nTraceback")
    assert "builtins.KeyError (message withheld" in line["message"]
    assert "maria" not in line["message"]
    assert line["correlation_id"] is None


def test_safe_traceback_follows_causes_without_looping() -> None:
    first = ValueError("first 12345678")
    second = TypeError("second 87654321")
    first.__context__ = second
    second.__context__ = first  # a cycle, as a careless re-raise can make
    text = safe_traceback(first)
    assert text.count("Traceback (most recent call last)") == 2
    assert "12345678" not in text and "87654321" not in text


def test_plain_stream_handlers_on_the_root_are_replaced_by_ours(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What functions-framework's dictConfig installs with LOG_EXECUTION_ID=true: a plain
    # StreamHandler on the root, which would print tracebacks with every message.
    root = logging.getLogger()
    root.addHandler(logging.StreamHandler())
    captured = io.StringIO()
    configure_logging("unit-test-2", project_id="proj-1", stream=captured)
    assert not [h for h in root.handlers if type(h) is logging.StreamHandler]
    address = "maria.keller@example.com"
    try:
        raise LookupError(address)
    except LookupError:
        logging.getLogger("test.framework").exception("lookup_failed")
    assert "maria" not in capsys.readouterr().err
    assert "LookupError (message withheld" in captured.getvalue()
    assert "maria" not in captured.getvalue()


def test_a_content_reading_library_is_never_quoted(stream: io.StringIO) -> None:
    found = "Jane Doe jane@example.com owes EUR 1234.56"
    logging.getLogger("pypdf.generic._data_structures").error(
        "Expecting a NameObject for key but found %r", found
    )
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["message"] == "library_message_withheld"
    assert line["logger"] == "pypdf.generic._data_structures"
    assert line["severity"] == "ERROR"


def test_pypdf_warnings_are_not_logged_at_all(stream: io.StringIO) -> None:
    logging.getLogger("pypdf._page").warning("Resources are not a dictionary: %s", "x")
    assert stream.getvalue() == ""


def test_other_libraries_messages_are_pattern_scrubbed(stream: io.StringIO) -> None:
    logging.getLogger("urllib3.connectionpool").warning(
        "retrying for %s after EUR 1,234.56 and 123456789", "jane@example.com"
    )
    logging.getLogger("shared.unit").warning("kept_as_is")
    first, second = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert first["message"] == "retrying for [email] after [amount] and [number]"
    assert second["message"] == "kept_as_is"
