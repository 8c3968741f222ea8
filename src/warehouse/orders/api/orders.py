"""Purchase orders, sales orders and packages: lifecycle endpoints, listings and labels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from warehouse.access.api.security import PrincipalDep, listing_sites, permission, require_sites
from warehouse.access.domain import Principal
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, Cursor, Limit, OrderRef, Text200
from warehouse.core.api.responses import Json
from warehouse.orders.adapters import labels, queries
from warehouse.orders.api.deps import ServiceDep
from warehouse.orders.api.schemas import (
    CloseOut,
    LineIn,
    PackageOut,
    PurchaseOrderIn,
    PurchaseOrderOut,
    PurchaseOrderPage,
    SalesOrderIn,
    SalesOrderOut,
    SalesOrderPage,
    Sscc,
)
from warehouse.orders.domain import Shortage
from warehouse.orders.service import fulfilment, receiving, shipping
from warehouse.orders.service.fulfilment import SalesOrderRequest
from warehouse.orders.service.receiving import LineRequest, PurchaseOrderRequest
from warehouse.orders.service.shipping import SsccSeries

router = APIRouter()


RefPath = Annotated[OrderRef, Path()]


SsccPath = Annotated[Sscc, Path()]


def _lines(lines: list[LineIn]) -> list[LineRequest]:
    return [LineRequest(x.sku, x.qty, x.lot, x.expiry, x.unit_cost_minor) for x in lines]


def _order_site(service: ServiceDep, kind: str, ref: str) -> str:
    with service.engine.connect() as conn:  # given back before the unit of work takes one
        return queries.order_site(conn, kind, ref)


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(
    "/purchase-orders",
    status_code=status.HTTP_201_CREATED,
    response_model=PurchaseOrderOut,
    tags=["purchase orders"],
    **permission("purchase_orders.write"),
)
def create_purchase_order(
    body: PurchaseOrderIn, service: ServiceDep, principal: PrincipalDep
) -> Json:
    """Record a purchase order, with its advance shipping notice if the supplier sent one.
    Dock scans then count against its lines; its packages are received whole by their SSCC."""
    require_sites(principal, "purchase_orders.write", [body.site], every=True)
    receiving.create_purchase_order(
        service.uow(),
        PurchaseOrderRequest(
            body.ref,
            body.site,
            body.supplier or "",
            _lines(body.lines),
            body.expected_date,
            {sscc: _lines(lines) for sscc, lines in body.packages.items()},
            principal.actor,
            body.currency,
            service.settings.currency,
            body.partner,
        ),
        _now(),
    )
    with service.engine.connect() as conn:
        return Json(queries.purchase_order(conn, body.ref), status_code=201)


@router.get(
    "/purchase-orders",
    response_model=PurchaseOrderPage,
    tags=["purchase orders"],
    **permission("orders.read"),
)
async def list_purchase_orders(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: Code | None = None,
    order_status: Annotated[
        Literal["draft", "open", "received", "closed", "cancelled"] | None, Query(alias="status")
    ] = None,
    supplier: Text200 | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """Purchase orders, newest first, at the sites one may see."""
    page = await reads.run(
        queries.purchase_orders,
        sites=listing_sites(principal, "orders.read", site),
        status=order_status,
        supplier=supplier,
        limit=limit,
        cursor=cursor,
    )
    return Json(page)


@router.get(
    "/purchase-orders/{ref}",
    response_model=PurchaseOrderOut,
    tags=["purchase orders"],
    **permission("orders.read"),
)
async def get_purchase_order(ref: RefPath, reads: ReadsDep, principal: PrincipalDep) -> Json:
    """One purchase order: lines with what was received, and its packages."""
    order = await reads.run(queries.purchase_order, ref)
    require_sites(principal, "orders.read", [order["site"]], every=True)
    return Json(order)


@router.post(
    "/purchase-orders/{ref}/close",
    response_model=CloseOut,
    tags=["purchase orders"],
    **permission("purchase_orders.write"),
)
def close_purchase_order(ref: RefPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Close an order: no more receipts count against it; each short line becomes a
    ``short_receipt`` exception."""
    site = _order_site(service, "purchase", ref)
    require_sites(principal, "purchase_orders.write", [site], every=True)
    short = receiving.close_purchase_order(service.uow(), ref, principal.actor, _now())
    with service.engine.connect() as conn:
        return Json({"order": queries.purchase_order(conn, ref), "short_lines": short})


@router.post(
    "/sales-orders",
    status_code=status.HTTP_201_CREATED,
    response_model=SalesOrderOut,
    tags=["sales orders"],
    **permission("sales_orders.write"),
)
def create_sales_order(body: SalesOrderIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Record a draft sales order. Nothing is reserved until it is confirmed."""
    require_sites(principal, "sales_orders.write", [body.site], every=True)
    fulfilment.create_sales_order(
        service.uow(),
        SalesOrderRequest(
            body.ref,
            body.site,
            body.customer or "",
            _lines(body.lines),
            body.requested_date,
            Shortage(body.shortage),
            body.reserve_minutes,
            principal.actor,
            body.partner,
        ),
        _now(),
    )
    with service.engine.connect() as conn:
        return Json(queries.sales_order(conn, body.ref), status_code=201)


@router.get(
    "/sales-orders",
    response_model=SalesOrderPage,
    tags=["sales orders"],
    **permission("orders.read"),
)
async def list_sales_orders(
    reads: ReadsDep,
    principal: PrincipalDep,
    site: Code | None = None,
    order_status: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    customer: Text200 | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Json:
    """Sales orders, newest first, at the sites one may see."""
    page = await reads.run(
        queries.sales_orders,
        sites=listing_sites(principal, "orders.read", site),
        status=order_status,
        customer=customer,
        limit=limit,
        cursor=cursor,
    )
    return Json(page)


@router.get(
    "/sales-orders/{ref}",
    response_model=SalesOrderOut,
    tags=["sales orders"],
    **permission("orders.read"),
)
async def get_sales_order(ref: RefPath, reads: ReadsDep, principal: PrincipalDep) -> Json:
    """One sales order: lines, pick tasks (location and lot of each reservation), packages."""
    order = await reads.run(queries.sales_order, ref)
    require_sites(principal, "orders.read", [order["site"]], every=True)
    return Json(order)


def _sales_command(service: ServiceDep, principal: Principal, ref: str, action: str) -> str:
    site = _order_site(service, "sales", ref)
    require_sites(principal, action, [site], every=True)
    return site


@router.post(
    "/sales-orders/{ref}/confirm",
    response_model=SalesOrderOut,
    tags=["sales orders"],
    **permission("sales_orders.write"),
)
def confirm_sales_order(ref: RefPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Reserve stock for every line, first expiry first for products with an expiry, else
    first in, first out. Short stock is backordered, or (``shortage: refuse``) a 409 naming
    the line. A hold (``reserve_minutes``) releases itself when it runs out."""
    _sales_command(service, principal, ref, "sales_orders.write")
    fulfilment.confirm(service.uow(), ref, principal.actor, _now())
    with service.engine.connect() as conn:
        return Json(queries.sales_order(conn, ref))


@router.post(
    "/sales-orders/{ref}/cancel",
    response_model=SalesOrderOut,
    tags=["sales orders"],
    **permission("sales_orders.write"),
)
def cancel_sales_order(ref: RefPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Cancel an order with nothing picked waiting; its reservations are released."""
    _sales_command(service, principal, ref, "sales_orders.write")
    fulfilment.cancel(service.uow(), ref, principal.actor, _now())
    with service.engine.connect() as conn:
        return Json(queries.sales_order(conn, ref))


def sscc_series(service: ServiceDep, site: str) -> SsccSeries:
    """The site's SSCC series from settings (a site's own prefix, else the default)."""
    settings = service.settings
    prefix = settings.gs1_company_prefixes.get(site, settings.gs1_company_prefix)
    return SsccSeries(prefix, settings.sscc_extension)


@router.post(
    "/sales-orders/{ref}/packages",
    status_code=status.HTTP_201_CREATED,
    response_model=PackageOut,
    tags=["packages"],
    **permission("fulfilment.write"),
)
def pack_sales_order(ref: RefPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Pack everything picked for the order and not packed yet into a new package, under the
    site's next SSCC; its label is at ``/packages/{sscc}/label``."""
    site = _sales_command(service, principal, ref, "fulfilment.write")
    sscc = shipping.pack(service.uow(), ref, sscc_series(service, site), principal.actor, _now())
    with service.engine.connect() as conn:
        return Json(queries.package(conn, sscc), status_code=201)


@router.get(
    "/packages/{sscc}",
    response_model=PackageOut,
    tags=["packages"],
    **permission("orders.read"),
)
async def get_package(sscc: SsccPath, reads: ReadsDep, principal: PrincipalDep) -> Json:
    """A package by its SSCC: direction, status, order and contents."""
    package = await reads.run(queries.package, sscc)
    require_sites(principal, "orders.read", [package["site"]], every=True)
    return Json(package)


@router.get(
    "/packages/{sscc}/label",
    tags=["packages"],
    responses={
        200: {
            "content": {"text/plain": {}, "application/pdf": {}},
            "description": "The 4 x 6 inch label as ZPL II text or as PDF",
        }
    },
    **permission("orders.read"),
)
async def package_label(
    sscc: SsccPath,
    reads: ReadsDep,
    principal: PrincipalDep,
    label_format: Annotated[Literal["zpl", "pdf"], Query(alias="format")] = "zpl",
) -> Response:
    """The shipping label: ship-from, customer, order, contents, and the SSCC as a GS1-128
    barcode. ``format=zpl`` for a thermal printer, ``format=pdf`` for any other."""
    package = await reads.run(queries.package, sscc)
    require_sites(principal, "orders.read", [package["site"]], every=True)
    if label_format == "pdf":
        return Response(labels.pdf(package), media_type="application/pdf")
    return Response(labels.zpl(package), media_type="text/plain; charset=utf-8")


@router.post(
    "/packages/{sscc}/ship",
    response_model=PackageOut,
    tags=["packages"],
    **permission("fulfilment.write"),
)
def ship_package(sscc: SsccPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Ship a packed package (as a scan at the dock door would): its contents move to the
    customer, and its order is shipped or, with more to come, partially shipped."""
    with service.engine.connect() as conn:
        site = queries.package(conn, sscc)["site"]
    require_sites(principal, "fulfilment.write", [site], every=True)
    shipping.ship(service.uow(), service.catalog, sscc, principal.actor, _now())
    with service.engine.connect() as conn:
        return Json(queries.package(conn, sscc))
