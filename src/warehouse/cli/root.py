"""The ``warehouse`` command's root group, and opening the service for a subcommand."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from warehouse import logs
from warehouse.core.config import Settings, load_settings, masked
from warehouse.core.failures import first_line
from warehouse.core.process import setup_logging

if TYPE_CHECKING:
    from warehouse.bootstrap import Service

log = logging.getLogger("warehouse")


def open_service(settings: Settings, *, wait: threading.Event | None = None) -> Service:
    """The service, its database reachable and its schema this version's, or a one-line
    ClickException saying what to do. With ``wait``, an unreachable database is waited for
    (until ``wait`` is set) instead of refused: a worker may start before its database."""
    from warehouse.bootstrap import bootstrap
    from warehouse.core.migrate import schema_problem

    service = bootstrap(settings)
    shown = masked(settings.database_url)
    delay = 1.0
    while True:
        try:
            problem = schema_problem(service.engine, shown)
            break
        except Exception as exc:  # sorted below; nothing reaches the user as a traceback
            if service.classify(exc) != "unavailable":
                service.close()
                raise click.ClickException(f"database {shown}: {first_line(exc)}") from exc
            if wait is None:
                service.close()
                raise click.ClickException(
                    f"database {shown} is not reachable ({first_line(exc)}); is it running, "
                    "and is WAREHOUSE_DATABASE_URL right?"
                ) from exc
            log.warning("database %s is not reachable; waiting %.0fs", shown, delay)
            if wait.wait(delay):
                break
            delay = min(delay * 2, 30)
            problem = None
    if problem:
        service.close()
        raise click.ClickException(problem)
    log.info("database %s", shown)
    return service


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
@click.option(
    "--log-format",
    type=click.Choice(logs.FORMATS),
    help="text (default) or json: one JSON object per line (also WAREHOUSE_LOG_FORMAT).",
)
@click.version_option(package_name="warehouse")
@click.pass_context
def main(
    ctx: click.Context,
    config_file: Path | None,
    database_url: str | None,
    mqtt_url: str | None,
    log_level: str | None,
    log_format: str | None,
) -> None:
    """Warehouse inventory service: MQTT ingest, stock ledger and API.

    Settings come from options, then WAREHOUSE_* environment variables, then the config file.
    """
    try:
        settings = load_settings(
            config_file,
            database_url=database_url,
            mqtt_url=mqtt_url,
            log_level=log_level,
            log_format=log_format,
        )
    except (FileNotFoundError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    setup_logging(settings.log_level, settings.log_format)
    ctx.obj = settings
