"""How the webhook's HTTP server reads a request: an idle timeout on every read and a deadline
on the whole request, so stalled or trickling clients cannot hold the worker's threads.

functions-framework serves the function with gunicorn's threaded worker (one process,
``THREADS`` threads) and offers no setting for either: gunicorn waits 5 s for a new
connection's first bytes without a thread, but once they arrive a thread reads the head and
the body with blocking reads that never time out. :func:`install_read_limits` therefore wraps
gunicorn's socket reader (``SocketUnreader.chunk``, the one place every request byte is read):

- each read waits at most ``WEBHOOK_READ_TIMEOUT_SECONDS`` for data;
- a request's head and body together must arrive within ``WEBHOOK_REQUEST_DEADLINE_SECONDS``,
  counted from its first byte (the clock restarts for the next request on a kept-alive
  connection when the handler finishes: :func:`request_finished`).

Past either, the read side of the connection is shut and the read raises
:class:`RequestTimedOut`: during the head gunicorn drops the connection quietly (it is a
``NoMoreData``), during the body the handler answers 408.
Outside gunicorn (tests' Flask client) nothing is installed and nothing changes.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

from gunicorn.http.errors import NoMoreData, ParseException
from gunicorn.http.unreader import SocketUnreader

_STARTED = "_intake_request_started"
# What is read and thrown away after a 413 so the client can read it: twice the largest
# HTTP/1 request Cloud Run forwards (32 MiB), so in production every refused body fits.
DISCARD_MAX_BYTES = 64 * 1024 * 1024
_DISCARD_CHUNK = 64 * 1024
_installed: dict[str, float] = {}


class RequestTimedOut(NoMoreData):  # type: ignore[misc]  # gunicorn ships no types
    """The client stopped sending (idle timeout) or is too slow (request deadline)."""


def install_read_limits(read_timeout: float, request_deadline: float) -> None:
    """Wrap gunicorn's socket reads with the limits (idempotent; the last values win)."""
    _installed.update(read_timeout=read_timeout, request_deadline=request_deadline)
    if getattr(SocketUnreader.chunk, "_intake_limited", False):
        return
    original = SocketUnreader.chunk

    def chunk(self: SocketUnreader, size_hint: int | None = None) -> bytes:
        now = time.monotonic()
        started = getattr(self, _STARTED, None)
        if started is None:
            started = now
            setattr(self, _STARTED, now)
        left = min(_installed["read_timeout"], started + _installed["request_deadline"] - now)
        sock: socket.socket = self.sock
        if left <= 0:
            _stop_reading(sock)
            raise RequestTimedOut()
        sock.settimeout(left)
        try:
            data: bytes = original(self, size_hint)
        except TimeoutError:
            _stop_reading(sock)
            raise RequestTimedOut() from None
        return data

    chunk._intake_limited = True  # type: ignore[attr-defined]
    SocketUnreader.chunk = chunk


def _stop_reading(sock: socket.socket) -> None:
    """Shut the read side: gunicorn closes a connection "gracefully", draining it for up to
    2 s until the client closes, and does so on its main thread (the one that accepts and
    dispatches every connection). A stalled client never closes, so each one would stop the
    whole worker for 2 s; with the read side shut the drain ends at once, and a 408 can still
    be written."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)


def discard_unread_body(environ: Any, max_bytes: int = DISCARD_MAX_BYTES) -> None:
    """Read and drop what is left of a refused body (at most ``max_bytes``, within the
    request's deadline: a stalled or endless sender ends it), then restart the clock. A
    malformed chunked rest (gunicorn's ``ParseException``) ends it too, quietly: the answer is
    already written, gunicorn closes the connection, and its exception quotes client bytes."""
    stream = environ.get("wsgi.input")
    read = 0
    try:
        while stream is not None and read < max_bytes:
            chunk = stream.read(_DISCARD_CHUNK)
            if not chunk:
                break
            read += len(chunk)
    except (OSError, ValueError, ParseException):  # timed out, reset or malformed: done
        pass
    finally:
        request_finished(environ)


def request_finished(environ: Any) -> None:
    """Restart the request clock of this connection (the next request on it is timed anew)."""
    reader = getattr(environ.get("wsgi.input"), "reader", None)
    # LengthReader and EOFReader hold the unreader, ChunkedReader its request, which holds it
    unreader = getattr(reader, "unreader", None) or getattr(
        getattr(reader, "req", None), "unreader", None
    )
    if unreader is not None and hasattr(unreader, _STARTED):
        setattr(unreader, _STARTED, None)
