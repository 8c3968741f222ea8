"""The point of sale: price lists, tax rates, promotions, registers, cashier sessions, sales,
receipts and refunds. Money is integer minor units throughout."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from warehouse import pricing, receipts
from warehouse.access.api.security import PrincipalDep, listing_sites, permission, require_sites
from warehouse.access.domain import ACTIONS, Principal
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code
from warehouse.core.api.responses import Json
from warehouse.core.errors import Forbidden, NotFound
from warehouse.floor.events import DrawerRequest, SaleLineRequest, SaleRequest
from warehouse.pos.adapters import queries
from warehouse.pos.api.deps import ServiceDep
from warehouse.pos.api.schemas import (
    CloseIn,
    DrawerIn,
    PriceListIn,
    PromotionIn,
    RefundIn,
    RefundOut,
    RegisterIn,
    SaleIn,
    SaleOut,
    SessionIn,
    TaxRateIn,
)
from warehouse.pos.service import prices, refunds, registers, sales
from warehouse.pos.service.ports import NewPriceList
from warehouse.pos.service.refunds import Disposition, RefundLineRequest, RefundRequest
from warehouse.stock.adapters import location_queries

router = APIRouter()
SessionPath = Annotated[int, Path(ge=1, le=2**62)]
SiteQuery = Annotated[Code | None, Query(description="Default: every site you may see")]


def _now() -> datetime:
    return datetime.now(UTC)


@router.post(
    "/pos/price-lists",
    status_code=status.HTTP_201_CREATED,
    tags=["pos"],
    **permission("pos.manage"),
)
def create_price_list(body: PriceListIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """A price list of a site with its prices. The book a register sells from on a day takes
    each product's price from the highest-priority list valid that day that has it. The answer
    says which products the registers will refuse on the list's first day (no price in any
    list, or no tax rate for their category): ``refused_count`` and the first 50 SKUs."""
    require_sites(principal, "pos.manage", [body.site], every=True)
    pk = prices.create_price_list(
        service.uow(),
        NewPriceList(
            body.site,
            body.name,
            body.currency,
            body.tax_inclusive,
            body.cash_step_minor,
            body.priority,
            body.valid_from,
            body.valid_to,
            [],
        ),
        [
            prices.PriceRequest(x.sku, x.unit_price_minor, x.tax_category, x.unit_cost_minor)
            for x in body.prices
        ],
        principal.actor,
        _now(),
    )
    first_day = max(body.valid_from or date.min, _now().date())
    with service.engine.connect() as conn:
        source = queries.price_book(conn, body.site, first_day)
    book = source.book if source is not None else None
    return Json(
        {
            "id": pk,
            "site": body.site,
            "name": body.name,
            "valid_on": first_day.isoformat(),
            "refused_count": book.refused_count if book else 0,
            "refused": list(book.refused) if book else [],
        },
        status_code=201,
    )


@router.get("/pos/price-lists", tags=["pos"], **permission("pos.read"))
async def list_price_lists(
    reads: ReadsDep, principal: PrincipalDep, site: SiteQuery = None
) -> Json:
    """Price lists, highest priority first per site."""
    sites = listing_sites(principal, "pos.read", site)
    return Json({"items": await reads.run(queries.price_lists, sites)})


@router.post(
    "/pos/tax-rates", status_code=status.HTTP_201_CREATED, tags=["pos"], **permission("pos.manage")
)
def create_tax_rate(body: TaxRateIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """A tax rate (percent) for a category at a site from ``valid_from`` on (inclusive of
    ``valid_to``); on a day the rate with the latest start applies."""
    require_sites(principal, "pos.manage", [body.site], every=True)
    pk = prices.add_tax_rate(
        service.uow(),
        body.site,
        body.category,
        body.rate_percent,
        body.valid_from,
        body.valid_to,
        principal.actor,
        _now(),
    )
    return Json({"id": pk}, status_code=201)


@router.post(
    "/pos/promotions", status_code=status.HTTP_201_CREATED, tags=["pos"], **permission("pos.manage")
)
def create_promotion(body: PromotionIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """A promotion at a site, valid between two days (both included)."""
    require_sites(principal, "pos.manage", [body.site], every=True)
    pk = prices.add_promotion(
        service.uow(),
        body.site,
        pricing.Promotion(
            body.code, body.kind, tuple(body.skus), body.qty, body.get, body.price_minor
        ),
        (body.valid_from, body.valid_to),
        principal.actor,
        _now(),
    )
    return Json({"id": pk}, status_code=201)


@router.get("/pos/price-book", tags=["pos"], **permission("pos.read"))
def price_book(
    service: ServiceDep,
    principal: PrincipalDep,
    site: Code,
    on: Annotated[date | None, Query(description="Default: today (UTC)")] = None,
) -> Json:
    """The book a register of the site sells from on a day: items with their codes, prices and
    tax categories, tax rates, promotions, the currency and cash step. An edge register keeps
    a copy to sell offline; ``version`` changes whenever any of it does."""
    require_sites(principal, "pos.read", [site], every=True)
    with service.engine.connect() as conn:
        source = queries.price_book(conn, site, on or _now().date())
    if source is None:
        raise NotFound(
            f"site {site} has no price list valid on {on or _now().date()}", field="site"
        )
    return Json(source.book.to_dict())


@router.post(
    "/pos/registers", status_code=status.HTTP_201_CREATED, tags=["pos"], **permission("pos.manage")
)
def create_register(body: RegisterIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Make a register of a location of kind ``register``; receipts are numbered per register
    from 1, without gaps."""
    with service.engine.connect() as conn:
        sites = location_queries.location_sites(conn, [body.location])
    require_sites(principal, "pos.manage", sites.values(), every=True)
    registers.create_register(
        service.uow(), service.catalog, body.location, principal.actor, _now()
    )
    return Json({"code": body.location, "site": next(iter(sites.values()), None)}, status_code=201)


def _register_site(service: ServiceDep, principal: Principal, action: str, code: str) -> str:
    with service.engine.connect() as conn:
        site = queries.register_site(conn, code)
    require_sites(principal, action, [site], every=True)
    return site


@router.post(
    "/pos/registers/{code}/sessions",
    status_code=status.HTTP_201_CREATED,
    tags=["pos"],
    **permission("pos.sell"),
)
def open_session(
    code: Annotated[Code, Path()], body: SessionIn, service: ServiceDep, principal: PrincipalDep
) -> Json:
    """Open a cashier session on the register with a float; one session per register at a
    time."""
    _register_site(service, principal, "pos.sell", code)
    session_id = registers.open_session(
        service.uow(), code, principal.actor, body.float_minor, _now()
    )
    return Json(registers.x_report(service.uow(), session_id), status_code=201)


def _session_site(service: ServiceDep, principal: Principal, action: str, session_id: int) -> None:
    with service.engine.connect() as conn:
        site = queries.session_site(conn, session_id)
    require_sites(principal, action, [site], every=True)


@router.get("/pos/sessions/{session_id}", tags=["pos"], **permission("pos.read"))
def session_report(session_id: SessionPath, service: ServiceDep, principal: PrincipalDep) -> Json:
    """The session's X report while it is open (totals by tender and tax rate, sales and
    refunds, discounts, cash expected); its Z report once closed."""
    _session_site(service, principal, "pos.read", session_id)
    return Json(registers.x_report(service.uow(), session_id))


@router.post(
    "/pos/sessions/{session_id}/drawer",
    status_code=status.HTTP_201_CREATED,
    tags=["pos"],
    **permission("pos.sell"),
)
def drawer(
    session_id: SessionPath, body: DrawerIn, service: ServiceDep, principal: PrincipalDep
) -> Json:
    """Cash paid into or out of the session's drawer, or a no-sale opening (each audited);
    the X report after it, whose cash expected counts them."""
    _session_site(service, principal, "pos.sell", session_id)
    request = DrawerRequest(body.kind, "", None, body.amount_minor, principal.actor, body.reason)
    report = registers.drawer(service.uow(), session_id, request, principal.actor, _now())
    return Json(report, status_code=201)


@router.post("/pos/sessions/{session_id}/close", tags=["pos"], **permission("pos.sell"))
def close_session(
    session_id: SessionPath, body: CloseIn, service: ServiceDep, principal: PrincipalDep
) -> Json:
    """Close the session with the cash counted in the drawer: the Z report, frozen."""
    _session_site(service, principal, "pos.sell", session_id)
    return Json(
        registers.close_session(
            service.uow(), session_id, body.counted_minor, principal.actor, _now()
        )
    )


@router.post(
    "/pos/sales",
    status_code=status.HTTP_201_CREATED,
    response_model=SaleOut,
    tags=["pos"],
    **permission("pos.sell"),
)
def record_sale(body: SaleIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Ring up a sale at a register with an open session: priced by the site's book, paid by
    the tenders (cash gives change, rounded to the cash step), stock moved from the register
    to the customer. Refused with 409 naming the line when it would oversell under the
    ``block`` policy; a price override needs the manager role. Idempotent by ``sale_id``."""
    site = _register_site(service, principal, "pos.sell", body.register_code)
    if any(x.unit_price_override_minor is not None for x in body.lines) and not principal.may_at(
        ACTIONS["pos.override"], site
    ):
        raise Forbidden(f"a price override needs the manager role at {site}", field="lines")
    result = sales.record_sale(
        service.uow(),
        service.catalog,
        SaleRequest(
            sale_id=body.sale_id,
            register=body.register_code,
            lines=[
                SaleLineRequest(
                    qty=x.qty,
                    sku=x.sku,
                    code=x.code,
                    unit_price_override_minor=x.unit_price_override_minor,
                    embedded_price_minor=x.embedded_price_minor,
                    discount_percent=x.discount_percent,
                    discount_amount_minor=x.discount_amount_minor,
                    lot=x.lot,
                    serial=x.serial,
                )
                for x in body.lines
            ],
            tenders=[
                pricing.TenderInput(t.kind, t.amount_minor, t.reference) for t in body.tenders
            ],
            cashier=principal.actor,
            basket_discount_percent=body.basket_discount_percent,
            basket_discount_amount_minor=body.basket_discount_amount_minor,
        ),
        _now(),
    )
    return Json(
        {
            "sale_id": result.sale_id,
            "receipt_no": result.receipt_no,
            "replay": result.replay,
            "receipt": result.receipt,
        },
        status_code=200 if result.replay else 201,
    )


@router.get("/pos/sales/{sale_id}", tags=["pos"], **permission("pos.read"))
async def get_sale(
    sale_id: Annotated[str, Path(max_length=64)],
    reads: ReadsDep,
    principal: PrincipalDep,
    fmt: Annotated[Literal["json", "text"], Query(alias="format")] = "json",
) -> Response:
    """A sale's receipt: as JSON, or as 42-column text (``format=text``)."""
    doc = await reads.run(queries.receipt, sale_id)
    require_sites(principal, "pos.read", [doc["site"]], every=True)
    if fmt == "text":
        return Response(receipts.text(doc), media_type="text/plain; charset=utf-8")
    return Json(doc)


@router.post(
    "/pos/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundOut,
    tags=["pos"],
    **permission("pos.refund"),
)
def refund(body: RefundIn, service: ServiceDep, principal: PrincipalDep) -> Json:
    """Refund lines of a sale (partly or whole; never more than was sold less what came back
    before), paid back to the sale's own tenders, each line restocked at the register or
    written off. Without ``sale_id`` (no receipt) the manager role is needed."""
    site = _register_site(service, principal, "pos.refund", body.register_code)
    if body.sale_id is None and not principal.may_at(ACTIONS["pos.override"], site):
        raise Forbidden(
            f"a refund without a receipt needs the manager role at {site}", field="sale_id"
        )
    result = refunds.refund(
        service.uow(),
        service.catalog,
        RefundRequest(
            body.refund_id,
            body.register_code,
            [
                RefundLineRequest(x.qty, Disposition(x.disposition), x.line_no, x.sku)
                for x in body.lines
            ],
            principal.actor,
            body.sale_id,
            body.tender,
            body.reason,
        ),
        _now(),
    )
    return Json(
        {
            "refund_id": result.refund_id,
            "receipt_no": result.receipt_no,
            "total_minor": result.total_minor,
            "tenders": [
                {"kind": k, "amount_minor": a, "reference": r} for k, a, r in result.tenders
            ],
            "replay": result.replay,
        },
        status_code=200 if result.replay else 201,
    )
