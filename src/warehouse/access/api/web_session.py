"""The dashboard's session cookie as a credential of every route, beside tokens and API keys.

A browser signed in at ``/`` sends ``wh_session`` with each request (HttpOnly, SameSite=Strict,
Secure behind TLS): pages and the live stream authenticate with it through the same permission
table as the API. A request that changes something (any method but GET, HEAD and OPTIONS) made
with the cookie must also carry the session's CSRF token, in the ``X-CSRF-Token`` header (htmx,
the page's script) or a ``csrf_token`` form field, and an ``Origin``, when the browser sends one,
of this host: a form posted from another site is refused even where SameSite is not honoured.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.security import APIKeyCookie
from starlette.concurrency import run_in_threadpool

from warehouse.access.api.deps import AccessService
from warehouse.access.domain import Principal
from warehouse.access.service.web_sessions import principal_of_session, same_csrf
from warehouse.core.errors import Forbidden

SESSION_COOKIE = "wh_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="A dashboard session: sign in at / (forms also need the page's CSRF token)",
)


def idle_of(service: AccessService) -> timedelta:
    return timedelta(minutes=service.settings.web_idle_minutes)


async def session_principal(request: Request, presented: str) -> Principal:
    """The user the cookie names; for a request that changes something, only with the
    session's CSRF token and from this origin (Forbidden otherwise)."""
    service: AccessService = request.app.state.service
    principal = await run_in_threadpool(
        principal_of_session,
        service.uow,
        service.credentials,
        presented,
        datetime.now(UTC),
        idle_of(service),
    )
    if request.method not in SAFE_METHODS:
        await check_form_origin(request)
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and _is_form(request):
            field = (await request.form()).get(CSRF_FIELD)
            sent = field if isinstance(field, str) else None
        if not same_csrf(presented, sent):
            raise Forbidden(
                "this form is missing its CSRF token or it is not this session's; reload the "
                "page and try again",
                field=CSRF_FIELD,
            )
    return principal


async def check_form_origin(request: Request) -> None:
    """Forbidden if the browser says the request comes from another site."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden(f"a form of {origin} may not act on this site", field="Origin")


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def set_session(response: Response, value: str, idle: timedelta, *, secure: bool) -> None:
    """The cookie, for as long as the session lasts unused (the server's expiry is the one
    that counts); ``secure`` when the client came over TLS (``Limiter.came_over_tls``)."""
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=int(idle.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="strict"
    )
