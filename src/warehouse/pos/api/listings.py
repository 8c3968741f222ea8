"""Listings of the point of sale: registers, cashier sessions and sales, a keyset page at a
time, at the sites one may see."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from warehouse.access.api.security import PrincipalDep, listing_sites, permission
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, Cursor, Id, Limit
from warehouse.core.api.responses import Json
from warehouse.pos.adapters import listings
from warehouse.pos.api.schemas import RegisterPage, SalePage, SessionPage

router = APIRouter()
SiteQuery = Annotated[Code | None, Query(description="Default: every site you may see")]


@router.get("/pos/registers", response_model=RegisterPage, tags=["pos"], **permission("pos.read"))
async def list_registers(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: SiteQuery = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """Registers by code, with their next receipt number and the session open on each."""
    page = await reads.run(
        listings.registers,
        sites=listing_sites(principal, "pos.read", site),
        limit=limit,
        cursor=cursor,
    )
    return Json(page)


@router.get("/pos/sessions", response_model=SessionPage, tags=["pos"], **permission("pos.read"))
async def list_sessions(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: SiteQuery = None,
    register: Code | None = None,
    session_status: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
    since: Annotated[AwareDatetime | None, Query(description="Opened at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Opened before")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """Cashier sessions, newest first: ``status=open`` lists the tills in use now."""
    page = await reads.run(
        listings.sessions,
        sites=listing_sites(principal, "pos.read", site),
        register=register,
        status=session_status,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return Json(page)


@router.get("/pos/sales", response_model=SalePage, tags=["pos"], **permission("pos.read"))
async def list_sales(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: SiteQuery = None,
    register: Code | None = None,
    session_id: Id | None = None,
    source: Literal["api", "edge"] | None = None,
    sku: Code | None = None,
    since: Annotated[AwareDatetime | None, Query(description="Made at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Made before")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """Sales, newest recorded first, with their totals: one register's, one session's, those
    from edge registers (``source=edge``) or those that sold a product (``sku``)."""
    page = await reads.run(
        listings.sales,
        sites=listing_sites(principal, "pos.read", site),
        register=register,
        session_id=session_id,
        source=source,
        sku=sku,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return Json(page)
