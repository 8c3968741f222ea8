"""The migrations build exactly the schema the table definitions describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from warehouse import tables
from warehouse.stock.adapters.partitions import not_a_partition


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": not_a_partition}
            ),
            tables.metadata,
        )
    assert diff == []


def test_builtin_virtual_locations_exist(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, kind FROM locations WHERE parent_id IS NULL "
                "AND code IN ('SUPPLIER', 'CUSTOMER', 'LOSS', 'TRANSIT') "
                "ORDER BY code"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("CUSTOMER", "customer"),
        ("LOSS", "loss"),
        ("SUPPLIER", "supplier"),
        ("TRANSIT", "transit"),
    ]
