"""Pages rendered from the package's Jinja2 templates (autoescaped: product names, notes and
codes are data, never markup), with the headers every page carries.

The Content-Security-Policy allows scripts, styles, images and connections from this origin
only, and no inline script or style at all: what the pages run is the vendored htmx and
``static/app.js``. An htmx request (``HX-Request``) gets only the block of the page it swaps
(jinja2-fragments), so a search replaces the results without a reload and without a second
template for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block

from warehouse.access.api.web_session import SESSION_COOKIE
from warehouse.access.domain import ACTIONS, Principal
from warehouse.access.service.web_sessions import csrf_of

HERE = Path(__file__).resolve().parents[1]
STATIC = HERE / "static"
HTMX = "vendor/htmx-2.0.11.min.js"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals["htmx"] = HTMX


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    principal: Principal | None = None,
    block: str | None = None,
) -> HTMLResponse:
    """The page (or, for htmx, its ``block``) with the signed-in user's navigation and the
    session's CSRF token."""
    session = request.cookies.get(SESSION_COOKIE)
    full = {
        "principal": principal,
        "may": (lambda name: principal is not None and principal.may(ACTIONS[name])),
        "csrf": csrf_of(session) if session and principal else "",
        "nav": "",
        "path": request.url.path,
        **context,
    }
    if block is not None and request.headers.get("hx-request") == "true":
        html = render_block(env, template, block, **full)
    else:
        html = env.get_template(template).render(**full)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def is_page(request: Request) -> bool:
    """Whether the request was routed to a page (not to the JSON API), or to the Digital Link
    resolver by a browser (which gets the sign-in form and error pages too)."""
    route = request.scope.get("route")
    tags = getattr(route, "tags", None) or []
    if "resolver" in tags:
        return "text/html" in request.headers.get("accept", "")
    return "pages" in tags
