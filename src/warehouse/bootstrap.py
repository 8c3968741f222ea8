"""Composition root: builds the engine, unit of work, caches and policies from settings."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from warehouse.adapters.barcodes import parse_code, parse_epc
from warehouse.adapters.credentials import Credentials, TokenSigner
from warehouse.adapters.db import create_engine
from warehouse.adapters.failures import classify
from warehouse.adapters.uow import SqlUnitOfWork
from warehouse.config import Settings, signing_secret
from warehouse.service_layer.access import LoginPolicy
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
