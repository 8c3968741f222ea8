"""Draft purchase orders from the replenishment proposal, one per supplier, and their
confirmation: a draft takes no receipts and counts as on order (so a second proposal does not
order the same goods again) until a person confirms it, or closes it (cancelled)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from warehouse.access.service.ports import AuditEntry
from warehouse.core.errors import Conflict, NotFound
from warehouse.orders.domain import PurchaseStatus
from warehouse.orders.service.ports import NewPurchaseOrder, OrderLine, OrdersUnitOfWork
from warehouse.orders.service.receiving import require_site


@dataclass(frozen=True, slots=True)
class Proposal:
    """One line of the replenishment proposal."""

    sku: str
    supplier_code: str
    qty: Decimal
    unit_cost_minor: int | None = None


def draft_orders(
    uow: OrdersUnitOfWork,
    site: str,
    proposals: Sequence[Proposal],
    principal: str,
    now: datetime,
    currency: str | None = None,
) -> list[str]:
    """One draft purchase order per supplier of ``proposals``; return their refs
    (``D-<site>-<supplier>-<yyyymmddHHMMSS>``)."""
    by_supplier: dict[str, list[Proposal]] = defaultdict(list)
    for proposal in proposals:
        by_supplier[proposal.supplier_code].append(proposal)
    refs = []
    with uow:
        require_site(uow, site)
        for code, lines in sorted(by_supplier.items()):
            partner = uow.partners.get(code)
            if partner is None or partner.id is None:
                raise NotFound(f"partner {code!r} does not exist", field="supplier_code")
            ref = f"D-{site}-{code}-{now:%Y%m%d%H%M%S}"[:64]
            if uow.orders.purchase_order(ref, lock=False) is not None:
                raise Conflict(f"purchase order {ref} exists already: try again", field="ref")
            order_lines = []
            for line in lines:
                product = uow.products.get(line.sku)
                assert product is not None
                assert product.id is not None
                order_lines.append(OrderLine(product.id, line.qty, "", None, line.unit_cost_minor))
            uow.orders.add_purchase_order(
                NewPurchaseOrder(
                    ref,
                    site,
                    partner.name,
                    None,
                    order_lines,
                    {},
                    partner.currency or currency,
                    partner.id,
                    PurchaseStatus.DRAFT.value,
                ),
                principal,
                now,
            )
            uow.audit.add(
                AuditEntry(now, principal, "purchase_order.draft", f"purchase_order:{ref}", site,
                           None, {"supplier": code, "lines": [[x.sku, x.qty] for x in lines]})
            )  # fmt: skip
            refs.append(ref)
        uow.commit()
    return refs


def confirm_purchase_order(uow: OrdersUnitOfWork, ref: str, principal: str, now: datetime) -> None:
    """A draft becomes an open order: receipts count against it from now on."""
    with uow:
        order = uow.orders.purchase_order(ref, lock=True)
        if order is None:
            raise NotFound(f"purchase order {ref!r} does not exist", field="ref")
        if order.status != PurchaseStatus.DRAFT:
            raise Conflict(f"purchase order {ref} is {order.status}, not a draft", field="ref")
        uow.orders.set_purchase_status(order.id, PurchaseStatus.OPEN, now)
        uow.audit.add(
            AuditEntry(now, principal, "purchase_order.confirm", f"purchase_order:{ref}",
                       order.site, None, None)
        )  # fmt: skip
        uow.commit()
