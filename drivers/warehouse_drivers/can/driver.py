"""Scanners on a CAN bus (python-can, imported when the driver opens): ``socketcan`` on a
Raspberry Pi with an MCP2515 HAT, ``virtual`` in tests. ``udp_multicast`` is refused: it sends
outside the machine."""

from __future__ import annotations

import time
from typing import Any

from warehouse_drivers.base import Driver, Item, RejectedRead
from warehouse_drivers.can.reassembly import Reassembler
from warehouse_drivers.errors import DeviceUnavailable, DriverConfigError, DriverNotInstalled


class CanScanner(Driver):
    """Reads codes from a scanner node; bus errors are reported, and reading goes on."""

    def __init__(
        self,
        name: str,
        interface: str = "socketcan",
        channel: str = "can0",
        bitrate: int | None = None,
        timeout_ms: int = 500,
        **options: Any,
    ) -> None:
        super().__init__(name)
        if options:
            raise DriverConfigError(f"can driver {name}: unknown parameters {sorted(options)}")
        if interface == "udp_multicast":
            raise DriverConfigError(
                "the udp_multicast interface sends outside this machine; "
                "use socketcan, or virtual for tests"
            )
        self.interface, self.channel, self.bitrate = interface, channel, bitrate
        self.reassembler = Reassembler(name, timeout_ms / 1000)
        self._bus: Any = None
        self.bus_errors = 0

    def _open(self) -> None:
        try:
            import can
        except ImportError as exc:
            raise DriverNotInstalled(
                "the can driver needs python-can: pip install 'warehouse[edge]'"
            ) from exc
        kwargs: dict[str, Any] = {"interface": self.interface, "channel": self.channel}
        if self.bitrate:
            kwargs["bitrate"] = self.bitrate
        try:
            self._bus = can.Bus(**kwargs)
        except (can.CanError, OSError, ValueError) as exc:
            raise DeviceUnavailable(
                f"{self.name}: cannot open {self.interface}:{self.channel}: {exc}"
            ) from exc
        self.reassembler = Reassembler(self.name, self.reassembler.timeout_s)

    def _close(self) -> None:
        if self._bus is not None:
            self._bus.shutdown()
            self._bus = None

    def _read_internal(self, timeout: float) -> list[Item]:
        import can

        try:
            message = self._bus.recv(timeout=min(timeout, self.reassembler.timeout_s))
        except can.CanError as exc:  # a receive error is reported; the reader carries on
            self.bus_errors += 1
            return [RejectedRead(self.name, "bus_error", str(exc)[:200], b"", time.time())]
        now = time.time()
        if message is None:
            return list(self.reassembler.expire(now))
        if message.is_error_frame:
            self.bus_errors += 1
            return [RejectedRead(self.name, "bus_error", "error frame", bytes(message.data), now)]
        return list[Item](self.reassembler.frame(message.arbitration_id, bytes(message.data), now))
