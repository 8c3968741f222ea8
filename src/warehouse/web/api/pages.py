"""The dashboard's pages: sign-in at ``/``, today's figures per site, stock with one search box.

Every page declares its action of the permission table like any API route, so the matrix in
docs/security.md lists it and a cashier reaches only what a cashier's grants allow; a page
asked for without a session answers 401 with the sign-in form (``install`` below).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from warehouse.access.api.security import PrincipalDep, limiter_of, permission
from warehouse.access.api.web_session import (
    check_form_origin,
    clear_session,
    idle_of,
    session_cookie,
    session_principal,
    set_session,
)
from warehouse.access.domain import ACTIONS, Principal
from warehouse.access.service import web_sessions
from warehouse.core.api.deps import ReadsDep
from warehouse.core.api.health import landing_document
from warehouse.core.api.permissions import public
from warehouse.core.errors import NotAuthenticated, TryLater
from warehouse.reports.adapters import today
from warehouse.stock.api.scope import location_in_scope
from warehouse.web.adapters import stock_search
from warehouse.web.api.deps import ServiceDep
from warehouse.web.api.render import page

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)
SessionCookie = Annotated[str | None, Depends(session_cookie)]
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The page"}
}
TZ_COOKIE = "wh_tz"  # the browser's time zone, set by app.js: "today" is the viewer's day


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site, never another origin."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:500]
    return "/home"


LANDING: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/html": {}, "application/json": {}},
        "description": "The sign-in page for a browser (Accept: text/html); otherwise where the "
        "API, its documentation and the health routes are",
    }
}


@router.get(
    "/", responses=LANDING, summary="The dashboard's sign-in, or where things are", **public()
)
async def landing(
    request: Request,
    session: SessionCookie,
    next_: Annotated[str | None, Query(alias="next", max_length=500)] = None,
) -> Response:
    """A browser gets the sign-in form (or, signed in, its home); any other client a JSON
    document of where the API, its documentation and the health routes are."""
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(landing_document())
    if session:
        try:
            await session_principal(request, session)
        except NotAuthenticated:
            pass
        else:
            return RedirectResponse(safe_next(next_), status_code=303)
    return sign_in_form(request, safe_next(next_))


def sign_in_form(
    request: Request, target: str, error: str | None = None, status: int = 200, username: str = ""
) -> HTMLResponse:
    context = {"next": target, "error": error, "username": username}
    return page(request, "sign_in.html", context, status=status)


@router.post("/sign-in", responses=HTML, summary="Sign in with a username and password", **public())
async def sign_in(
    request: Request,
    service: ServiceDep,
    username: Annotated[str, Form(min_length=1, max_length=150)],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    next_: Annotated[str, Form(alias="next", max_length=500)] = "/home",
) -> Response:
    """Start a session (the same backoff, lockout and address limit as the API's login) and
    go on to ``next``; the form again with the reason otherwise."""
    await check_form_origin(request)
    limiter = limiter_of(request)
    address = limiter.client_address(request)
    target = safe_next(next_)
    assert service.tokens is not None
    try:
        await limiter.check(
            limiter.failed_logins, "login", address,
            message="too many failed sign-ins from this address; wait before trying again",
        )  # fmt: skip
        session = await run_in_threadpool(
            web_sessions.sign_in, service.uow, service.credentials, service.tokens, username,
            password, datetime.now(UTC), service.login_policy, idle_of(service),
        )  # fmt: skip
    except NotAuthenticated as exc:
        await limiter.hit(limiter.failed_logins, "login", address)
        return sign_in_form(request, target, exc.message, 401, username)
    except TryLater as exc:
        refused = sign_in_form(request, target, exc.message, 429, username)
        refused.headers["Retry-After"] = str(int(exc.retry_after))
        return refused
    response = RedirectResponse(target, status_code=303)
    secure = limiter.came_over_tls(request)
    set_session(response, session.refresh_token, idle_of(service), secure=secure)
    return response


@router.post(
    "/sign-out", responses=HTML, summary="End this browser's session", **permission("session")
)
async def sign_out(request: Request, service: ServiceDep, session: SessionCookie) -> Response:
    """End the session and go back to the sign-in form."""
    if session:
        await run_in_threadpool(
            web_sessions.sign_out, service.uow, service.credentials, session, datetime.now(UTC)
        )
    response = RedirectResponse("/", status_code=303)
    clear_session(response, secure=limiter_of(request).came_over_tls(request))
    return response


#: What the home page shows of a site, and the action a viewer needs there to see it.
HOME_PARTS = {
    "movements": "movements.read",
    "takings": "pos.read",
    "exceptions": "exceptions.read",
    "agents": "operations.read",
}


@router.get("/home", responses=HTML, summary="Today's figures per site", **permission("session"))
async def home(request: Request, reads: ReadsDep, principal: PrincipalDep) -> Response:
    """Each site's movements, receipts, picks, shipments, POS takings since the start of the
    viewer's day, with open exceptions and offline agents now; each part only where the
    viewer's grants allow it."""
    zone = viewer_zone(request)
    start = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    sites = _home_sites(principal)
    figures = await reads.run(today.site_figures, sites, start.astimezone(UTC))
    shown = []
    for site in figures:
        parts = {p for p, a in HOME_PARTS.items() if principal.may_at(ACTIONS[a], site["site"])}
        if parts:
            shown.append({**site, "parts": parts})
    context = {"sites": shown, "since": start, "zone": zone.key, "nav": "home"}
    return page(request, "home.html", context, principal=principal, block="cards")


def _home_sites(principal: Principal) -> frozenset[str] | None:
    """The sites where the viewer may see any part of the home page (None: every site)."""
    found: set[str] = set()
    for action in HOME_PARTS.values():
        sites = principal.sites_for(ACTIONS[action])
        if sites is None:
            return None
        found |= sites
    return frozenset(found)


def viewer_zone(request: Request) -> ZoneInfo:
    name = unquote(request.cookies.get(TZ_COOKIE, "UTC"))
    try:
        return ZoneInfo(name) if len(name) <= 64 and ".." not in name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@router.get(
    "/stock", responses=HTML, summary="Stock, searched and live", **permission("stock.read")
)
async def stock(
    request: Request,
    reads: ReadsDep,
    principal: PrincipalDep,
    service: ServiceDep,
    q: Annotated[str, Query(max_length=512, description="SKU, GTIN, GS1 code or name")] = "",
    location: Annotated[str, Query(max_length=64, description="A location and its subtree")] = "",
    lot: Annotated[str, Query(max_length=64)] = "",
    cursor: Annotated[str, Query(max_length=512)] = "",
) -> Response:
    """On hand, reserved and available per product, location and lot, for what the search box
    finds (an empty field filters nothing); the numbers change as the ledger does (the stock
    stream)."""
    return await _stock(request, reads, principal, service, q, location.strip() or None,
                        lot or None, cursor or None)  # fmt: skip


async def _stock(
    request: Request,
    reads: ReadsDep,
    principal: Principal,
    service: ServiceDep,
    q: str,
    location: str | None,
    lot: str | None,
    cursor: str | None,
) -> Response:
    sites = principal.sites_for(ACTIONS["stock.read"])
    if location is None and sites is not None:
        location = sorted(sites)[0]  # the viewer's first site; the filter offers the others
    else:
        location = await location_in_scope(principal, "stock.read", location, reads)
    found = await reads.run(
        stock_search.search, q, location=location, lot=lot, parse=service.parser, cursor=cursor
    )
    context: dict[str, Any] = {
        "q": q,
        "location": location or "",
        "lot": lot or "",
        "found": found,
        "sites": sorted(sites) if sites is not None else [],
        "nav": "stock",
    }
    return page(request, "stock.html", context, principal=principal, block="results")
