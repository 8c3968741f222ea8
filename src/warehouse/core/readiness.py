"""What "ready" means for the service's processes: the database reachable and its schema this
version's (and, for the ingest worker, its broker connected)."""

from __future__ import annotations

import logging
from typing import Any

from warehouse.core.config import masked
from warehouse.core.migrate import schema_problem
from warehouse.core.wiring import Wiring

log = logging.getLogger(__name__)


def database_ready(service: Wiring[object]) -> tuple[bool, dict[str, Any]]:
    """(ready, details) of the database; no driver error text reaches the caller."""
    try:
        problem = schema_problem(service.engine, masked(service.settings.database_url))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; it is logged
        log.warning("readiness: the database did not answer: %s", exc)
        return False, {"database": "unavailable"}
    if problem:
        return False, {"database": "ok", "schema": "out of date: run `warehouse db upgrade`"}
    return True, {"database": "ok", "schema": "ok"}
