"""A loopback TCP proxy in front of an emulator, to cut and restore like a network partition.

Killing an emulator loses its state (Firestore keeps data only through export/import, Pub/Sub
loses topics, subscriptions and unacknowledged messages), so an outage test would measure the
emulator's amnesia rather than lzsync. Clients are pointed at this proxy instead: :meth:`cut`
closes every open connection and the listening socket, so calls fail exactly as with a stopped
server (reset streams, then connection refused on the same port), while the emulator behind keeps
its data; :meth:`restore` listens on the same port again. ``latency_seconds`` delays every chunk
forwarded in either direction, for slow-network runs.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from typing import Final

from lzsync.devtools.emulators import LOOPBACK

_CHUNK_BYTES: Final = 64 * 1024
_ACCEPT_POLL_SECONDS: Final = 0.2


class FaultProxy:
    """Forwards ``127.0.0.1:<port>`` to ``127.0.0.1:<target_port>`` until :meth:`cut`."""

    def __init__(self, target_port: int, port: int = 0) -> None:
        self._target = (LOOPBACK, target_port)
        self.port = port
        self.latency_seconds = 0.0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self.cuts = 0

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def is_up(self) -> bool:
        return self._listener is not None

    def start(self) -> FaultProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # The same port after a cut: connections it closed may sit in TIME_WAIT.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self.port))
        listener.listen(128)
        listener.settimeout(_ACCEPT_POLL_SECONDS)
        self.port = int(listener.getsockname()[1])
        with self._lock:
            self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def restore(self) -> None:
        """End the partition: listen on the same port again."""
        if self._listener is None:
            self.start()

    def cut(self) -> None:
        """Start a partition: refuse new connections and reset every open one."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, set()
        self.cuts += 1
        if listener is not None:
            listener.close()
        for connection in connections:
            _close(connection)

    def stop(self) -> None:
        self.cut()
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by cut()
                return
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            for sock in (client, upstream):
                sock.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    _close(client)
                    _close(upstream)
                    return
                self._connections.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(_CHUNK_BYTES)
                if not data:
                    break
                if self.latency_seconds:
                    time.sleep(self.latency_seconds)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._connections.discard(source)
                self._connections.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    """Reset rather than close gracefully, as a dead peer or a dropped link would look."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
