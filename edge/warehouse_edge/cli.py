"""The ``warehouse-edge`` command: run, check-config, devices, outbox, simulate."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from warehouse import logs
from warehouse_edge.config import AgentConfig, ConfigError, load_config

log = logging.getLogger("warehouse_edge")
ConfigPath = click.Path(exists=False, dir_okay=False, path_type=Path)
F = TypeVar("F", bound=Callable[..., Any])


def config_option(required: bool = True) -> Callable[[F], F]:
    """The one way every command is given its config: ``--config`` or WAREHOUSE_EDGE_CONFIG."""
    return click.option(
        "--config",
        "config_path",
        type=ConfigPath,
        required=required,
        envvar="WAREHOUSE_EDGE_CONFIG",
        show_envvar=True,
        help="The agent's TOML config.",
    )


def _config(path: Path) -> AgentConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(
            "\n  ".join([f"{path} is not a valid agent config:", *exc.problems])
        ) from exc


def _stop_event() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
)
@click.option(
    "--log-format",
    default="text",
    show_default=True,
    type=click.Choice(logs.FORMATS),
    envvar="WAREHOUSE_EDGE_LOG_FORMAT",
    help="json: one JSON object per line, with event_id, agent_id and seq as fields.",
)
@click.version_option(package_name="warehouse")
def main(log_level: str, log_format: str) -> None:
    """Warehouse edge agent: reads scanners, keeps every event until the service has it."""
    logs.configure(log_level, log_format)


@main.command()
@config_option()
def run(config_path: Path) -> None:
    """Run the agent until SIGINT or SIGTERM."""
    from warehouse_edge.agent import Agent

    agent = Agent(_config(config_path))
    agent.run(_stop_event())


@main.command("check-config")
@config_option()
def check_config(config_path: Path) -> None:
    """Validate a config file; errors name the field path and the bad value."""
    config = _config(config_path)
    click.echo(
        f"{config_path}: agent {config.agent_id} at site {config.site}, "
        f"{len(config.stations)} stations, {len(config.devices)} devices: OK"
    )


@main.command()
@click.option(
    "--udev",
    is_flag=True,
    help="Print a udev rule for each device instead: a stable /dev/warehouse/ link and its group.",
)
def devices(udev: bool) -> None:
    """List serial ports (with VID/PID/serial and stable by-id names) and input devices."""
    from warehouse_edge.udev import rule

    plugged = _serial_ports(show=not udev) + _input_devices(show=not udev)
    if udev:
        click.echo("# for /etc/udev/rules.d/70-warehouse-edge.rules (see deploy/raspberrypi/)")
        if not plugged:
            click.echo("# no USB serial or input devices are plugged in")
        for found in plugged:
            click.echo(rule(found))


def _serial_ports(*, show: bool) -> list[Any]:
    from warehouse_edge.udev import Plugged

    try:
        from serial.tools import list_ports
    except ImportError:
        click.echo("serial ports: pyserial is not installed (pip install 'warehouse[edge]')")
        return []
    by_id_dir = Path("/dev/serial/by-id")
    by_id = {p.resolve(): p for p in by_id_dir.glob("*")} if by_id_dir.is_dir() else {}
    ports = list(list_ports.comports())
    if show:
        click.echo(f"serial ports ({len(ports)}):")
    out = []
    for port in ports:
        if port.vid is not None and port.pid is not None:
            out.append(
                Plugged("serial", port.device, port.vid, port.pid, port.serial_number,
                        port.description or "")
            )  # fmt: skip
        if show:
            ids = f"{port.vid:04x}:{port.pid:04x}" if port.vid is not None else "-"
            stable = by_id.get(Path(port.device).resolve())
            click.echo(
                f"  {port.device}  {ids}  serial={port.serial_number or '-'}  "
                f"{port.description}" + (f"\n    stable name: {stable}" if stable else "")
            )
    return out


def _input_devices(*, show: bool) -> list[Any]:
    from warehouse_edge.udev import Plugged

    try:
        import evdev
    except ImportError:
        click.echo("input devices: evdev is not installed (Linux: pip install 'warehouse[edge]')")
        return []
    paths = evdev.list_devices()
    if show:
        click.echo(f"input devices ({len(paths)}):")
    out = []
    for path in paths:
        try:
            device = evdev.InputDevice(path)
        except OSError as exc:
            if show:
                click.echo(f"  {path}  (cannot open: {exc.strerror})")
            continue
        info = device.info
        if info.vendor:
            uniq = device.uniq or None
            out.append(Plugged("input", path, info.vendor, info.product, uniq, device.name))
        if show:
            click.echo(
                f"  {path}  {info.vendor:04x}:{info.product:04x}  {device.name}  phys={device.phys}"
            )
    return out


@main.command()
@config_option()
def doctor(config_path: Path) -> None:
    """Probe every configured device (open, then close) and print a status table."""
    from warehouse_drivers import DeviceUnavailable, DriverError, create_driver

    config = _config(config_path)
    rows = [("DEVICE", "DRIVER", "STATION", "STATUS", "DETAIL")]
    failed = 0
    for device in config.devices:
        status, detail = "ok", ""
        try:
            driver = create_driver(device.driver, device.name, **device.params)
            driver.open()
            driver.close()
        except DeviceUnavailable as exc:
            status, detail = "unavailable", str(exc)
        except DriverError as exc:
            status, detail = "error", str(exc)
        except Exception as exc:  # noqa: BLE001 - a probe reports whatever a library raises
            status, detail = "error", f"{type(exc).__name__}: {exc}"
        failed += status != "ok"
        rows.append((device.name, device.driver, device.station, status, detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)))
    for name, _, _, status, detail in rows[1:]:
        if status != "ok":  # the whole error, however long: it is what the operator acts on
            click.echo(f"\n{name}: {detail}")
    if failed:
        raise SystemExit(1)


@main.command()
@config_option()
def outbox(config_path: Path) -> None:
    """Show the outbox: pending events, oldest age, last acknowledged seq, disk use."""
    from warehouse_edge.outbox import Outbox

    config = _config(config_path)
    if not config.outbox.path.exists():
        raise click.ClickException(f"no outbox at {config.outbox.path} yet")
    box = Outbox(config.outbox.path, budget_bytes=int(config.outbox.disk_budget_mb * 1e6))
    try:
        s = box.stats()
    finally:
        box.close()
    age = f"{s.oldest_pending_age_s:.1f} s" if s.oldest_pending_age_s is not None else "-"
    click.echo(
        f"outbox {config.outbox.path}\n  pending          {s.pending}\n"
        f"  oldest pending   {age}\n  last acked seq   {s.last_acked_seq}\n"
        f"  last seq         {s.last_seq}\n"
        f"  disk             {s.used_bytes / 1e6:.1f} of {s.budget_bytes / 1e6:.0f} MB"
    )


@main.command()
@config_option()
@click.option(
    "--script",
    "script_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Lines of 'DELAY_S DEVICE CODE'; # starts a comment.",
)
@click.option(
    "--linger",
    default=5.0,
    show_default=True,
    help="Seconds to keep running after the script, for acks to arrive.",
)
def simulate(config_path: Path, script_path: Path, linger: float) -> None:
    """Run the agent with virtual devices that replay a script of reads."""
    from warehouse_drivers.virtual import VirtualScanner
    from warehouse_edge.agent import Agent

    config = _config(config_path)
    script = _script(script_path, {d.name for d in config.devices})
    drivers = {d.name: VirtualScanner(d.name) for d in config.devices}
    agent = Agent(config, drivers=drivers)  # type: ignore[arg-type]
    stop = _stop_event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    agent.publisher.connected.wait(10)
    for delay, device, code in script:
        if stop.wait(delay):
            break
        drivers[device].inject(code)
    deadline = time.monotonic() + linger
    while not stop.is_set() and time.monotonic() < deadline:
        if agent.outbox.stats().pending == 0:
            break
        time.sleep(0.2)
    stop.set()
    thread.join(15)
    click.echo(f"replayed {len(script)} reads")


@main.command()
@click.option(
    "--can",
    "can_log",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A candump (.log) or Vector ASC (.asc) file.",
)
@config_option(required=False)
@click.option("--station", help="... at this station (default: the first one).")
def replay(can_log: Path, config_path: Path | None, station: str | None) -> None:
    """Feed a CAN log through reassembly, decoding and a station profile; print the outcome."""
    import can

    from warehouse_drivers import Read
    from warehouse_drivers.can.reassembly import Reassembler
    from warehouse_edge.profiles import StationState, interpret

    profile = None
    if config_path is not None:
        config = _config(config_path)
        chosen = config.station(station) if station else config.stations[0]
        profile = (chosen, StationState(chosen.mode), config.rcn_region)
    reassembler = Reassembler("replay")
    counts = {"reads": 0, "rejected": 0}
    for message in can.LogReader(str(can_log)):
        for item in reassembler.frame(
            message.arbitration_id, bytes(message.data), message.timestamp
        ):
            if not isinstance(item, Read):
                counts["rejected"] += 1
                click.echo(f"{item.at:.3f}  REJECTED  {item.reason}: {item.detail}")
                continue
            counts["reads"] += 1
            line = f"{item.at:.3f}  read      {item.data!r}"
            if profile is not None:
                outcome = interpret(profile[0], profile[1], item.data, profile[2])
                messages = ", ".join(m.model_dump_json(exclude_none=True) for m in outcome.messages)
                line += f"\n           {outcome.level}: {messages or outcome.text}"
            click.echo(line)
    click.echo(f"{counts['reads']} reads, {counts['rejected']} rejected")


def _script(path: Path, devices: set[str]) -> list[tuple[float, str, str]]:
    out = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=2)
        if len(parts) != 3:
            raise click.ClickException(f"{path}:{number}: expected 'DELAY_S DEVICE CODE'")
        delay, device, code = parts
        if device not in devices:
            raise click.ClickException(f"{path}:{number}: no device {device!r} in the config")
        try:
            out.append((float(delay), device, code.replace("<GS>", "\x1d")))
        except ValueError:
            raise click.ClickException(
                f"{path}:{number}: delay {delay!r} is not a number"
            ) from None
    return out


if __name__ == "__main__":  # pragma: no cover
    main()
