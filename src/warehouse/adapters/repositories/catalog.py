"""Products with their codes, the location tree, and the catalog version."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, exists, select, update
from sqlalchemy.sql.elements import ColumnElement

from warehouse.adapters import orm
from warehouse.adapters.repositories._time import now
from warehouse.domain.model import Location, LocationKind, NegativePolicy, Product, Tracking


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
        stamp = now()
        product_id = self.conn.execute(
            orm.products.insert()
            .values(**self._values(product), created_at=stamp, updated_at=stamp)
            .returning(orm.products.c.id)
        ).scalar_one()
        self._write_codes(product_id, product)
        product.id = product_id
        return product

    def update(self, product: Product) -> Product:
        t = orm.products
        self.conn.execute(
            update(t).where(t.c.id == product.id).values(**self._values(product), updated_at=now())
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
        return self._one(orm.locations.c.code == code)

    def by_id(self, location_id: int) -> Location | None:
        return self._one(orm.locations.c.id == location_id)

    def _one(self, where: ColumnElement[bool]) -> Location | None:
        loc, parent = orm.locations, orm.locations.alias("parent")
        row = self.conn.execute(
            select(loc, parent.c.code.label("parent_code"))
            .outerjoin(parent, parent.c.id == loc.c.parent_id)
            .where(where)
        ).first()
        if row is None:
            return None
        return Location(
            code=row.code,
            name=row.name,
            kind=LocationKind(row.kind),
            parent_code=row.parent_code,
            negative_policy=NegativePolicy(row.negative_policy) if row.negative_policy else None,
            site=row.path.strip("/").split("/", 1)[0] if row.parent_code else row.code,
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
                created_at=now(),
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


class SqlCatalogVersion:
    """The one-row counter that every catalog change raises."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def current(self) -> int:
        t = orm.catalog_version
        return int(self.conn.execute(select(t.c.version).where(t.c.id == 1)).scalar_one())

    def bump(self) -> None:
        t = orm.catalog_version
        self.conn.execute(update(t).where(t.c.id == 1).values(version=t.c.version + 1))
