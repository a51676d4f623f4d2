"""The webhook's read limits on gunicorn's socket reader, over a real socket pair: an idle
read ends after the read timeout, a trickle ends at the request deadline, and the clock
restarts for the next request on the connection. Also fails if a gunicorn upgrade changes
the reader this wraps."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from gunicorn.http.unreader import SocketUnreader

from shared.intake import serving
from shared.intake.serving import RequestTimedOut, install_read_limits, request_finished


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    original = SocketUnreader.chunk
    install_read_limits(0.3, 1.0)
    server, client = socket.socketpair()
    try:
        yield server, client
    finally:
        server.close()
        client.close()
        SocketUnreader.chunk = original  # type: ignore[method-assign]
        serving._installed.clear()


def test_data_is_read_as_before(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    reader = SocketUnreader(server)
    client.sendall(b"GET / HTTP/1.1\r\n")
    assert reader.chunk() == b"GET / HTTP/1.1\r\n"


def test_an_idle_read_ends_after_the_read_timeout(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, _ = pair
    reader = SocketUnreader(server)
    started = time.monotonic()
    with pytest.raises(RequestTimedOut):
        reader.chunk()
    assert 0.25 < time.monotonic() - started < 1.0


def test_a_trickle_ends_at_the_request_deadline(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    reader = SocketUnreader(server)
    started = time.monotonic()
    with pytest.raises(RequestTimedOut):
        for _ in range(20):  # a byte every 0.2 s: never idle for 0.3 s
            client.sendall(b"x")
            reader.chunk()
            time.sleep(0.2)
    assert 0.9 < time.monotonic() - started < 1.6


def test_the_clock_restarts_for_the_next_request(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    reader = SocketUnreader(server)

    class Reader:
        unreader = reader

    class Body:
        reader = Reader()

    client.sendall(b"a")
    reader.chunk()
    time.sleep(0.8)
    request_finished({"wsgi.input": Body()})
    time.sleep(0.3)  # the old clock would now be past the 1 s deadline
    client.sendall(b"b")
    assert reader.chunk() == b"b"
