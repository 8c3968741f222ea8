"""Contract v1: what a register reports besides movements: a completed sale, a cashier session
opened or closed, the drawer opened without a sale. Money is integer minor units (cents)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from warehouse.contracts.base import MAX_MINOR, MAX_SEQ, Code, Minor, Qty, Ref, _Model

Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]


class SaleLine(_Model):
    """One line of a completed basket; money in integer minor units. ``unit_price_minor`` and
    ``discount_minor`` are what the register charged; the rest is what the cashier did, so the
    service can price the line again."""

    code: Code | None = None
    sku: Ref | None = None
    qty: Qty
    unit_price_minor: Minor | None = None
    discount_minor: Minor = 0
    unit_price_override_minor: Minor | None = Field(
        default=None, description="A price a manager set by hand"
    )
    embedded_price_minor: Minor | None = Field(
        default=None, description="The amount a price-embedded barcode carried"
    )
    discount_percent: Percent | None = None
    discount_amount_minor: Minor | None = None
    lot: Ref | None = Field(
        default=None, description="The lot sold, when the register knows it other than by the code"
    )
    serial: Ref | None = Field(
        default=None, description="The unit sold, when the register knows it other than by the code"
    )


class Tender(_Model):
    """How (part of) a basket was paid."""

    kind: Literal["cash", "card", "voucher", "other"]
    amount_minor: Minor = Field(description="What this tender paid (cash: net of the change)")
    reference: Ref | None = None


class SaleData(_Model):
    """A basket completed at a register (point of sale)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    sale_id: Ref
    register_code: Ref = Field(alias="register", description="The register location's code.")
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    lines: Annotated[list[SaleLine], Field(min_length=1, max_length=1000)]
    total_minor: Minor
    tenders: list[Tender] = Field(default_factory=list, max_length=20)
    receipt_no: int | None = Field(
        default=None, ge=1, le=MAX_SEQ, description="The register's own gapless number"
    )
    cashier: Ref | None = None
    basket_discount_percent: Percent | None = None
    basket_discount_amount_minor: Minor | None = None
    change_minor: Minor = 0
    rounding_minor: Minor = Field(default=0, description="Cash rounding of the amount due")
    session_no: int | None = Field(
        default=None, ge=1, le=MAX_SEQ, description="The register's cashier session it belongs to"
    )


Cash = Annotated[int, Field(ge=0, le=MAX_MINOR, description="Cash in minor units.")]


class SessionData(_Model):
    """A cashier session opened or closed at a register: every sale and drawer event between
    belongs to it, and its close is the Z report's counted cash."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    action: Literal["open", "close"]
    register_code: Ref = Field(alias="register", description="The register location's code.")
    session_no: int = Field(ge=1, le=MAX_SEQ, description="The register's own session number")
    cashier: Ref | None = None
    float_minor: Cash = Field(default=0, description="Cash in the drawer at opening")
    counted_minor: Cash | None = Field(default=None, description="Cash counted at closing")

    @model_validator(mode="after")
    def _close_counts(self) -> SessionData:
        if self.action == "close" and self.counted_minor is None:
            raise ValueError("closing a session needs counted_minor (the cash counted)")
        return self


class DrawerData(_Model):
    """The drawer opened without a sale: cash paid in or out (a float top-up, a supplier paid
    from the till), or a no-sale opening."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    kind: Literal["paid_in", "paid_out", "no_sale"]
    register_code: Ref = Field(alias="register", description="The register location's code.")
    session_no: int = Field(ge=1, le=MAX_SEQ)
    amount_minor: Cash = 0
    reason: Annotated[str, Field(max_length=200)] | None = None
    cashier: Ref | None = None
