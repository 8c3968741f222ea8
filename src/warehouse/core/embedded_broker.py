"""An in-process MQTT 3.1.1 broker (amqtt) for the demo: no Mosquitto needed on a laptop.

amqtt 0.12 sends a client, each time it connects, the retained messages matching *every* topic
filter any client of the broker holds (``Broker.client_connected`` walks the broker-wide
``_subscriptions``), so a ``mosquitto_sub -t nothing/matches`` got the agents' retained status
messages. :func:`_broker_class` narrows that to the filters the connecting session holds itself,
which is what MQTT 3.1.1 section 3.3.1.3 asks; a SUBSCRIBE still gets its own retained messages.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedBroker:
    """amqtt running on its own event loop in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        broker = _broker_class()(self._config(), loop=self._loop)
        try:
            self._loop.run_until_complete(broker.start())
        except BaseException as exc:  # noqa: BLE001 - reported to start(), which raises it in the caller
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(broker.shutdown())
        self._loop.close()

    def start(self, timeout: float = 10.0) -> None:
        """Start listening; raise if the broker cannot bind its port."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the embedded broker did not start within {timeout}s")
        if self._error is not None:
            raise RuntimeError(
                f"the embedded broker could not start on {self.host}:{self.port}: {self._error}"
            ) from self._error
        log.info("embedded MQTT broker listening on %s:%s", self.host, self.port)

    def stop(self) -> None:
        """Shut the broker down and wait for its thread."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


def _broker_class() -> type[Any]:
    """amqtt's Broker, sending retained messages only for the session's own subscriptions."""
    from amqtt.broker import Broker  # lazily: only the demo needs amqtt

    class OwnRetainedBroker(Broker):  # type: ignore[misc]
        async def _publish_retained_messages_for_subscription(
            self, subscription: tuple[str, int], session: Any
        ) -> None:
            holders = self._subscriptions.get(subscription[0], [])
            if any(held is session for held, _qos in holders):
                await super()._publish_retained_messages_for_subscription(subscription, session)

    return OwnRetainedBroker
