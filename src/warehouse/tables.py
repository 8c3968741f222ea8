"""Every area's tables on the one metadata: what the migrations describe (their environment and
the test that compares the two read it from here)."""

from __future__ import annotations

from warehouse.access.adapters import tables as access_tables
from warehouse.catalog.adapters import tables as catalog_tables
from warehouse.core.tables import metadata
from warehouse.counts.adapters import tables as counts_tables
from warehouse.exceptions.adapters import tables as exceptions_tables
from warehouse.ingest.adapters import tables as ingest_tables
from warehouse.orders.adapters import tables as orders_tables
from warehouse.partners.adapters import tables as partners_tables
from warehouse.pos.adapters import tables as pos_tables
from warehouse.stock.adapters import tables as stock_tables
from warehouse.valuation.adapters import tables as valuation_tables

#: The modules that define tables, in the order of their areas.
AREAS = (
    access_tables,
    catalog_tables,
    stock_tables,
    partners_tables,
    exceptions_tables,
    orders_tables,
    counts_tables,
    pos_tables,
    ingest_tables,
    valuation_tables,
)

__all__ = ["AREAS", "metadata"]
