"""A sale's receipt document, read back from what was stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.errors import NotFound
from warehouse.pos.adapters import tables as pos_tables
from warehouse.pos.adapters.prices import plain_rate

P = catalog_tables.products
R, S, SL, ST, T = (
    pos_tables.registers,
    pos_tables.pos_sales,
    pos_tables.pos_sale_lines,
    pos_tables.pos_sale_taxes,
    pos_tables.pos_tenders,
)


def receipt(conn: Connection, sale_id: str) -> dict[str, Any]:
    """The receipt document of a sale (see warehouse.receipts)."""
    row = conn.execute(
        select(S, R.c.code.label("register"))
        .join(R, R.c.id == S.c.register_id)
        .where(S.c.sale_id == sale_id)
    ).first()
    if row is None:
        raise NotFound(f"sale {sale_id!r} does not exist", field="sale_id")
    lines = conn.execute(
        select(SL, P.c.name)
        .outerjoin(P, P.c.id == SL.c.product_id)
        .where(SL.c.sale_pk == row.id)
        .order_by(SL.c.line_no)
    ).all()
    taxes = conn.execute(select(ST).where(ST.c.sale_pk == row.id).order_by(ST.c.rate)).all()
    tenders = conn.execute(select(T).where(T.c.sale_pk == row.id).order_by(T.c.id)).all()
    return {
        "sale_id": row.sale_id,
        "site": row.site,
        "register": row.register,
        "receipt_no": row.receipt_no,
        "at": row.occurred_at.isoformat(),
        "cashier": row.cashier,
        "source": row.source,
        "currency": row.currency,
        "exponent": 2,
        "session_id": row.session_id,
        "lines": [_line(x) for x in lines],
        "subtotal_minor": row.subtotal_minor,
        "discount_minor": row.discount_minor,
        "taxes": [_tax(t) for t in taxes],
        "tax_minor": row.tax_minor,
        "total_minor": row.total_minor,
        "tax_inclusive": row.tax_inclusive,
        "tenders": [
            {"kind": t.kind, "amount_minor": t.amount_minor, "reference": t.reference}
            for t in tenders
        ],
        "change_minor": row.change_minor,
        "rounding_minor": row.rounding_minor,
        "reported_total_minor": row.reported_total_minor,
    }


def _line(x: Any) -> dict[str, Any]:
    return {
        "line_no": x.line_no,
        "sku": x.sku,
        "name": x.name or x.sku,
        "qty": str(x.qty),
        "unit_price_minor": x.unit_price_minor,
        "gross_minor": x.gross_minor,
        "promotion_minor": x.promotion_minor,
        "discount_minor": x.discount_minor,
        "total_minor": x.total_minor,
        "tax_rate": plain_rate(x.tax_rate),
        "returned": str(x.returned),
        "overridden": x.overridden,
    }


def _tax(t: Any) -> dict[str, Any]:
    return {
        "category": t.category,
        "rate": plain_rate(t.rate),
        "base_minor": t.base_minor,
        "tax_minor": t.tax_minor,
    }
