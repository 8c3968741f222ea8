"""The floor's pages: the exceptions inbox (filtered, with each one's evidence, resolved from the
page), the devices (every agent's state, refreshed every few seconds) and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from warehouse.access.adapters import queries as access_queries
from warehouse.access.api.security import PrincipalDep, listing_sites, permission, require_sites
from warehouse.access.domain import ACTIONS
from warehouse.access.service import devices as registry
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.params import Id
from warehouse.core.errors import NotFound, QueryRule
from warehouse.exceptions.adapters import queries as exception_queries
from warehouse.exceptions.api.deps import ServiceDep as ExceptionsDep
from warehouse.exceptions.domain import ExceptionKind, Resolution
from warehouse.exceptions.service import queue
from warehouse.ingest.adapters import queries as ingest_queries
from warehouse.web.adapters import evidence
from warehouse.web.api.deps import ServiceDep as WebDep
from warehouse.web.api.pages import HTML
from warehouse.web.api.render import page

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)

#: The inbox's age filter: only exceptions at least this old.
AGES = {"": None, "1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}
Field = Annotated[str, Form(max_length=200)]
KINDS = [k.value for k in ExceptionKind]


@router.get(
    "/exceptions", responses=HTML, summary="The exceptions inbox", **permission("exceptions.read")
)
async def exceptions(
    request: Request,
    reads: ReadsDep,
    principal: PrincipalDep,
    kind: Annotated[str, Query(max_length=32, description="An exception kind")] = "",
    site: Annotated[str, Query(max_length=64)] = "",
    age: Annotated[Literal["", "1h", "1d", "7d"], Query()] = "",
    cursor: Annotated[str, Query(max_length=512)] = "",
    resolved: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Open exceptions, newest first, each with what it concerns, the raw event behind it and
    the ways it may be resolved (for those allowed to)."""
    if kind and kind not in KINDS:
        raise QueryRule(f"no exception kind {kind!r} (one of {', '.join(KINDS)})", field="kind")
    sites = listing_sites(principal, "exceptions.read", site or None)
    older = AGES[age]
    found = await reads.run(
        exception_queries.exceptions,
        sites=sites,
        status="open",
        kind=kind or None,
        order_ref=None,
        sku=None,
        limit=50,
        cursor=cursor or None,
        created_before=datetime.now(UTC) - older if older else None,
    )
    bodies = await reads.run(evidence.payloads, [e["event_id"] for e in found.items])
    resolve = ACTIONS["exceptions.resolve"]
    items = [
        {**e, "evidence": bodies.get(e["event_id"] or ""), "may_resolve": principal.may_at(
            resolve, e["site"])}
        for e in found.items
    ]  # fmt: skip
    context = {
        "items": items,
        "next_cursor": found.next_cursor,
        "kinds": KINDS,
        "kind": kind,
        "site": site,
        "age": age,
        "resolved": resolved,
        "nav": "exceptions",
    }
    return page(request, "exceptions.html", context, principal=principal, block="inbox")


@router.get(
    "/exceptions/count",
    responses=HTML,
    summary="The navigation's live count of open exceptions",
    **permission("exceptions.read"),
)
async def exceptions_count(reads: ReadsDep, principal: PrincipalDep) -> Response:
    """How many exceptions are open at the viewer's sites, as the navigation shows it."""
    sites = listing_sites(principal, "exceptions.read", None)
    n = await reads.run(exception_queries.open_count, sites)
    text = f'<span class="badge" id="open-count">{n}<span class="sr-only"> open</span></span>'
    return HTMLResponse(text if n else '<span id="open-count"></span>')


@router.post(
    "/exceptions/{exception_id}/resolve",
    responses=HTML,
    summary="Resolve an exception from the inbox",
    **permission("exceptions.resolve"),
)
async def resolve(
    exception_id: Annotated[Id, Path()],
    service: ExceptionsDep,
    principal: PrincipalDep,
    resolution: Annotated[Literal["link_code", "adjust", "accept", "dismiss"], Form()],
    note: Field = "",
    sku: Field = "",
    location: Field = "",
    lot: Field = "",
    qty: Field = "",
) -> Response:
    """Resolve as the form says (the API's rules: a dismissal needs a note, an adjustment a
    SKU, a location and a signed quantity), then back to the inbox, which says so."""
    request = queue.ResolveRequest(
        Resolution(resolution), principal.actor, note.strip() or None, sku.strip() or None,
        location.strip() or None, lot.strip() or None, _quantity(qty),
    )  # fmt: skip

    def run() -> None:
        queue.resolve(
            service.uow(), service.catalog, exception_id, request, datetime.now(UTC),
            service.waiting_event,
            lambda site: require_sites(principal, "exceptions.resolve", [site], every=True),
        )  # fmt: skip

    await run_in_threadpool(run)
    return RedirectResponse(f"/exceptions?resolved={exception_id}", status_code=303)


def _quantity(text: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        qty = Decimal(text.strip())
    except InvalidOperation:
        raise QueryRule(f"quantity {text!r} is not a number", field="qty") from None
    if not qty.is_finite() or abs(qty) >= Decimal("1e12"):
        raise QueryRule(f"quantity {text!r} is out of range", field="qty")
    return qty


@router.post(
    "/devices/{agent_id}/revoke",
    responses=HTML,
    summary="Revoke an edge agent",
    **permission("devices.revoke"),
)
async def revoke_device(
    agent_id: Annotated[str, Path(min_length=1, max_length=64)],
    service: WebDep,
    principal: PrincipalDep,
) -> Response:
    """Revoke an agent at one of the admin's sites: its events are refused from its next
    batch on (as ``warehouse devices revoke``); the broker's files need exporting again."""

    def run() -> None:
        with service.uow() as uow:
            found = uow.access.device(agent_id)
        if found is None or found.revoked_at is not None:
            raise NotFound(f"no registered agent {agent_id!r}", field="agent_id")
        require_sites(principal, "devices.revoke", [found.site], every=True)
        registry.revoke_device(service.uow, agent_id, principal.actor, datetime.now(UTC))

    await run_in_threadpool(run)
    return RedirectResponse(f"/devices?revoked={quote(agent_id)}", status_code=303)


@router.get("/devices", responses=HTML, summary="Edge agents", **permission("operations.read"))
async def devices(
    request: Request,
    reads: ReadsDep,
    principal: PrincipalDep,
    revoked: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Every registered agent at the viewer's sites: online or offline, last seen, sequences,
    gaps and its last health report; the table refreshes every few seconds."""
    sites = principal.sites_for(ACTIONS["operations.read"])
    agents = await reads.run(ingest_queries.agents, sites)
    revoke = ACTIONS["devices.revoke"]
    for agent in agents:
        agent["may_revoke"] = principal.may_at(revoke, agent["site"])
        agent["price_books"] = price_books(agent.get("health"))
    context: dict[str, Any] = {"agents": agents, "revoked": revoked, "nav": "devices"}
    return page(request, "devices.html", context, principal=principal, block="agents")


def price_books(health: Any) -> list[str]:
    """The price-book versions an agent's registers price with, from its last heartbeat (an
    agent older than the field, or a device that is no register, has none)."""
    devices = health.get("devices") if isinstance(health, dict) else None
    if not isinstance(devices, dict):
        return []
    found = {d.get("price_book") for d in devices.values() if isinstance(d, dict)}
    return sorted(str(v) for v in found if v)


@router.get("/audit", responses=HTML, summary="The audit log", **permission("audit.read"))
async def audit(
    request: Request,
    reads: ReadsDep,
    principal: PrincipalDep,
    actor: Annotated[str, Query(max_length=128)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    target: Annotated[str, Query(max_length=128)] = "",
    cursor: Annotated[str, Query(max_length=512)] = "",
) -> Response:
    """Who changed what and when, newest first, with the values before and after; filtered by
    who, which action and what it changed (exact values, as the API's)."""
    found = await reads.run(
        access_queries.audit,
        sites=principal.sites_for(ACTIONS["audit.read"]),
        actor=actor or None,
        action=action or None,
        target=target or None,
        limit=50,
        cursor=cursor or None,
    )
    context = {
        "entries": found.items,
        "next_cursor": found.next_cursor,
        "actor": actor,
        "action": action,
        "target": target,
        "nav": "audit",
    }
    return page(request, "audit.html", context, principal=principal, block="entries")
