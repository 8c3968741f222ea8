"""Who may use the service: ``users``, ``api-keys`` and ``devices`` (brokers.py writes their
broker files).

Passwords are read from a prompt (or ``--password-stdin``), never from an argument, which
would land in the shell's history and in ``ps``. Secrets made here are printed once.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click

from warehouse.cli.root import main, open_service
from warehouse.core.config import Settings

if TYPE_CHECKING:
    from warehouse.access.domain import Grant
    from warehouse.bootstrap import Service

ACTOR = f"cli:{getpass.getuser()}"


@contextmanager
def _service(settings: Settings) -> Iterator[Service]:
    from warehouse.core.errors import DomainError

    service = open_service(settings)
    try:
        yield service
    except DomainError as exc:
        field = f" ({exc.field})" if exc.field else ""
        raise click.ClickException(f"{exc.message}{field}") from exc
    finally:
        service.close()


def _grants(values: tuple[str, ...]) -> tuple[Grant, ...]:
    from warehouse.access.domain import parse_grant

    try:
        return tuple(parse_grant(v) for v in values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--grant") from exc


def _read_password(from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return str(password)


def _now() -> datetime:
    return datetime.now(UTC)


@main.group()
def users() -> None:
    """People who sign in to the API, and their roles per site."""


GRANT_HELP = "ROLE@SITE: cashier, staff, manager or admin at a site code, or at * (every site)."


@users.command("create")
@click.argument("username")
@click.option("--grant", "grants", multiple=True, help=GRANT_HELP + " Repeatable.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def users_create(
    settings: Settings, username: str, grants: tuple[str, ...], password_stdin: bool
) -> None:
    """Create a user. The first admin: `warehouse users create alice --grant admin@*`."""
    from warehouse.access.service import accounts as access

    parsed = _grants(grants)
    password = _read_password(password_stdin)
    with _service(settings) as service:
        user = access.create_user(
            service.uow, service.credentials, username, password, parsed, ACTOR, _now()
        )
    shown = ", ".join(f"{g.role.value}@{g.site}" for g in user.grants) or "no grants yet"
    click.echo(f"user {user.username} created ({shown})")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def users_passwd(settings: Settings, username: str, password_stdin: bool) -> None:
    """Set a user's password; unlocks the account and ends its sessions."""
    from warehouse.access.service import accounts as access

    password = _read_password(password_stdin)
    with _service(settings) as service:
        access.set_password(service.uow, service.credentials, username, password, ACTOR, _now())
    click.echo(f"password of {username} changed; its sessions are ended")


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the user again instead.")
@click.pass_obj
def users_disable(settings: Settings, username: str, enable: bool) -> None:
    """Disable a user (ends its sessions; access tokens run out within their lifetime)."""
    from warehouse.access.service import accounts as access

    with _service(settings) as service:
        access.set_disabled(service.uow, username, not enable, ACTOR, _now())
    click.echo(f"user {username} {'enabled' if enable else 'disabled'}")


@users.command("list")
@click.pass_obj
def users_list(settings: Settings) -> None:
    """Users with their grants and state."""
    from warehouse.access.service import accounts as access

    with _service(settings) as service:
        found = access.list_users(service.uow)
    now = _now()
    for user in found:
        state = "disabled" if user.disabled else "active"
        if user.locked_until and user.locked_until > now:
            state += f", locked until {user.locked_until:%Y-%m-%d %H:%M:%S}Z"
        grants = " ".join(f"{g.role.value}@{g.site}" for g in user.grants) or "-"
        click.echo(f"{user.username:<24} {state:<12} {grants}")
    if not found:
        click.echo("no users yet: warehouse users create NAME --grant admin@*")


def _grant_command(add: bool) -> click.Command:
    @click.argument("username")
    @click.argument("grant")
    @click.pass_obj
    def command(settings: Settings, username: str, grant: str) -> None:
        from warehouse.access.service import accounts as access

        (parsed,) = _grants((grant,))
        with _service(settings) as service:
            changed = access.change_grant(
                service.uow, username, parsed, add=add, actor=ACTOR, now=_now()
            )
        verb = "granted to" if add else "revoked from"
        click.echo(f"{grant} {verb} {username}" if changed else "nothing to change")

    command.__doc__ = (
        "Grant a role at a site: `warehouse users grant bob manager@ST1`."
        if add
        else "Revoke a role at a site (ends the user's sessions)."
    )
    return click.command("grant" if add else "revoke")(command)


users.add_command(_grant_command(True))
users.add_command(_grant_command(False))


@main.group("api-keys")
def api_keys() -> None:
    """Keys for integrations: scoped to roles per site, with an expiry."""


@api_keys.command("create")
@click.argument("name")
@click.option("--grant", "grants", multiple=True, required=True, help=GRANT_HELP)
@click.option("--expires-days", type=click.FloatRange(min=0, min_open=True), help="Default: never.")
@click.pass_obj
def api_keys_create(
    settings: Settings, name: str, grants: tuple[str, ...], expires_days: float | None
) -> None:
    """Create a key; it is printed once, and only its hash is kept."""
    from warehouse.access.service import accounts as access

    parsed = _grants(grants)
    now = _now()
    expires = now + timedelta(days=expires_days) if expires_days else None
    with _service(settings) as service:
        record, secret = access.create_api_key(
            service.uow, service.credentials, name, parsed, expires, ACTOR, now
        )
    click.echo(f"key {record.id} ({name}) created; it is shown only now:", err=True)
    click.echo(secret)


@api_keys.command("list")
@click.pass_obj
def api_keys_list(settings: Settings) -> None:
    """Keys with their grants, expiry and last use (never their secrets)."""
    from warehouse.access.service import accounts as access

    with _service(settings) as service:
        keys = access.list_api_keys(service.uow)
    for key in keys:
        state = "revoked" if key.revoked_at else "active"
        expires = f"{key.expires_at:%Y-%m-%d}" if key.expires_at else "never"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}Z" if key.last_used_at else "never"
        grants = " ".join(f"{g.role.value}@{g.site}" for g in key.grants)
        click.echo(
            f"{key.id}  {key.name:<20} {state:<8} expires {expires:<10} used {used:<17} {grants}"
        )
    if not keys:
        click.echo("no API keys")


@api_keys.command("revoke")
@click.argument("key_id")
@click.pass_obj
def api_keys_revoke(settings: Settings, key_id: str) -> None:
    """Revoke a key by its id (the part after whk_ and before the dot). Running API processes
    refuse it within WAREHOUSE_API_KEY_RECHECK_S (5 s)."""
    from warehouse.access.service import accounts as access

    with _service(settings) as service:
        access.revoke_api_key(service.uow, key_id, ACTOR, _now())
    click.echo(
        f"key {key_id} revoked; running API processes refuse it within "
        f"{settings.api_key_recheck_s:g} s"
    )


@main.group()
def devices() -> None:
    """Edge agents allowed to publish, and their MQTT credentials."""


@devices.command("register")
@click.argument("agent_id")
@click.option("--site", required=True, help="The site the agent publishes for.")
@click.pass_obj
def devices_register(settings: Settings, agent_id: str, site: str) -> None:
    """Register an agent and print its MQTT password once (then run `warehouse mqtt
    export-acl` and reload Mosquitto)."""
    from warehouse.access.service import devices as registry
    from warehouse.contracts.topics import is_level

    for value, name in ((agent_id, "AGENT_ID"), (site, "--site")):
        if not is_level(value):
            raise click.BadParameter(
                f"{value!r}: letters, digits, '_', '.', '-', at most 64, starting with a letter "
                "or digit (one MQTT topic level)",
                param_hint=name,
            )
    with _service(settings) as service:
        _, password = registry.register_device(
            service.uow, service.credentials, agent_id, site, ACTOR, _now()
        )
    click.echo(f"agent {agent_id} registered at {site}. Its MQTT login, shown only now:", err=True)
    click.echo(f"username = {agent_id}")
    click.echo(f"password = {password}")


@devices.command("list")
@click.pass_obj
def devices_list(settings: Settings) -> None:
    """Registered agents."""
    from warehouse.access.service import devices as registry

    with _service(settings) as service:
        found = registry.list_devices(service.uow)
    for d in found:
        state = f"revoked {d.revoked_at:%Y-%m-%d}" if d.revoked_at else "active"
        click.echo(f"{d.agent_id:<24} {d.site:<12} {state:<18} by {d.created_by}")
    if not found:
        click.echo("no devices registered: warehouse devices register AGENT_ID --site SITE")


@devices.command("revoke")
@click.argument("agent_id")
@click.pass_obj
def devices_revoke(settings: Settings, agent_id: str) -> None:
    """Revoke an agent: its events are rejected (unknown_agent) and the next export leaves it
    out of the broker's files."""
    from warehouse.access.service import devices as registry

    with _service(settings) as service:
        registry.revoke_device(service.uow, agent_id, ACTOR, _now())
    click.echo(f"agent {agent_id} revoked; run `warehouse mqtt export-acl` and reload Mosquitto")
