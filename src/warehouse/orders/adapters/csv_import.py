"""Purchase orders from CSV: one row per line, rows of the same ``ref`` make one order.

Columns (a header row names them, in any order): ``ref, site, supplier, sku, qty`` and the
optional ``expected_date`` (YYYY-MM-DD), ``lot``, ``expiry`` (YYYY-MM-DD), ``unit_cost_minor``
(what one unit costs, in minor units of the book currency) and ``sscc`` (a row with an SSCC also
puts its quantity in that announced package). Errors name the file, row and
column."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from warehouse.orders.service.receiving import LineRequest, PurchaseOrderRequest

REQUIRED = ("ref", "site", "supplier", "sku", "qty")
OPTIONAL = ("expected_date", "lot", "expiry", "sscc")


class OrdersFileError(ValueError):
    """A purchase-order file that cannot be read, with the place of the problem."""


@dataclass
class _Order:
    site: str
    supplier: str
    expected_date: date | None
    lines: list[LineRequest] = field(default_factory=list)
    packages: dict[str, list[LineRequest]] = field(default_factory=dict)


def load_purchase_orders(path: Path, principal: str) -> list[PurchaseOrderRequest]:
    """The orders in ``path``, in the order they first appear."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise OrdersFileError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
    rows = csv.DictReader(text.splitlines())
    missing = [c for c in REQUIRED if c not in (rows.fieldnames or [])]
    if missing:
        raise OrdersFileError(f"{path}: the header lacks {', '.join(missing)}")
    orders: dict[str, _Order] = {}
    for number, row in _rows(rows):
        where = f"{path}, row {number}"
        ref = _text(row, "ref", where)
        order = orders.get(ref)
        if order is None:
            order = orders[ref] = _Order(
                _text(row, "site", where),
                _text(row, "supplier", where),
                _date(row, "expected_date", where),
            )
        elif (row["site"].strip(), row["supplier"].strip()) != (order.site, order.supplier):
            raise OrdersFileError(f"{where}: {ref} has another site or supplier than its first row")
        line = LineRequest(
            _text(row, "sku", where),
            _qty(row, where),
            (row.get("lot") or "").strip() or None,
            _date(row, "expiry", where),
            _cost(row, where),
        )
        order.lines.append(line)
        sscc = (row.get("sscc") or "").strip()
        if sscc:
            order.packages.setdefault(sscc, []).append(line)
    if not orders:
        raise OrdersFileError(f"{path}: no orders (only a header?)")
    return [
        PurchaseOrderRequest(
            ref, o.site, o.supplier, o.lines, o.expected_date, o.packages, principal
        )
        for ref, o in orders.items()
    ]


def _rows(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, str]]]:
    for number, row in enumerate(reader, 2):
        if any((v or "").strip() for v in row.values() if isinstance(v, str)):
            yield number, row


def _text(row: dict[str, str], column: str, where: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise OrdersFileError(f"{where}: {column} is empty")
    return value


def _qty(row: dict[str, str], where: str) -> Decimal:
    raw = (row.get("qty") or "").strip()
    try:
        qty = Decimal(raw)
    except InvalidOperation:
        raise OrdersFileError(f"{where}: qty {raw!r} is not a number") from None
    if not qty.is_finite() or qty <= 0:
        raise OrdersFileError(f"{where}: qty must be positive, not {raw!r}")
    return qty


def _cost(row: dict[str, str], where: str) -> int | None:
    """The optional ``unit_cost_minor`` column: a whole number of minor units per unit."""
    raw = (row.get("unit_cost_minor") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 13:
        raise OrdersFileError(f"{where}: unit_cost_minor {raw!r} is not a whole number")
    return int(raw)


def _date(row: dict[str, str], column: str, where: str) -> date | None:
    raw = (row.get(column) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise OrdersFileError(f"{where}: {column} {raw!r} is not a date (YYYY-MM-DD)") from None
