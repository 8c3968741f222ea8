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


# --- the same contract on a NATS cluster (nats-server's MQTT listener) ----------------------
#
# nats-server turns an MQTT topic into a subject ('/' becomes '.'), so a device's events go to
# ``warehouse.v1.{site}.{agent}.events``. The server's account mapping (nats_mappings) moves
# events and status on to ``warehouse.ingest.{partition}.{site}.{agent}.{channel}``, the
# partition a hash of site and agent: the JetStream stream keeps those, and one worker at a time
# consumes each partition, so each agent's events are applied in order. nats-server 2.9 refuses
# a '.' in an MQTT topic, so on NATS site and agent ids must not contain one.

#: Subjects of the ingest stream: ``{NATS_INGEST}.{partition}.{site}.{agent}.{channel}``.
NATS_INGEST = "warehouse.ingest"


def nats_mappings(partitions: int) -> dict[str, str]:
    """The account mappings that partition devices' events and status by site and agent."""
    return {
        f"warehouse.v1.*.*.{channel}": (
            f"{NATS_INGEST}.{{{{partition({partitions},1,2)}}}}"
            f".{{{{wildcard(1)}}}}.{{{{wildcard(2)}}}}.{channel}"
        )
        for channel in ("events", "status")
    }


def nats_level(value: str) -> bool:
    """Whether ``value`` may be a site or agent id on a NATS cluster (no '.')."""
    return is_level(value) and "." not in value


def nats_subject(topic_name: str) -> str:
    """The subject nats-server gives an MQTT topic of the contract."""
    return topic_name.replace("/", ".")


@functools.lru_cache(maxsize=8192)
def topic_of_ingest_subject(subject: str) -> str:
    """The contract topic of a subject in the ingest stream (the partition token dropped)."""
    parts = subject.split(".")
    if len(parts) != 6:
        return subject  # not ours: the worker rejects it as an unknown topic
    return f"{PREFIX}/{parts[3]}/{parts[4]}/{parts[5]}"
