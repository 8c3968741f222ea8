"""Products and locations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from warehouse.adapters import queries
from warehouse.domain.errors import NotFound
from warehouse.domain.model import Location as DomainLocation
from warehouse.domain.model import LocationKind, NegativePolicy, Product, Tracking
from warehouse.entrypoints.api.deps import ReadConn, ServiceDep
from warehouse.entrypoints.api.problems import PROBLEM_RESPONSES
from warehouse.entrypoints.api.schemas import (
    LocationIn,
    LocationOut,
    LocationUpdate,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductUpdate,
)
from warehouse.service_layer import catalog

router = APIRouter(responses=PROBLEM_RESPONSES)


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


@router.get("/products", response_model=ProductPage, tags=["products"])
def list_products(
    conn: ReadConn,
    q: Annotated[str | None, Query(max_length=100)] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> queries.Page:
    """Products by SKU; ``q`` matches part of the SKU or name."""
    return queries.list_products(conn, search=q, active=active, limit=limit, cursor=cursor)


@router.post(
    "/products", status_code=status.HTTP_201_CREATED, response_model=ProductOut, tags=["products"]
)
def create_product(body: ProductIn, service: ServiceDep) -> dict[str, object]:
    """Add a product. GTINs are checked and stored as GTIN-14."""
    created = catalog.create_product(service.uow(), service.parser, _product(body.sku, body))
    return queries.product_dict(created)


@router.get("/products/{sku}", response_model=ProductOut, tags=["products"])
def get_product(sku: str, service: ServiceDep) -> dict[str, object]:
    """One product."""
    with service.uow() as uow:
        product = uow.products.get(sku)
    if product is None:
        raise NotFound(f"sku {sku!r} is not a known product", field="sku")
    return queries.product_dict(product)


@router.put("/products/{sku}", response_model=ProductOut, tags=["products"])
def update_product(sku: str, body: ProductUpdate, service: ServiceDep) -> dict[str, object]:
    """Replace a product's attributes and codes."""
    updated = catalog.update_product(service.uow(), service.parser, _product(sku, body))
    return queries.product_dict(updated)


@router.delete("/products/{sku}", status_code=status.HTTP_204_NO_CONTENT, tags=["products"])
def delete_product(sku: str, service: ServiceDep) -> Response:
    """Delete a product that never moved (deactivate one with history)."""
    catalog.delete_product(service.uow(), sku)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/locations", response_model=list[LocationOut], tags=["locations"])
def list_locations(
    conn: ReadConn, under: str | None = None, kind: LocationKind | None = None
) -> list[dict[str, object]]:
    """Locations in tree order; ``under`` limits to a subtree (inclusive)."""
    return queries.list_locations(conn, under=under, kind=kind.value if kind else None)


@router.post(
    "/locations",
    status_code=status.HTTP_201_CREATED,
    response_model=LocationOut,
    tags=["locations"],
)
def create_location(body: LocationIn, service: ServiceDep, conn: ReadConn) -> dict[str, object]:
    """Add a location under its parent (sites have none)."""
    catalog.create_location(
        service.uow(),
        DomainLocation(
            code=body.code,
            name=body.name,
            kind=LocationKind(body.kind),
            parent_code=body.parent_code,
            negative_policy=NegativePolicy(body.negative_policy) if body.negative_policy else None,
        ),
    )
    return queries.get_location(conn, body.code)


@router.get("/locations/{code}", response_model=LocationOut, tags=["locations"])
def get_location(code: str, conn: ReadConn) -> dict[str, object]:
    """One location."""
    return queries.get_location(conn, code)


@router.put("/locations/{code}", response_model=LocationOut, tags=["locations"])
def update_location(
    code: str, body: LocationUpdate, service: ServiceDep, conn: ReadConn
) -> dict[str, object]:
    """Rename a location or change its kind or negative-stock policy."""
    current = queries.get_location(conn, code)
    catalog.update_location(
        service.uow(),
        DomainLocation(
            code=code,
            name=body.name,
            kind=LocationKind(body.kind),
            parent_code=current["parent_code"],
            negative_policy=NegativePolicy(body.negative_policy) if body.negative_policy else None,
        ),
    )
    return queries.get_location(conn, code)


@router.delete("/locations/{code}", status_code=status.HTTP_204_NO_CONTENT, tags=["locations"])
def delete_location(code: str, service: ServiceDep) -> Response:
    """Delete a location that has no children and no history."""
    catalog.delete_location(service.uow(), code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
