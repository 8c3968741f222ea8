"""UHF RFID readers over LLRP (EPCglobal Low Level Reader Protocol 1.0.1, TCP port 5084).

sllurp encodes and decodes the LLRP messages; this driver owns the connection. It connects,
waits for the reader's connection event, sets keepalives, replaces any ROSpec with its own
(the configured antennas, Gen2 session and tag population; every tag report carries
AntennaID and PeakRSSI), starts it and turns each TagReportData into a :class:`TagReport`.

Faults it survives (docs/decisions.md says why sllurp's own client is not used for this):

- a message split across TCP segments, or several in one: reassembled by the header's length;
- a message whose body does not decode: a rejected read with the reason, then the next message;
- a header that cannot be right (bad version, length < 10 or > 1 MB): the stream cannot be
  trusted past it, so the reader is reported unavailable and the supervisor reconnects;
- a reader that goes silent for three keepalive periods, or closes the connection: the same.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import struct
import time
from collections.abc import Sequence
from typing import Any

from warehouse_drivers.base import Driver, Item, RejectedRead, TagReport
from warehouse_drivers.errors import DeviceUnavailable, DriverConfigError, DriverNotInstalled

log = logging.getLogger(__name__)

HEADER = struct.Struct(">HII")  # 3 reserved bits, 3 version bits, 10 type bits; length; id
MAX_MESSAGE = 1 << 20
ROSPEC_ID = 1
VERSIONS = (1, 2)


class LlrpReader(Driver):
    """Tag reports from an LLRP reader (Impinj, Zebra, ThingMagic and others)."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int = 5084,
        antennas: Sequence[int] = (1,),
        session: int = 1,
        tag_population: int = 16,
        tx_power_index: int = 0,
        report_every_n_tags: int = 1,
        keepalive_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        **options: Any,
    ) -> None:
        super().__init__(name)
        if options:
            raise DriverConfigError(f"llrp driver {name}: unknown parameters {sorted(options)}")
        if not antennas or any(not 1 <= a <= 65535 for a in antennas):
            raise DriverConfigError(
                f"llrp driver {name}: antennas must be 1..65535, not {antennas}"
            )
        if session not in (0, 1, 2, 3):
            raise DriverConfigError(f"llrp driver {name}: session must be 0-3, not {session}")
        if report_every_n_tags < 1 or keepalive_s <= 0 or tx_power_index < 0:
            raise DriverConfigError(
                f"llrp driver {name}: report_every_n_tags >= 1, keepalive_s > 0 and "
                "tx_power_index >= 0 (0 keeps the reader's own power setting)"
            )
        self.host, self.port = host, port
        self.antennas = tuple(antennas)
        self.session, self.tag_population = session, tag_population
        self.tx_power_index, self.report_every_n_tags = tx_power_index, report_every_n_tags
        self.keepalive_s, self.connect_timeout_s = keepalive_s, connect_timeout_s
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._broken: str | None = None
        self._last_heard = 0.0
        self._next_id = 1

    # --- connection ----------------------------------------------------------------------

    def _open(self) -> None:
        try:
            import sllurp.llrp  # noqa: F401
        except ImportError as exc:
            raise DriverNotInstalled(
                "the llrp driver needs sllurp: pip install 'warehouse[edge]'"
            ) from exc
        where = f"{self.host}:{self.port}"
        try:
            self._sock = socket.create_connection((self.host, self.port), self.connect_timeout_s)
        except OSError as exc:
            raise DeviceUnavailable(f"{self.name}: cannot connect to {where}: {exc}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self._buffer.clear()
        self._broken = None
        self._last_heard = time.monotonic()
        try:
            self._start_inventory()
        except DeviceUnavailable:
            self._drop()
            raise
        except OSError as exc:
            self._drop()
            raise DeviceUnavailable(f"{self.name}: {where}: {exc}") from exc
        log.info("%s: inventory running on %s, antennas %s", self.name, where, self.antennas)

    def _start_inventory(self) -> None:
        event = self._await("READER_EVENT_NOTIFICATION")
        attempt = event.get("ReaderEventNotificationData", {}).get("ConnectionAttemptEvent")
        status = (attempt or {}).get("Status")
        if status != "Success":
            raise DeviceUnavailable(f"{self.name}: the reader refused the connection: {status}")
        self._request("SET_READER_CONFIG", self._reader_config())
        self._request("DELETE_ROSPEC", {"ROSpecID": 0})  # whatever an earlier client left
        self._request("ADD_ROSPEC", {"ROSpecID": ROSPEC_ID, "ROSpec": self._rospec()})
        self._request("ENABLE_ROSPEC", {"ROSpecID": ROSPEC_ID})
        self._request("START_ROSPEC", {"ROSpecID": ROSPEC_ID})

    def _close(self) -> None:
        if self._sock is not None and self._broken is None:
            with contextlib.suppress(OSError):  # polite, best effort: the reader may be gone
                self._send("DELETE_ROSPEC", {"ROSpecID": ROSPEC_ID})
                self._send("CLOSE_CONNECTION", {})
        self._drop()

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _reader_config(self) -> dict[str, Any]:
        events = dict.fromkeys(
            (
                "HoppingEvent",
                "GPIEvent",
                "ROSpecEvent",
                "ReportBufferFillWarning",
                "RFSurveyEvent",
                "AISpecEvent",
                "AISpecEventWithSingulation",
            ),
            False,
        )
        events |= {"ReaderExceptionEvent": True, "AntennaEvent": True}
        return {
            "ResetToFactoryDefaults": False,
            "ReaderEventNotificationSpec": {"EventNotificationState": events},
            "KeepaliveSpec": {
                "KeepaliveTriggerType": 1,  # periodic
                "TimeInterval": int(self.keepalive_s * 1000),
            },
        }

    def _rospec(self) -> dict[str, Any]:
        from sllurp.llrp_proto import LLRPROSpec

        rospec: dict[str, Any] = LLRPROSpec(
            None,
            ROSPEC_ID,
            antennas=self.antennas,
            tx_power=self.tx_power_index,
            session=self.session,
            tag_population=self.tag_population,
            tag_content_selector={"EnableAntennaID": True, "EnablePeakRSSI": True},
        )
        rospec["ROBoundarySpec"]["ROSpecStartTrigger"] = {"ROSpecStartTriggerType": "Null"}
        rospec["ROReportSpec"]["N"] = self.report_every_n_tags  # report as tags are seen
        if not self.tx_power_index:  # 0 is no index: keep the reader's configured power
            for config in rospec["AISpec"][0]["InventoryParameterSpec"][0]["AntennaConfiguration"]:
                config.pop("RFTransmitter", None)
        return rospec

    # --- messages ------------------------------------------------------------------------

    def _send(self, name: str, body: dict[str, Any], message_id: int | None = None) -> None:
        from sllurp.llrp import LLRPMessage

        if message_id is None:
            message_id, self._next_id = self._next_id, self._next_id + 1
        assert self._sock is not None
        self._sock.sendall(LLRPMessage(msgdict={name: {**body, "ID": message_id}}).msgbytes)

    def _request(self, name: str, body: dict[str, Any]) -> None:
        """Send a request and wait for its response; a failure names the reader's reason."""
        self._send(name, body)
        response = self._await(f"{name}_RESPONSE")
        status = response.get("LLRPStatus", {})
        if status.get("StatusCode") != "Success":
            why = bytes(status.get("ErrorDescription") or b"").decode("utf-8", "replace")
            raise DeviceUnavailable(
                f"{self.name}: the reader refused {name}: {status.get('StatusCode')} {why}".strip()
            )

    def _await(self, wanted: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.connect_timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeviceUnavailable(f"{self.name}: no {wanted} from the reader in time")
            for frame in self._receive(remaining):
                if isinstance(frame, RejectedRead):
                    self._pending.append(frame)
                    continue
                name, body = frame
                if name == wanted:
                    return body
                self._pending.extend(self._dispatch(name, body))
            if self._broken:
                raise DeviceUnavailable(f"{self.name}: {self._broken}")

    def _read_internal(self, timeout: float) -> list[Item]:
        if self._broken:
            raise DeviceUnavailable(f"{self.name}: {self._broken}; reconnecting")
        silent = time.monotonic() - self._last_heard
        if silent > 3 * self.keepalive_s:
            raise DeviceUnavailable(
                f"{self.name}: nothing from the reader for {silent:.0f} s; reconnecting"
            )
        items: list[Item] = []
        for frame in self._receive(min(timeout, self.keepalive_s)):
            if isinstance(frame, RejectedRead):
                items.append(frame)
            else:
                items.extend(self._dispatch(*frame))
        return items

    def _receive(self, timeout: float) -> list[tuple[str, dict[str, Any]] | RejectedRead]:
        """Whatever complete messages arrive within ``timeout``, decoded."""
        assert self._sock is not None
        readable, _, _ = select.select([self._sock], [], [], max(0.0, timeout))
        if not readable:
            return []
        try:
            chunk = self._sock.recv(65536)
        except OSError as exc:
            raise DeviceUnavailable(f"{self.name}: connection lost: {exc}") from exc
        if not chunk:
            raise DeviceUnavailable(f"{self.name}: the reader closed the connection")
        self._last_heard = time.monotonic()
        self._buffer += chunk
        frames: list[tuple[str, dict[str, Any]] | RejectedRead] = []
        while len(self._buffer) >= HEADER.size and not self._broken:
            word, length, message_id = HEADER.unpack_from(self._buffer)
            version, kind = (word >> 10) & 0x7, word & 0x3FF
            if word >> 13 or version not in VERSIONS or not HEADER.size <= length <= MAX_MESSAGE:
                self._broken = (
                    f"corrupt LLRP header {bytes(self._buffer[:10]).hex()} "
                    f"(version {version}, type {kind}, length {length})"
                )
                frames.append(self._rejected("corrupt_stream", self._broken, self._buffer))
                break
            if len(self._buffer) < length:
                break  # the rest of the message is still on its way
            raw = bytes(self._buffer[:length])
            del self._buffer[:length]
            frames.append(self._decode(raw, kind, message_id))
        return frames

    def _decode(
        self, raw: bytes, kind: int, message_id: int
    ) -> tuple[str, dict[str, Any]] | RejectedRead:
        from sllurp.llrp import LLRPMessage

        try:
            message = LLRPMessage(msgbytes=raw)
            name = str(message.msgname)
            body = message.msgdict[name]
        except Exception as exc:  # noqa: BLE001 - sllurp raises LLRPError, struct.error, KeyError...
            return self._rejected(
                "corrupt_message", f"LLRP message type {kind} id {message_id}: {exc}", raw
            )
        return name, body

    def _rejected(self, reason: str, detail: str, raw: bytes | bytearray) -> RejectedRead:
        log.warning("%s: %s", self.name, detail)
        return RejectedRead(self.name, reason, detail[:300], bytes(raw[:64]), time.time())

    def _dispatch(self, name: str, body: dict[str, Any]) -> list[Item]:
        if name == "RO_ACCESS_REPORT":
            reports = body.get("TagReportData") or []
            return [self._tag(r) for r in (reports if isinstance(reports, list) else [reports])]
        if name == "KEEPALIVE":
            self._send("KEEPALIVE_ACK", {}, body.get("ID", 0))
        elif name == "READER_EVENT_NOTIFICATION":
            data = body.get("ReaderEventNotificationData", {})
            if "ConnectionCloseEvent" in data:
                raise DeviceUnavailable(f"{self.name}: the reader is closing the connection")
            for event in ("ReaderExceptionEvent", "AntennaEvent"):
                if event in data:
                    log.warning("%s: %s %s", self.name, event, data[event])
        elif name == "ERROR_MESSAGE" or name.endswith("_RESPONSE"):
            status = body.get("LLRPStatus", {})
            if status.get("StatusCode") != "Success":
                log.warning("%s: %s from the reader: %s", self.name, name, status)
        return []

    def _tag(self, report: dict[str, Any]) -> Item:
        epc = report.get("EPC")
        now = time.time()
        raw = repr(report).encode()[:64]
        if not isinstance(epc, bytes | str) or not epc:
            return self._rejected("corrupt_message", f"tag report without an EPC: {report}", raw)
        epc_hex = epc.decode("ascii") if isinstance(epc, bytes) else epc
        if "EPC-96" in report and len(epc_hex) != 24:
            return self._rejected(
                "corrupt_message", f"EPC-96 parameter holding {len(epc_hex) * 4} bits", raw
            )
        antenna = int(report.get("AntennaID") or 0)
        rssi = float(report.get("PeakRSSI", 0))  # absent only if the reader ignores the spec
        # the agent's clock, not the reader's: presence timing compares against it
        return TagReport(self.name, epc_hex.upper(), antenna, rssi, now)
