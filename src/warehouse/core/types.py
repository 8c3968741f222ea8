"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer
from sqlalchemy.types import TypeDecorator

SCALE = 10**6

#: Auto-incrementing 64-bit ids; SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Quantity(TypeDecorator[Decimal]):
    """Decimal quantities stored exactly as integer millionths (SQLite has no exact decimal)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_scaled(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return quantity(int(value))


def quantity(millionths: int) -> Decimal:
    """The quantity stored as ``millionths``, as plain as it reads (``12``, ``0.742``); whole
    units, the common case, without Decimal arithmetic."""
    if millionths % SCALE == 0:
        return Decimal(millionths // SCALE)
    return to_plain(Decimal(millionths).scaleb(-6))


def to_scaled(value: Decimal) -> int:
    """A quantity as the integer millionths it is stored as."""
    scaled = Decimal(value) * SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"quantity {value} has more than 6 decimal places")
    return int(scaled)


def to_plain(value: Decimal) -> Decimal:
    """Drop trailing zeros without turning 10 into 1E+1."""
    value = value.normalize()
    exponent = value.as_tuple().exponent
    return value.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else value


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in and out, on databases with and without time zones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value} given; times are stored as UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
