"""Mosquitto's password and ACL files for the registered devices and the ingest user.

The password file is what ``mosquitto_passwd`` writes (``user:$7$…``, PBKDF2-SHA512); the ACL
file gives each agent exactly its own four topics of the contract and the ingest user the
service's side of all of them. Anonymous clients are refused by mosquitto.conf
(``allow_anonymous false``, docs/security.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from warehouse.access.service.ports import DeviceRecord
from warehouse.contracts.topics import PREFIX


def password_file(devices: Sequence[DeviceRecord], service_user: str, service_hash: str) -> str:
    """``username:hash`` lines: the ingest user, then every device."""
    lines = [f"{service_user}:{service_hash}"]
    lines += [f"{d.agent_id}:{d.password_hash}" for d in devices]
    return "\n".join(lines) + "\n"


def acl_file(devices: Sequence[DeviceRecord], service_user: str) -> str:
    """Topic rules per user (Mosquitto checks a shared subscription's topic filter without its
    ``$share/GROUP/`` prefix)."""
    out = [
        "# Written by `warehouse mqtt export-acl`; regenerate it rather than editing it.",
        "",
        f"user {service_user}",
        f"topic read {PREFIX}/+/+/events",
        f"topic read {PREFIX}/+/+/status",
        f"topic write {PREFIX}/+/+/acks",
        f"topic write {PREFIX}/+/+/commands",
    ]
    for d in devices:
        base = f"{PREFIX}/{d.site}/{d.agent_id}"
        out += [
            "",
            f"user {d.agent_id}",
            f"topic write {base}/events",
            f"topic write {base}/status",
            f"topic read {base}/commands",
            f"topic read {base}/acks",
        ]
    return "\n".join(out) + "\n"
