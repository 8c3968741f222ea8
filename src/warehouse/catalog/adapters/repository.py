"""Products with their codes in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from warehouse.catalog.adapters import tables
from warehouse.catalog.domain import NegativePolicy, Pack, Product, Tracking
from warehouse.core.sql import now


class SqlProducts:
    """Products and their codes."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _load(self, row: Row[Any] | None) -> Product | None:
        if row is None:
            return None
        c = tables.product_codes
        codes = self.conn.execute(
            select(c.c.code, c.c.kind, c.c.pack_level, c.c.pack_qty)
            .where(c.c.product_id == row.id)
            .order_by(c.c.code)
        ).all()
        return Product(
            sku=row.sku,
            name=row.name,
            unit=row.unit,
            tracking=Tracking(row.tracking),
            negative_policy=NegativePolicy(row.negative_policy),
            reorder_point=row.reorder_point,
            category=row.category,
            costing=row.costing,
            standard_cost_minor=row.standard_cost_minor,
            gtins=[c.code for c in codes if c.kind == "gtin"],
            aliases=[c.code for c in codes if c.kind == "alias"],
            packs=[Pack(c.pack_level, c.code, c.pack_qty) for c in codes if c.kind == "pack"],
            active=row.active,
            id=row.id,
        )

    def get(self, sku: str) -> Product | None:
        t = tables.products
        return self._load(self.conn.execute(select(t).where(t.c.sku == sku)).first())

    def by_id(self, product_id: int) -> Product | None:
        t = tables.products
        return self._load(self.conn.execute(select(t).where(t.c.id == product_id)).first())

    def by_code(self, codes: Sequence[str]) -> Product | None:
        c = tables.product_codes
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
            "category": product.category,
            "costing": product.costing,
            "standard_cost_minor": product.standard_cost_minor,
            "active": product.active,
        }

    def _write_codes(self, product_id: int, product: Product) -> None:
        c = tables.product_codes
        self.conn.execute(delete(c).where(c.c.product_id == product_id))
        rows = [{"code": g, "product_id": product_id, "kind": "gtin"} for g in product.gtins]
        rows += [{"code": a, "product_id": product_id, "kind": "alias"} for a in product.aliases]
        for row in rows:
            row.update(pack_level=None, pack_qty=None)
        rows += [
            {"code": x.gtin, "product_id": product_id, "kind": "pack", "pack_level": x.level,
             "pack_qty": x.qty}
            for x in product.packs
        ]  # fmt: skip
        if rows:
            self.conn.execute(c.insert(), rows)

    def add(self, product: Product) -> Product:
        stamp = now()
        product_id = self.conn.execute(
            tables.products.insert()
            .values(**self._values(product), created_at=stamp, updated_at=stamp)
            .returning(tables.products.c.id)
        ).scalar_one()
        self._write_codes(product_id, product)
        product.id = product_id
        return product

    def update(self, product: Product) -> Product:
        t = tables.products
        self.conn.execute(
            update(t).where(t.c.id == product.id).values(**self._values(product), updated_at=now())
        )
        assert product.id is not None
        self._write_codes(product.id, product)
        return product

    def delete(self, sku: str) -> None:
        t = tables.products
        product_id = self.conn.execute(select(t.c.id).where(t.c.sku == sku)).scalar_one()
        self.conn.execute(
            delete(tables.product_codes).where(tables.product_codes.c.product_id == product_id)
        )
        self.conn.execute(delete(t).where(t.c.id == product_id))

    def codes_taken(self, codes: Iterable[str], except_sku: str | None = None) -> list[str]:
        c, p = tables.product_codes, tables.products
        query = select(c.c.code).join(p, p.c.id == c.c.product_id).where(c.c.code.in_(list(codes)))
        if except_sku:
            query = query.where(p.c.sku != except_sku)
        return sorted(self.conn.execute(query).scalars())
