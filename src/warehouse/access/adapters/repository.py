"""Users and their grants, refresh-token families, API keys, devices, and the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from warehouse.access.adapters import tables
from warehouse.access.domain import Grant, Role
from warehouse.access.service.ports import (
    ApiKeyRecord,
    AuditEntry,
    DeviceRecord,
    RefreshRecord,
    UserRecord,
)

U, G, R, K, D = (
    tables.users,
    tables.user_grants,
    tables.refresh_tokens,
    tables.api_keys,
    tables.devices,
)


def grants_to_json(grants: tuple[Grant, ...]) -> str:
    """How a key's grants are stored."""
    return json.dumps([[g.role.value, g.site] for g in grants])


def grants_from_json(text: str) -> tuple[Grant, ...]:
    """The grants a key's column holds."""
    return tuple(Grant(Role(role), site) for role, site in json.loads(text))


class SqlAccess:
    """Who may sign in, with what, and which devices may connect."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # users
    def add_user(self, username: str, password_hash: str, at: datetime) -> int:
        row = self.conn.execute(
            insert(U)
            .values(username=username, password_hash=password_hash, created_at=at, updated_at=at)
            .returning(U.c.id)
        ).one()
        return int(row.id)

    def _user(self, row: Row[Any] | None) -> UserRecord | None:
        if row is None:
            return None
        grants = self.conn.execute(
            select(G.c.role, G.c.site).where(G.c.user_id == row.id).order_by(G.c.site, G.c.role)
        ).all()
        return UserRecord(
            id=row.id,
            username=row.username,
            password_hash=row.password_hash,
            disabled=row.disabled,
            failed_logins=row.failed_logins,
            locked_until=row.locked_until,
            grants=tuple(Grant(Role(g.role), g.site) for g in grants),
            created_at=row.created_at,
        )

    def user(self, username: str) -> UserRecord | None:
        return self._user(self.conn.execute(select(U).where(U.c.username == username)).first())

    def user_by_id(self, user_id: int) -> UserRecord | None:
        return self._user(self.conn.execute(select(U).where(U.c.id == user_id)).first())

    def users(self) -> list[UserRecord]:
        rows = self.conn.execute(select(U).order_by(U.c.username)).all()
        return [u for u in map(self._user, rows) if u is not None]

    def update_user(self, user_id: int, at: datetime, **values: Any) -> None:
        self.conn.execute(update(U).where(U.c.id == user_id).values(updated_at=at, **values))

    def add_grant(self, user_id: int, grant: Grant) -> bool:
        exists = self.conn.execute(
            select(G.c.role).where(
                G.c.user_id == user_id, G.c.role == grant.role.value, G.c.site == grant.site
            )
        ).first()
        if exists:
            return False
        self.conn.execute(insert(G).values(user_id=user_id, role=grant.role.value, site=grant.site))
        return True

    def remove_grant(self, user_id: int, grant: Grant) -> bool:
        done = self.conn.execute(
            delete(G).where(
                G.c.user_id == user_id, G.c.role == grant.role.value, G.c.site == grant.site
            )
        )
        return bool(done.rowcount)

    # refresh tokens
    def add_refresh(self, record: RefreshRecord, issued_at: datetime) -> None:
        self.conn.execute(
            insert(R).values(
                id=record.id,
                family=record.family,
                user_id=record.user_id,
                secret_hash=record.secret_hash,
                issued_at=issued_at,
                expires_at=record.expires_at,
            )
        )

    def refresh(self, token_id: str) -> RefreshRecord | None:
        row = self.conn.execute(select(R).where(R.c.id == token_id)).first()
        if row is None:
            return None
        return RefreshRecord(
            row.id,
            row.family,
            row.user_id,
            row.secret_hash,
            row.expires_at,
            row.rotated_at,
            row.revoked_at,
        )

    def rotate(self, token_id: str, at: datetime) -> bool:
        """Mark a member rotated, if no one did first (two refreshes racing: one wins)."""
        done = self.conn.execute(
            update(R)
            .where(R.c.id == token_id, R.c.rotated_at.is_(None), R.c.revoked_at.is_(None))
            .values(rotated_at=at)
        )
        return bool(done.rowcount)

    def extend_refresh(self, token_id: str, expires_at: datetime) -> None:
        self.conn.execute(update(R).where(R.c.id == token_id).values(expires_at=expires_at))

    def revoke_family(self, family: str, at: datetime) -> None:
        self.conn.execute(
            update(R).where(R.c.family == family, R.c.revoked_at.is_(None)).values(revoked_at=at)
        )

    def revoke_refresh_of(self, user_id: int, at: datetime) -> None:
        self.conn.execute(
            update(R).where(R.c.user_id == user_id, R.c.revoked_at.is_(None)).values(revoked_at=at)
        )

    # API keys
    def add_key(self, record: ApiKeyRecord) -> None:
        self.conn.execute(
            insert(K).values(
                id=record.id,
                name=record.name,
                secret_hash=record.secret_hash,
                grants=grants_to_json(record.grants),
                created_by=record.created_by,
                created_at=record.created_at,
                expires_at=record.expires_at,
            )
        )

    @staticmethod
    def _key(row: Row[Any]) -> ApiKeyRecord:
        return ApiKeyRecord(
            id=row.id,
            name=row.name,
            secret_hash=row.secret_hash,
            grants=grants_from_json(row.grants),
            created_by=row.created_by,
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )

    def key(self, key_id: str) -> ApiKeyRecord | None:
        row = self.conn.execute(select(K).where(K.c.id == key_id)).first()
        return None if row is None else self._key(row)

    def keys(self) -> list[ApiKeyRecord]:
        return [self._key(r) for r in self.conn.execute(select(K).order_by(K.c.created_at))]

    def update_key(self, key_id: str, **values: Any) -> bool:
        return bool(self.conn.execute(update(K).where(K.c.id == key_id).values(**values)).rowcount)

    # devices
    def add_device(self, record: DeviceRecord) -> None:
        self.conn.execute(
            insert(D).values(
                agent_id=record.agent_id,
                site=record.site,
                password_hash=record.password_hash,
                nats_password_hash=record.nats_password_hash,
                created_by=record.created_by,
                created_at=record.created_at,
                revoked_at=None,
            )
        )

    @staticmethod
    def _device(row: Row[Any]) -> DeviceRecord:
        return DeviceRecord(
            row.agent_id,
            row.site,
            row.password_hash,
            row.created_by,
            row.created_at,
            row.revoked_at,
            row.nats_password_hash,
        )

    def device(self, agent_id: str) -> DeviceRecord | None:
        row = self.conn.execute(select(D).where(D.c.agent_id == agent_id)).first()
        return None if row is None else self._device(row)

    def devices(self) -> list[DeviceRecord]:
        return [self._device(r) for r in self.conn.execute(select(D).order_by(D.c.agent_id))]

    def update_device(self, agent_id: str, **values: Any) -> bool:
        done = self.conn.execute(update(D).where(D.c.agent_id == agent_id).values(**values))
        return bool(done.rowcount)


class SqlAudit:
    """The append-only audit log."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, entry: AuditEntry) -> None:
        self.conn.execute(
            insert(tables.audit_log).values(
                at=entry.at,
                actor=entry.actor[:128],
                action=entry.action,
                target=entry.target[:256],
                site=entry.site,
                before=None if entry.before is None else json.dumps(entry.before, default=str),
                after=None if entry.after is None else json.dumps(entry.after, default=str),
            )
        )
