"""Ports of access: users, refresh-token families, API keys, devices and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from warehouse.access.domain import Grant
from warehouse.core.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as stored (the hash never leaves the service layer)."""

    id: int
    username: str
    password_hash: str
    disabled: bool
    failed_logins: int
    locked_until: datetime | None
    grants: tuple[Grant, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """One member of a refresh-token family."""

    id: str
    family: str
    user_id: int
    secret_hash: str
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key as stored."""

    id: str
    name: str
    secret_hash: str
    grants: tuple[Grant, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A registered edge agent and its MQTT password hashes: Mosquitto's PBKDF2 and, for a NATS
    cluster, bcrypt (None for a device registered before there was one: register it again)."""

    agent_id: str
    site: str
    password_hash: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    nats_password_hash: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One manual change."""

    at: datetime
    actor: str
    action: str
    target: str
    site: str | None = None
    before: Any = None
    after: Any = None


class Credentials(Protocol):
    """Hashing and random secrets (``access.adapters.credentials``)."""

    def hash_password(self, password: str) -> str: ...
    def verify_password(self, password_hash: str | None, password: str) -> bool: ...
    def random_secret(self) -> str: ...
    def random_id(self, nbytes: int = 8) -> str: ...
    def digest(self, secret: str) -> str: ...
    def same_digest(self, secret: str, expected_hex: str) -> bool: ...
    def mosquitto_hash(self, password: str) -> str: ...

    def nats_hash(self, password: str) -> str: ...


class AccessTokens(Protocol):
    """Signs access tokens."""

    ttl: timedelta

    def issue(
        self, user_id: int, username: str, grants: tuple[Grant, ...], now: datetime
    ) -> str: ...


class AccessRepository(Protocol):
    def add_user(self, username: str, password_hash: str, at: datetime) -> int: ...
    def user(self, username: str) -> UserRecord | None: ...
    def user_by_id(self, user_id: int) -> UserRecord | None: ...
    def users(self) -> list[UserRecord]: ...
    def update_user(self, user_id: int, at: datetime, **values: Any) -> None: ...
    def add_grant(self, user_id: int, grant: Grant) -> bool: ...
    def remove_grant(self, user_id: int, grant: Grant) -> bool: ...
    def add_refresh(self, record: RefreshRecord, issued_at: datetime) -> None: ...
    def refresh(self, token_id: str) -> RefreshRecord | None: ...
    def rotate(self, token_id: str, at: datetime) -> bool: ...
    def revoke_family(self, family: str, at: datetime) -> None: ...
    def extend_refresh(self, token_id: str, expires_at: datetime) -> None: ...
    def revoke_refresh_of(self, user_id: int, at: datetime) -> None: ...
    def add_key(self, record: ApiKeyRecord) -> None: ...
    def key(self, key_id: str) -> ApiKeyRecord | None: ...
    def keys(self) -> list[ApiKeyRecord]: ...
    def update_key(self, key_id: str, **values: Any) -> bool: ...
    def add_device(self, record: DeviceRecord) -> None: ...
    def device(self, agent_id: str) -> DeviceRecord | None: ...
    def devices(self) -> list[DeviceRecord]: ...
    def update_device(self, agent_id: str, **values: Any) -> bool: ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...


class AccessUnitOfWork(UnitOfWork, Protocol):
    """The repositories of access: users, keys and devices, and the audit log."""

    access: AccessRepository
    audit: AuditRepository
