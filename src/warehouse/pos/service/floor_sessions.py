"""Cashier sessions and drawer events an edge register reports, replayed by the ingest.

A register numbers its sessions itself and reports their opening (with the float) and closing
(with the cash counted); its sales and drawer events name the session they belong to. Events
can arrive out of their order (a re-send after a gap), so whichever event names a session first
makes it, the opening fills in its float and time, and a session closed already has its Z
report made again when something of it arrives late (the counted cash stays as counted)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from warehouse.floor.events import DrawerRequest, FloorEvent, SessionRequest
from warehouse.pos.service.ports import NewDrawerEvent, PosUnitOfWork, RegisterView, SessionView
from warehouse.pos.service.registers import report

log = logging.getLogger(__name__)


def session_no(
    uow: PosUnitOfWork, register: RegisterView, number: int, cashier: str, at: datetime
) -> SessionView:
    """The register's session ``number``, made (open, no float yet) if nothing of it came
    before."""
    found = uow.pos.edge_session(register.id, number, lock=True)
    if found is None:
        uow.pos.add_edge_session(register.id, number, cashier, 0, at)
        found = uow.pos.edge_session(register.id, number, lock=True)
        assert found is not None
    return found


def apply_session(
    uow: PosUnitOfWork, register: RegisterView, event: FloorEvent, request: SessionRequest
) -> None:
    """A session opened (its float and time) or closed (the cash counted: the Z report)."""
    at = event.occurred_at
    session = session_no(uow, register, request.session_no, request.cashier, at)
    if request.action == "open":
        opened = min(session.opened_at, at)
        uow.pos.update_session(
            session.id, float_minor=request.float_minor, cashier=request.cashier, opened_at=opened
        )
        refreeze(uow, session.id)
        return
    if session.status == "closed":
        log.warning(
            "register %s session %d closed again by event %s: ignored",
            register.code,
            request.session_no,
            event.event_id,
        )
        return
    counted = request.counted_minor or 0
    closed = replace(session, status="closed", closed_at=at)
    uow.pos.close_session(session.id, counted, report(uow, closed, counted), at)


def apply_drawer(
    uow: PosUnitOfWork, register: RegisterView, event: FloorEvent, request: DrawerRequest
) -> None:
    """Cash paid in or out of the drawer, or a no-sale opening, in its session."""
    assert request.session_no is not None  # the contract requires it of a register
    session = session_no(uow, register, request.session_no, request.cashier, event.occurred_at)
    uow.pos.add_drawer(
        NewDrawerEvent(
            session.id,
            request.kind,
            request.amount_minor,
            request.reason,
            request.cashier,
            event.occurred_at,
            event.event_id,
        )
    )
    refreeze(uow, session.id)


def refreeze(uow: PosUnitOfWork, session_id: int) -> None:
    """A closed session's Z report made again with what arrived since (late sales, a late
    opening's float); nothing for an open one."""
    session = uow.pos.session(session_id, lock=True)
    if session is None or session.status != "closed" or session.closed_at is None:
        return
    counted = session.counted_minor or 0
    uow.pos.close_session(session.id, counted, report(uow, session, counted), session.closed_at)
