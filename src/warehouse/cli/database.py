"""``warehouse db``: the schema and the stock projection."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, TypeVar

import click

from warehouse.cli.root import main, open_service
from warehouse.core.config import Settings, masked

if TYPE_CHECKING:
    from sqlalchemy import Connection

T = TypeVar("T")


@main.group()
def db() -> None:
    """Database schema and projection maintenance."""


@db.command()
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def upgrade(settings: Settings, revision: str) -> None:
    """Create or migrate the schema (Alembic)."""
    from warehouse.core.failures import classify
    from warehouse.core.migrate import upgrade as run_upgrade

    shown = masked(settings.database_url)
    try:
        run_upgrade(settings.database_url, revision)
    except Exception as exc:  # one line for the operator, whatever the driver raised
        origin = getattr(exc, "orig", None) or exc
        reason = (str(origin).strip().splitlines() or [type(origin).__name__])[0]
        if classify(exc) == "unavailable":
            raise click.ClickException(f"database {shown} is not reachable ({reason})") from exc
        raise click.ClickException(f"database {shown}: the upgrade failed: {reason}") from exc
    click.echo(f"database {shown} is at {revision}")


@db.command("check-projection")
@click.pass_obj
def check_projection(settings: Settings) -> None:
    """Compare the stock projection with the ledger; exit 1 if they differ."""
    from warehouse.stock.adapters.projection import differences

    service = open_service(settings)
    with service.engine.connect() as conn:
        diff = differences(conn)
    service.close()
    for (product, location, lot), (proj, ledger) in sorted(diff.items()):
        click.echo(
            f"product {product} location {location} lot {lot!r}: projection {proj}, ledger {ledger}"
        )
    click.echo("projection matches the ledger" if not diff else f"{len(diff)} rows differ")
    sys.exit(1 if diff else 0)


@db.command("rebuild-projection")
@click.pass_obj
def rebuild_projection(settings: Settings) -> None:
    """Recompute the stock projection from the ledger."""
    from warehouse.stock.adapters.projection import rebuild

    service = open_service(settings)
    with service.engine.begin() as conn:
        rows = rebuild(conn)
    service.close()
    click.echo(f"projection rebuilt: {rows} rows")


@db.command("partition-ledger")
@click.pass_obj
def partition_ledger(settings: Settings) -> None:
    """Partition the ledger by month (PostgreSQL), so that old months can be archived: the
    ledger as it is becomes one partition, movements_history, and the next months are made.
    Builds a new primary key over the ledger with it locked (about a minute a million
    movements): run it in a quiet hour. Newest-first lists read every partition: see
    docs/scaling.md for what that costs."""
    from datetime import UTC, datetime

    from warehouse.stock.adapters import partitions as ledger

    service = open_service(settings)
    try:
        with service.engine.begin() as conn:
            if conn.dialect.name != "postgresql":
                raise click.ClickException("only a PostgreSQL ledger is partitioned")
            if ledger.partitioned(conn):
                raise click.ClickException("the ledger is partitioned already")
            made = ledger.partition(conn, datetime.now(UTC).date())
    finally:
        service.close()
    click.echo(f"the ledger is partitioned: movements_history, {', '.join(made)}")


@db.command("partitions")
@click.pass_obj
def list_partitions(settings: Settings) -> None:
    """The ledger's monthly partitions (PostgreSQL), making any missing ones ahead, as the
    ingest worker does every hour."""
    from datetime import UTC, datetime

    from warehouse.stock.adapters import partitions as ledger

    service = open_service(settings)
    try:
        with service.engine.begin() as conn:
            if not ledger.partitioned(conn):
                click.echo("the ledger is one table here (`warehouse db partition-ledger`)")
                return
            made = ledger.ensure_ahead(conn, datetime.now(UTC).date())
            for part in ledger.partitions(conn):
                click.echo(f"{part.name:22} {part.bounds}")
    finally:
        service.close()
    if made:
        click.echo(f"made {', '.join(made)}")


@db.command("split-history")
@click.option("--since", metavar="YYYY-MM", required=True, help="The first month to split off.")
@click.pass_obj
def split_history(settings: Settings, since: str) -> None:
    """Move what movements_history holds from a month on into monthly partitions, so that those
    months can be detached later (a ledger migrated whole is one partition). Rewrites those
    rows once, with the ledger locked: run it in a quiet hour."""
    from datetime import UTC, datetime

    from warehouse.stock.adapters import partitions as ledger

    first = _month(since, "--since")
    made = _on_the_partitioned_ledger(
        settings, lambda conn: ledger.split_history(conn, first, datetime.now(UTC).date())
    )
    click.echo(f"movements_history now ends before {first:%Y-%m}; made {', '.join(made)}")


def _on_the_partitioned_ledger(settings: Settings, work: Callable[[Connection], T]) -> T:
    """``work`` in one transaction, if the ledger is partitioned; its refusals as one line."""
    from warehouse.stock.adapters import partitions as ledger

    service = open_service(settings)
    try:
        with service.engine.begin() as conn:
            if not ledger.partitioned(conn):
                raise click.ClickException(
                    "the ledger is not partitioned here (`warehouse db partition-ledger`)"
                )
            return work(conn)
    except (LookupError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        service.close()


def _month(value: str, param: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a month like 2026-01", param_hint=param
        ) from None


@db.command("detach-month")
@click.argument("month", metavar="YYYY-MM")
@click.pass_obj
def detach_month(settings: Settings, month: str) -> None:
    """Detach a past month of the ledger for archive: its movements stay in a table of their
    own (movements_yYYYYmMM: pg_dump it, then drop it), what it added to stock is kept in
    ledger_archive, and stock is not touched."""
    from datetime import UTC, datetime

    from warehouse.stock.adapters import partitions as ledger

    first = _month(month, "MONTH")
    count = _on_the_partitioned_ledger(
        settings, lambda conn: ledger.detach(conn, first, datetime.now(UTC).date())
    )
    click.echo(
        f"{ledger.name_of(first)} detached: {count} movements, kept as a table of its own; "
        "stock unchanged"
    )
