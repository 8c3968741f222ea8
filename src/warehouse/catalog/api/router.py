"""Products."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from warehouse.access.api.security import PrincipalDep, permission
from warehouse.catalog.adapters import queries
from warehouse.catalog.api.deps import ServiceDep
from warehouse.catalog.api.schemas import ProductIn, ProductOut, ProductPage, ProductUpdate
from warehouse.catalog.service import products
from warehouse.core import paging
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Ref, Storable
from warehouse.core.errors import NotFound

router = APIRouter()


Sku = Annotated[Ref, Path(description="The product's SKU")]


Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the last page")]


@router.get(
    "/products", response_model=ProductPage, tags=["products"], **permission("catalog.read")
)
async def list_products(
    reads: ReadsDep,
    q: Annotated[str | None, Query(max_length=100), Storable] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> paging.Page:
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
    created = products.create_product(
        service.uow(), service.parser, body.to_domain(body.sku), principal.actor
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
    updated = products.update_product(
        service.uow(), service.parser, body.to_domain(sku), principal.actor
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
    products.delete_product(service.uow(), sku, principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
