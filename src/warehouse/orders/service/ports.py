"""Ports of orders: purchase and sales orders, packages, reservations, returns and transfers.

Records read back are plain frozen dataclasses; the SQL implementations are in
``orders/adapters`` (repository.py, sales.py, transfers.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from warehouse.exceptions.service.ports import ExceptionsUnitOfWork
from warehouse.orders.domain import Allocation, OpenLine
from warehouse.partners.service.ports import PartnerRepository
from warehouse.stock.domain.allocation import Bin
from warehouse.stock.domain.model import StockKey


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A new order line: product, quantity, and for purchase orders an optional lot and expiry."""

    product_id: int
    qty: Decimal
    lot: str = ""
    expiry: date | None = None
    unit_cost_minor: int | None = None


@dataclass(frozen=True, slots=True)
class PurchaseLineView:
    id: int
    line_no: int
    product_id: int
    sku: str
    qty: Decimal
    received: Decimal
    lot: str
    expiry: date | None


@dataclass(frozen=True, slots=True)
class PurchaseOrderView:
    id: int
    ref: str
    site: str
    supplier: str
    status: str
    expected_date: date | None
    lines: tuple[PurchaseLineView, ...]


@dataclass(frozen=True, slots=True)
class PackageLine:
    """What a package holds (outbound: which allocation it came from, where it waits)."""

    product_id: int
    qty: Decimal
    lot: str = ""
    expiry: date | None = None
    allocation_id: int | None = None
    location_id: int | None = None
    sku: str = ""


@dataclass(frozen=True, slots=True)
class PackageView:
    id: int
    sscc: str
    site: str
    direction: str  # inbound | outbound
    status: str
    order_ref: str | None
    lines: tuple[PackageLine, ...]


@dataclass(frozen=True, slots=True)
class SalesLineView:
    id: int
    line_no: int
    product_id: int
    sku: str
    qty: Decimal
    reserved: Decimal
    picked: Decimal
    packed: Decimal
    shipped: Decimal
    backordered: Decimal
    returned: Decimal


@dataclass(frozen=True, slots=True)
class SalesOrderView:
    id: int
    ref: str
    site: str
    customer: str
    status: str
    shortage: str
    reserve_minutes: int | None
    reserved_until: datetime | None
    lines: tuple[SalesLineView, ...]


@dataclass(frozen=True, slots=True)
class AllocationRow:
    """A pick task with where its picked goods wait."""

    task: Allocation
    picked: Decimal
    staged_location_id: int | None
    staged: Decimal
    packed: Decimal


@dataclass(frozen=True, slots=True)
class NewAllocation:
    line_id: int
    product_id: int
    location_id: int
    lot: str
    qty: Decimal


@dataclass(frozen=True, slots=True)
class NewPurchaseOrder:
    ref: str
    site: str
    supplier: str
    expected_date: date | None
    lines: Sequence[OrderLine]
    packages: Mapping[str, Sequence[OrderLine]] = field(default_factory=dict)  # SSCC -> contents
    currency: str | None = None
    partner_id: int | None = None
    status: str = "open"  # or "draft": proposed by replenishment, confirmed by a person


@dataclass(frozen=True, slots=True)
class NewSalesOrder:
    ref: str
    site: str
    customer: str
    requested_date: date | None
    shortage: str
    reserve_minutes: int | None
    lines: Sequence[OrderLine]
    partner_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReturnLine:
    order_line_id: int
    product_id: int
    lot: str
    qty: Decimal
    disposition: str
    to_location_id: int | None


class OrderRepository(Protocol):
    def partner_in_use(self, partner_id: int) -> bool: ...
    # purchase orders and inbound packages
    def add_purchase_order(self, order: NewPurchaseOrder, by: str, at: datetime) -> int: ...
    def purchase_order(self, ref: str, *, lock: bool) -> PurchaseOrderView | None: ...
    def open_receipt_lines(
        self, site: str, product_ids: Sequence[int], order_ref: str | None
    ) -> dict[int, list[OpenLine]]: ...
    def add_received(self, received: Mapping[int, Decimal], at: datetime) -> None: ...
    def set_purchase_status(self, order_id: int, status: str, at: datetime) -> None: ...
    # sales orders, reservations, picks
    def add_sales_order(self, order: NewSalesOrder, by: str, at: datetime) -> int: ...
    def sales_order(self, ref: str, *, lock: bool) -> SalesOrderView | None: ...
    def sales_orders(self, refs: Sequence[str], *, lock: bool) -> dict[str, SalesOrderView]: ...
    def allocations_of(
        self, order_ids: Sequence[int], *, lock: bool
    ) -> dict[int, list[AllocationRow]]: ...
    def update_allocations(self, rows: Sequence[dict[str, Any]]) -> None: ...
    def update_lines(self, rows: Sequence[dict[str, Any]]) -> None: ...
    def update_sales_order(self, order_id: int, at: datetime, **values: Any) -> None: ...
    def update_line(self, line_id: int, **values: Decimal) -> None: ...
    def bins(self, product_id: int, site: str, *, lock: bool) -> list[Bin]: ...
    def add_allocations(self, order_id: int, rows: Sequence[NewAllocation]) -> None: ...
    def allocations(self, order_id: int, *, lock: bool) -> list[AllocationRow]: ...
    def update_allocation(self, allocation_id: int, **values: Any) -> None: ...
    def expired_orders(self, now: datetime, limit: int) -> list[str]: ...
    def reserve(self, deltas: Mapping[StockKey, Decimal], at: datetime) -> None: ...
    # packages
    def add_package(
        self,
        sscc: str,
        site: str,
        direction: str,
        status: str,
        lines: Sequence[PackageLine],
        at: datetime,
        *,
        purchase_order_id: int | None = None,
        sales_order_id: int | None = None,
    ) -> int: ...
    def package(self, sscc: str, *, lock: bool) -> PackageView | None: ...
    def set_package_status(self, package_id: int, status: str, at: datetime) -> None: ...
    def next_sscc_ref(self, site: str, company_prefix: str) -> int: ...
    # returns
    def return_exists(self, ref: str) -> bool: ...
    def add_return(
        self,
        ref: str,
        site: str,
        order_id: int,
        location_id: int,
        lines: Sequence[ReturnLine],
        by: str,
        at: datetime,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class TransferLine:
    line_no: int
    product_id: int
    sku: str
    lot: str
    qty: Decimal
    shipped: Decimal
    received: Decimal


@dataclass(frozen=True, slots=True)
class TransferView:
    id: int
    ref: str
    from_site: str
    to_site: str
    from_location: str
    to_location: str
    status: str
    lines: tuple[TransferLine, ...]


class TransferRepository(Protocol):
    def add(
        self,
        ref: str,
        from_site: str,
        to_site: str,
        from_location_id: int,
        to_location_id: int,
        lines: Sequence[OrderLine],
        by: str,
        at: datetime,
    ) -> None: ...
    def get(self, ref: str, *, lock: bool) -> TransferView | None: ...
    def update_line(self, transfer_id: int, line_no: int, **values: Decimal) -> None: ...
    def set_status(self, transfer_id: int, status: str, at: datetime) -> None: ...


class OrdersUnitOfWork(ExceptionsUnitOfWork, Protocol):
    """The repositories the order use cases need: stock's, the exceptions queue, the orders."""

    orders: OrderRepository
    transfers: TransferRepository
    partners: PartnerRepository
