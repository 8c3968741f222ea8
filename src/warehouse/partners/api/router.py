"""``/api/v1/partners``: suppliers and customers, and what each supplier sells."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import Response

from warehouse.access.api.security import PrincipalDep, permission
from warehouse.core import paging
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, Storable
from warehouse.core.errors import NotFound
from warehouse.partners.adapters import queries
from warehouse.partners.api.deps import ServiceDep
from warehouse.partners.api.schemas import (
    ItemOut,
    ItemsIn,
    PartnerIn,
    PartnerOut,
    PartnerPage,
    PartnerUpdate,
)
from warehouse.partners.service import partners

router = APIRouter()
CodePath = Annotated[Code, Path(description="The partner's code")]


@router.get(
    "/partners", response_model=PartnerPage, tags=["partners"], **permission("partners.read")
)
async def list_partners(
    reads: ReadsDep,
    role: Literal["supplier", "customer"] | None = None,
    q: Annotated[str | None, Query(max_length=100), Storable] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> paging.Page:
    """Suppliers and customers by code; ``q`` matches part of the code or name."""
    return await reads.run(queries.list_partners, role=role, search=q, limit=limit, cursor=cursor)


@router.post(
    "/partners",
    status_code=status.HTTP_201_CREATED,
    response_model=PartnerOut,
    tags=["partners"],
    **permission("partners.write"),
)
def create_partner(body: PartnerIn, service: ServiceDep, principal: PrincipalDep) -> Any:
    """Add a supplier or customer; its code and GLN must be unused."""
    created = partners.create_partner(service.uow(), body.to_domain(body.code), principal.actor)
    return queries.partner_dict(created)


@router.get(
    "/partners/{code}", response_model=PartnerOut, tags=["partners"], **permission("partners.read")
)
def get_partner(code: CodePath, service: ServiceDep) -> Any:
    """One partner, with what it supplies."""
    with service.uow() as uow:
        partner = uow.partners.get(code)
        if partner is None or partner.id is None:
            raise NotFound(f"partner {code!r} does not exist", field="code")
        items = uow.partners.items(partner.id)
    return queries.partner_dict(partner, items)


@router.put(
    "/partners/{code}", response_model=PartnerOut, tags=["partners"], **permission("partners.write")
)
def update_partner(
    code: CodePath, body: PartnerUpdate, service: ServiceDep, principal: PrincipalDep
) -> Any:
    """Replace a partner's record."""
    return queries.partner_dict(
        partners.update_partner(service.uow(), body.to_domain(code), principal.actor)
    )


@router.delete(
    "/partners/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["partners"],
    **permission("partners.write"),
)
def delete_partner(code: CodePath, service: ServiceDep, principal: PrincipalDep) -> Response:
    """Delete a partner no order points at (deactivate one that has orders)."""
    partners.delete_partner(service.uow(), code, principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/partners/{code}/items",
    response_model=list[ItemOut],
    tags=["partners"],
    **permission("partners.write"),
)
def set_items(code: CodePath, body: ItemsIn, service: ServiceDep, principal: PrincipalDep) -> Any:
    """Replace what a supplier sells: per product its lead time (else the supplier's), minimum
    order quantity, order multiple, last cost, and whether it is the preferred source."""
    items = partners.set_supplier_items(
        service.uow(), code, [x.to_domain() for x in body.items], principal.actor
    )
    return queries.item_dicts(items)
