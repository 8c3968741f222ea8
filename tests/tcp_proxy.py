"""A TCP proxy on 127.0.0.1 that a test can cut and restore: a database or broker outage
without touching the shared server."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``. ``cut()`` drops every connection and refuses
    new ones (they are closed as soon as they are accepted) until ``restore()``; ``cut(reset=True)``
    drops them with a TCP RST. ``pause()`` holds every byte in both directions, on open
    connections and new ones, until ``resume()`` (a link that goes silent without closing)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._cut = threading.Event()
        self._flowing = threading.Event()
        self._flowing.set()
        self._reset = False
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                self._flowing.wait()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            if self._reset:  # linger 0: close() sends RST instead of FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def pause(self) -> None:
        """Hold every byte from now on (connections stay open, nothing is delivered)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Deliver what was held and forward again."""
        self._flowing.set()

    def cut(self, *, reset: bool = False) -> None:
        """Drop every connection (with RST when ``reset``); refuse new ones."""
        self._reset = reset
        self._cut.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._drop(sock)

    def restore(self) -> None:
        """Accept and forward connections again."""
        self._cut.clear()
        self._reset = False

    def close(self) -> None:
        self._closed.set()
        self._flowing.set()
        self.cut()
        self._listener.close()
