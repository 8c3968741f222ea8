"""The metadata every table is defined on, with the naming convention of constraints and indexes
(the migrations name them the same way), and the tables of the core itself."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    Text,
)

from warehouse.core.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)


# One row: raised by every catalog change, read once per ingest batch and API request, so the
# catalog caches of every process drop what changed (stock.service.resolve.Catalog).
catalog_version = Table(
    "catalog_version",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("version", BigInteger, nullable=False),
)
