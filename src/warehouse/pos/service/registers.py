"""Registers and cashier sessions with their X and Z reports."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from warehouse.access.service.ports import AuditEntry
from warehouse.core.errors import Conflict, NotFound, SaleRule
from warehouse.floor.events import DrawerRequest
from warehouse.pos.service.ports import NewDrawerEvent, PosUnitOfWork, SessionView
from warehouse.pos.service.sales import register_or_404
from warehouse.stock.domain.model import LocationKind
from warehouse.stock.service.resolve import Catalog


def create_register(
    uow: PosUnitOfWork, catalog: Catalog, location: str, principal: str, now: datetime
) -> int:
    """Make a register of a location of kind ``register``; its code is the location's."""
    with uow:
        catalog.refresh(uow)
        place = catalog.location(uow, location, "location")
        if place.kind is not LocationKind.REGISTER or place.id is None or place.site is None:
            raise SaleRule(
                f"{location} is a {place.kind}; a register is a location of kind register",
                field="location",
            )
        if uow.pos.register(place.code) is not None:
            raise Conflict(f"register {place.code} exists already", field="location")
        register_id = uow.pos.add_register(place.code, place.id, place.site, now)
        uow.audit.add(
            AuditEntry(now, principal, "register.create", f"register:{place.code}", place.site)
        )
        uow.commit()
    return register_id


def open_session(
    uow: PosUnitOfWork, register: str, cashier: str, float_minor: int, now: datetime
) -> int:
    """Open a cashier session on a register with ``float_minor`` in the drawer."""
    if float_minor < 0:
        raise SaleRule("the float is not negative", field="float_minor")
    with uow:
        found = register_or_404(uow, register)
        uow.pos.lock(found.id)  # one open session at a time
        current = uow.pos.open_session_of(found.id, now)
        if current is not None:
            raise Conflict(
                f"register {found.code} has session {current.id} open (by {current.cashier}); "
                "close it first",
                field="register",
            )
        session_id = uow.pos.open_session(found.id, cashier, float_minor, now)
        uow.commit()
    return session_id


def session_or_404(uow: PosUnitOfWork, session_id: int, *, lock: bool = False) -> SessionView:
    session = uow.pos.session(session_id, lock=lock)
    if session is None:
        raise NotFound(f"session {session_id} does not exist", field="session_id")
    return session


def report(uow: PosUnitOfWork, session: SessionView, counted_minor: int | None) -> dict[str, Any]:
    """The session's report as it stands (X), or with the drawer counted (Z)."""
    totals = uow.pos.session_totals(session.id)
    expected = (
        session.float_minor
        + totals["tenders"].get("cash", 0)
        + totals["paid_in_minor"]
        - totals["paid_out_minor"]
    )
    return {
        "session_id": session.id,
        "source": session.source,
        "session_no": session.session_no,
        "register": session.register_code,
        "site": session.site,
        "cashier": session.cashier,
        "opened_at": session.opened_at.isoformat(),
        "closed_at": session.closed_at.isoformat() if session.closed_at else None,
        "float_minor": session.float_minor,
        **totals,
        "net_minor": totals["sales_minor"] - totals["refunds_minor"],
        "cash_expected_minor": expected,
        "cash_counted_minor": counted_minor,
        "cash_difference_minor": None if counted_minor is None else counted_minor - expected,
    }


def x_report(uow: PosUnitOfWork, session_id: int) -> dict[str, Any]:
    with uow:
        session = session_or_404(uow, session_id)
        if session.z_report is not None:
            return {"kind": "Z", **session.z_report}
        return {"kind": "X", **report(uow, session, None)}


def close_session(
    uow: PosUnitOfWork, session_id: int, counted_minor: int, principal: str, now: datetime
) -> dict[str, Any]:
    """Close a session with the counted drawer; the Z report is frozen with it."""
    if counted_minor < 0:
        raise SaleRule("the counted cash is not negative", field="counted_minor")
    with uow:
        session = session_or_404(uow, session_id, lock=True)
        if session.status != "open":
            raise Conflict(f"session {session_id} is closed already", field="session_id")
        closed = SessionView(**{**asdict(session), "closed_at": now, "status": "closed"})
        z = report(uow, closed, counted_minor)
        uow.pos.close_session(session_id, counted_minor, z, now)
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                "session.close",
                f"session:{session_id}",
                session.site,
                None,
                {"counted_minor": counted_minor, "difference": z["cash_difference_minor"]},
            )
        )
        uow.commit()
    return {"kind": "Z", **z}


def drawer(
    uow: PosUnitOfWork, session_id: int, request: DrawerRequest, principal: str, now: datetime
) -> dict[str, Any]:
    """Cash paid into or out of an open session's drawer, or a no-sale opening; the X report
    after it."""
    if request.kind == "no_sale" and request.amount_minor:
        raise SaleRule("a no-sale opens the drawer and moves no cash", field="amount_minor")
    if request.kind != "no_sale" and request.amount_minor <= 0:
        raise SaleRule(f"{request.kind} needs the amount of cash", field="amount_minor")
    with uow:
        session = session_or_404(uow, session_id, lock=True)
        if session.status != "open":
            raise Conflict(f"session {session_id} is closed", field="session_id")
        uow.pos.add_drawer(
            NewDrawerEvent(
                session.id, request.kind, request.amount_minor, request.reason, request.cashier, now
            )
        )
        uow.audit.add(
            AuditEntry(
                now,
                principal,
                f"session.{request.kind}",
                f"session:{session_id}",
                session.site,
                None,
                {"amount_minor": request.amount_minor, "reason": request.reason},
            )
        )
        uow.commit()
    return x_report(uow, session_id)
