"""A GS1 Digital Link resolver: ``/01/{gtin}`` (``/10/{lot}``, ``/21/{serial}``),
``/414/{gln}`` (``/254/{extension}``) and ``/00/{sscc}``, at the root as the standard puts
them. A program gets what the key names and its links as JSON, or the RFC 9264 linkset
(``Accept: application/linkset+json`` or ``?linkType=all``); a browser is sent on to the
dashboard's page (307); ``?linkType=gs1:…`` is sent on to that link."""

from __future__ import annotations

from typing import Annotated, Any

import mimeparse
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from warehouse.access.api.security import PrincipalDep, listing_sites, permission, require_sites
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.responses import Json
from warehouse.core.errors import NotFound, QueryRule
from warehouse.interop.adapters.resolve import resolve
from warehouse.interop.domain import BadKey, Key, Resolved, location_key, package_key, product_key

router = APIRouter(tags=["resolver"])
LINKSET = "application/linkset+json"
#: What an answer may be, the one a client prefers least first (``*/*`` gets the last).
OFFERS = ["text/html", LINKSET, "application/json"]


class LinkOut(BaseModel):
    linkType: str = Field(description="GS1 link type, e.g. gs1:pip, gs1:masterData")  # noqa: N815
    href: str
    title: str
    type: str = Field(description="The media type at the link")


class ResolvedOut(BaseModel):
    """What a Digital Link names, and where to read more of it (the first link is the default
    one, where a browser is sent)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "anchor": "https://wh.example/01/05901230001025",
                    "kind": "product",
                    "item": {
                        "sku": "TEA-GRN",
                        "name": "Green tea 20 bags",
                        "unit": "ea",
                        "category": None,
                        "gtin": "05901230001025",
                        "pack": None,
                        "stock": [{"site": "WH1", "on_hand": "30", "reserved": "0"}],
                    },
                    "links": [
                        {
                            "linkType": "gs1:pip",
                            "href": "https://wh.example/products/TEA-GRN",
                            "title": "The product's stock",
                            "type": "text/html",
                        }
                    ],
                }
            ]
        }
    )

    anchor: str = Field(description="The key's canonical Digital Link URI at this resolver")
    kind: str = Field(description="product, lot, serial, location or package")
    item: dict[str, Any] = Field(description="Its fields and the stock you may see")
    links: list[LinkOut]


ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {LINKSET: {}},
        "description": "JSON for programs; the RFC 9264 linkset when asked for",
    },
    307: {"description": "A browser (or ?linkType=) sent on to the link"},
}
LinkType = Annotated[
    str | None,
    Query(
        alias="linkType",
        max_length=200,
        description="all: the linkset; a link type (gs1:pip, gs1:masterData, ...): sent on to it",
    ),
]
Gtin = Annotated[str, Path(max_length=14, description="GTIN-8, -12, -13 or -14")]
Part = Annotated[str, Path(max_length=60, description="1 to 20 characters of GS1 set 82")]


def _key(make: Any, *args: str | None) -> Key:
    try:
        return make(*args)  # type: ignore[no-any-return]
    except BadKey as exc:
        raise QueryRule(str(exc), field=exc.part) from None


class Asker:
    """Who asks, how (``Accept``, ``?linkType=``), and the reads to answer with: what every
    resolver route takes besides its key."""

    def __init__(
        self, request: Request, reads: ReadsDep, principal: PrincipalDep, link_type: LinkType = None
    ) -> None:
        self.request = request
        self.reads = reads
        self.principal = principal
        self.link_type = link_type

    async def answer(self, make: Any, *parts: str | None) -> Response:
        """What the key ``make(*parts)`` names, in the form this client asked for."""
        key = _key(make, *parts)
        principal, link_type = self.principal, self.link_type
        sites = listing_sites(principal, "stock.read", None)
        resolved, site = await self.reads.run(resolve, key, sites)
        if site is not None:
            require_sites(principal, "stock.read", [site], every=True)
        base = str(self.request.base_url).rstrip("/")
        headers = {"Link": f'<{base}{key.path}?linkType=all>; rel="linkset"; type="{LINKSET}"'}
        if link_type not in (None, "all", "linkset"):
            return _follow(resolved, link_type, base)
        best = _preferred(self.request.headers.get("accept") or "application/json")
        if link_type is not None or best == LINKSET:
            return Json(resolved.linkset(base), media_type=LINKSET, headers=headers)
        if best == "text/html":
            return RedirectResponse(base + resolved.links[0].href, 307, headers=headers)
        return Json(_body(resolved, base), headers=headers)


Ask = Annotated[Asker, Depends()]


def _preferred(accept: str) -> str:
    """What the client prefers of OFFERS; JSON when nothing fits or the header is garbled
    (RFC 9110 lets a server ignore an Accept it cannot use)."""
    try:
        return mimeparse.best_match(OFFERS, accept) or "application/json"
    except mimeparse.MimeTypeParseException:
        return "application/json"


def _follow(resolved: Resolved, link_type: str, base: str) -> Response:
    link = resolved.link(link_type)
    if link is None:
        offered = sorted({f"gs1:{x.link_type}" for x in resolved.links})
        raise NotFound(
            f"no {link_type} link for {resolved.key.path}; there are {', '.join(offered)}",
            field="linkType",
        )
    return RedirectResponse(base + link.href, 307)


def _body(resolved: Resolved, base: str) -> dict[str, Any]:
    return {
        "anchor": base + resolved.key.path,
        "kind": resolved.key.kind.value,
        "item": resolved.item,
        "links": [
            {
                "linkType": f"gs1:{x.link_type}",
                "href": base + x.href,
                "title": x.title,
                "type": x.media,
            }
            for x in resolved.links
        ],
    }


ROUTE: dict[str, Any] = {
    "response_model": ResolvedOut,
    "responses": ANSWERS,
    **permission("stock.read"),
}


@router.get("/01/{gtin}", summary="A product (or pack) by GTIN", **ROUTE)
async def product(gtin: Gtin, ask: Ask) -> Response:
    """The product whose GTIN (or pack GTIN) this is, and its stock per site."""
    return await ask.answer(product_key, gtin)


@router.get("/01/{gtin}/10/{lot:path}", summary="A lot of a product", **ROUTE)
async def lot(gtin: Gtin, lot: Part, ask: Ask) -> Response:
    """One lot of the product: its expiry, and its stock per location."""
    return await ask.answer(product_key, gtin, lot)


@router.get("/01/{gtin}/21/{serial:path}", summary="One serialized unit", **ROUTE)
async def serial(gtin: Gtin, serial: Part, ask: Ask) -> Response:
    """One unit of the product by its serial number: its lot and where it is."""
    return await ask.answer(product_key, gtin, None, serial)


@router.get("/414/{gln}", summary="A location by GLN", **ROUTE)
async def location(gln: Annotated[str, Path(max_length=13)], ask: Ask) -> Response:
    """The location with this GLN (and no extension)."""
    return await ask.answer(location_key, gln)


@router.get("/414/{gln}/254/{extension:path}", summary="A location by GLN and extension", **ROUTE)
async def sub_location(
    gln: Annotated[str, Path(max_length=13)], extension: Part, ask: Ask
) -> Response:
    """The location with this GLN and extension (an SGLN)."""
    return await ask.answer(location_key, gln, extension)


@router.get("/00/{sscc}", summary="A package by SSCC", **ROUTE)
async def package(sscc: Annotated[str, Path(max_length=18)], ask: Ask) -> Response:
    """The inbound or outbound package with this SSCC, and its contents."""
    return await ask.answer(package_key, sscc)
