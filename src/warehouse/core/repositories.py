"""The core's two repositories in SQL: the catalog version and idempotency keys."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text, update

from warehouse.core import tables
from warehouse.core.catalog_watch import CHANNEL
from warehouse.core.sql import insert

_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', '')")


class SqlCatalogVersion:
    """The one-row counter that every catalog change raises."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def current(self) -> int:
        t = tables.catalog_version
        return int(self.conn.execute(select(t.c.version).where(t.c.id == 1)).scalar_one())

    def bump(self) -> None:
        """Raise the version; on PostgreSQL also tell the listening workers, at commit
        (core/catalog_watch.py)."""
        t = tables.catalog_version
        self.conn.execute(update(t).where(t.c.id == 1).values(version=t.c.version + 1))
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(_NOTIFY)


class SqlIdempotency:
    """Idempotency keys of API commands and what they produced."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(
        self, key: str, fingerprint: str, at: datetime
    ) -> tuple[str, int, dict[str, Any]] | None:
        """Claim ``key`` for this transaction, or return what an earlier request stored.

        On PostgreSQL a concurrent transaction inserting the same key waits here until this
        one ends; SQLite's write transactions run one at a time."""
        t = tables.idempotency_keys
        claimed = self.conn.execute(
            insert(self.conn, t)
            .values(key=key, fingerprint=fingerprint, status=0, body="{}", created_at=at)
            .on_conflict_do_nothing()
            .returning(t.c.key)
        ).first()
        if claimed is not None:
            return None
        row = self.conn.execute(select(t).where(t.c.key == key)).one()
        return row.fingerprint, row.status, json.loads(row.body)

    def complete(self, key: str, status: int, body: dict[str, Any]) -> None:
        """Store the result that a retry with this key replays."""
        t = tables.idempotency_keys
        self.conn.execute(
            update(t).where(t.c.key == key).values(status=status, body=json.dumps(body))
        )
