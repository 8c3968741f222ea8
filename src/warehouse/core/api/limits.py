"""Request body size, checked while the body streams in (never read whole first)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warehouse.core.api.problems import problem


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` is a 413 problem.

    A declared ``Content-Length`` over the limit is refused before a byte is read; a body that
    streams past it (chunked, or lying about its length) is cut off at the limit, and the read
    raises the 413 inside the app, which the problem handler answers."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await problem(
                        413,
                        "body-too-large",
                        "Request body too large",
                        f"the body is {declared} bytes; the limit is {self.max_bytes}",
                    )(scope, receive, send)
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(
                        413, f"the body is over the limit of {self.max_bytes} bytes"
                    )
            return message

        await self.app(scope, limited, send)
