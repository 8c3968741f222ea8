"""Composition root: builds the engine, the unit of work, caches and policies from settings.

It is the one module besides the app factory, the CLI and the demo that knows every area: the
unit of work here has every area's repositories, and the service built here is what each
area's API and the ingest worker ask for through a protocol of their own (``core.service``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import Connection, Engine, RootTransaction

from warehouse.access.adapters.credentials import Credentials, TokenSigner
from warehouse.access.adapters.repository import SqlAccess, SqlAudit
from warehouse.access.service.accounts import LoginPolicy
from warehouse.access.service.ports import AccessRepository, AuditRepository
from warehouse.catalog.adapters.barcodes import parse_code, parse_epc
from warehouse.catalog.adapters.repository import SqlProducts
from warehouse.catalog.service.ports import CodeParser, ProductRepository
from warehouse.core.config import Settings, signing_secret
from warehouse.core.db import create_engine
from warehouse.core.failures import classify
from warehouse.core.repositories import SqlCatalogVersion, SqlIdempotency
from warehouse.core.unit_of_work import CatalogVersion, FailureClassifier, IdempotencyRepository
from warehouse.counts.adapters.repository import SqlCounts
from warehouse.counts.service.ports import CountRepository
from warehouse.exceptions.adapters.repository import SqlExceptions
from warehouse.exceptions.service.ports import ExceptionRepository
from warehouse.exceptions.service.queue import EventDecoder
from warehouse.ingest.adapters.agents import SqlAgents
from warehouse.ingest.adapters.inbox import SqlInbox
from warehouse.ingest.adapters.rejections import SqlRejections
from warehouse.ingest.service.ports import (
    AgentRepository,
    InboxRepository,
    IngestUnitOfWork,
    RejectionRepository,
)
from warehouse.ingest.worker.translate import stored_event
from warehouse.orders.adapters.repository import SqlOrders
from warehouse.orders.adapters.transfers import SqlTransfers
from warehouse.orders.service.ports import OrderRepository, TransferRepository
from warehouse.partners.adapters.repository import SqlPartners
from warehouse.partners.service.ports import PartnerRepository, PartnersUnitOfWork
from warehouse.pos.adapters.repository import SqlPos
from warehouse.pos.service.ports import PosRepository
from warehouse.stock.adapters.ledger import SqlLedger, SqlStock
from warehouse.stock.adapters.locations import SqlLocations
from warehouse.stock.adapters.units import SqlSweeps, SqlUnits
from warehouse.stock.service.policies import StockPolicy
from warehouse.stock.service.ports import (
    CostBook,
    LedgerRepository,
    LocationRepository,
    StockRepository,
    SweepRepository,
    UnitRepository,
)
from warehouse.stock.service.resolve import Catalog
from warehouse.valuation.adapters.costs import SqlCosts
from warehouse.valuation.service.costing import Costing

if TYPE_CHECKING:
    from warehouse.access.api.deps import AccessService
    from warehouse.catalog.api.deps import CatalogService
    from warehouse.core.wiring import Wiring
    from warehouse.counts.api.deps import CountsService
    from warehouse.exceptions.api.deps import ExceptionsService
    from warehouse.ingest.worker.deps import IngestService
    from warehouse.orders.api.deps import OrdersService
    from warehouse.pos.api.deps import PosService
    from warehouse.stock.api.deps import StockService


@dataclass
class Service:
    """What every entrypoint needs: settings, the engine, a unit-of-work factory, the catalog
    cache, the stock policy, and how to read a failed transaction."""

    settings: Settings
    engine: Engine
    uow: Callable[[], SqlUnitOfWork]
    parser: CodeParser
    catalog: Catalog
    policy: StockPolicy
    classify: FailureClassifier
    #: an event kept in the inbox, decoded again (the exceptions queue applies it once the
    #: product its code names exists)
    waiting_event: EventDecoder = stored_event
    credentials: Credentials = field(default_factory=Credentials)
    #: None when the settings name no usable signing secret (``secret_problem`` says why)
    tokens: TokenSigner | None = None
    secret_problem: str | None = None
    #: True when the secret is a random one of this process (development without a secret)
    ephemeral_secret: bool = False
    login_policy: LoginPolicy = field(default_factory=LoginPolicy)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def bootstrap(settings: Settings, *, catalog_ttl: float = 300.0) -> Service:
    """Wire the service for ``settings``; opens nothing until first used."""
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
    )
    ttl = timedelta(minutes=settings.access_token_minutes)
    tokens, problem, ephemeral = None, None, False
    try:
        secret = signing_secret(settings)
    except ValueError as exc:
        problem = str(exc)
    else:
        ephemeral = secret is None
        tokens = TokenSigner(secret or secrets.token_bytes(32), ttl)
    return Service(
        settings=settings,
        engine=engine,
        uow=lambda: SqlUnitOfWork(engine),
        parser=parse_code,
        catalog=Catalog(parse_code, epc_parser=parse_epc, ttl=catalog_ttl),
        policy=StockPolicy(
            max_movement_qty=settings.max_movement_qty,
            clock_ahead_s=settings.clock_ahead_s,
            clock_behind_s=settings.clock_behind_s,
            require_registered_agents=settings.require_registered_agents,
        ),
        classify=classify,
        tokens=tokens,
        secret_problem=problem,
        ephemeral_secret=ephemeral,
        login_policy=LoginPolicy(
            max_failures=settings.login_max_failures,
            lockout_s=settings.login_lockout_s,
            backoff_max_s=settings.login_backoff_max_s,
            refresh_ttl=timedelta(days=settings.refresh_token_days),
        ),
    )


class SqlUnitOfWork:
    """Opens a connection and a transaction on enter; rolls back on exit unless committed.

    It has the repositories of every area, so it is every area's unit of work (the widest of
    them is the ingest's, which mypy checks ``SqlUnitOfWork`` against below)."""

    # typed as the ports, so mypy checks that each SQL repository implements its port
    products: ProductRepository
    locations: LocationRepository
    stock: StockRepository
    ledger: LedgerRepository
    units: UnitRepository
    inbox: InboxRepository
    agents: AgentRepository
    rejections: RejectionRepository
    idempotency: IdempotencyRepository
    sweeps: SweepRepository
    catalog_version: CatalogVersion
    access: AccessRepository
    audit: AuditRepository
    orders: OrderRepository
    exceptions: ExceptionRepository
    counts: CountRepository
    transfers: TransferRepository
    pos: PosRepository
    costs: CostBook
    partners: PartnerRepository

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None

    def __enter__(self) -> Self:
        conn = self._conn = self.engine.connect()
        self._tx = conn.begin()
        self.products = SqlProducts(conn)
        self.locations = SqlLocations(conn)
        self.stock = SqlStock(conn)
        self.ledger = SqlLedger(conn)
        self.units = SqlUnits(conn)
        self.inbox = SqlInbox(conn)
        self.agents = SqlAgents(conn, SqlInbox(conn))
        self.rejections = SqlRejections(conn)
        self.idempotency = SqlIdempotency(conn)
        self.sweeps = SqlSweeps(conn)
        self.catalog_version = SqlCatalogVersion(conn)
        self.access = SqlAccess(conn)
        self.audit = SqlAudit(conn)
        self.orders = SqlOrders(conn)
        self.exceptions = SqlExceptions(conn)
        self.counts = SqlCounts(conn)
        self.transfers = SqlTransfers(conn)
        self.pos = SqlPos(conn)
        self.costs = Costing(SqlCosts(conn))
        self.partners = SqlPartners(conn)
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


if TYPE_CHECKING:  # mypy checks here that the root provides what every area asks of it

    def _every_area(service: Service) -> tuple[object, ...]:
        uow: IngestUnitOfWork = SqlUnitOfWork(service.engine)
        areas: tuple[
            AccessService,
            CatalogService,
            StockService,
            ExceptionsService,
            OrdersService,
            CountsService,
            PosService,
            IngestService,
        ] = (service, service, service, service, service, service, service, service)
        partners: Wiring[PartnersUnitOfWork] = service
        return (uow, partners, *areas)
