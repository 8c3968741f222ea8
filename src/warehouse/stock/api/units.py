"""The read side of serialized units and RFID sweeps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from warehouse.access.api.security import (
    PrincipalDep,
    listing_sites,
    permission,
)
from warehouse.access.domain import Principal
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, Cursor, Limit, Ref, Text64
from warehouse.core.api.responses import Json
from warehouse.core.errors import QueryRule
from warehouse.stock.adapters import unit_queries

router = APIRouter()


SiteQuery = Annotated[Code | None, Query(description="Default: your one site")]


def _listing_site(principal: Principal, site: str | None) -> str | None:
    """The site a units or sweeps listing shows: the one asked for (if allowed), else one's
    only site; None (every site) for one who may see all."""
    sites = listing_sites(principal, "units.read", site)
    if sites is None:
        return site
    if len(sites) != 1:
        raise QueryRule("name a site", field="site")
    return next(iter(sites))


@router.get("/units", tags=["units"], **permission("units.read"))
async def list_units(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: Code | None = None,
    sku: Ref | None = None,
    location: Ref | None = None,
    epc: Annotated[str | None, Query(max_length=128)] = None,
    serial: Text64 | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """Serialized units (by serial number, EPC or NFC UID) and where each one is now."""
    chosen = _listing_site(principal, site)
    page = await reads.run(
        unit_queries.units,
        site=chosen,
        sku=sku,
        location=location,
        epc=epc,
        serial=serial,
        limit=limit,
        cursor=cursor,
    )
    return Json(page)


@router.get("/rfid-sweeps", tags=["units"], **permission("units.read"))
async def list_sweeps(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: Code | None = None,
    location: Ref | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """RFID sweeps of counting stations, newest first: expected, seen, missing, unexpected."""
    chosen = _listing_site(principal, site)
    page = await reads.run(
        unit_queries.sweeps, site=chosen, location=location, limit=limit, cursor=cursor
    )
    return Json(page)
