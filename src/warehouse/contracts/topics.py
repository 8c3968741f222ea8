"""MQTT topic names of contract v1: ``warehouse/v1/{site}/{agent_id}/{channel}``."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

PREFIX = "warehouse/v1"
Channel = Literal["events", "status", "commands", "acks"]
CHANNELS: tuple[Channel, ...] = ("events", "status", "commands", "acks")

#: Site and agent ids are single topic levels: no wildcards, no slashes, no spaces.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)

#: What the ingest workers subscribe to (inside a shared-subscription group when there is one).
EVENTS_SUBSCRIPTION = f"{PREFIX}/+/+/events"


def is_level(value: str) -> bool:
    """Whether ``value`` may be a site or agent id (one topic level of the contract)."""
    return bool(_ID_RE.match(value))


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed contract topic."""

    site: str
    agent_id: str
    channel: Channel


def topic(site: str, agent_id: str, channel: Channel) -> str:
    """Build the topic for one agent's channel, refusing ids that are not one topic level."""
    for name, value in (("site", site), ("agent_id", agent_id)):
        if not _ID_RE.match(value):
            raise ValueError(f"{name} {value!r} must match {ID_PATTERN}")
    return f"{PREFIX}/{site}/{agent_id}/{channel}"


@functools.lru_cache(maxsize=8192)  # the ingest parses every event's topic; few distinct ones
def parse_topic(name: str) -> Topic | None:
    """Parse a contract topic; ``None`` if ``name`` is not one."""
    parts = name.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != PREFIX:
        return None
    site, agent_id, channel = parts[2], parts[3], parts[4]
    if channel not in CHANNELS or not _ID_RE.match(site) or not _ID_RE.match(agent_id):
        return None
    return Topic(site, agent_id, channel)
