"""How a route declares who may call it: ``**public()`` here, or ``**permission(action)`` (an
action of the permission table, ``warehouse.access.api.security``).

Either puts the route's action in its OpenAPI operation as ``x-permission``; the app refuses to
start with an operation that has none, and docs/security.md's matrix is generated from them.
"""

from __future__ import annotations

from typing import Any

#: The action of a route anyone may call.
PUBLIC = "public"
#: Where a route's action is kept in its OpenAPI operation.
PERMISSION_KEY = "x-permission"


def public() -> dict[str, Any]:
    """The route decorator's arguments for a route anyone may call."""
    return {"openapi_extra": {PERMISSION_KEY: PUBLIC}}
