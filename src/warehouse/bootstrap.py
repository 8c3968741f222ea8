"""Composition root: builds the engine, unit of work, caches and policies from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from warehouse.adapters.barcodes import parse_code, parse_epc
from warehouse.adapters.db import create_engine
from warehouse.adapters.failures import classify
from warehouse.adapters.uow import SqlUnitOfWork
from warehouse.config import Settings
from warehouse.service_layer.policies import StockPolicy
from warehouse.service_layer.ports import CodeParser, FailureClassifier, UnitOfWork
from warehouse.service_layer.resolve import Catalog


@dataclass
class Service:
    """What every entrypoint needs: settings, the engine, a unit-of-work factory, the catalog
    cache, the stock policy, and how to read a failed transaction."""

    settings: Settings
    engine: Engine
    uow: Callable[[], UnitOfWork]
    parser: CodeParser
    catalog: Catalog
    policy: StockPolicy
    classify: FailureClassifier

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
        ),
        classify=classify,
    )
