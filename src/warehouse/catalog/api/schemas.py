"""Request and response bodies of products, with OpenAPI examples."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from warehouse.catalog.domain import NegativePolicy, Pack, Product, Tracking
from warehouse.core.api.params import Code, RequestBody, Storable, Text64, Text128, Text200


class PackIn(RequestBody):
    """A packaging level: its GTIN and the base units one holds."""

    level: Literal["inner", "case", "pallet"]
    gtin: Annotated[str, Field(pattern=r"^\d{8,14}$")]
    qty: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]


class ProductUpdate(RequestBody):
    """Everything of a product but its SKU, which is in the path."""

    name: Text200
    unit: Annotated[str, Field(min_length=1, max_length=16), Storable] = "ea"
    tracking: Literal["none", "lot", "serial"] = "none"
    negative_policy: Literal["block", "allow"] = "block"
    reorder_point: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)] | None = None
    category: Text64 | None = None
    costing: Annotated[
        Literal["fifo", "average", "standard"] | None,
        Field(description="How stock leaving is costed; none: FIFO (docs/valuation.md)"),
    ] = None
    standard_cost_minor: Annotated[
        int | None,
        Field(ge=0, le=10**12, description="Cost per base unit in minor units (standard costing)"),
    ] = None
    gtins: Annotated[list[Annotated[str, Field(pattern=r"^\d{8,14}$")]], Field(max_length=50)] = []
    aliases: Annotated[list[Text128], Field(max_length=50)] = []
    packs: Annotated[
        list[PackIn],
        Field(max_length=10, description="Inner packs, cases, pallets: scanning one moves its qty"),
    ] = []
    active: bool = True

    @model_validator(mode="after")
    def _standard_has_a_cost(self) -> ProductUpdate:
        if self.costing == "standard" and self.standard_cost_minor is None:
            raise ValueError("costing 'standard' needs standard_cost_minor (the cost per unit)")
        return self

    def to_domain(self, sku: str) -> Product:
        """The domain product this body describes."""
        return Product(
            sku=sku,
            name=self.name,
            unit=self.unit,
            tracking=Tracking(self.tracking),
            negative_policy=NegativePolicy(self.negative_policy),
            reorder_point=self.reorder_point,
            category=self.category,
            costing=self.costing,
            standard_cost_minor=self.standard_cost_minor,
            gtins=list(self.gtins),
            aliases=list(self.aliases),
            packs=[Pack(x.level, x.gtin, x.qty) for x in self.packs],
            active=self.active,
        )


class ProductIn(ProductUpdate):
    """A product: its SKU, how it is counted and tracked, and every code that finds it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sku": "COF-250",
                    "name": "Coffee beans 250 g",
                    "unit": "ea",
                    "tracking": "lot",
                    "negative_policy": "block",
                    "reorder_point": "24",
                    "category": "coffee",
                    "costing": "fifo",
                    "gtins": ["5901234123457"],
                    "aliases": ["COFFEE-250"],
                    "packs": [{"level": "case", "gtin": "15901234123454", "qty": "12"}],
                }
            ]
        },
    )

    sku: Code


class PackOut(BaseModel):
    level: str
    gtin: str
    qty: Decimal


class ProductOut(BaseModel):
    """A product; GTINs are shown as GTIN-14."""

    sku: str
    name: str
    unit: str
    tracking: str
    negative_policy: str
    reorder_point: Decimal | None
    category: str | None = None
    costing: str | None = None
    standard_cost_minor: int | None = None
    gtins: list[str]
    aliases: list[str]
    packs: list[PackOut] = []
    active: bool


class ProductPage(BaseModel):
    """A page of products."""

    items: list[ProductOut]
    next_cursor: str | None
