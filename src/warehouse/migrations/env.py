"""Alembic environment: online migrations only, one transaction per run."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from warehouse import tables
from warehouse.core.db import create_engine
from warehouse.stock.adapters.partitions import not_a_partition

config = context.config


def run() -> None:
    """Migrate the database named in the config."""
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=tables.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=not_a_partition,  # the ledger's months (stock/adapters/partitions.py)
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
