"""The ledger by month on PostgreSQL (`warehouse db partition-ledger`): movements land in their
month's partition, queries and paging see one ledger, a past month detaches for archive with
stock and the projection check untouched, the ingest worker's chore makes months ahead, a ledger
partitioned whole splits into months, and migration 0013 goes down (one table again) and up."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import text

from tests.conftest import PG_URL, make_settings, require
from tests.faults.processes import seeded_database
from warehouse.bootstrap import Service, bootstrap
from warehouse.cli.root import main
from warehouse.core.migrate import alembic_config
from warehouse.ingest.worker.partitions import MakePartitions
from warehouse.stock.adapters import movement_queries, partitions, stock_queries
from warehouse.stock.adapters.projection import differences
from warehouse.stock.service.commands import ManualMovement, MovementRequest
from warehouse.stock.service.movements import record_movement

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def ledger() -> Iterator[Service]:
    """A migrated, seeded database of its own (detaching changes its schema)."""
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        require("PostgreSQL", False, str(exc).strip())
    name = f"warehouse_ledger_{uuid.uuid4().hex[:8]}"
    url = seeded_database(PG_URL, name)
    result = CliRunner().invoke(main, ["--database-url", url, "db", "partition-ledger"])
    assert result.exit_code == 0, result.output
    service = bootstrap(make_settings(url), catalog_ttl=0)
    yield service
    service.close()
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def receive(service: Service, qty: int, at: datetime) -> int:
    request = MovementRequest(
        kind="receive", qty=Decimal(qty), sku="TEA-GRN", to_location="WH1-A-01"
    )
    movement_id, _ = record_movement(service.uow(), service.catalog, ManualMovement(request), at)
    return movement_id


def where(service: Service, movement_id: int) -> str:
    with service.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT tableoid::regclass::text FROM movements WHERE id = :id"),
                {"id": movement_id},
            ).scalar_one()
        )


def on_hand(service: Service) -> Decimal:
    with service.engine.connect() as conn:
        return Decimal(stock_queries.stock_for_sku(conn, "TEA-GRN")["on_hand"])


def test_months_detach_without_touching_stock(ledger: Service) -> None:
    with ledger.engine.connect() as conn:
        assert partitions.partitioned(conn)
        months = [p.month for p in partitions.partitions(conn) if p.month is not None]
    assert len(months) == partitions.AHEAD  # made with it
    now = datetime.now(UTC)
    first, second = (datetime(m.year, m.month, 15, tzinfo=UTC) for m in months[:2])
    ids = [receive(ledger, 3, now), receive(ledger, 5, first), receive(ledger, 7, second)]
    assert [where(ledger, i) for i in ids] == [
        "movements_history", partitions.name_of(months[0]), partitions.name_of(months[1])
    ]  # fmt: skip
    with ledger.engine.connect() as conn:
        page = movement_queries.movements(conn, sku="TEA-GRN", limit=2)
        assert [m["id"] for m in page.items] == sorted(ids, reverse=True)[:2]  # one ledger
    assert on_hand(ledger) == 15
    # a month not over yet stays
    with pytest.raises(ValueError, match="not over yet"), ledger.engine.begin() as conn:
        partitions.detach(conn, months[0], today=months[0])
    later = date(months[1].year, months[1].month, 20)
    with ledger.engine.begin() as conn:
        assert partitions.detach(conn, months[0], today=later) == 1
    with ledger.engine.connect() as conn:
        assert differences(conn) == {}  # the projection still adds up, with the archive
        kept = conn.execute(text(f"SELECT count(*) FROM {partitions.name_of(months[0])}"))
        assert kept.scalar_one() == 1  # its rows, in a table of their own
        assert [m["id"] for m in movement_queries.movements(conn, sku="TEA-GRN").items] == [
            ids[2], ids[0]
        ]  # fmt: skip
    assert on_hand(ledger) == 15
    assert receive(ledger, 1, now) > ids[2]  # ids go on rising
    result = CliRunner().invoke(
        main, ["--database-url", ledger.settings.database_url, "db", "check-projection"]
    )
    assert result.exit_code == 0, result.output


def test_the_chore_makes_months_ahead_and_the_migration_goes_down_and_up(ledger: Service) -> None:
    url = ledger.settings.database_url
    with ledger.engine.begin() as conn:
        last = partitions.partitions(conn)[-1]
        conn.exec_driver_sql(f"DROP TABLE {last.name}")  # as if the months had passed
    MakePartitions(ledger).run()
    with ledger.engine.connect() as conn:
        assert partitions.partitions(conn)[-1].name == last.name
    receive(ledger, 4, datetime.now(UTC))
    ledger.engine.dispose()
    command.downgrade(alembic_config(url), "0012")
    with ledger.engine.connect() as conn:
        assert not partitions.partitioned(conn)
    assert on_hand(ledger) == 4
    command.upgrade(alembic_config(url), "head")
    with ledger.engine.begin() as conn:
        assert not partitions.partitioned(conn)  # partitioning is the operator's choice
        partitions.partition(conn, datetime.now(UTC).date())
    with ledger.engine.connect() as conn:
        assert partitions.partitioned(conn)
        assert differences(conn) == {}
    assert receive(ledger, 1, datetime.now(UTC)) > 0
    assert on_hand(ledger) == 5


def test_a_ledger_migrated_whole_splits_into_months(ledger: Service) -> None:
    now = datetime.now(UTC)
    this_month = date(now.year, now.month, 1)
    old = receive(ledger, 2, datetime(now.year - 1, now.month, 10, tzinfo=UTC))
    new = receive(ledger, 3, now)
    assert where(ledger, old) == where(ledger, new) == "movements_history"
    result = CliRunner().invoke(
        main,
        ["--database-url", ledger.settings.database_url, "db", "split-history",
         "--since", f"{this_month:%Y-%m}"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert where(ledger, old) == "movements_history"
    assert where(ledger, new) == partitions.name_of(this_month)
    with ledger.engine.connect() as conn:
        assert differences(conn) == {}
    assert on_hand(ledger) == 5
