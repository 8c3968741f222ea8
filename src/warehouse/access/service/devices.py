"""Edge agents allowed to publish: registration, revocation, their MQTT credentials; every
change audited, and the catalog version raised so every ingest worker sees it at its next
batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from warehouse.access.service.ports import AccessUnitOfWork, AuditEntry, Credentials, DeviceRecord
from warehouse.core.errors import Conflict, NotFound


def register_device(
    new_uow: Callable[[], AccessUnitOfWork],
    creds: Credentials,
    agent_id: str,
    site: str,
    actor: str,
    now: datetime,
) -> tuple[DeviceRecord, str]:
    """Register an agent at a site and make its MQTT password (shown once). Registering a
    revoked agent again gives it a new password. The caller has checked that both ids are
    single MQTT topic levels (contracts.topics.is_level)."""
    password = creds.random_secret()
    record = DeviceRecord(
        agent_id, site, creds.mosquitto_hash(password), actor, now, None, creds.nats_hash(password)
    )
    with new_uow() as uow:
        known = uow.access.device(agent_id)
        if known is not None and known.revoked_at is None:
            raise Conflict(
                f"agent {agent_id!r} is registered already (at {known.site}); revoke it first",
                field="agent_id",
            )
        if known is None:
            uow.access.add_device(record)
        else:
            uow.access.update_device(
                agent_id, site=site, password_hash=record.password_hash, created_by=actor,
                created_at=now, revoked_at=None, nats_password_hash=record.nats_password_hash,
            )  # fmt: skip
        uow.catalog_version.bump()
        uow.audit.add(
            AuditEntry(now, actor, "device.register", f"device:{agent_id}", site, None,
                       {"agent_id": agent_id, "site": site})
        )  # fmt: skip
        uow.commit()
    return record, password


def revoke_device(
    new_uow: Callable[[], AccessUnitOfWork], agent_id: str, actor: str, now: datetime
) -> DeviceRecord:
    with new_uow() as uow:
        device = uow.access.device(agent_id)
        if device is None:
            raise NotFound(f"no registered agent {agent_id!r}", field="agent_id")
        if device.revoked_at is None:
            uow.access.update_device(agent_id, revoked_at=now)
            uow.catalog_version.bump()
            uow.audit.add(
                AuditEntry(now, actor, "device.revoke", f"device:{agent_id}", device.site)
            )
            uow.commit()
            device = replace(device, revoked_at=now)
    return device


def list_devices(new_uow: Callable[[], AccessUnitOfWork]) -> list[DeviceRecord]:
    with new_uow() as uow:
        return uow.access.devices()
