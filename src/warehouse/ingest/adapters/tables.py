"""The tables of the ingest: the inbox of event ids, agents and their sequence gaps, rejected
events."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    text,
)

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, UTCDateTime

inbox = Table(
    "inbox",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("agent_id", String(64)),
    Column("site", String(64)),
    Column("seq", BigInteger),
    Column("type", String(16), nullable=False),
    Column("status", String(8), nullable=False),  # applied | rejected | recorded
    Column("received_at", UTCDateTime, nullable=False),
    Column("payload", LargeBinary),  # the event as received (NULL for rows from before 0003)
    Column("payload_hash", String(32)),  # BLAKE2b-128 of the payload: tells conflicts apart
    Index(None, "agent_id", "seq"),
)


agents = Table(
    "agents",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("site", String(64), nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("boot", BigInteger, nullable=False),
    Column("acked_seq", BigInteger, nullable=False),
    Column("max_seq", BigInteger, nullable=False),
    Column("state", String(8)),
    Column("state_at", UTCDateTime),
    Column("health", Text),
    Column("heartbeat_at", UTCDateTime),
)


seq_gaps = Table(
    "seq_gaps",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("agent_id", String(64), ForeignKey("agents.agent_id"), nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("detected_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("resync_requested_at", UTCDateTime),  # the last resync command sent for it
    Column("resync_count", BigInteger, nullable=False, server_default=text("0")),
    Column("unrecoverable_at", UTCDateTime),  # the agent no longer has these seqs
    Index(None, "agent_id", "closed_at"),
)


rejected_events = Table(
    "rejected_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("topic", String(256)),
    Column("event_id", String(36)),
    Column("agent_id", String(64)),
    Column("site", String(64)),
    Column("seq", BigInteger),
    Column("payload", LargeBinary, nullable=False),
    Column("payload_size", BigInteger, nullable=False),
    Column("payload_hash", String(32)),
    Column("original_payload", LargeBinary),  # a conflicting duplicate's first body
    Index(None, "received_at"),
    Index(None, "event_id"),
)
