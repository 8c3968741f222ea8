"""paho-mqtt clients from a URL, with callbacks that never kill the network thread."""

from __future__ import annotations

import functools
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where a broker is and how to log in."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Parse ``mqtt://user:pass@host:port`` (``mqtts://`` for TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"MQTT URL {url!r}: scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise ValueError(f"MQTT URL {url!r} names no host")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def never_raise(func: F) -> F:
    """Log and swallow any exception: an exception in a paho callback stops its network loop."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception:  # a bare except is right here: the loop must keep running
            log.exception("MQTT callback %s failed", func.__name__)
            return None

    return wrapper  # type: ignore[return-value]


def make_client(
    client_id: str,
    address: BrokerAddress,
    *,
    protocol: str = "5",
    ca_file: Path | None = None,
) -> mqtt.Client:
    """A paho client for MQTT 5 (or 3.1.1), logged in and with TLS when the URL asks for it."""
    version = mqtt.MQTTv5 if protocol == "5" else mqtt.MQTTv311
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=version,
        clean_session=None if version == mqtt.MQTTv5 else True,
    )
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        client.tls_set_context(context)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def connect_properties(session_expiry: int = 0) -> Properties | None:
    """CONNECT properties for MQTT 5: the session ends when the connection does."""
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = session_expiry
    return props


def connect(client: mqtt.Client, address: BrokerAddress, *, keepalive: int = 30) -> None:
    """Start connecting in the background (``loop_start`` must follow); reconnects by itself."""
    if client.protocol == mqtt.MQTTv5:
        client.connect_async(
            address.host, address.port, keepalive, clean_start=True, properties=connect_properties()
        )
    else:
        client.connect_async(address.host, address.port, keepalive)
