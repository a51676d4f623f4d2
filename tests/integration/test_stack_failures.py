"""A dead server is named, never waited on."""

from __future__ import annotations

import sys

import pytest

from infra.stack import LocalStack, ManagedProcess, StackError, free_port


def test_a_server_that_exits_at_start_is_named_with_its_log(tmp_path) -> None:
    server = ManagedProcess(
        "broken-server",
        free_port(),
        tmp_path / "broken.log",
        [sys.executable, "-c", "import sys; print('cannot bind'); sys.exit(7)"],
        start_timeout=10,
    )
    with pytest.raises(StackError) as info:
        server.start()
    message = str(info.value)
    assert "broken-server" in message
    assert "code 7" in message
    assert "cannot bind" in message
    assert str(tmp_path / "broken.log") in message


def test_a_server_that_never_gets_ready_times_out_with_its_name(tmp_path) -> None:
    server = ManagedProcess(
        "silent-server",
        free_port(),
        tmp_path / "silent.log",
        [sys.executable, "-c", "import time; time.sleep(30)"],
        start_timeout=1,
    )
    with pytest.raises(StackError, match="silent-server not ready"):
        server.start()
    server.stop()


def test_killing_a_server_is_reported_by_name_then_it_restarts(stack: LocalStack) -> None:
    stack.servers["mongodb"].kill()
    with pytest.raises(StackError, match="mongodb"):
        stack.assert_healthy()
    stack.start_server("mongodb")
    stack.assert_healthy()
