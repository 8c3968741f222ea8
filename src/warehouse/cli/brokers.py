"""The brokers' side of device identities: ``mqtt export-acl`` for Mosquitto, ``nats export``
for a NATS cluster. Both write files the broker reads, whole or not at all, readable by the
broker's group only."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import click

from warehouse.cli.access import _service
from warehouse.cli.root import main
from warehouse.core.config import Settings

F = TypeVar("F", bound=Callable[..., Any])


def _service_password(settings_url: str, password_file: Path | None) -> str:
    """The service user's password: from the file, else the URL's; a usage error if neither."""
    if password_file is not None:
        password = password_file.read_text().strip()
    else:
        password = unquote(urlsplit(settings_url.split(",", maxsplit=1)[0]).password or "")
    if not password:
        raise click.UsageError(
            "the service user needs a password: --service-password-file, or put it in the URL "
            "(WAREHOUSE_MQTT_URL=mqtt://USER:PASSWORD@host, WAREHOUSE_NATS_URL=nats://USER:PASSWORD@host)"
        )
    return password


def _export_options(broker: str, group: str, why: str) -> Callable[[F], F]:
    """The options both exports take: the directory, the ingest user, its password, the
    broker's group."""

    def decorate(command: F) -> F:
        for option in reversed((
            click.argument("directory", type=click.Path(file_okay=False, path_type=Path)),
            click.option("--service-user", default="warehouse-ingest", show_default=True,
                         help=f"The ingest workers' {broker} username."),
            click.option("--service-password-file",
                         type=click.Path(exists=True, dir_okay=False, path_type=Path),
                         help=f"A file holding the ingest workers' {broker} password (default: "
                         f"the password in WAREHOUSE_{broker}_URL)."),
            click.option("--group", default=group, show_default=True,
                         help=f"The broker's group: the files are written readable by it "
                         f"(0640), {why}. '' keeps them readable by their owner only."),
        )):  # fmt: skip
            command = option(command)
        return command

    return decorate


@main.group()
def mqtt() -> None:
    """The broker's side of device identities."""


@mqtt.command("export-acl")
@_export_options("MQTT", "mosquitto", "since Mosquitto reads them after dropping to its own user")
@click.pass_obj
def mqtt_export_acl(
    settings: Settings,
    directory: Path,
    service_user: str,
    service_password_file: Path | None,
    group: str,
) -> None:
    """Write DIRECTORY/passwd (mosquitto_passwd's format) and DIRECTORY/acl for Mosquitto:
    each registered agent may publish only its own events and status and read only its own
    commands and acks; the ingest user reads every events and status topic and writes acks
    and commands. Point mosquitto.conf's password_file and acl_file at them."""
    from warehouse.access.adapters.broker_files import acl_file, password_file
    from warehouse.access.service import devices as registry

    service_password = _service_password(settings.mqtt_url, service_password_file)
    with _service(settings) as service:
        found = [d for d in registry.list_devices(service.uow) if d.revoked_at is None]
        service_hash = service.credentials.mosquitto_hash(service_password)
    _write_files(
        directory,
        group,
        {
            "passwd": password_file(found, service_user, service_hash),
            "acl": acl_file(found, service_user),
        },
    )
    readable = f", readable by group {group}" if group else ""
    click.echo(
        f"{directory}/passwd and {directory}/acl: {len(found)} agents and {service_user}{readable}"
    )


@main.group()
def nats() -> None:
    """A NATS cluster carrying the devices' MQTT (docs/scaling.md)."""


@nats.command("export")
@_export_options("NATS", "nats", "the group nats-server runs as")
@click.option(
    "--leaf-password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file holding the password stores' leaf nodes log in with (leafnodes.conf; without "
    "it, a password nobody knows: no leaf node gets in).",
)
@click.pass_obj
def nats_export(
    settings: Settings,
    directory: Path,
    service_user: str,
    service_password_file: Path | None,
    leaf_password_file: Path | None,
    group: str,
) -> None:
    """Write DIRECTORY/users.conf (every registered agent as a NATS user that may connect over
    MQTT only, publish only its own events and status and receive only its own acks and
    commands; the ingest user) and DIRECTORY/mappings.conf (the partitions of the ingest
    stream, WAREHOUSE_NATS_PARTITIONS) and DIRECTORY/leafnodes.conf (stores' leaf nodes'
    login). deploy/server/nats/warehouse.conf includes them: copy the directory to every node
    (and the first two to every store's leaf node) and reload. Agents registered before this
    release have no NATS password yet: revoke and register them again."""
    from warehouse.access.adapters.nats_files import leafnodes_conf, mappings_conf, users_conf
    from warehouse.access.service import devices as registry
    from warehouse.contracts.topics import nats_level

    service_password = _service_password(settings.nats_url, service_password_file)
    with _service(settings) as service:
        found = [d for d in registry.list_devices(service.uow) if d.revoked_at is None]
        service_hash = service.credentials.nats_hash(service_password)
        leaf_password = (
            leaf_password_file.read_text().strip()
            if leaf_password_file
            else service.credentials.random_secret()
        )
        leaf_hash = service.credentials.nats_hash(leaf_password)
    for device in found:
        if device.nats_password_hash is None:
            click.echo(
                f"agent {device.agent_id}: no NATS password yet; register it again", err=True
            )
        elif not (nats_level(device.agent_id) and nats_level(device.site)):
            click.echo(
                f"agent {device.agent_id} at {device.site}: nats-server refuses '.' in MQTT "
                "topics; left out",
                err=True,
            )
    usable = [
        d
        for d in found
        if d.nats_password_hash is not None and nats_level(d.agent_id) and nats_level(d.site)
    ]
    _write_files(
        directory,
        group,
        {
            "users.conf": users_conf(usable, service_user, service_hash),
            "mappings.conf": mappings_conf(settings.nats_partitions),
            "leafnodes.conf": leafnodes_conf(leaf_hash),
        },
    )
    click.echo(
        f"{directory}/users.conf, mappings.conf and leafnodes.conf: {len(usable)} of "
        f"{len(found)} agents, {service_user}, {settings.nats_partitions} partitions"
        + ("" if leaf_password_file else ", no leaf nodes (--leaf-password-file)")
    )


def _write_files(directory: Path, group: str, files: dict[str, str]) -> None:
    """Each file written whole (a temporary file renamed), readable by the broker's group."""
    gid = _group_id(group)
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o750 if gid is not None else 0o700)
        _give(directory, gid, group)
    for name, text in files.items():
        path = directory / name
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        _give(tmp, gid, group)
        if gid is not None:
            tmp.chmod(0o640)
        tmp.replace(path)


def _group_id(group: str) -> int | None:
    """The broker group's id (None for ''), or a one-line error naming the option."""
    import grp

    if not group:
        return None
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise click.UsageError(
            f"there is no group {group!r} here: give the broker's group with --group "
            "(Debian's mosquitto runs as mosquitto), or --group '' for files only their owner "
            "reads",
        ) from None


def _give(path: Path, gid: int | None, group: str) -> None:
    """Hand ``path`` to the broker's group (its owner stays)."""
    if gid is None:
        return
    try:
        os.chown(path, -1, gid)
    except PermissionError:
        raise click.ClickException(
            f"cannot give {path} to group {group}: run this as root or as a member of {group}"
        ) from None
