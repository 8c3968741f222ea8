"""The tables of access: users and their grants, refresh tokens, API keys, devices, the audit
log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    text,
)

from warehouse.core.tables import metadata
from warehouse.core.types import BigId, UTCDateTime

# People who sign in to the API. Passwords are argon2id hashes; a run of failed logins locks
# the account for a while (access/service/accounts.py).
users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("failed_logins", BigInteger, nullable=False, server_default=text("0")),
    Column("locked_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)


# A role at a site ('*': every site).
user_grants = Table(
    "user_grants",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("site", String(64), primary_key=True),
)


# Rotating refresh tokens: a login starts a family, each refresh rotates to a new member, and a
# member presented after it was rotated revokes the whole family (it was stolen, or replayed).
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("family", String(32), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("rotated_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Index(None, "family"),
)


# Keys for integrations: shown once, kept as a SHA-256 of their random secret.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("grants", Text, nullable=False),  # JSON [[role, site], ...]
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)


# Registered edge agents and their MQTT credentials (a Mosquitto PBKDF2-SHA512 hash, and the
# bcrypt hash a NATS cluster reads).
devices = Table(
    "devices",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("site", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("nats_password_hash", String(255)),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)


# Every manual change: who, when, what, before and after. Append-only.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(256), nullable=False),
    Column("site", String(64)),
    Column("before", Text),  # JSON
    Column("after", Text),  # JSON
    Index(None, "site", "id"),
)
