"""Who is asking and whether they may: route permissions, authentication, rate limits.

Every route declares the action of the permission table (``warehouse.access.domain.ACTIONS``)
it needs with ``**permission("stock.read")`` on its decorator, or ``**public()``
(``warehouse.core.api.permissions``). The action is put in the route's OpenAPI operation as
``x-permission``; the app refuses to start with an operation that has none, and
docs/security.md's matrix is generated from the two (``python -m
warehouse.security_matrix``), so a new route cannot forget its permission.

Credentials: ``Authorization: Bearer <access token>`` (from ``POST /api/v1/auth/login``), or an
API key as ``Authorization: Bearer whk_…`` or ``X-API-Key: whk_…``.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Annotated, Any

import limits
from fastapi import Depends, FastAPI, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.concurrency import run_in_threadpool

from warehouse.access.adapters.credentials import InvalidToken, grants_of
from warehouse.access.api.deps import AccessService
from warehouse.access.api.key_cache import KeyCache
from warehouse.access.api.web_session import SESSION_COOKIE, session_principal
from warehouse.access.domain import ACTIONS, Action, Principal, Role, Scope
from warehouse.access.service.accounts import KEY_PREFIX, principal_of_key
from warehouse.core.api.permissions import PERMISSION_KEY, PUBLIC
from warehouse.core.config import Settings
from warehouse.core.errors import Forbidden, NotAuthenticated, TryLater

#: The documentation pages, public: the OpenAPI document says nothing the source does not.
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


_bearer = HTTPBearer(auto_error=False, description="An access token, or an API key (whk_…)")


_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (whk_…)")


def route_permissions(app: FastAPI) -> dict[tuple[str, str], str]:
    """(method, path) → the action each operation of the app's OpenAPI document needs, or
    PUBLIC; ``"?"`` for an operation that declares none."""
    found = {}
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            found[(method.upper(), path)] = operation.get(PERMISSION_KEY, "?")
    return found


def check_routes(app: FastAPI) -> None:
    """Every route declares an action of the permission table, or PUBLIC: else the app does
    not start (and a test says which)."""
    wrong = sorted(
        f"{method} {path}: {action}"
        for (method, path), action in route_permissions(app).items()
        if action != PUBLIC and action not in ACTIONS
    )
    if wrong:
        raise RuntimeError(
            "routes without a permission of the table (domain/access.py; declare one with "
            f"**permission(ACTION) or **public() on the route): {wrong}"
        )


def permission(action_name: str) -> dict[str, Any]:
    """The route decorator's arguments for a route that needs ``action_name``: the check, and
    the action in its OpenAPI operation (``x-permission``)."""
    action = ACTIONS[action_name]  # KeyError at import for an action not in the table
    return {
        "dependencies": [Depends(Authorizer(action))],
        "openapi_extra": {PERMISSION_KEY: action_name},
    }


class Limiter:
    """Rate limits in memory, or shared through Redis by every API process (``limits``, its
    asyncio flavour: the in-memory storage of the threaded one starts a timer thread every few
    milliseconds under load).

    A sliding window counter: two counters per key (this window and the last, weighted by how
    much of the last still overlaps), O(1) per request. The moving window it replaces kept a
    timestamp per request and expired them on a thread hop every request: 9 to 13 % of a stock
    page's CPU, and a cost that grew with the limit (docs/performance.md)."""

    def __init__(self, settings: Settings) -> None:
        if settings.redis_url:
            storage = storage_from_string(f"async+{settings.redis_url}", implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        self._storage = storage
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self.requests = limits.parse(settings.api_rate_limit)
        self.failed_logins = limits.parse(settings.login_address_limit)
        self._proxies = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]

    async def close(self) -> None:
        """Let go of Redis's connections (the app's lifespan ends; the memory storage holds
        none). ``limits`` keeps its redis-py client on the storage's bridge and offers no
        close of its own."""
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()

    async def hit(self, limit: limits.RateLimitItem, *keys: str) -> None:
        """Count one; TryLater when the limit is used up."""
        if not await self._limiter.hit(limit, *keys):
            wait = await self._retry_after(limit, keys)
            raise TryLater(f"more than {limit} requests; slow down", wait)

    async def check(self, limit: limits.RateLimitItem, *keys: str, message: str) -> None:
        """TryLater if the limit is used up, counting nothing."""
        if not await self._limiter.test(limit, *keys):
            raise TryLater(message, await self._retry_after(limit, keys))

    async def _retry_after(self, limit: limits.RateLimitItem, keys: tuple[str, ...]) -> float:
        stats = await self._limiter.get_window_stats(limit, *keys)
        return max(1.0, stats.reset_time - time.time())

    def client_address(self, request: Request) -> str:
        """The client's address: the peer's, or, when the peer is a trusted proxy, the last
        address in X-Forwarded-For that is not itself a trusted proxy."""
        peer = request.client.host if request.client else "unknown"
        if not self._proxies or not self._trusted(peer):
            return peer
        forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")]
        for address in reversed([a for a in forwarded if a]):
            if not self._trusted(address):
                return address
        return peer

    def came_over_tls(self, request: Request) -> bool:
        """Whether the client reached us over TLS: directly, or through a trusted proxy that
        says so in ``X-Forwarded-Proto``."""
        if request.url.scheme == "https":
            return True
        peer = request.client.host if request.client else "unknown"
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip()
        return forwarded == "https" and bool(self._proxies) and self._trusted(peer)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self._proxies)


def limiter_of(request: Request) -> Limiter:
    limiter: Limiter | None = getattr(request.app.state, "limiter", None)
    if limiter is None:
        service: AccessService = request.app.state.service
        limiter = request.app.state.limiter = Limiter(service.settings)
    return limiter


def key_cache_of(request: Request) -> KeyCache:
    keys: KeyCache | None = getattr(request.app.state, "key_cache", None)
    if keys is None:
        service: AccessService = request.app.state.service
        keys = request.app.state.key_cache = KeyCache(service.settings.api_key_recheck_s)
    return keys


class Authorizer:
    """The dependency :func:`permission` puts on a route: the principal the request's
    credentials name, allowed the route's action (before any site check the route makes);
    401, 403 or 429 otherwise. The principal is left in ``request.state`` for the route."""

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_api_key)],
    ) -> None:
        presented = api_key or (bearer.credentials if bearer else None)
        # the dashboard's cookie, read here rather than as a third dependency (each costs)
        session = None if presented else request.cookies.get(SESSION_COOKIE)
        principal = await authenticate(request, presented, session)
        if not principal.may(self.action):
            raise Forbidden(_refusal(self.action))
        request.state.principal = principal


async def authenticate(
    request: Request, presented: str | None, session: str | None = None
) -> Principal:
    """Who ``presented`` (an access token or an API key) or else the dashboard's ``session``
    cookie names, counted against its rate limit; NotAuthenticated or TryLater otherwise."""
    service: AccessService = request.app.state.service
    if not presented and session:
        principal = await session_principal(request, session)
    elif not presented:
        raise NotAuthenticated("this needs a token or an API key (Authorization: Bearer …)")
    elif presented.startswith(KEY_PREFIX):
        now = datetime.now(UTC)
        keys = key_cache_of(request)
        cached = keys.get(presented, now)
        if cached is None:
            principal, expires_at = await run_in_threadpool(
                principal_of_key, service.uow, service.credentials, presented, now
            )
            keys.put(presented, principal, expires_at)
        else:
            principal = cached
    else:
        assert service.tokens is not None  # create_app refuses to start without a signer
        try:
            claims = service.tokens.check(presented)
            principal = Principal("user", claims["sub"], str(claims.get("name")), grants_of(claims))
        except InvalidToken as exc:
            raise NotAuthenticated(str(exc)) from None
    limiter = limiter_of(request)
    await limiter.hit(limiter.requests, principal.kind, principal.id)
    return principal


async def current_principal(request: Request) -> Principal:
    """The principal the route's :class:`Authorizer` found."""
    principal: Principal = request.state.principal
    return principal


def _refusal(action: Action) -> str:
    roles = ", ".join(r.value for r in Role if action.allows(r))
    where = " for every site (*)" if action.scope is Scope.ALL else ""
    return f"{action.summary} needs one of the roles {roles}{where}"


def default_site(principal: Principal, action_name: str) -> str | None:
    """For a listing without a location: ``None`` when the principal may see every site; its
    one site when it has one; else 403 asking for a location."""
    sites = principal.sites_for(ACTIONS[action_name])
    if sites is None:
        return None
    if len(sites) == 1:
        return next(iter(sites))
    shown = ", ".join(sorted(sites))
    raise Forbidden(f"name a location in one of your sites ({shown})", field="location")


def require_sites(
    principal: Principal, action_name: str, sites: Iterable[str | None], *, every: bool
) -> None:
    """403 unless ``action_name`` is allowed at every (or, ``every=False``, at least one) of
    ``sites``; site-less (virtual) locations need no grant of their own."""
    action = ACTIONS[action_name]
    wanted = [s for s in sites if s is not None]
    if not wanted:
        return
    allowed = [principal.may_at(action, s) for s in wanted]
    if all(allowed) if every else any(allowed):
        return
    refused = sorted({s for s, ok in zip(wanted, allowed, strict=True) if not ok})
    raise Forbidden(f"{action.summary} at {', '.join(refused)} is not among your grants")


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def security_matrix(app: FastAPI) -> str:
    """docs/security.md's matrix, from the app's routes and the permission table."""
    roles = [r.value for r in Role]
    lines = [
        "| method | path | action | " + " | ".join(roles) + " | where |",
        "|---|---|---|" + "---|" * len(roles) + "---|",
    ]
    table = route_permissions(app)
    for (method, path), name in sorted(table.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if name == PUBLIC:
            cells = ["public"] * len(roles)
            where = "no credentials"
        else:
            action = ACTIONS[name]
            cells = ["✓" if action.allows(Role(r)) else "—" for r in roles]
            where = {
                Scope.ANY: "a grant at any site",
                Scope.SITE: "a grant at the site concerned",
                Scope.ALL: "a grant for every site (`*`)",
            }[action.scope]
        lines.append(f"| {method} | `{path}` | {name} | " + " | ".join(cells) + f" | {where} |")
    for path in DOCS_PATHS:
        lines.append(
            f"| GET | `{path}` | public | "
            + " | ".join(["public"] * len(roles))
            + " | no credentials |"
        )
    return "\n".join(lines) + "\n"


def listing_sites(principal: Principal, action: str, site: str | None) -> Collection[str] | None:
    """The sites a listing shows: the one asked for (if allowed), else all one may see."""
    if site is not None:
        require_sites(principal, action, [site], every=True)
        return [site]
    return principal.sites_for(ACTIONS[action])
