"""Read routes' answers, serialised once: the query's dicts straight to JSON bytes.

A route that returns one of these skips FastAPI's response-model pass (validate the dicts into
models, then dump the models), which was a fifth of a stock page's CPU. The route still
declares its ``response_model``, so the OpenAPI schema is the same, and the tests hold every
answer to it (schemathesis' response-schema check and the listing tests' model validation).
"""

from __future__ import annotations

from typing import Any

import pydantic_core
from starlette.responses import Response


class Json(Response):
    """``application/json`` from dicts, lists, dataclasses, Decimals (as strings, like the
    models) and datetimes (ISO 8601)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return encode(content)


def encode(content: Any) -> bytes:
    """The JSON bytes :class:`Json` sends for ``content``."""
    return pydantic_core.to_json(content)
