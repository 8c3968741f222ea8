"""Request and response bodies of the point of sale. Money is integer minor units (cents)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from warehouse.core.api.params import Code, Ref, Text64, Text200

Minor = Annotated[int, Field(ge=0, le=10**15, description="Money in minor units (cents)")]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]
Qty = Annotated[Decimal, Field(gt=0, le=100_000, max_digits=18, decimal_places=6)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")]
Category = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PriceIn(_In):
    sku: Code
    unit_price_minor: Minor
    tax_category: Category = "standard"
    unit_cost_minor: Minor | None = None


class PriceListIn(_In):
    """A site's price list. Several may be valid on a day: each product takes its price from
    the highest ``priority`` list that has it (a promotion week above the everyday list)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "site": "ST1",
                    "name": "everyday",
                    "currency": "EUR",
                    "tax_inclusive": True,
                    "cash_step_minor": 5,
                    "prices": [
                        {"sku": "TEA-GRN", "unit_price_minor": 499, "tax_category": "reduced"}
                    ],
                }
            ]
        },
    )

    site: Code
    name: Text64
    currency: Currency
    tax_inclusive: bool = True
    cash_step_minor: Annotated[int, Field(ge=1, le=10_000)] = 1
    priority: Annotated[int, Field(ge=0, le=1000)] = 0
    valid_from: date | None = None
    valid_to: date | None = None
    prices: Annotated[list[PriceIn], Field(max_length=50_000)]


class TaxRateIn(_In):
    """A tax rate in percent: ``20`` is 20 %, ``7.5`` is 7.5 % (not a fraction: ``0.2`` would be
    a fifth of a per cent)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "site": "ST1",
                    "category": "reduced",
                    "rate_percent": "7",
                    "valid_from": "2026-01-01",
                }
            ]
        },
    )

    site: Code
    category: Category
    rate_percent: Annotated[Percent, Field(description="Percent, 0 to 100: 20 for 20 %")]
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_bare_rate(cls, data: Any) -> Any:
        if isinstance(data, dict) and "rate" in data and "rate_percent" not in data:
            raise PydanticCustomError(
                "renamed_field",
                "rate is rate_percent: a percentage, 20 for 20 % (0.2 would be 0.2 %)",
            )
        return data


class PromotionIn(_In):
    """``multibuy``: every ``qty`` units of ``skus`` cost ``price_minor``; ``buy_x_get_y``: of
    every ``qty + get`` units the ``get`` cheapest are free; ``bundle``: one of each of ``skus``
    costs ``price_minor``."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "site": "ST1",
                    "code": "TEA3FOR10",
                    "kind": "multibuy",
                    "skus": ["TEA-GRN", "TEA-BLK"],
                    "qty": 3,
                    "price_minor": 1000,
                    "valid_from": "2026-12-07",
                    "valid_to": "2026-12-13",
                }
            ]
        },
    )

    site: Code
    code: Code
    kind: Literal["multibuy", "buy_x_get_y", "bundle"]
    skus: Annotated[list[Code], Field(min_length=1, max_length=100)]
    qty: Annotated[int, Field(ge=1, le=1000)] = 1
    get: Annotated[int, Field(ge=0, le=1000)] = 0
    price_minor: Minor = 0
    valid_from: date | None = None
    valid_to: date | None = None


class RegisterIn(_In):
    location: Code = Field(description="A location of kind register; the register's code")


class SessionIn(_In):
    float_minor: Minor = Field(description="Cash in the drawer at the start")


class DrawerIn(_In):
    """The drawer opened without a sale: cash paid in (a float top-up) or out (a supplier paid
    from the till), or a no-sale opening. The cash expected at closing counts them."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [{"kind": "paid_out", "amount_minor": 1250, "reason": "window cleaner"}]
        },
    )

    kind: Literal["paid_in", "paid_out", "no_sale"]
    amount_minor: Minor = 0
    reason: Text200 | None = None


class CloseIn(_In):
    counted_minor: Minor = Field(description="Cash counted in the drawer at the end")


class SaleLineIn(_In):
    sku: Code | None = None
    code: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        default=None, description="A scanned code instead of the SKU"
    )
    qty: Qty = Decimal(1)
    unit_price_override_minor: Minor | None = Field(
        default=None, description="A price set by hand: the manager role only"
    )
    embedded_price_minor: Minor | None = Field(
        default=None, description="The amount a price-embedded barcode carried"
    )
    discount_percent: Percent | None = None
    discount_amount_minor: Minor | None = None
    lot: Text64 | None = Field(
        default=None,
        description="The lot sold (a code with (10) names its own); without one the register's "
        "lots are sold first expiry first, then first in",
    )
    serial: Text64 | None = Field(
        default=None,
        description="The unit sold (a code with (21) names its own); serial-tracked goods need one",
    )


class TenderIn(_In):
    kind: Literal["cash", "card", "voucher", "other"]
    amount_minor: Annotated[int, Field(gt=0, le=10**15)] = Field(
        description="Cash: what the customer handed over (change is given back); others: "
        "what was charged"
    )
    reference: Ref | None = None


class SaleIn(_In):
    """A sale through the API: priced by the service's book, refused (409 naming the line)
    when it would sell stock the register's location does not have. Retrying with the same
    ``sale_id`` and body returns the first result; another body under it is a 409."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "sale_id": "7c1e5d2a-2f7b-4bd8-9f3e-0a4f6b1c9e11",
                    "register": "ST1-REG1",
                    "lines": [{"sku": "TEA-GRN", "qty": "2"}],
                    "tenders": [{"kind": "cash", "amount_minor": 1000}],
                }
            ]
        },
    )

    sale_id: Ref = Field(description="Made by the client; the idempotency key")
    register_code: Code = Field(alias="register", description="The register's code")
    lines: Annotated[list[SaleLineIn], Field(min_length=1, max_length=500)]
    tenders: Annotated[list[TenderIn], Field(min_length=1, max_length=20)]
    basket_discount_percent: Percent | None = None
    basket_discount_amount_minor: Minor | None = None


class RefundLineIn(_In):
    line_no: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The sale's line (with a receipt)"
    )
    sku: Code | None = Field(default=None, description="Without a receipt")
    qty: Qty
    disposition: Literal["restock", "write_off"] = "restock"


class RefundIn(_In):
    """A refund against a sale (``sale_id``), partial or whole, back to the sale's tenders;
    without ``sale_id`` (no receipt) the manager role is needed and products are refunded at
    today's price in ``tender``."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "refund_id": "R-7c1e5d2a",
                    "register": "ST1-REG1",
                    "sale_id": "7c1e5d2a-2f7b-4bd8-9f3e-0a4f6b1c9e11",
                    "lines": [{"line_no": 1, "qty": "1", "disposition": "restock"}],
                }
            ]
        },
    )

    refund_id: Ref
    register_code: Code = Field(alias="register", description="The register's code")
    sale_id: Ref | None = None
    lines: Annotated[list[RefundLineIn], Field(min_length=1, max_length=500)]
    tender: Literal["cash", "card", "voucher", "other"] = "cash"
    reason: Text200 | None = None


class SaleOut(BaseModel):
    sale_id: str
    receipt_no: int
    replay: bool = False
    receipt: dict[str, Any]


class RefundOut(BaseModel):
    refund_id: str
    receipt_no: int
    total_minor: int
    tenders: list[dict[str, Any]]
    replay: bool = False


class RegisterOut(BaseModel):
    code: str
    site: str
    next_receipt_no: int
    open_session_id: int | None = Field(description="The session open on it, if any")
    created_at: datetime


class RegisterPage(BaseModel):
    """A page of registers by code."""

    items: list[RegisterOut]
    next_cursor: str | None


class SessionSummary(BaseModel):
    """A cashier session in a listing (its X or Z report: GET /pos/sessions/{id})."""

    session_id: int
    register_code: str = Field(alias="register", description="The register's code")
    site: str
    cashier: str
    status: Literal["open", "closed"]
    source: Literal["api", "edge"] = Field(
        description="Opened through the API or at an edge register"
    )
    session_no: int | None = Field(description="An edge register's own number for it")
    float_minor: int
    counted_minor: int | None
    opened_at: datetime
    closed_at: datetime | None


class SessionPage(BaseModel):
    """A page of cashier sessions, newest first."""

    items: list[SessionSummary]
    next_cursor: str | None


class SaleSummary(BaseModel):
    """A sale in a listing (its receipt: GET /pos/sales/{sale_id})."""

    sale_id: str
    receipt_no: int
    register_code: str = Field(alias="register", description="The register's code")
    site: str
    session_id: int | None
    source: Literal["api", "edge"]
    cashier: str
    occurred_at: datetime
    recorded_at: datetime
    currency: str
    lines: int
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int


class SalePage(BaseModel):
    """A page of sales, newest recorded first."""

    items: list[SaleSummary]
    next_cursor: str | None
