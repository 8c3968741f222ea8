"""Long-running processes: the API, the ingest worker, the demo."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from warehouse.cli.root import main, open_service
from warehouse.core.config import Settings, masked
from warehouse.core.process import stop_on_signals

log = logging.getLogger("warehouse")


@main.command()
@click.option("--host", help="Address to listen on (default from settings: 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="API processes.")
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, workers: int) -> None:
    """Run the HTTP API and the web dashboard (sign in at /; OpenAPI docs at /docs)."""
    import uvicorn

    from warehouse.app import create_app

    host, port = host or settings.api_host, port or settings.api_port
    service = open_service(settings)  # fail now, in one line, rather than on the first request
    problem, ephemeral = service.secret_problem, service.ephemeral_secret
    service.close()
    if problem:
        raise click.ClickException(problem)
    if ephemeral:
        if workers > 1:
            raise click.ClickException(
                "several workers must share one signing secret: set WAREHOUSE_JWT_SECRET or "
                "WAREHOUSE_JWT_SECRET_FILE"
            )
        log.warning(
            "no WAREHOUSE_JWT_SECRET: access tokens are signed with a random secret and stop "
            "working when this process ends (set one; production refuses to start without it)"
        )
    if workers > 1:
        uvicorn.run(
            "warehouse.asgi:app",
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            proxy_headers=False,  # X-Forwarded-For is judged by the service (trusted_proxies)
        )
        return
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's loggers go through ours, which masks secrets
        proxy_headers=False,  # X-Forwarded-For is judged by the service (trusted_proxies)
    )


@main.command()
@click.option("--client-id", help="MQTT client id (default warehouse-ingest-<host>-<pid>).")
@click.option(
    "--http-port",
    type=int,
    help="Serve /healthz and /readyz on this port (also WAREHOUSE_INGEST_HTTP_PORT; 0: any).",
)
@click.pass_obj
def ingest(settings: Settings, client_id: str | None, http_port: int | None) -> None:
    """Consume events from MQTT and apply them to the ledger exactly once."""
    from warehouse.core.health_http import HealthServer
    from warehouse.core.process import freeze_startup_objects
    from warehouse.ingest.worker.worker import IngestWorker

    stop = stop_on_signals()
    service = open_service(settings, wait=stop)
    worker = IngestWorker(service, client_id=client_id)
    port = http_port if http_port is not None else settings.ingest_http_port
    health = (
        HealthServer(settings.ingest_http_host, port, worker.readiness)
        if port is not None
        else None
    )
    if health is not None:
        health.start()
    log.info(
        "ingest worker starting: broker %s, database %s",
        ",".join(map(masked, settings.nats_url.split(",")))
        if settings.nats_url
        else masked(settings.mqtt_url),
        masked(settings.database_url),
    )
    try:
        freeze_startup_objects()
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
        if health is not None:
            health.stop()
        service.close()
    if status:
        raise click.ClickException(worker.fatal or "the ingest worker stopped")


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
@click.option(
    "--fresh",
    is_flag=True,
    help="Start over: delete the data of earlier runs in --dir (database, outboxes, receipts).",
)
def demo(
    workdir: Path, port: int, mqtt_port: int, rate: float, duration: float, fresh: bool
) -> None:
    """Run everything on a laptop: SQLite, an in-process broker, ingest, API and devices. The
    data stays in --dir between runs; --fresh starts over."""
    from warehouse.demo.run import run_demo

    stop = stop_on_signals()
    run_demo(
        workdir,
        api_port=port,
        mqtt_port=mqtt_port,
        rate=rate,
        duration=duration,
        stop=stop,
        fresh=fresh,
    )
