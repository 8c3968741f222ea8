"""The live stock feed: ``GET /api/v1/stream/stock`` as Server-Sent Events.

One :class:`StockHub` per API process numbers the change feed (adapters/stock_feed.py), reads
what is new every ``stream_poll_s`` and hands it to every subscriber. A client that reconnects
with ``Last-Event-ID`` first gets what it missed from the table, then the live changes; nothing
twice, nothing skipped. A subscriber too slow to keep up is cut off with a ``reset`` event and
resumes the same way.

Each change is encoded as an SSE frame once, by the hub, whatever the number of subscribers;
a subscriber sends everything that queued up for it since its last write as one chunk (with a
hundred subscribers and a thousand changes a second, per-event encoding and writes would be
the whole cost of the stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sse_starlette import EventSourceResponse

from warehouse.access.api.security import PrincipalDep, listing_sites, permission
from warehouse.core.api.params import Code
from warehouse.core.api.problems import MEDIA_TYPE, PROBLEMS
from warehouse.core.errors import NotFound, QueryRule
from warehouse.stock.adapters import feed as stock_feed
from warehouse.stock.adapters.feed import Change
from warehouse.stock.api.deps import ServiceDep

log = logging.getLogger(__name__)

router = APIRouter()
PAGE = 1000


@dataclass(frozen=True, slots=True)
class Frame:
    """A change as the bytes of its SSE event."""

    position: int
    data: bytes


def frame(change: Change) -> Frame:
    body = json.dumps(change.to_dict(), separators=(",", ":"))
    return Frame(
        change.position, f"id: {change.position}\r\nevent: stock\r\ndata: {body}\r\n\r\n".encode()
    )


@dataclass(eq=False)
class Subscriber:
    sites: Collection[str] | None
    path: str | None
    sku: str | None
    queue: asyncio.Queue[Frame | None] = field(default_factory=lambda: asyncio.Queue(10_000))

    def wants(self, change: Change) -> bool:
        if self.sku is not None and change.sku != self.sku:
            return False
        if self.path is not None and not change.location_path.startswith(self.path):
            return False
        if self.sites is not None:
            return change.location_path.split("/", 2)[1] in self.sites
        return True


class StockHub:
    """Polls the change feed once for all of a process's subscribers."""

    def __init__(self, engine: Engine, poll_s: float = 0.05) -> None:
        self.engine = engine
        self.poll_s = poll_s
        self.position = 0
        self.subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self.position = (await asyncio.to_thread(self._sequence_and_bounds))[1]
            if self._task is None:
                self._task = asyncio.create_task(self._run(), name="stock-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _sequence_and_bounds(self) -> tuple[int, int]:
        with self.engine.begin() as conn:
            stock_feed.sequence(conn)
        with self.engine.connect() as conn:
            return stock_feed.bounds(conn)

    def _poll(self, after: int) -> list[Change]:
        with self.engine.begin() as conn:
            stock_feed.sequence(conn)
        with self.engine.connect() as conn:
            return stock_feed.read(conn, after, PAGE * 5)

    async def _run(self) -> None:
        while True:
            try:
                changes = await asyncio.to_thread(self._poll, self.position)
            except Exception:  # the database is away: try again, subscribers keep waiting
                log.warning("stock stream: reading the change feed failed", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            for change in changes:
                encoded: Frame | None = None
                for sub in list(self.subscribers):
                    if sub.wants(change):
                        encoded = encoded or frame(change)
                        try:
                            sub.queue.put_nowait(encoded)
                        except asyncio.QueueFull:  # too slow: cut off, it resumes by its id
                            self.subscribers.discard(sub)
                            with contextlib.suppress(asyncio.QueueFull):
                                sub.queue.get_nowait()
                            sub.queue.put_nowait(None)
                self.position = change.position
            if len(changes) < PAGE * 5:
                await asyncio.sleep(self.poll_s)

    def subscribe(self, sub: Subscriber) -> int:
        """Register ``sub``; return the position after which it gets changes live."""
        self.subscribers.add(sub)
        return self.position


def hub_of(request: Request, service: ServiceDep) -> StockHub:
    hub: StockHub | None = getattr(request.app.state, "stock_hub", None)
    if hub is None:
        hub = StockHub(service.engine, service.settings.stream_poll_s)
        request.app.state.stock_hub = hub
    return hub


def _gone(after: int, low: int, high: int) -> JSONResponse:
    return JSONResponse(
        {
            "type": PROBLEMS + "feed-pruned",
            "title": "Changes no longer kept",
            "status": 410,
            "detail": (
                f"changes after {after} were pruned (the feed now starts at {low}); read the "
                f"current stock (GET /api/v1/stock) and resume from position {high}"
            ),
            "field": "Last-Event-ID",
            "position": high,
        },
        status_code=410,
        media_type=MEDIA_TYPE,
    )


@router.get(
    "/stream/stock",
    tags=["stock"],
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"},
        410: {"description": "Asked to resume from before the retained feed"},
    },
    **permission("stock.read"),
)
async def stream_stock(
    request: Request,
    service: ServiceDep,
    principal: PrincipalDep,
    site: Annotated[Code | None, Query(description="Only this site")] = None,
    location: Annotated[Code | None, Query(description="Only this location and below")] = None,
    sku: Annotated[Code | None, Query()] = None,
    after: Annotated[int | None, Query(ge=0, description="Resume after this position")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Any:
    """Every change of the stock projection as it is committed: one ``stock`` event per
    (product, location, lot) change, its id the feed position, its data the row's on-hand,
    reserved and available quantities and its ``version`` (which only rises per row). Resume
    with the ``Last-Event-ID`` header (or ``after``): every change since, exactly once, then
    live. Without either, the stream starts now. A position older than the retention gives
    410 with the position to resume from after reading the current stock."""
    sites = listing_sites(principal, "stock.read", site)
    start = after
    if last_event_id is not None:
        if not last_event_id.isdigit() or len(last_event_id) > 18:
            raise QueryRule("Last-Event-ID is a feed position (digits)", field="Last-Event-ID")
        start = int(last_event_id)
    path = None
    if location is not None:
        path = await asyncio.to_thread(_location_path, service.engine, location)
    hub = hub_of(request, service)
    await hub.start()
    low, high = await asyncio.to_thread(_bounds, service.engine)
    if start is not None and low and start < low - 1:
        return _gone(start, low, high)
    sub = Subscriber(sites, path, sku)
    live_from = hub.subscribe(sub)
    first = live_from if start is None else start

    return EventSourceResponse(_events(service.engine, hub, sub, first, live_from), ping=15)


async def _events(
    engine: Engine, hub: StockHub, sub: Subscriber, first: int, live_from: int
) -> AsyncIterator[bytes | dict[str, Any]]:
    """What a subscriber is sent: the changes after ``first`` it missed, read from the feed's
    table up to where the hub took it on (``live_from``), then the hub's live changes; a
    subscriber too slow for the hub is told to reconnect."""
    sent = first
    try:
        while sent < live_from:  # what it missed, from the table
            page = await asyncio.to_thread(_backlog, engine, sent, live_from, sub)
            missed = [frame(c).data for c in page if sub.wants(c)]
            if missed:
                yield b"".join(missed)
            if len(page) < PAGE:
                break
            sent = page[-1].position
        sent = max(sent, live_from)
        while True:
            live = [await sub.queue.get()]
            while not sub.queue.empty() and len(live) < PAGE:
                live.append(sub.queue.get_nowait())
            chunk: list[bytes] = []
            for item in live:
                if item is None:
                    if chunk:
                        yield b"".join(chunk)
                    yield {"event": "reset", "data": "too slow: reconnect with Last-Event-ID"}
                    return
                if item.position > sent:
                    sent = item.position
                    chunk.append(item.data)
            if chunk:
                yield b"".join(chunk)
    finally:
        hub.subscribers.discard(sub)


def _bounds(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return stock_feed.bounds(conn)


def _backlog(engine: Engine, after: int, upto: int, sub: Subscriber) -> list[Change]:
    with engine.connect() as conn:
        return stock_feed.read(conn, after, PAGE, upto=upto, path=sub.path, sku=sub.sku)


def _location_path(engine: Engine, code: str) -> str:
    with engine.connect() as conn:
        path = stock_feed.location_path(conn, code)
    if path is None:
        raise NotFound(f"no location {code!r}", field="location")
    return path
