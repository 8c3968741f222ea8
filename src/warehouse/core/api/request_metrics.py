"""The API's requests counted by method, route template and status, and timed by route."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "warehouse_api_requests", "API requests by route and status", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram("warehouse_api_request_seconds", "API request time", ["route"])


class RequestMetrics:
    """ASGI middleware: every HTTP request counted by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._templates: dict[int, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = self._template(scope)
            REQUESTS.labels(scope["method"], path, str(status[0])).inc()
            REQUEST_SECONDS.labels(path).observe(time.perf_counter() - started)

    def _template(self, scope: Scope) -> str:
        """The matched route's path template with its router's prefix: FastAPI hands the
        included router's own route, whose path lacks the prefix, which is found once per route
        as the part of the request's path before what the route's pattern matches."""
        route = scope.get("route")
        pattern = getattr(route, "path_regex", None)
        if route is None or pattern is None:
            return "unmatched"
        key = id(route)
        template = self._templates.get(key)
        if template is None:
            path: str = scope["path"]
            cuts = [i for i, ch in enumerate(path) if ch == "/"]
            prefix = next((path[:i] for i in cuts if pattern.match(path[i:])), "")
            template = self._templates[key] = prefix + str(route.path)
        return template
