"""Reads from a streaming replica, with each client seeing its own writes.

With ``WAREHOUSE_READ_DATABASE_URL`` set, the API's reads (every query handed to ``Reads``:
lists, documents, reports, the dashboard's pages) go to the replica, and commands to the primary.
A replica trails the primary by the time it takes to replay the WAL, usually milliseconds, so a
client that has just written is sent to the primary for ``read_your_writes_s`` afterwards
(a window, not a wait: nothing blocks on the replica). How a client is known:

- a browser, or any client that keeps cookies: the write's response sets ``warehouse_wrote``
  (the time of the write, for the window's length), which every API process honours;
- a client with a bearer token or an API key and no cookie jar: the API process that took its
  write remembers the credential (a hash of it) for the window. With several API processes, such
  a client's next read may reach another process: route a client to one process (nginx
  ``hash $http_authorization``) or keep cookies.

A replica that cannot be reached, or that cancels a query (a recovery conflict), is left alone
for ``replica_retry_s`` and the reads go to the primary meanwhile, with one log line each way.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from contextvars import ContextVar
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

#: Set for the duration of a request whose client wrote within the window: read the primary.
wrote_recently: ContextVar[bool] = ContextVar("wrote_recently", default=False)

COOKIE = "warehouse_wrote"
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadYourWrites:
    """ASGI middleware: marks requests of clients that wrote within ``window_s`` and notes
    successful writes (a cookie, and the credential in this process)."""

    def __init__(self, app: ASGIApp, window_s: float, remembered: int = 10_000) -> None:
        self.app = app
        self.window_s = window_s
        self.remembered = remembered
        self._writers: OrderedDict[bytes, float] = OrderedDict()  # credential hash -> when

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        credential, wrote_at = _client(scope)
        now = time.time()
        recent = now - wrote_at < self.window_s
        if not recent and credential is not None:
            recent = now - self._writers.get(credential, 0.0) < self.window_s
        token = wrote_recently.set(recent)
        try:
            if scope["method"] in _READS:
                await self.app(scope, receive, send)
            else:
                await self.app(scope, receive, self._noting(send, credential))
        finally:
            wrote_recently.reset(token)

    def _noting(self, send: Send, credential: bytes | None) -> Send:
        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                now = time.time()
                if credential is not None:
                    self._remember(credential, now)
                cookie = (
                    f"{COOKIE}={now:.3f}; Max-Age={max(1, round(self.window_s))}; Path=/; "
                    "HttpOnly; SameSite=Lax"
                )
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        return noting

    def _remember(self, credential: bytes, now: float) -> None:
        self._writers[credential] = now
        self._writers.move_to_end(credential)
        while len(self._writers) > self.remembered:
            self._writers.popitem(last=False)


def _client(scope: Scope) -> tuple[bytes | None, float]:
    """(a hash of the request's credential, the time its wrote-cookie gives, or 0)."""
    credential: bytes | None = None
    wrote_at = 0.0
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            credential = hashlib.blake2b(value, digest_size=16).digest()
        elif name == b"cookie" and COOKIE.encode() in value:
            morsel = SimpleCookie(value.decode("latin-1")).get(COOKIE)
            if morsel is not None:
                try:
                    wrote_at = float(morsel.value)
                except ValueError:
                    wrote_at = 0.0
    return credential, wrote_at


class ReplicaHealth:
    """Whether to try the replica now; down for ``retry_s`` after a failure."""

    def __init__(self, retry_s: float) -> None:
        self.retry_s = retry_s
        self._down_until = 0.0

    def usable(self) -> bool:
        if self._down_until and time.monotonic() >= self._down_until:
            self._down_until = 0.0
            log.info("trying the read replica again")
        return not self._down_until

    def failed(self, exc: BaseException) -> None:
        if not self._down_until:
            log.warning(
                "the read replica failed (%s); reading from the primary for %.0fs",
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                self.retry_s,
            )
        self._down_until = time.monotonic() + self.retry_s
