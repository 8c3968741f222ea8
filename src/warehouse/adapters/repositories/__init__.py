"""SQLAlchemy Core implementations of the repository ports, one module per aggregate; each
repository works on the one connection of its unit of work."""

from warehouse.adapters.repositories.access import SqlAccess, SqlAudit
from warehouse.adapters.repositories.catalog import SqlCatalogVersion, SqlLocations, SqlProducts
from warehouse.adapters.repositories.counts import SqlCounts
from warehouse.adapters.repositories.exceptions import SqlExceptions
from warehouse.adapters.repositories.idempotency import SqlIdempotency
from warehouse.adapters.repositories.ingest import SEQ_WINDOW, SqlAgents, SqlInbox, SqlRejections
from warehouse.adapters.repositories.orders import SqlOrders
from warehouse.adapters.repositories.pos import SqlPos
from warehouse.adapters.repositories.stock import SqlLedger, SqlStock, SqlSweeps, SqlUnits
from warehouse.adapters.repositories.transfers import SqlTransfers

__all__ = [
    "SEQ_WINDOW",
    "SqlAccess",
    "SqlAgents",
    "SqlAudit",
    "SqlCatalogVersion",
    "SqlCounts",
    "SqlExceptions",
    "SqlIdempotency",
    "SqlInbox",
    "SqlLedger",
    "SqlLocations",
    "SqlOrders",
    "SqlPos",
    "SqlProducts",
    "SqlRejections",
    "SqlStock",
    "SqlSweeps",
    "SqlTransfers",
    "SqlUnits",
]
