"""Changes to records in the audit log: who, what, and the record before and after."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from warehouse.access.service.ports import AuditEntry, AuditRepository

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def view(record: DataclassInstance | None) -> dict[str, object] | None:
    """A record as the audit log keeps it: its fields, without its database id."""
    if record is None:
        return None
    return {k: v for k, v in asdict(record).items() if k != "id"}


def record_change(
    audit: AuditRepository,
    actor: str,
    action: str,
    target: str,
    before: DataclassInstance | None,
    after: DataclassInstance | None,
) -> None:
    """A change (create: no ``before``; delete: no ``after``) in the audit log, in the change's
    own transaction."""
    audit.add(AuditEntry(datetime.now(UTC), actor, action, target, None, view(before), view(after)))
