"""Conditional reads: an ``ETag`` from the data's version, and ``304 Not Modified`` for a client
that already holds it.

A listing's tag is the version of what it reads (for stock, the change feed's: see
``warehouse.stock.adapters.feed.version``), the request's path and query, and the sites the
principal may see, hashed. The version is read first, on the same connection as the listing
(autocommit, so not one snapshot): a change that lands between the two gives a page newer than
its tag, whose next request then answers in full, never a stale ``304``. A client that sends
the tag back in ``If-None-Match`` gets ``304`` and no body, and the listing's query is not run:
what a dashboard or a poller asks every few seconds costs the version's index reads while
nothing moves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from typing import Annotated, Any

from fastapi import Header, Request
from sqlalchemy import Connection
from starlette.responses import Response

from warehouse.core.api.deps import Reads
from warehouse.core.api.page_cache import page_cache_of, wants_fresh
from warehouse.core.api.responses import encode

IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=1024,
        description="The ETag of a page you hold: 304 Not Modified while it is still current",
    ),
]

#: What a route that answers conditionally adds to its documented responses.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the page named by If-None-Match is still current"}
}

#: Caches may keep the page but must ask again each time; it depends on who asks.
_HEADERS = {"Cache-Control": "private, no-cache", "Vary": "Authorization, X-API-Key"}


def _scope_key(request: Request, sites: Collection[str] | None) -> str:
    """What the answer depends on besides the data's version: path, query and sites."""
    seen = "*" if sites is None else ",".join(sorted(sites))
    return f"{request.url.path}?{request.url.query}|{seen}"


def etag(version: str, request: Request, sites: Collection[str] | None) -> str:
    """A weak tag for this request's answer at ``version`` (the representation is the same
    JSON for the same version, path, query and sites, though not promised byte for byte)."""
    return _tag(version, _scope_key(request, sites))


def _tag(version: str, scope_key: str) -> str:
    return f'W/"{version}-{hashlib.blake2b(scope_key.encode(), digest_size=8).hexdigest()}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (compared weakly, as RFC 9110 says for it)."""
    if not if_none_match:
        return False
    bare = tag.removeprefix("W/")
    held = [t.strip() for t in if_none_match.split(",")]
    return any(t == "*" or t.removeprefix("W/") == bare for t in held)


async def conditional(
    request: Request,
    reads: Reads,
    if_none_match: str | None,
    scope: Collection[str] | None,
    version: Callable[[Connection], str],
    query: Callable[..., Any],
    **kwargs: Any,
) -> Response:
    """``query(conn, **kwargs)`` as JSON with its ETag, or 304 when ``if_none_match`` holds
    the current one (and then the query is not run); ``scope`` is the sites the principal may
    see (``None``: all), which the answer depends on beside the URL. A page already encoded
    at the current version is answered from the page cache (page_cache.py) without the query.
    """
    cache = page_cache_of(request)
    remembered = None if cache is None or wants_fresh(request) else cache
    scope_key = _scope_key(request, scope)

    def read(conn: Connection) -> tuple[str, str, Any]:
        now = version(conn)
        tag, key = _tag(now, scope_key), f"{now}|{scope_key}"
        if matches(if_none_match, tag):
            return tag, key, None
        page = remembered.get(key) if remembered is not None else None
        return tag, key, page if page is not None else query(conn, **kwargs)

    tag, key, body = await reads.run(read)
    headers = {"ETag": tag, **_HEADERS}
    if body is None:
        return Response(status_code=304, headers=headers)
    if not isinstance(body, bytes):
        body = encode(body)
        if cache is not None:
            cache.put(key, body)
    return Response(body, headers=headers, media_type="application/json")
