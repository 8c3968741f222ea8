"""Contract v1's building blocks: its version, limits, field types and the base of every
message model."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from warehouse.contracts.topics import ID_PATTERN

CONTRACT_VERSION: Final = 1
#: Seqs, boot counters and other counts: signed 64-bit, as the service stores them.
MAX_SEQ = 2**63 - 1
#: Money in minor units (cents): at most 10^15, ten trillion in major units.
MAX_MINOR = 10**15
#: ``occurred_at`` must lie in [EARLIEST, LATEST): representable in UTC everywhere, and wide
#: enough for a Raspberry Pi without a real-time clock that still thinks it is 1970. The service
#: flags times far from its own clock (``clock_skew``) instead of refusing them.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

Code = Annotated[str, Field(min_length=1, max_length=512, description="What was read, as read.")]
Ref = Annotated[str, Field(min_length=1, max_length=64)]
Gtin = Annotated[
    str, Field(pattern=r"^(\d{8}|\d{12}|\d{13}|\d{14})$", description="GTIN-8/12/13/14 digits.")
]
Qty = Annotated[
    Decimal,
    Field(
        gt=0,
        max_digits=18,
        decimal_places=6,
        description="Positive, below 10^12, at most 6 decimals (for weighed goods).",
    ),
]
Minor = Annotated[int, Field(ge=-MAX_MINOR, le=MAX_MINOR, description="Money in minor units.")]
AgentId = Annotated[str, Field(pattern=ID_PATTERN, description="One topic level.")]
MovementKind = Literal["receive", "transfer", "pick", "ship", "sale", "return", "adjust"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _utc(value: datetime) -> datetime:
    """The time in UTC, refusing what lies outside the contract's window (and what would not
    even convert: ``0001-01-01T00:00:00+01:00`` is before year 1 in UTC)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time is outside the representable range") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(
            f"time must be from {EARLIEST:%Y-%m-%d} up to {LATEST:%Y-%m-%d} (UTC), "
            f"received {utc.isoformat()}"
        )
    return utc


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)
