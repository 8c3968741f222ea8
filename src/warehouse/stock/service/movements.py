"""Manual stock commands from the API: receipts, transfers, adjustments; and projection rebuild."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime

from warehouse.access.service.ports import AuditEntry
from warehouse.core.errors import Conflict, StockRule
from warehouse.stock.domain.model import Flag, Movement, MovementKind
from warehouse.stock.service import posting
from warehouse.stock.service.commands import ManualMovement
from warehouse.stock.service.policies import DEFAULT_POLICY, StockPolicy
from warehouse.stock.service.ports import StockUnitOfWork
from warehouse.stock.service.resolve import Catalog, Provenance, build_movement

MANUAL_KINDS = frozenset({MovementKind.RECEIVE, MovementKind.TRANSFER, MovementKind.ADJUST})


def fingerprint(command: ManualMovement) -> str:
    """A stable hash of a command, to tell a retried request from a different one."""
    return hashlib.sha256(
        json.dumps(asdict(command), sort_keys=True, default=str).encode()
    ).hexdigest()


def record_movement(
    uow: StockUnitOfWork,
    catalog: Catalog,
    command: ManualMovement,
    now: datetime,
    idempotency_key: str | None = None,
    policy: StockPolicy = DEFAULT_POLICY,
) -> tuple[int, bool]:
    """Post one manual movement; return its ledger id and whether it was a replay.

    Unlike floor events, a command is refused when it breaks a rule: a tracked product without
    its lot or serial, or stock going below zero where the ``block`` policy applies. The
    idempotency key is claimed first: a concurrent request with the same key waits for this one
    to commit, then replays its result (or, if this one failed, does the work itself).
    """
    with uow:
        print_ = fingerprint(command)
        if idempotency_key:
            seen = uow.idempotency.claim(idempotency_key, print_, now)
            if seen is not None:
                if seen[0] != print_:
                    raise Conflict(
                        f"Idempotency-Key {idempotency_key!r} was used for a different request",
                        field="Idempotency-Key",
                    )
                return int(seen[2]["movement_id"]), True
        catalog.refresh(uow)
        if command.request.kind not in MANUAL_KINDS:
            kinds = ", ".join(sorted(k.value for k in MANUAL_KINDS))
            raise StockRule(
                f"kind must be one of {kinds} through the API, not {command.request.kind!r}",
                field="kind",
            )
        movement = _checked(uow, catalog, command, now, policy)
        (movement_id,) = posting.post(uow, [movement], now, enforce=True)
        uow.audit.add(_audit_entry(command, movement, movement_id, now))
        if idempotency_key:
            uow.idempotency.complete(idempotency_key, 201, {"movement_id": movement_id})
        uow.commit()
    return movement_id, False


def _checked(
    uow: StockUnitOfWork,
    catalog: Catalog,
    command: ManualMovement,
    now: datetime,
    policy: StockPolicy,
) -> Movement:
    """The command's movement, refused when it names a tracked product without its lot or
    serial."""
    source = Provenance(command.occurred_at or now, "api", actor=command.actor)
    movement = build_movement(uow, catalog, command.request, source, policy)
    if Flag.MISSING_LOT in movement.flags:
        raise StockRule(f"{movement.product.sku} is lot-tracked; give a lot", field="lot")
    if Flag.MISSING_SERIAL in movement.flags:
        raise StockRule(f"{movement.product.sku} is serial-tracked; give a serial", field="serial")
    return movement


def _audit_entry(
    command: ManualMovement, movement: Movement, movement_id: int, now: datetime
) -> AuditEntry:
    """The audit log's entry of a posted manual movement."""
    req = command.request
    return AuditEntry(
        now,
        command.principal,
        "movement.post",
        f"movement:{movement_id}",
        command.site,
        None,
        {
            "kind": req.kind,
            "sku": movement.product.sku,
            "qty": req.qty,
            "lot": movement.lot or None,
            "serial": movement.serial,
            "from_location": movement.source.code,
            "to_location": movement.destination.code,
            "order_ref": req.order_ref,
            "note": command.note,
        },
    )
