"""The ``warehouse`` command: one module per group of subcommands.

``run`` (serve, ingest, demo), ``database`` (db upgrade, check-projection, rebuild-projection),
``catalog`` (seed). Every command that needs the database opens it through
:func:`open_service`, which says in one line what is wrong with it (unreachable, no schema, an
old schema) and what to run.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from warehouse import logs
from warehouse.config import Settings, load_settings, masked

if TYPE_CHECKING:
    from warehouse.bootstrap import Service

log = logging.getLogger("warehouse")


_SECRETS = (
    # a URL's password: scheme://user:PASSWORD@host
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@"), r"\1***@"),
    # our API keys and refresh tokens: whk_ID.SECRET, whr_ID.SECRET
    (re.compile(r"\b(wh[kr]_[0-9a-f]+)\.[A-Za-z0-9_-]+"), r"\1.***"),
    # JSON Web Tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "eyJ***"),
)


def mask_secrets(text: str) -> str:
    """``text`` with URL passwords, API keys, refresh tokens and JWTs masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def setup_logging(level: str, fmt: str = "text") -> None:
    """One line per event (text: time, level, logger, message; json: one object per line);
    secrets masked (URL passwords, tokens, keys), at every level and in tracebacks."""
    logs.configure(level, fmt, mask_secrets)
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


def open_service(settings: Settings, *, wait: threading.Event | None = None) -> Service:
    """The service, its database reachable and its schema this version's, or a one-line
    ClickException saying what to do. With ``wait``, an unreachable database is waited for
    (until ``wait`` is set) instead of refused: a worker may start before its database."""
    from warehouse.adapters.migrate import schema_problem
    from warehouse.bootstrap import bootstrap

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
                raise click.ClickException(f"database {shown}: {_first_line(exc)}") from exc
            if wait is None:
                service.close()
                raise click.ClickException(
                    f"database {shown} is not reachable ({_first_line(exc)}); is it running, "
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


def _first_line(exc: BaseException) -> str:
    origin = getattr(exc, "orig", None) or exc
    lines = str(origin).strip().splitlines()
    return lines[0] if lines else type(origin).__name__


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


from warehouse.entrypoints.cli import access, catalog, database, orders, run  # noqa: E402  registers them

__all__ = [
    "access",
    "catalog",
    "database",
    "main",
    "open_service",
    "orders",
    "run",
    "setup_logging",
]
