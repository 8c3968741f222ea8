"""Loading the catalog: products and locations from seed files."""

from __future__ import annotations

from pathlib import Path

import click

from warehouse.cli.access import ACTOR
from warehouse.cli.root import main, open_service
from warehouse.core.config import Settings


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.pass_obj
def seed(settings: Settings, files: tuple[Path, ...]) -> None:
    """Load locations and products from YAML or CSV files (creates or updates)."""
    from warehouse.core.errors import DomainError
    from warehouse.stock.api.seedfile import SeedFileError, load
    from warehouse.stock.service.locations import seed as seed_catalog

    service = open_service(settings)
    try:
        for path in files:
            try:
                locations, products = load(path)
                n_loc, n_prod = seed_catalog(
                    service.uow(), service.parser, locations, products, ACTOR, str(path)
                )
            except SeedFileError as exc:
                raise click.ClickException(str(exc)) from exc
            except DomainError as exc:
                field = f" ({exc.field})" if exc.field else ""
                raise click.ClickException(f"{path}: {exc.message}{field}") from exc
            click.echo(f"{path}: {n_loc} locations, {n_prod} products")
    finally:
        service.close()
