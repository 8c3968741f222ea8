"""SQLAlchemy Core implementations of the repository ports, on one connection."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from warehouse.adapters import orm, pg_bulk
from warehouse.adapters.sql import chunks, insert
from warehouse.adapters.types import to_plain, to_scaled
from warehouse.domain import sequences
from warehouse.domain.errors import Conflict
from warehouse.domain.model import (
    Location,
    LocationKind,
    Movement,
    NegativePolicy,
    Product,
    StockKey,
    Tracking,
)
from warehouse.service_layer.ports import InboxEntry, Rejection, SeqReport, SerialUnit, Sweep

#: How far above the acked seq an agent's committed seqs are read when advancing its ack.
SEQ_WINDOW = 20_000


class SqlProducts:
    """Products and their codes."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _load(self, row: Row[Any] | None) -> Product | None:
        if row is None:
            return None
        codes = self.conn.execute(
            select(orm.product_codes.c.code, orm.product_codes.c.kind)
            .where(orm.product_codes.c.product_id == row.id)
            .order_by(orm.product_codes.c.code)
        ).all()
        return Product(
            sku=row.sku,
            name=row.name,
            unit=row.unit,
            tracking=Tracking(row.tracking),
            negative_policy=NegativePolicy(row.negative_policy),
            reorder_point=row.reorder_point,
            gtins=[c.code for c in codes if c.kind == "gtin"],
            aliases=[c.code for c in codes if c.kind == "alias"],
            active=row.active,
            id=row.id,
        )

    def get(self, sku: str) -> Product | None:
        t = orm.products
        return self._load(self.conn.execute(select(t).where(t.c.sku == sku)).first())

    def by_id(self, product_id: int) -> Product | None:
        t = orm.products
        return self._load(self.conn.execute(select(t).where(t.c.id == product_id)).first())

    def by_code(self, codes: Sequence[str]) -> Product | None:
        c = orm.product_codes
        rows = dict(
            self.conn.execute(
                select(c.c.code, c.c.product_id).where(c.c.code.in_(list(codes)))
            ).all()
        )
        for code in codes:  # the first code given wins: the raw code before its decoded GTIN
            if code in rows:
                return self.by_id(rows[code])
        return None

    def _values(self, product: Product) -> dict[str, Any]:
        return {
            "sku": product.sku,
            "name": product.name,
            "unit": product.unit,
            "tracking": product.tracking.value,
            "negative_policy": product.negative_policy.value,
            "reorder_point": product.reorder_point,
            "active": product.active,
        }

    def _write_codes(self, product_id: int, product: Product) -> None:
        c = orm.product_codes
        self.conn.execute(delete(c).where(c.c.product_id == product_id))
        rows = [{"code": g, "product_id": product_id, "kind": "gtin"} for g in product.gtins]
        rows += [{"code": a, "product_id": product_id, "kind": "alias"} for a in product.aliases]
        if rows:
            self.conn.execute(c.insert(), rows)

    def add(self, product: Product) -> Product:
        now = _now()
        product_id = self.conn.execute(
            orm.products.insert()
            .values(**self._values(product), created_at=now, updated_at=now)
            .returning(orm.products.c.id)
        ).scalar_one()
        self._write_codes(product_id, product)
        product.id = product_id
        return product

    def update(self, product: Product) -> Product:
        t = orm.products
        self.conn.execute(
            update(t).where(t.c.id == product.id).values(**self._values(product), updated_at=_now())
        )
        assert product.id is not None
        self._write_codes(product.id, product)
        return product

    def delete(self, sku: str) -> None:
        t = orm.products
        product_id = self.conn.execute(select(t.c.id).where(t.c.sku == sku)).scalar_one()
        self.conn.execute(
            delete(orm.product_codes).where(orm.product_codes.c.product_id == product_id)
        )
        self.conn.execute(delete(t).where(t.c.id == product_id))

    def codes_taken(self, codes: Iterable[str], except_sku: str | None = None) -> list[str]:
        c, p = orm.product_codes, orm.products
        query = select(c.c.code).join(p, p.c.id == c.c.product_id).where(c.c.code.in_(list(codes)))
        if except_sku:
            query = query.where(p.c.sku != except_sku)
        return sorted(self.conn.execute(query).scalars())


class SqlLocations:
    """The location tree, with materialised paths for subtree queries."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, code: str) -> Location | None:
        loc, parent = orm.locations, orm.locations.alias("parent")
        row = self.conn.execute(
            select(loc, parent.c.code.label("parent_code"))
            .outerjoin(parent, parent.c.id == loc.c.parent_id)
            .where(loc.c.code == code)
        ).first()
        if row is None:
            return None
        return Location(
            code=row.code,
            name=row.name,
            kind=LocationKind(row.kind),
            parent_code=row.parent_code,
            negative_policy=NegativePolicy(row.negative_policy) if row.negative_policy else None,
            id=row.id,
        )

    def add(self, location: Location) -> Location:
        loc = orm.locations
        parent_id, path = None, f"/{location.code}/"
        if location.parent_code:
            parent = self.conn.execute(
                select(loc.c.id, loc.c.path).where(loc.c.code == location.parent_code)
            ).one()
            parent_id, path = parent.id, f"{parent.path}{location.code}/"
        location.id = self.conn.execute(
            loc.insert()
            .values(
                code=location.code,
                name=location.name,
                kind=location.kind.value,
                parent_id=parent_id,
                path=path,
                negative_policy=location.negative_policy.value
                if location.negative_policy
                else None,
                created_at=_now(),
            )
            .returning(loc.c.id)
        ).scalar_one()
        return location

    def update(self, location: Location) -> Location:
        loc = orm.locations
        self.conn.execute(
            update(loc)
            .where(loc.c.code == location.code)
            .values(
                name=location.name,
                kind=location.kind.value,
                negative_policy=location.negative_policy.value
                if location.negative_policy
                else None,
            )
        )
        return location

    def has_children(self, code: str) -> bool:
        loc, parent = orm.locations, orm.locations.alias("parent")
        return bool(
            self.conn.execute(
                select(exists().where(loc.c.parent_id == parent.c.id, parent.c.code == code))
            ).scalar()
        )

    def delete(self, code: str) -> None:
        self.conn.execute(delete(orm.locations).where(orm.locations.c.code == code))


class SqlStock:
    """The projection: on hand and reserved per product, location and lot."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def balances(self, keys: Iterable[StockKey], *, lock: bool) -> dict[StockKey, Decimal]:
        s = orm.stock
        out: dict[StockKey, Decimal] = {}
        wanted = [(k.product_id, k.location_id, k.lot) for k in keys]
        if self.conn.dialect.name == "postgresql":
            keys_json = pg_bulk.as_json(
                [{"product_id": p, "location_id": loc, "lot": lot} for p, loc, lot in wanted]
            )
            rows = self.conn.execute(pg_bulk.BALANCES, {"keys": keys_json})
            return {
                StockKey(r.product_id, r.location_id, r.lot): to_plain(
                    Decimal(r.on_hand).scaleb(-6)
                )
                for r in rows
            }
        for part in chunks(wanted, 300):
            query = (
                select(s.c.product_id, s.c.location_id, s.c.lot, s.c.on_hand)
                .where(tuple_(s.c.product_id, s.c.location_id, s.c.lot).in_(part))
                .order_by(s.c.product_id, s.c.location_id, s.c.lot)
            )
            if lock and self.conn.dialect.name == "postgresql":
                query = query.with_for_update()
            for row in self.conn.execute(query):
                out[StockKey(row.product_id, row.location_id, row.lot)] = row.on_hand
        return out

    def apply(self, deltas: Mapping[StockKey, Decimal], at: datetime) -> None:
        if not deltas:
            return
        s = orm.stock
        if self.conn.dialect.name == "postgresql":
            ordered = sorted(
                deltas.items(), key=lambda kv: (kv[0].product_id, kv[0].location_id, kv[0].lot)
            )
            self.conn.execute(
                pg_bulk.APPLY,
                {
                    "at": at,
                    "rows": pg_bulk.as_json(
                        [
                            {
                                "product_id": k.product_id,
                                "location_id": k.location_id,
                                "lot": k.lot,
                                "delta": to_scaled(d),
                            }
                            for k, d in ordered
                        ]
                    ),
                },
            )
            return
        rows = [
            {
                "product_id": k.product_id,
                "location_id": k.location_id,
                "lot": k.lot,
                "on_hand": delta,
                "reserved": Decimal(0),
                "version": 1,
                "updated_at": at,
            }
            for k, delta in sorted(
                deltas.items(), key=lambda kv: (kv[0].product_id, kv[0].location_id, kv[0].lot)
            )
        ]
        stmt = insert(self.conn, s)
        stmt = stmt.on_conflict_do_update(
            index_elements=[s.c.product_id, s.c.location_id, s.c.lot],
            set_={
                "on_hand": s.c.on_hand + stmt.excluded.on_hand,
                "version": s.c.version + 1,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        self.conn.execute(stmt, rows)

    def in_use(self, *, product_id: int | None = None, location_id: int | None = None) -> bool:
        m = orm.movements
        if product_id is not None:
            cond = m.c.product_id == product_id
        else:
            cond = or_(m.c.from_location_id == location_id, m.c.to_location_id == location_id)
        return bool(self.conn.execute(select(exists().where(cond))).scalar())


class SqlLedger:
    """The append-only movement ledger."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, movements: Sequence[Movement], recorded_at: datetime) -> list[int]:
        if not movements:
            return []
        m = orm.movements
        rows = [
            {
                "kind": mv.kind.value,
                "product_id": mv.product.id,
                "qty": mv.qty,
                "from_location_id": mv.source.id,
                "to_location_id": mv.destination.id,
                "lot": mv.lot,
                "serial": mv.serial,
                "epc": mv.epc,
                "expiry": mv.expiry,
                "code": mv.code,
                "order_ref": mv.order_ref,
                "occurred_at": mv.occurred_at,
                "recorded_at": recorded_at,
                "origin": mv.origin,
                "event_id": mv.event_id,
                "agent_id": mv.agent_id,
                "device": mv.device,
                "station": mv.station,
                "actor": mv.actor,
                "flags": ",".join(mv.flags),
            }
            for mv in movements
        ]
        if self.conn.dialect.name == "postgresql":
            for n, (row, mv) in enumerate(zip(rows, movements, strict=True)):
                row["qty"] = to_scaled(mv.qty)
                row["n"] = n
            return sorted(
                self.conn.execute(pg_bulk.LEDGER, {"rows": pg_bulk.as_json(rows)}).scalars().all()
            )
        if len(rows) == 1:
            return [self.conn.execute(m.insert().returning(m.c.id), rows[0]).scalar_one()]
        result = self.conn.execute(m.insert().returning(m.c.id, sort_by_parameter_order=True), rows)
        return list(result.scalars())


class SqlUnits:
    """Serialized units and where each one is."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _unit(self, row: Row[Any] | None) -> SerialUnit | None:
        if row is None:
            return None
        return SerialUnit(row.product_id, row.serial, row.epc, row.location_id, row.lot)

    def find(self, product_id: int, serial: str | None, epc: str | None) -> SerialUnit | None:
        u = orm.serial_units
        conds: list[ColumnElement[bool]] = []
        if serial:
            conds.append((u.c.product_id == product_id) & (u.c.serial == serial))
        if epc:
            conds.append(u.c.epc == epc)
        return self._unit(self.conn.execute(select(u).where(or_(*conds)).limit(1)).first())

    def by_epc(self, epc: str) -> SerialUnit | None:
        u = orm.serial_units
        return self._unit(self.conn.execute(select(u).where(u.c.epc == epc)).first())

    def place(self, unit: SerialUnit, at: datetime) -> None:
        u = orm.serial_units
        conds: list[ColumnElement[bool]] = []
        if unit.serial:
            conds.append((u.c.product_id == unit.product_id) & (u.c.serial == unit.serial))
        if unit.epc:
            conds.append(u.c.epc == unit.epc)
        values = {
            "product_id": unit.product_id,
            "serial": unit.serial,
            "epc": unit.epc,
            "lot": unit.lot,
            "location_id": unit.location_id,
            "updated_at": at,
        }
        unit_id = self.conn.execute(select(u.c.id).where(or_(*conds)).limit(1)).scalar()
        if unit_id is None:
            self.conn.execute(u.insert().values(**values))
        else:
            self.conn.execute(update(u).where(u.c.id == unit_id).values(**values))

    def epcs_at(self, location_id: int) -> set[str]:
        u = orm.serial_units
        return set(
            self.conn.execute(
                select(u.c.epc).where(u.c.location_id == location_id, u.c.epc.is_not(None))
            ).scalars()
        )


class SqlSweeps:
    """RFID sweeps and their differences from the units' locations."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, sweep: Sweep) -> None:
        self.conn.execute(
            orm.rfid_sweeps.insert().values(
                event_id=sweep.event_id,
                agent_id=sweep.agent_id,
                location_id=sweep.location_id,
                swept_at=sweep.at,
                expected=sweep.expected,
                observed=sweep.observed,
                missing=json.dumps(sorted(sweep.missing)),
                unexpected=json.dumps(sorted(sweep.unexpected)),
            )
        )


class SqlInbox:
    """Every event id ever accepted: the dedupe that makes delivery exactly-once in effect."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, entries: Sequence[InboxEntry]) -> set[str]:
        claimed: set[str] = set()
        t = orm.inbox
        if not entries:
            return claimed
        if self.conn.dialect.name == "postgresql":
            rows = [_inbox_row(e) for e in entries]
            for row in rows:
                if row["payload"] is not None:
                    row["payload"] = base64.b64encode(row["payload"]).decode()
            claim = self.conn.execute(pg_bulk.CLAIM, {"rows": pg_bulk.as_json(rows)})
            return set(claim.scalars().all())  # one fetch, not one per row as iterating does
        for part in chunks(entries, 200):
            rows = [_inbox_row(e) for e in part]
            stmt = (
                insert(self.conn, t).values(rows).on_conflict_do_nothing().returning(t.c.event_id)
            )
            claimed.update(self.conn.execute(stmt).scalars())
        return claimed

    def seqs_above(self, acked: Mapping[str, int], limit: int) -> dict[str, list[int]]:
        """Per agent, up to ``limit`` committed seqs above its ack, in order, in one query."""
        if not acked:
            return {}
        t = orm.inbox
        rank = func.row_number().over(partition_by=t.c.agent_id, order_by=t.c.seq).label("rank")
        inner = (
            select(t.c.agent_id, t.c.seq, rank)
            .where(or_(*(and_(t.c.agent_id == a, t.c.seq > s) for a, s in sorted(acked.items()))))
            .subquery()
        )
        out: dict[str, list[int]] = {agent_id: [] for agent_id in acked}
        rows = self.conn.execute(
            select(inner.c.agent_id, inner.c.seq)
            .where(inner.c.rank <= limit)
            .order_by(inner.c.agent_id, inner.c.seq)
        )
        for agent_id, seq in rows:
            out[agent_id].append(seq)
        return out


def _inbox_row(e: InboxEntry) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "agent_id": e.agent_id,
        "site": e.site,
        "seq": e.seq,
        "type": e.type,
        "status": e.status,
        "received_at": e.received_at,
        "payload": e.payload,
    }


class SqlAgents:
    """Per-agent state: last seen, boot, contiguous seq, gaps, health."""

    def __init__(self, conn: Connection, inbox: SqlInbox) -> None:
        self.conn = conn
        self.inbox = inbox

    def _ensure(self, agents: Mapping[str, str], at: datetime) -> None:
        rows = [
            {
                "agent_id": agent_id,
                "site": site,
                "first_seen": at,
                "last_seen": at,
                "boot": 0,
                "acked_seq": 0,
                "max_seq": 0,
            }
            for agent_id, site in sorted(agents.items())
        ]
        self.conn.execute(insert(self.conn, orm.agents).values(rows).on_conflict_do_nothing())

    def track(self, batch: Sequence[SeqReport], at: datetime) -> dict[str, int]:
        """Advance every reporting agent's contiguous seq in a handful of statements (not a
        handful per agent): lock the agents' rows in one order, read the committed seqs above
        each one's ack, record gaps, write the new state."""
        if not batch:
            return {}
        a = orm.agents
        by_agent = {r.agent_id: r for r in batch}
        query = select(a.c.agent_id, a.c.acked_seq, a.c.max_seq, a.c.boot).where(
            a.c.agent_id.in_(bindparam("agents", expanding=True))
        )
        if self.conn.dialect.name == "postgresql":
            query = query.order_by(a.c.agent_id).with_for_update()
        names = sorted(by_agent)
        rows = {row.agent_id: row for row in self.conn.execute(query, {"agents": names})}
        if len(rows) < len(names):  # first report of an agent: create its row, then lock it
            self._ensure({r.agent_id: r.site for r in batch if r.agent_id not in rows}, at)
            rows = {row.agent_id: row for row in self.conn.execute(query, {"agents": names})}
        # this batch's own seqs usually carry each ack forward; only what lies beyond them (other
        # workers' commits, gaps) is read back from the inbox
        moving = {
            agent_id: sequences.contiguous_end(rows[agent_id].acked_seq, r.seqs)
            for agent_id, r in by_agent.items()
            if r.seqs
        }
        committed = self.inbox.seqs_above(moving, SEQ_WINDOW)
        acks: dict[str, int] = {}
        updates = []
        gaps: dict[str, list[tuple[int, int]]] = {}
        for agent_id, report in sorted(by_agent.items()):
            row = rows[agent_id]
            acked, max_seq = row.acked_seq, row.max_seq
            if report.seqs:
                acked, gaps[agent_id] = sequences.advance(
                    moving[agent_id], committed.get(agent_id, [])
                )
                max_seq = max(max_seq, *report.seqs)
            acks[agent_id] = int(acked)
            updates.append(
                {
                    "b_agent": agent_id,
                    "b_site": report.site,
                    "b_boot": max(row.boot, report.boot or 0),
                    "b_acked": acked,
                    "b_max": max_seq,
                }
            )
        self.conn.execute(
            update(a)
            .where(a.c.agent_id == bindparam("b_agent"))
            .values(
                last_seen=at,
                site=bindparam("b_site"),
                boot=bindparam("b_boot"),
                acked_seq=bindparam("b_acked"),
                max_seq=bindparam("b_max"),
            ),
            updates,
        )
        if gaps:
            self._record_gaps(gaps, at)
        return acks

    def _record_gaps(self, gaps: Mapping[str, list[tuple[int, int]]], at: datetime) -> None:
        g = orm.seq_gaps
        open_rows = self.conn.execute(
            select(g.c.id, g.c.agent_id, g.c.first_seq, g.c.last_seq).where(
                g.c.agent_id.in_(sorted(gaps)), g.c.closed_at.is_(None)
            )
        ).all()
        current = {(agent_id, f, last) for agent_id, ranges in gaps.items() for f, last in ranges}
        known = {(r.agent_id, r.first_seq, r.last_seq) for r in open_rows}
        closed = [r.id for r in open_rows if (r.agent_id, r.first_seq, r.last_seq) not in current]
        if closed:
            self.conn.execute(update(g).where(g.c.id.in_(closed)).values(closed_at=at))
        new = [
            {"agent_id": agent_id, "first_seq": f, "last_seq": last, "detected_at": at}
            for agent_id, f, last in sorted(current - known)
        ]
        if new:
            self.conn.execute(g.insert(), new)

    def heartbeat(self, agent_id: str, site: str, health: dict[str, Any], at: datetime) -> None:
        a = orm.agents
        self._ensure({agent_id: site}, at)
        self.conn.execute(
            update(a)
            .where(a.c.agent_id == agent_id)
            .values(health=json.dumps(health, default=str), heartbeat_at=at, last_seen=at)
        )

    def status(self, agent_id: str, site: str, state: str, at: datetime) -> None:
        a = orm.agents
        self._ensure({agent_id: site}, at)
        self.conn.execute(
            update(a)
            .where(a.c.agent_id == agent_id)
            .values(state=state, state_at=at, last_seen=func.coalesce(a.c.last_seen, at))
        )


class SqlRejections:
    """Rejected events with their raw payloads."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, rejections: Sequence[Rejection]) -> None:
        if rejections:
            self.conn.execute(
                orm.rejected_events.insert(),
                [
                    {
                        "received_at": r.received_at,
                        "reason": r.reason,
                        "detail": r.detail[:4000],
                        "topic": r.topic,
                        "event_id": r.event_id,
                        "agent_id": r.agent_id,
                        "site": r.site,
                        "seq": r.seq,
                        "payload": r.payload,
                        "payload_size": r.payload_size,
                    }
                    for r in rejections
                ],
            )


class SqlIdempotency:
    """Idempotency keys of API commands and what they produced."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> tuple[str, int, dict[str, Any]] | None:
        t = orm.idempotency_keys
        row = self.conn.execute(select(t).where(t.c.key == key)).first()
        return None if row is None else (row.fingerprint, row.status, json.loads(row.body))

    def put(self, key: str, fingerprint: str, status: int, body: dict[str, Any]) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    orm.idempotency_keys.insert().values(
                        key=key,
                        fingerprint=fingerprint,
                        status=status,
                        body=json.dumps(body),
                        created_at=_now(),
                    )
                )
        except IntegrityError as exc:
            raise Conflict(
                f"Idempotency-Key {key!r} is being used by a concurrent request; retry",
                field="Idempotency-Key",
            ) from exc


def _now() -> datetime:
    return datetime.now(UTC)
