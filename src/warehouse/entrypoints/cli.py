"""The ``warehouse`` command: serve, ingest, db, seed, demo."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from warehouse.config import Settings, load_settings, masked

log = logging.getLogger("warehouse")


def setup_logging(level: str) -> None:
    """One line per event: time, level, logger, message."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr
    )
    if level != "DEBUG":  # Alembic tells every command which plugins and context it set up
        logging.getLogger("alembic").setLevel(logging.WARNING)


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, for a clean stop."""
    stop = threading.Event()

    def _handler(signum: int, _frame: Any) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)
    return stop


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML config file (also WAREHOUSE_CONFIG). Environment variables win over it.",
)
@click.option("--database-url", help="Overrides WAREHOUSE_DATABASE_URL.")
@click.option("--mqtt-url", help="Overrides WAREHOUSE_MQTT_URL, e.g. mqtt://user:pass@host:1883.")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@click.version_option(package_name="warehouse")
@click.pass_context
def main(
    ctx: click.Context,
    config_file: Path | None,
    database_url: str | None,
    mqtt_url: str | None,
    log_level: str | None,
) -> None:
    """Warehouse inventory service: MQTT ingest, stock ledger and API.

    Settings come from options, then WAREHOUSE_* environment variables, then the config file.
    """
    try:
        settings = load_settings(
            config_file, database_url=database_url, mqtt_url=mqtt_url, log_level=log_level
        )
    except (FileNotFoundError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    setup_logging(settings.log_level)
    ctx.obj = settings


@main.command()
@click.option("--host", help="Address to listen on (default from settings: 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="API processes.")
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from warehouse.entrypoints.api.app import create_app

    host, port = host or settings.api_host, port or settings.api_port
    if workers > 1:
        uvicorn.run(
            "warehouse.entrypoints.api.asgi:app",
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
        )
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower())


@main.command()
@click.option("--client-id", help="MQTT client id (default warehouse-ingest-<host>-<pid>).")
@click.pass_obj
def ingest(settings: Settings, client_id: str | None) -> None:
    """Consume events from MQTT and apply them to the ledger exactly once."""
    from warehouse.bootstrap import bootstrap
    from warehouse.entrypoints.ingest import IngestWorker

    service = bootstrap(settings)
    stop = stop_on_signals()
    problem = _wait_for_schema(service, stop)
    if problem:
        service.close()
        raise click.ClickException(problem)
    worker = IngestWorker(service, client_id=client_id)
    log.info(
        "ingest worker starting: broker %s, database %s",
        masked(settings.mqtt_url),
        masked(settings.database_url),
    )
    try:
        status = worker.run(stop)
    finally:
        t = worker.totals
        log.info(
            "ingest worker stopped: %d applied, %d duplicates, %d rejected (%d on their own), "
            "%d recorded, %d conflicting duplicates, %d internal errors",
            t.applied,
            t.duplicates,
            t.rejected,
            t.poison,
            t.recorded,
            t.conflicts,
            worker.internal_errors,
        )
        service.close()
    if status:
        raise click.ClickException(worker.fatal or "the ingest worker stopped")


def _wait_for_schema(service: Any, stop: threading.Event) -> str | None:
    """The schema problem, if any; while the database cannot be reached, wait (a worker may
    start before its database does)."""
    from warehouse.adapters.migrate import schema_problem

    delay = 1.0
    while not stop.is_set():
        try:
            return schema_problem(service.engine, masked(service.settings.database_url))
        except Exception as exc:
            if service.classify(exc) != "unavailable":
                raise
            log.warning(
                "database %s unavailable; waiting %.0fs",
                masked(service.settings.database_url),
                delay,
            )
            stop.wait(delay)
            delay = min(delay * 2, 30)
    return None


@main.group()
def db() -> None:
    """Database schema and projection maintenance."""


@db.command()
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def upgrade(settings: Settings, revision: str) -> None:
    """Create or migrate the schema (Alembic)."""
    from warehouse.adapters.migrate import upgrade as run_upgrade

    run_upgrade(settings.database_url, revision)
    click.echo(f"database {masked(settings.database_url)} is at {revision}")


@db.command("check-projection")
@click.pass_obj
def check_projection(settings: Settings) -> None:
    """Compare the stock projection with the ledger; exit 1 if they differ."""
    from warehouse.adapters.db import create_engine
    from warehouse.adapters.projection import differences

    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        diff = differences(conn)
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
    from warehouse.adapters.db import create_engine
    from warehouse.adapters.projection import rebuild

    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        rows = rebuild(conn)
    click.echo(f"projection rebuilt: {rows} rows")


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.pass_obj
def seed(settings: Settings, files: tuple[Path, ...]) -> None:
    """Load locations and products from YAML or CSV files (creates or updates)."""
    from warehouse.bootstrap import bootstrap
    from warehouse.domain.errors import DomainError
    from warehouse.entrypoints.seedfile import SeedFileError, load
    from warehouse.service_layer import catalog

    service = bootstrap(settings)
    try:
        for path in files:
            try:
                locations, products = load(path)
                n_loc, n_prod = catalog.seed(service.uow(), service.parser, locations, products)
            except SeedFileError as exc:
                raise click.ClickException(str(exc)) from exc
            except DomainError as exc:
                field = f" ({exc.field})" if exc.field else ""
                raise click.ClickException(f"{path}: {exc.message}{field}") from exc
            click.echo(f"{path}: {n_loc} locations, {n_prod} products")
    finally:
        service.close()


@main.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("warehouse-demo"),
    show_default=True,
    help="Where the demo keeps its SQLite database.",
)
@click.option("--port", type=int, default=8000, show_default=True, help="API port (0: any free).")
@click.option(
    "--mqtt-port",
    type=int,
    default=1884,
    show_default=True,
    help="Embedded broker port (0: any free).",
)
@click.option(
    "--rate", type=float, default=5.0, show_default=True, help="Simulated device events per second."
)
@click.option(
    "--duration",
    type=float,
    default=0.0,
    help="Stop after this many seconds (0: run until Ctrl-C).",
)
def demo(workdir: Path, port: int, mqtt_port: int, rate: float, duration: float) -> None:
    """Run everything on a laptop: SQLite, an in-process broker, ingest, API and devices."""
    from warehouse.entrypoints.demo import run_demo

    stop = stop_on_signals()
    run_demo(workdir, api_port=port, mqtt_port=mqtt_port, rate=rate, duration=duration, stop=stop)


if __name__ == "__main__":  # pragma: no cover
    main()
