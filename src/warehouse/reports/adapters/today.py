"""The dashboard's home: each site's figures since a moment (the start of the viewer's day).

Movements count at the sites of both their locations (a transfer between sites counts at
each); virtual locations (supplier, customer, loss, transit) belong to no site. Takings are POS
sales less refunds, per currency. Open exceptions and offline agents are as of now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from warehouse.access.adapters import tables as access_tables
from warehouse.exceptions.adapters import tables as exception_tables
from warehouse.ingest.adapters import tables as ingest_tables
from warehouse.pos.adapters import tables as pos_tables
from warehouse.stock.adapters import tables as stock_tables
from warehouse.stock.domain.model import VIRTUAL_KINDS

#: The movement kinds the home page names; the others count in ``movements`` only.
NAMED_KINDS = {"receive": "receipts", "pick": "picks", "ship": "shipments", "sale": "sales"}


@dataclass
class SiteDay:
    """One site's figures."""

    site: str
    movements: int = 0
    receipts: int = 0
    picks: int = 0
    shipments: int = 0
    sales: int = 0
    takings: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    open_exceptions: int = 0
    agents: int = 0
    agents_offline: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "movements": self.movements,
            "receipts": self.receipts,
            "picks": self.picks,
            "shipments": self.shipments,
            "sales": self.sales,
            "takings": dict(sorted(self.takings.items())),
            "open_exceptions": self.open_exceptions,
            "agents": self.agents,
            "agents_offline": self.agents_offline,
        }


def site_figures(
    conn: Connection, sites: Collection[str] | None, since: datetime
) -> list[dict[str, Any]]:
    """Figures since ``since`` for every site (``sites`` None) or the ones named, in site
    order; a site with nothing yet is listed with zeros."""
    site_of = sites_of_locations(conn)
    known = set(site_of.values()) if sites is None else set(sites)
    days = {s: SiteDay(s) for s in sorted(known)}
    _movements(conn, since, site_of, days)
    _takings(conn, since, days)
    _exceptions(conn, days)
    _agents(conn, days)
    return [d.as_dict() for d in days.values()]


def sites_of_locations(conn: Connection) -> dict[int, str]:
    """Location id -> its site's code (the first step of its path), physical locations only."""
    loc = stock_tables.locations
    virtual = [k.value for k in VIRTUAL_KINDS]
    rows = conn.execute(select(loc.c.id, loc.c.path).where(loc.c.kind.not_in(virtual)))
    return {row.id: row.path.strip("/").split("/", 1)[0] for row in rows}


def _movements(
    conn: Connection, since: datetime, site_of: dict[int, str], days: dict[str, SiteDay]
) -> None:
    m = stock_tables.movements
    counted = (
        select(m.c.kind, m.c.from_location_id, m.c.to_location_id, func.count())
        .where(m.c.occurred_at >= since)
        .group_by(m.c.kind, m.c.from_location_id, m.c.to_location_id)
    )
    for kind, source, target, n in conn.execute(counted):
        for site in {site_of.get(source, ""), site_of.get(target, "")} - {""}:
            day = days.get(site)
            if day is None:
                continue
            day.movements += n
            named = NAMED_KINDS.get(kind)
            if named is not None:
                setattr(day, named, getattr(day, named) + n)


def _takings(conn: Connection, since: datetime, days: dict[str, SiteDay]) -> None:
    s, rf, r = pos_tables.pos_sales, pos_tables.pos_refunds, pos_tables.registers
    sold = (
        select(s.c.site, s.c.currency, func.sum(s.c.total_minor))
        .where(s.c.occurred_at >= since)
        .group_by(s.c.site, s.c.currency)
    )
    refunded = (
        select(r.c.site, s.c.currency, func.sum(rf.c.total_minor))
        .select_from(rf.join(r, r.c.id == rf.c.register_id).outerjoin(s, s.c.id == rf.c.sale_pk))
        .where(rf.c.created_at >= since)
        .group_by(r.c.site, s.c.currency)
    )
    for sign, query in ((1, sold), (-1, refunded)):
        for site, currency, total in conn.execute(query):
            day = days.get(site)
            if day is not None and total:
                key = currency or site_currency(conn, site)
                day.takings[key] = day.takings.get(key, 0) + sign * int(total)


def site_currency(conn: Connection, site: str) -> str:
    """The currency of a site's price lists (XXX, "no currency", when it has none)."""
    p = pos_tables.price_lists
    found = conn.execute(select(p.c.currency).where(p.c.site == site).limit(1)).scalar()
    return str(found) if found else "XXX"


def _exceptions(conn: Connection, days: dict[str, SiteDay]) -> None:
    e = exception_tables.floor_exceptions
    query = select(e.c.site, func.count()).where(e.c.status == "open").group_by(e.c.site)
    for site, n in conn.execute(query):
        if site in days:
            days[site].open_exceptions = n


def _agents(conn: Connection, days: dict[str, SiteDay]) -> None:
    a, d = ingest_tables.agents, access_tables.devices
    query = (
        select(a.c.site, a.c.state, func.count())
        .select_from(a.join(d, (d.c.agent_id == a.c.agent_id) & (d.c.site == a.c.site)))
        .where(d.c.revoked_at.is_(None))
        .group_by(a.c.site, a.c.state)
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for site, state, n in conn.execute(query):
        counts[site][0] += n
        if state == "offline":
            counts[site][1] += n
    for site, (total, offline) in counts.items():
        if site in days:
            days[site].agents, days[site].agents_offline = total, offline
