"""Paying a basket: exact tenders first, then cash, rounded to the book's cash step, with change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from warehouse.pricing.money import PricingError, round_minor

TENDER_KINDS: tuple[str, ...] = ("cash", "card", "voucher", "other")


@dataclass(frozen=True, slots=True)
class TenderInput:
    kind: str
    amount_minor: int  # what the customer handed over (cash) or what was charged
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a basket was paid: what each tender paid, the change, and the cash rounding."""

    tenders: tuple[TenderInput, ...]  # the amounts each tender paid (cash: net of change)
    change_minor: int
    rounding_minor: int  # cash rounding: + the customer paid more than the total, - less
    paid_minor: int  # the total as rounded for cash

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenders": [
                {"kind": t.kind, "amount_minor": t.amount_minor, "reference": t.reference}
                for t in self.tenders
            ],
            "change_minor": self.change_minor,
            "rounding_minor": self.rounding_minor,
            "paid_minor": self.paid_minor,
        }


def round_cash(amount: int, step: int) -> int:
    """``amount`` to the nearest multiple of ``step`` (half up)."""
    if step <= 1:
        return amount
    return round_minor(Decimal(amount) / step) * step


def settle(total_minor: int, tenders: Sequence[TenderInput], cash_step_minor: int) -> Settlement:
    """Apply ``tenders`` to ``total_minor``: exact tenders first, cash last with change."""
    if not tenders:
        raise PricingError("a sale is paid by at least one tender", field="tenders")
    for index, tender in enumerate(tenders):
        if tender.kind not in TENDER_KINDS:
            raise PricingError(f"tender {index + 1}: unknown kind {tender.kind!r}", field="tenders")
        if tender.amount_minor <= 0:
            raise PricingError(f"tender {index + 1}: the amount must be positive", field="tenders")
    exact = [t for t in tenders if t.kind != "cash"]
    cash = [t for t in tenders if t.kind == "cash"]
    by_exact = sum(t.amount_minor for t in exact)
    if by_exact > total_minor:
        raise PricingError(
            f"card, voucher and other tenders pay {by_exact} of {total_minor}: "
            "only cash gives change",
            field="tenders",
        )
    due = total_minor - by_exact
    rounded_due = round_cash(due, cash_step_minor) if cash else due
    handed = sum(t.amount_minor for t in cash)
    if handed < rounded_due or (not cash and due):
        raise PricingError(
            f"the tenders are short by {rounded_due - handed} of {total_minor}", field="tenders"
        )
    change = handed - rounded_due
    paid: list[TenderInput] = list(exact)
    if cash:
        kept = rounded_due
        for tender in cash:  # change comes out of the last cash tender(s)
            amount = min(tender.amount_minor, kept)
            kept -= amount
            if amount:
                paid.append(TenderInput("cash", amount, tender.reference))
    return Settlement(tuple(paid), change, rounded_due - due, by_exact + rounded_due)
