"""``/api/v1/labels``: product, case and shelf labels as ZPL or PDF, downloaded or printed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator

from warehouse.access.api.security import PrincipalDep, permission
from warehouse.access.domain import Principal
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Code, RequestBody, Text64
from warehouse.core.api.responses import Json
from warehouse.labels.adapters import printer, queries, render
from warehouse.labels.api.deps import ServiceDep
from warehouse.labels.domain import Label
from warehouse.labels.service import labelling
from warehouse.stock.api.scope import location_in_scope

router = APIRouter()
Format = Annotated[Literal["zpl", "pdf"], Query(alias="format", description="ZPL II or PDF")]
Copies = Annotated[int, Query(ge=1, le=100, description="Copies of each label")]
Pack = Literal["inner", "case", "pallet"]
LABELS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/plain": {}, "application/pdf": {}},
        "description": "4 x 2 inch labels as ZPL II (one format each) or PDF (one page each)",
    }
}


def _file(labels: list[Label], fmt: str, copies: int, name: str) -> Response:
    if fmt == "pdf":
        body = render.pdf([x for x in labels for _ in range(copies)])
        shown = {"Content-Disposition": f'inline; filename="{name}.pdf"'}
        return Response(body, media_type="application/pdf", headers=shown)
    saved = {"Content-Disposition": f'attachment; filename="{name}.zpl"'}
    return Response(
        render.zpl(labels, copies), media_type="text/plain; charset=utf-8", headers=saved
    )


@router.get(
    "/labels/products/{sku}", responses=LABELS, tags=["labels"], **permission("catalog.read")
)
def product_label(
    sku: Annotated[Code, Path()],
    service: ServiceDep,
    pack: Annotated[Pack | None, Query(description="A pack's label (its GTIN)")] = None,
    lot: Text64 | None = None,
    expiry: date | None = None,
    fmt: Format = "zpl",
    copies: Copies = 1,
) -> Response:
    """A product's label, or its case's or pallet's: the name, SKU, lot and expiry, and
    (01) GTIN, (10) lot, (17) expiry as GS1-128 and GS1 DataMatrix."""
    labels = labelling.product_labels(service.uow(), sku, pack=pack, lot=lot, expiry=expiry)
    return _file(labels, fmt, copies, f"label-{sku}")


async def _locations(
    reads: ReadsDep, principal: Principal, code: str, subtree: bool, action: str
) -> list[Label]:
    await location_in_scope(principal, action, code, reads)
    return await reads.run(queries.location_labels, code, subtree=subtree)


@router.get(
    "/labels/locations/{code}", responses=LABELS, tags=["labels"], **permission("stock.read")
)
async def location_label(
    code: Annotated[Code, Path()],
    reads: ReadsDep,
    principal: PrincipalDep,
    subtree: Annotated[bool, Query(description="Every location below it too")] = False,
    fmt: Format = "zpl",
    copies: Copies = 1,
) -> Response:
    """A shelf or bin label (``LOC:`` and its code, which sets a station's location when
    scanned, as Code 128 and Data Matrix), or one for every location of a subtree."""
    labels = await _locations(reads, principal, code, subtree, "stock.read")
    return _file(labels, fmt, copies, f"labels-{code}")


class ProductRef(RequestBody):
    sku: Code
    pack: Pack | None = None
    lot: Text64 | None = None
    expiry: date | None = None


class LocationRef(RequestBody):
    code: Code
    subtree: bool = False


class PrintIn(RequestBody):
    """What to print (a product or a location) on which configured printer."""

    printer: Code
    product: ProductRef | None = None
    location: LocationRef | None = None
    copies: Annotated[int, Field(ge=1, le=100)] = 1

    @model_validator(mode="after")
    def _one_thing(self) -> PrintIn:
        if (self.product is None) == (self.location is None):
            raise ValueError("name either a product or a location")
        return self


class PrintOut(BaseModel):
    printer: str
    labels: int
    bytes: int


@router.post(
    "/labels/print", response_model=PrintOut, tags=["labels"], **permission("labels.print")
)
async def print_labels(
    body: PrintIn, service: ServiceDep, reads: ReadsDep, principal: PrincipalDep
) -> Json:
    """Send labels as ZPL to a label printer named in the settings (raw TCP port 9100)."""
    host, port = printer.address(service.settings.label_printers, body.printer)
    if body.location is not None:
        where = body.location
        labels = await _locations(reads, principal, where.code, where.subtree, "labels.print")
    else:
        assert body.product is not None
        what = body.product
        labels = labelling.product_labels(
            service.uow(), what.sku, pack=what.pack, lot=what.lot, expiry=what.expiry
        )
    sent = printer.send(host, port, render.zpl(labels, body.copies).encode())
    return Json({"printer": body.printer, "labels": len(labels), "bytes": sent})
