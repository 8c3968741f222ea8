"""Products and locations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from warehouse.adapters import queries
from warehouse.domain.errors import NotFound
from warehouse.domain.model import Location as DomainLocation
from warehouse.domain.model import LocationKind, NegativePolicy, Product, Tracking
from warehouse.entrypoints.api.deps import ReaderDep, ReadsDep, ServiceDep
from warehouse.entrypoints.api.params import Ref, Storable
from warehouse.entrypoints.api.schemas import (
    LocationIn,
    LocationOut,
    LocationUpdate,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductUpdate,
)
from warehouse.entrypoints.api.security import PrincipalDep, permission
from warehouse.service_layer import catalog

router = APIRouter()
Sku = Annotated[Ref, Path(description="The product's SKU")]
LocationCode = Annotated[Ref, Path(description="The location's code")]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the last page")]


def _product(sku: str, body: ProductIn | ProductUpdate) -> Product:
    return Product(
        sku=sku,
        name=body.name,
        unit=body.unit,
        tracking=Tracking(body.tracking),
        negative_policy=NegativePolicy(body.negative_policy),
        reorder_point=body.reorder_point,
        gtins=list(body.gtins),
        aliases=list(body.aliases),
        active=body.active,
    )


def _location(code: str, body: LocationIn | LocationUpdate, parent: str | None) -> DomainLocation:
    return DomainLocation(
        code=code,
        name=body.name,
        kind=LocationKind(body.kind),
        parent_code=parent,
        negative_policy=NegativePolicy(body.negative_policy) if body.negative_policy else None,
    )


@router.get(
    "/products", response_model=ProductPage, tags=["products"], **permission("catalog.read")
)
async def list_products(
    reads: ReadsDep,
    q: Annotated[str | None, Query(max_length=100), Storable] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> queries.Page:
    """Products by SKU; ``q`` matches part of the SKU or name."""
    return await reads.run(
        queries.list_products, search=q, active=active, limit=limit, cursor=cursor
    )


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductOut,
    tags=["products"],
    **permission("catalog.write"),
)
def create_product(
    body: ProductIn, service: ServiceDep, principal: PrincipalDep
) -> dict[str, object]:
    """Add a product. GTINs are checked and stored as GTIN-14."""
    created = catalog.create_product(
        service.uow(), service.parser, _product(body.sku, body), principal.actor
    )
    return queries.product_dict(created)


@router.get(
    "/products/{sku}", response_model=ProductOut, tags=["products"], **permission("catalog.read")
)
def get_product(sku: Sku, service: ServiceDep) -> dict[str, object]:
    """One product."""
    with service.uow() as uow:
        product = uow.products.get(sku)
    if product is None:
        raise NotFound(f"sku {sku!r} is not a known product", field="sku")
    return queries.product_dict(product)


@router.put(
    "/products/{sku}", response_model=ProductOut, tags=["products"], **permission("catalog.write")
)
def update_product(
    sku: Sku, body: ProductUpdate, service: ServiceDep, principal: PrincipalDep
) -> dict[str, object]:
    """Replace a product's attributes and codes."""
    updated = catalog.update_product(
        service.uow(), service.parser, _product(sku, body), principal.actor
    )
    return queries.product_dict(updated)


@router.delete(
    "/products/{sku}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["products"],
    **permission("catalog.write"),
)
def delete_product(sku: Sku, service: ServiceDep, principal: PrincipalDep) -> Response:
    """Delete a product that never moved (deactivate one with history)."""
    catalog.delete_product(service.uow(), sku, principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/locations", response_model=list[LocationOut], tags=["locations"], **permission("catalog.read")
)
async def list_locations(
    reads: ReadsDep,
    under: Annotated[Ref | None, Query(description="A location: it and its subtree")] = None,
    kind: LocationKind | None = None,
) -> list[dict[str, object]]:
    """Locations in tree order; ``under`` limits to a subtree (inclusive)."""
    return await reads.run(queries.list_locations, under=under, kind=kind.value if kind else None)


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
    catalog.create_location(
        service.uow(), _location(body.code, body, body.parent_code), principal.actor
    )
    return queries.get_location(db.conn, body.code)


@router.get(
    "/locations/{code}",
    response_model=LocationOut,
    tags=["locations"],
    **permission("catalog.read"),
)
async def get_location(code: LocationCode, reads: ReadsDep) -> dict[str, object]:
    """One location."""
    return await reads.run(queries.get_location, code)


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
    """Rename a location or change its kind or negative-stock policy (a virtual location's
    kind never changes)."""
    catalog.update_location(service.uow(), _location(code, body, None), principal.actor)
    return queries.get_location(db.conn, code)


@router.delete(
    "/locations/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["locations"],
    **permission("catalog.write"),
)
def delete_location(code: LocationCode, service: ServiceDep, principal: PrincipalDep) -> Response:
    """Delete a location that has no children and no history (never a virtual one)."""
    catalog.delete_location(service.uow(), code, principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
