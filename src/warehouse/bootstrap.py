"""Composition root: builds the engine, unit of work and caches from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from warehouse.adapters.barcodes import parse_code, parse_epc
from warehouse.adapters.db import create_engine
from warehouse.adapters.uow import SqlUnitOfWork
from warehouse.config import Settings
from warehouse.service_layer.ports import CodeParser, UnitOfWork
from warehouse.service_layer.resolve import Catalog


@dataclass
class Service:
    """What every entrypoint needs: settings, the engine and a unit-of-work factory."""

    settings: Settings
    engine: Engine
    uow: Callable[[], UnitOfWork]
    parser: CodeParser
    catalog: Catalog

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def bootstrap(settings: Settings, *, catalog_ttl: float = 30.0) -> Service:
    """Wire the service for ``settings``; opens nothing until first used."""
    engine = create_engine(settings.database_url)
    return Service(
        settings=settings,
        engine=engine,
        uow=lambda: SqlUnitOfWork(engine),
        parser=parse_code,
        catalog=Catalog(parse_code, epc_parser=parse_epc, ttl=catalog_ttl),
    )
