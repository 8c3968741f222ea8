"""Builders for test events."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from warehouse import contracts


def movement_payload(site: str, agent: str, seq: int, *, event_id: str | None = None,
                     **data: Any) -> bytes:
    """A contract `movement` event as JSON bytes."""
    doc = {
        "v": 1, "event_id": event_id or str(uuid.uuid4()), "agent_id": agent, "site": site,
        "seq": seq, "boot": 1, "occurred_at": datetime.now(UTC).isoformat(), "type": "movement",
        "device": "scanner-1", "station": "receiving",
        "data": {"kind": "receive", "code": "5901230001001", "lot": "L1", "qty": 1,
                 "to_location": "WH1-DOCK-1", **data},
    }
    return json.dumps(doc).encode()


def events_topic(site: str, agent: str) -> str:
    return contracts.topic(site, agent, "events")
