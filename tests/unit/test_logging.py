import io
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import flask

from shared.context import (
    correlation_id_from,
    current_correlation_id,
    invocation_context,
    is_valid_correlation_id,
    new_correlation_id,
)
from shared.logs import configure_logging, log_event
from shared.runtime import http_function


def _capture() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("unit-test", project_id="proj-1", stream=stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_every_record_is_one_json_line_with_severity_and_correlation_id() -> None:
    stream = _capture()
    logger = logging.getLogger("test.logging")
    with invocation_context("corr-12345678"):
        log_event(logger, "email_stored", size_bytes=123)
        logger.warning("plain message")
    lines = _lines(stream)
    assert [line["message"] for line in lines] == ["email_stored", "plain message"]
    assert lines[0]["severity"] == "INFO"
    assert lines[1]["severity"] == "WARNING"
    assert all(line["correlation_id"] == "corr-12345678" for line in lines)
    assert lines[0]["size_bytes"] == 123
    assert lines[0]["function"] == "unit-test"
    assert lines[0]["logging.googleapis.com/labels"]["function"] == "unit-test"


def test_trace_header_becomes_the_cloud_logging_trace() -> None:
    stream = _capture()
    app = flask.Flask(__name__)
    trace = "105445aa7843bc8bf206b12000100000"
    with app.test_request_context(headers={"X-Cloud-Trace-Context": f"{trace}/1;o=1"}):
        logging.getLogger("test.trace").info("with trace")
    (line,) = _lines(stream)
    assert line["logging.googleapis.com/trace"] == f"projects/proj-1/traces/{trace}"


def test_correlation_header_is_validated() -> None:
    assert correlation_id_from("abc-123_456.789") == "abc-123_456.789"
    for bad in ("short", "x" * 129, "has space 123456", "new\nline123456", "ümlaut123456", ""):
        generated = correlation_id_from(bad)
        assert generated != bad
        assert is_valid_correlation_id(generated)
    assert is_valid_correlation_id(new_correlation_id())
    assert correlation_id_from(None) != correlation_id_from(None)


def test_context_is_reset_after_each_invocation() -> None:
    assert current_correlation_id() is None
    with invocation_context("first-id-0001"):
        assert current_correlation_id() == "first-id-0001"
    assert current_correlation_id() is None


def test_ids_never_leak_between_concurrent_requests_on_reused_threads() -> None:
    stream = _capture()
    app = flask.Flask(__name__)
    logger = logging.getLogger("test.concurrent")
    barrier = threading.Barrier(8)

    @http_function("unit-test")
    def handler(request: flask.Request) -> dict:
        barrier.wait(timeout=5)  # every request is in flight at once
        log_event(logger, "handled", expected=request.headers.get("X-Correlation-ID"))
        return {"seen": current_correlation_id()}

    def call(i: int) -> tuple[str, str, str | None]:
        cid = f"request-{i:04d}-abcdef"
        with app.test_request_context(headers={"X-Correlation-ID": cid}):
            response = handler(flask.request)
        # after the invocation the reused worker thread holds no id
        return cid, response.headers["X-Correlation-ID"], current_correlation_id()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(32)))
    for cid, header, after in results:
        assert header == cid
        assert after is None
    lines = [line for line in _lines(stream) if line["message"] == "handled"]
    assert len(lines) == 32
    assert all(line["correlation_id"] == line["expected"] for line in lines)


def test_invalid_incoming_header_gets_a_fresh_id() -> None:
    _capture()
    app = flask.Flask(__name__)

    @http_function("unit-test")
    def handler(request: flask.Request) -> dict:
        return {"seen": current_correlation_id()}

    with app.test_request_context(headers={"X-Correlation-ID": "bad id; Injected: 1"}):
        response = handler(flask.request)
    assert response.headers["X-Correlation-ID"] != "bad id; Injected: 1"
    assert is_valid_correlation_id(response.headers["X-Correlation-ID"])
    assert response.get_json()["seen"] == response.headers["X-Correlation-ID"]
