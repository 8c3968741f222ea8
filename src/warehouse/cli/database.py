"""``warehouse db``: the schema and the stock projection."""

from __future__ import annotations

import sys

import click

from warehouse.cli.root import main, open_service
from warehouse.core.config import Settings, masked


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
