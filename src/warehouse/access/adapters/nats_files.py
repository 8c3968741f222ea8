"""nats-server configuration for a cluster that carries the devices' MQTT: the users with their
permissions, and the account mappings that partition the ingest stream.

Each device may connect over MQTT only (``allowed_connection_types``: on the NATS port it could
otherwise subscribe to ``$MQTT.sub.>``, where the server delivers every client's QoS 1
messages), publish only its own events and status (as the mappings rewrite them: the server
checks the rewritten subject) and receive only its own acks and commands. Its password is the
bcrypt hash made when it was registered; nats-server reads no other hash. Anonymous clients
are refused: a server with users lets in no one else. The ingest user is the service: it may do
anything (it creates the stream, the consumers and the lease bucket).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from warehouse.access.service.ports import DeviceRecord
from warehouse.contracts.topics import NATS_INGEST, nats_mappings

HEADER = "# Written by `warehouse nats export`; regenerate it rather than editing it.\n"


def _value(text: str) -> str:
    return json.dumps(text)  # a quoted string nats-server's config parser reads as is


def device_permissions(site: str, agent_id: str) -> dict[str, object]:
    """What one device may publish and subscribe to."""
    base = f"warehouse.v1.{site}.{agent_id}"
    return {
        "publish": {
            "allow": [f"{NATS_INGEST}.*.{site}.{agent_id}.{c}" for c in ("events", "status")]
        },
        # QoS 1 subscriptions are JetStream consumers delivering on $MQTT.sub.<id>; over MQTT
        # a client cannot subscribe to $MQTT topics itself
        "subscribe": {"allow": [f"{base}.acks", f"{base}.commands", "$MQTT.sub.>"]},
    }


def users_conf(devices: Sequence[DeviceRecord], service_user: str, service_hash: str) -> str:
    """An ``authorization`` block: the ingest user, then each device with a NATS password."""
    users = [f"    {{user: {_value(service_user)}, password: {_value(service_hash)}}}"]
    for d in devices:
        if d.nats_password_hash is None:
            continue
        permissions = json.dumps(device_permissions(d.site, d.agent_id))
        users.append(
            f"    {{user: {_value(d.agent_id)}, password: {_value(d.nats_password_hash)}, "
            f'allowed_connection_types: ["MQTT"], permissions: {permissions}}}'
        )
    return HEADER + "authorization {\n  users = [\n" + "\n".join(users) + "\n  ]\n}\n"


def leafnodes_conf(password_hash: str) -> str:
    """The leaf nodes' login, inside the cluster's ``leafnodes`` block."""
    return HEADER + f"authorization {{ user: store, password: {_value(password_hash)} }}\n"


def mappings_conf(partitions: int) -> str:
    """The account mappings (the same partition count as WAREHOUSE_NATS_PARTITIONS)."""
    lines = [f"  {_value(src)}: {_value(dest)}" for src, dest in nats_mappings(partitions).items()]
    return HEADER + "mappings = {\n" + "\n".join(lines) + "\n}\n"
