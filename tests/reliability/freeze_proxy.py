"""A loopback TCP proxy that can freeze: connections stay open, no byte passes either way.

What a stalled network path or a database in the middle of a failover looks like to a client:
the TCP connection is established (or is accepted) and then nothing comes back, no reset, no
FIN. A refused or reset connection fails at once; this is the case a missing timeout turns into
a hang. ``freeze()`` stops forwarding on every connection, old and new (new ones are accepted
and connected upstream, then held); ``thaw()`` lets the bytes that waited in the kernel's
buffers through. Every loop is bounded by the ``stop()`` flag (checked every 50 ms).
"""

from __future__ import annotations

import select
import socket
import threading
from types import TracebackType

_TICK = 0.05


class FreezeProxy:
    """``127.0.0.1:<port>`` → ``target``; use as a context manager or ``start()``/``stop()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_TICK)
        self.port: int = self._listener.getsockname()[1]
        self._frozen = threading.Event()
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.accepted = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def freeze(self) -> None:
        self._frozen.set()

    def thaw(self) -> None:
        self._frozen.clear()

    def start(self) -> FreezeProxy:
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            sock.close()
        self._listener.close()
        for thread in threads:
            thread.join(timeout=2)

    def __enter__(self) -> FreezeProxy:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            self.accepted += 1
            with self._lock:
                self._sockets += [client, upstream]
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self._stopped.is_set():
            if self._frozen.is_set():  # leave the bytes where they are: nothing passes
                self._stopped.wait(_TICK)
                continue
            try:
                readable, _, _ = select.select([source], [], [], _TICK)
                if not readable:
                    continue
                data = source.recv(65536)
                if not data:
                    sink.shutdown(socket.SHUT_WR)
                    return
                if self._frozen.is_set():  # froze while reading: hold this chunk until thawed
                    while self._frozen.is_set() and not self._stopped.is_set():
                        self._stopped.wait(_TICK)
                sink.sendall(data)
            except (OSError, ValueError):
                return
