"""Locations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from warehouse.access.api.security import PrincipalDep, permission
from warehouse.catalog.domain import NegativePolicy
from warehouse.core.api.deps import ReaderDep, ReadsDep
from warehouse.core.api.params import Limit, Ref
from warehouse.core.api.responses import Json
from warehouse.stock.adapters import location_queries
from warehouse.stock.api.deps import ServiceDep
from warehouse.stock.api.schemas import LocationIn, LocationOut, LocationPage, LocationUpdate
from warehouse.stock.domain.model import Location as DomainLocation
from warehouse.stock.domain.model import LocationKind
from warehouse.stock.service import locations

router = APIRouter()


LocationCode = Annotated[Ref, Path(description="The location's code")]


Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the last page")]


def _location(code: str, body: LocationIn | LocationUpdate, parent: str | None) -> DomainLocation:
    return DomainLocation(
        code=code,
        name=body.name,
        kind=LocationKind(body.kind),
        parent_code=parent,
        negative_policy=NegativePolicy(body.negative_policy) if body.negative_policy else None,
        gln=body.gln,
        gln_extension=body.gln_extension,
    )


@router.get(
    "/locations", response_model=LocationPage, tags=["locations"], **permission("catalog.read")
)
async def list_locations(
    reads: ReadsDep,
    under: Annotated[Ref | None, Query(description="A location: it and its subtree")] = None,
    kind: LocationKind | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """Locations in tree order, a page at a time; ``under`` limits to a subtree (inclusive)."""
    page = await reads.run(
        location_queries.list_locations,
        under=under,
        kind=kind.value if kind else None,
        limit=limit,
        cursor=cursor,
    )
    return Json(page)


@router.post(
    "/locations",
    status_code=status.HTTP_201_CREATED,
    response_model=LocationOut,
    tags=["locations"],
    **permission("catalog.write"),
)
def create_location(
    body: LocationIn, service: ServiceDep, db: ReaderDep, principal: PrincipalDep
) -> dict[str, object]:
    """Add a location under its parent (sites have none)."""
    locations.create_location(
        service.uow(), _location(body.code, body, body.parent_code), principal.actor
    )
    return location_queries.get_location(db.conn, body.code)


@router.get(
    "/locations/{code}",
    response_model=LocationOut,
    tags=["locations"],
    **permission("catalog.read"),
)
async def get_location(code: LocationCode, reads: ReadsDep) -> dict[str, object]:
    """One location."""
    return await reads.run(location_queries.get_location, code)


@router.put(
    "/locations/{code}",
    response_model=LocationOut,
    tags=["locations"],
    **permission("catalog.write"),
)
def update_location(
    code: LocationCode,
    body: LocationUpdate,
    service: ServiceDep,
    db: ReaderDep,
    principal: PrincipalDep,
) -> dict[str, object]:
    """Rename a location or change its kind, negative-stock policy or GS1 keys (a virtual
    location's kind never changes); what the body leaves out (a policy, a GLN) is cleared."""
    locations.update_location(service.uow(), _location(code, body, None), principal.actor)
    return location_queries.get_location(db.conn, code)


@router.delete(
    "/locations/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["locations"],
    **permission("catalog.write"),
)
def delete_location(code: LocationCode, service: ServiceDep, principal: PrincipalDep) -> Response:
    """Delete a location that has no children and no history (never a virtual one)."""
    locations.delete_location(service.uow(), code, principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
