"""``warehouse valuation``: rebuild what stock is worth from the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from warehouse.cli.root import main, open_service
from warehouse.core.config import Settings

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


@main.group()
def valuation() -> None:
    """Stock valuation: cost layers and the entries of movements."""


@valuation.command()
@click.option("--page", default=5000, show_default=True, help="Movements per transaction")
@click.pass_obj
def rebuild(settings: Settings, page: int) -> None:
    """Replay the whole ledger through costing, oldest movement first: every cost layer and
    valuation entry is made again. For movements recorded before valuation existed, and after
    a product's costing method or standard cost was changed for the past. Stop the ingest
    workers and the API first: what they post meanwhile would be costed twice."""
    from warehouse.valuation.adapters.replay import Replay

    service = open_service(settings)
    replay = Replay(page)
    with service.engine.begin() as conn:
        total = replay.clear(conn)
    done = 0
    with click.progressbar(length=total, label="costing movements", file=None) as bar:
        for n in replay.pages(_transactions(service.engine), datetime.now(UTC)):
            bar.update(n)
            done += n
    service.close()
    click.echo(f"valuation rebuilt from {done} movements")


def _transactions(engine: Engine) -> Iterator[Connection]:
    """One connection in a transaction after another, each committed when the next is asked."""
    while True:
        with engine.begin() as conn:
            yield conn
