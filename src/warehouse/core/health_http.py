"""A small HTTP endpoint for processes that are not the API (the ingest worker): ``/healthz``
(the process is alive) and ``/readyz`` (it can do its work), as JSON.

Python's own threading HTTP server on a port of the process's choosing; it serves nothing else.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from warehouse.core import metrics

log = logging.getLogger(__name__)

#: () -> (ready, details): what /readyz reports.
Readiness = Callable[[], tuple[bool, dict[str, Any]]]


class HealthServer:
    """Serves /healthz and /readyz on ``host:port`` (port 0: any free one) in a thread."""

    def __init__(self, host: str, port: int, readiness: Readiness) -> None:
        probe = readiness

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._send(200, {"status": "ok"})
                elif self.path == "/readyz":
                    ready, details = probe()
                    self._send(200 if ready else 503, {"ready": ready, **details})
                elif self.path == "/metrics":
                    data = metrics.latest()
                    self.send_response(200)
                    self.send_header("Content-Type", metrics.CONTENT_TYPE)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    detail = "only /healthz, /readyz and /metrics are served here"
                    self._send(404, {"detail": detail})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # probes every few seconds would flood the log

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="health-http", daemon=True
        )

    def start(self) -> None:
        """Serve in the background."""
        self._thread.start()
        log.info("health endpoint on http://%s:%d/readyz", *self.server.server_address[:2])

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
