"""Partners and their supplier items in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.partners.adapters import tables
from warehouse.partners.domain import Address, Contact, Partner, SupplierItem

T, SI = tables.partners, tables.supplier_items


def partner_of(row: Any) -> Partner:
    """A partner from its row."""
    return Partner(
        code=row.code,
        name=row.name,
        supplier=row.supplier,
        customer=row.customer,
        gln=row.gln,
        currency=row.currency,
        payment_terms_days=row.payment_terms_days,
        lead_time_days=row.lead_time_days,
        address=Address(**row.address) if row.address else None,
        contacts=[Contact(**c) for c in row.contacts or []],
        active=row.active,
        id=row.id,
    )


def _values(partner: Partner) -> dict[str, Any]:
    return {
        "code": partner.code,
        "name": partner.name,
        "supplier": partner.supplier,
        "customer": partner.customer,
        "gln": partner.gln,
        "currency": partner.currency,
        "payment_terms_days": partner.payment_terms_days,
        "lead_time_days": partner.lead_time_days,
        "address": asdict(partner.address) if partner.address else None,
        "contacts": [asdict(c) for c in partner.contacts],
        "active": partner.active,
        "updated_at": datetime.now(UTC),
    }


class SqlPartners:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, code: str) -> Partner | None:
        row = self.conn.execute(select(T).where(T.c.code == code)).first()
        return partner_of(row) if row else None

    def add(self, partner: Partner) -> Partner:
        values = _values(partner)
        new_id = self.conn.execute(
            insert(T).returning(T.c.id), {**values, "created_at": values["updated_at"]}
        ).scalar_one()
        partner.id = int(new_id)
        return partner

    def update(self, partner: Partner) -> Partner:
        self.conn.execute(update(T).where(T.c.code == partner.code).values(**_values(partner)))
        return partner

    def delete(self, code: str) -> None:
        self.conn.execute(delete(T).where(T.c.code == code))

    def gln_taken(self, gln: str, except_code: str | None) -> bool:
        query = select(T.c.id).where(T.c.gln == gln)
        if except_code is not None:
            query = query.where(T.c.code != except_code)
        return self.conn.execute(query).first() is not None

    def items(self, partner_id: int) -> list[SupplierItem]:
        p = catalog_tables.products
        rows = self.conn.execute(
            select(SI, p.c.sku)
            .join(p, p.c.id == SI.c.product_id)
            .where(SI.c.partner_id == partner_id)
            .order_by(p.c.sku)
        )
        return [item_of(r) for r in rows]

    def set_items(self, partner_id: int, items: Sequence[SupplierItem]) -> None:
        self.conn.execute(delete(SI).where(SI.c.partner_id == partner_id))
        if items:
            rows = [
                {k: v for k, v in asdict(x).items() if k != "sku"} | {"partner_id": partner_id}
                for x in items
            ]
            self.conn.execute(insert(SI), rows)


def item_of(row: Any) -> SupplierItem:
    """A supplier item from its row (joined with the product's SKU)."""
    return SupplierItem(
        product_id=row.product_id,
        sku=row.sku,
        supplier_sku=row.supplier_sku,
        lead_time_days=row.lead_time_days,
        min_order_qty=row.min_order_qty,
        order_multiple=row.order_multiple,
        unit_cost_minor=row.unit_cost_minor,
        preferred=row.preferred,
    )
