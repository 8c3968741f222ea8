"""Receipts as 42-column text, from the receipt document the service and the register share
(standard library only: the edge agent prints with it too).

The document (``GET /api/v1/pos/sales/{id}/receipt``) is plain JSON: ``site``, ``register``,
``receipt_no``, ``sale_id``, ``at``, ``cashier``, ``currency``, ``exponent``, ``lines`` (``name``,
``qty``, ``unit_price_minor``, ``gross_minor``, ``promotion_minor``, ``discount_minor``,
``total_minor``, ``tax_rate``), ``subtotal_minor``, ``discount_minor``, ``taxes``, ``tax_minor``,
``total_minor``, ``tax_inclusive``, ``tenders``, ``change_minor`` and ``rounding_minor``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

WIDTH = 42


def money(minor: int, exponent: int = 2) -> str:
    """``1234`` → ``12.34`` (``-5`` → ``-0.05``)."""
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{part:0{exponent}d}" if exponent else f"{sign}{whole}"


def _row(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    return f"{left[:room]:<{room}} {right}"


def _qty(value: Any) -> str:
    qty = Decimal(str(value))
    return format(qty.normalize(), "f")


def _line(line: Mapping[str, Any], e: int, width: int) -> list[str]:
    name = str(line.get("name") or line.get("sku", ""))
    qty = _qty(line.get("qty", 1))
    out = []
    if qty == "1" and not line.get("promotion_minor") and not line.get("discount_minor"):
        out.append(_row(name, money(line["gross_minor"], e), width))
    else:
        out.append(name[:width])
        each = f"  {qty} x {money(line.get('unit_price_minor', 0), e)}"
        out.append(_row(each, money(line["gross_minor"], e), width))
    if line.get("promotion_minor"):
        out.append(_row("  promotion", money(-line["promotion_minor"], e), width))
    if line.get("discount_minor"):
        out.append(_row("  discount", money(-line["discount_minor"], e), width))
    return out


def text(doc: Mapping[str, Any], width: int = WIDTH) -> str:
    """The receipt as lines of at most ``width`` characters, ending in a newline."""
    e = int(doc.get("exponent", 2))
    cur = doc.get("currency", "")
    out = [
        str(doc.get("site", "")).center(width).rstrip(),
        _row(f"Register {doc.get('register', '')}", f"No. {doc.get('receipt_no', '')}", width),
        _row(str(doc.get("at", ""))[:16].replace("T", " "), str(doc.get("cashier", "")), width),
        "-" * width,
    ]
    for line in doc.get("lines", []):
        out += _line(line, e, width)
    out.append("-" * width)
    if doc.get("discount_minor"):
        out.append(_row("Subtotal", money(doc["subtotal_minor"], e), width))
        out.append(_row("You saved", money(doc["discount_minor"], e), width))
    if not doc.get("tax_inclusive", True):
        out.append(_row("Tax", money(doc.get("tax_minor", 0), e), width))
    out.append(_row(f"TOTAL {cur}", money(doc["total_minor"], e), width))
    if doc.get("rounding_minor"):
        out.append(_row("Cash rounding", money(doc["rounding_minor"], e), width))
    for tender in doc.get("tenders", []):
        label = str(tender["kind"]).capitalize()
        if tender.get("reference"):
            label += f" {tender['reference']}"
        paid = tender["amount_minor"]
        if tender["kind"] == "cash":
            paid += int(doc.get("change_minor", 0))
        out.append(_row(label, money(paid, e), width))
    if doc.get("change_minor"):
        out.append(_row("Change", money(doc["change_minor"], e), width))
    out.append("-" * width)
    for tax in doc.get("taxes", []):
        rate = format(Decimal(str(tax["rate"])).normalize(), "f")
        label = f"Tax {rate}% on {money(tax['base_minor'], e)}"
        out.append(_row(label, money(tax["tax_minor"], e), width))
    out.append(str(doc.get("sale_id", ""))[:width].center(width).rstrip())
    return "\n".join(out) + "\n"
