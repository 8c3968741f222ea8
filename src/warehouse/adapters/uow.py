"""The SQLAlchemy unit of work: one connection, one transaction, every repository on it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, RootTransaction

from warehouse.adapters import repositories as repo
from warehouse.service_layer import ports, ports_orders, ports_pos


class SqlUnitOfWork:
    """Opens a connection and a transaction on enter; rolls back on exit unless committed."""

    # typed as the ports, so mypy checks that each SQL repository implements its port
    products: ports.ProductRepository
    locations: ports.LocationRepository
    stock: ports.StockRepository
    ledger: ports.LedgerRepository
    units: ports.UnitRepository
    inbox: ports.InboxRepository
    agents: ports.AgentRepository
    rejections: ports.RejectionRepository
    idempotency: ports.IdempotencyRepository
    sweeps: ports.SweepRepository
    catalog_version: ports.CatalogVersion
    access: ports.AccessRepository
    audit: ports.AuditRepository
    orders: ports_orders.OrderRepository
    exceptions: ports_orders.ExceptionRepository
    counts: ports_orders.CountRepository
    transfers: ports_orders.TransferRepository
    pos: ports_pos.PosRepository

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None

    def __enter__(self) -> Self:
        conn = self._conn = self.engine.connect()
        self._tx = conn.begin()
        self.products = repo.SqlProducts(conn)
        self.locations = repo.SqlLocations(conn)
        self.stock = repo.SqlStock(conn)
        self.ledger = repo.SqlLedger(conn)
        self.units = repo.SqlUnits(conn)
        self.inbox = repo.SqlInbox(conn)
        self.agents = repo.SqlAgents(conn, repo.SqlInbox(conn))
        self.rejections = repo.SqlRejections(conn)
        self.idempotency = repo.SqlIdempotency(conn)
        self.sweeps = repo.SqlSweeps(conn)
        self.catalog_version = repo.SqlCatalogVersion(conn)
        self.access = repo.SqlAccess(conn)
        self.audit = repo.SqlAudit(conn)
        self.orders = repo.SqlOrders(conn)
        self.exceptions = repo.SqlExceptions(conn)
        self.counts = repo.SqlCounts(conn)
        self.transfers = repo.SqlTransfers(conn)
        self.pos = repo.SqlPos(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        finally:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._tx = None

    def commit(self) -> None:
        assert self._tx is not None, "commit outside the unit of work"
        self._tx.commit()

    def rollback(self) -> None:
        if self._tx is not None and self._tx.is_active:
            self._tx.rollback()
