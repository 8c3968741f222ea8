"""Importing orders from files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from warehouse.cli.access import ACTOR
from warehouse.cli.root import main, open_service
from warehouse.core.config import Settings


@main.group(name="import")
def import_() -> None:
    """Import orders from files."""


@import_.command(name="purchase-orders")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def purchase_orders(settings: Settings, file: Path) -> None:
    """Create the purchase orders in a CSV FILE (one row per line: ref, site, supplier, sku,
    qty, and optionally expected_date, lot, expiry, sscc). Orders that exist already are
    skipped and named; nothing of an order with an error is created."""
    from warehouse.core.errors import Conflict, DomainError
    from warehouse.orders.adapters.csv_import import OrdersFileError, load_purchase_orders
    from warehouse.orders.service.receiving import create_purchase_order

    try:
        requests = load_purchase_orders(file, ACTOR)
    except OrdersFileError as exc:
        raise click.ClickException(str(exc)) from exc
    service = open_service(settings)
    created = skipped = 0
    try:
        for n, request in enumerate(requests, 1):
            try:
                create_purchase_order(service.uow(), request, datetime.now(UTC))
            except Conflict as exc:
                click.echo(f"skipped {request.ref}: {exc.message}", err=True)
                skipped += 1
                continue
            except DomainError as exc:
                field = f" ({exc.field})" if exc.field else ""
                raise click.ClickException(
                    f"{file}: {request.ref}: {exc.message}{field}; {created} created before it"
                ) from exc
            created += 1
            if n % 500 == 0:
                click.echo(f"... {n} of {len(requests)}", err=True)
    finally:
        service.close()
    click.echo(f"{file}: {created} purchase orders created, {skipped} skipped")
