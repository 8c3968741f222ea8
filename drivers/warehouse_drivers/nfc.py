"""NFC readers (nfcpy, imported when the driver opens; NDEF parsed by ndeflib through nfcpy).

``path`` is an nfcpy device path: ``usb`` (the first USB reader), ``usb:072f:2200`` (by vendor
and product id), ``tty:AMA0:pn532`` (a PN532 on the Pi's UART), or ``udp:127.0.0.1:54321`` (a
simulated reader for tests). One presentation of a tag gives exactly one read: after a tag
is read, the driver only checks that it is still in the field, and reads again once it has
left. The read's ``data`` is what the tag says, in this order of preference:

1. the first URI record (a GS1 Digital Link URI decodes to GTIN and serial downstream),
2. the first text record (``LOC:WH1-A-01`` on a bin tag sets the station's location),
3. the URI of the first smart poster record,
4. otherwise the tag's UID in upper-case hex.

``uid`` always carries the UID, ``records`` every record of the message. The tag's octets are
decoded strictly (decoding/ndef.py): a malformed message is a rejected read
(``malformed_ndef``) with the reason, as is a tag that leaves the field before its NDEF data
was read (``tag_left``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from warehouse_drivers.base import Driver, Item, Read, RejectedRead
from warehouse_drivers.decoding.ndef import NdefRecord, decode_ndef, preferred
from warehouse_drivers.decoding.results import DecodeError
from warehouse_drivers.errors import DeviceUnavailable, DriverConfigError, DriverNotInstalled

log = logging.getLogger(__name__)

#: nfcpy technology names: 106 kbit/s type A (Type 2/4 tags, MIFARE), type B, 212 kbit/s FeliCa.
TECHNOLOGIES = ("106A", "106B", "212F", "424F")
#: times a tag still in the field is read before "no NDEF message" is believed
NDEF_ATTEMPTS = 3


class NfcReader(Driver):
    """Tags on an nfcpy-supported reader: one :class:`Read` per tag presentation."""

    def __init__(
        self,
        name: str,
        path: str = "usb",
        targets: Sequence[str] = ("106A", "106B", "212F"),
        presence_interval_ms: int = 100,
        **options: Any,
    ) -> None:
        super().__init__(name)
        if options:
            raise DriverConfigError(f"nfc driver {name}: unknown parameters {sorted(options)}")
        unknown = [t for t in targets if t not in TECHNOLOGIES]
        if unknown or not targets:
            raise DriverConfigError(
                f"nfc driver {name}: targets must be some of {', '.join(TECHNOLOGIES)}, "
                f"not {list(targets)}"
            )
        if not path.startswith(("usb", "tty:", "udp")):
            raise DriverConfigError(
                f"nfc driver {name}: path must start with usb, tty: or udp:, not {path!r}"
            )
        self.path = path
        self.targets = tuple(targets)
        self.presence_interval_s = presence_interval_ms / 1000
        self._clf: Any = None
        self._tag: Any = None  # the tag in the field, already read

    def _open(self) -> None:
        try:
            import nfc
        except ImportError as exc:
            raise DriverNotInstalled(
                "the nfc driver needs nfcpy: pip install 'warehouse[edge]'"
            ) from exc
        clf = nfc.ContactlessFrontend()
        try:
            found = clf.open(self.path)
        except OSError as exc:
            raise DeviceUnavailable(f"{self.name}: cannot open {self.path}: {exc}") from exc
        if not found:
            raise DeviceUnavailable(f"{self.name}: no NFC reader found on {self.path}")
        self._clf, self._tag = clf, None

    def _close(self) -> None:
        clf, self._clf, self._tag = self._clf, None, None
        if clf is not None:
            with contextlib.suppress(OSError):  # the reader is already gone
                clf.close()

    def _read_internal(self, timeout: float) -> list[Item]:
        try:
            return self._poll(time.monotonic() + timeout)
        except ConnectionRefusedError:  # udp: nothing listens, so no tag is in the field
            time.sleep(min(0.1, max(0.0, timeout)))
            return []
        except OSError as exc:  # nfcpy's ENODEV/EIO when a USB or serial reader goes away
            raise DeviceUnavailable(f"{self.name}: reader lost: {exc}") from exc

    def _poll(self, deadline: float) -> list[Item]:
        import nfc.clf
        import nfc.tag

        if self._tag is not None:  # wait for the tag that was read to leave the field
            while time.monotonic() < deadline:
                if not self._still_present(self._tag):
                    self._tag = None
                    break
                time.sleep(self.presence_interval_s)
            else:
                return []
        try:
            target = self._clf.sense(
                *(nfc.clf.RemoteTarget(t) for t in self.targets), iterations=1, interval=0.05
            )
        except nfc.clf.CommunicationError:  # RF noise, a tag half in the field: not a read
            return []
        if target is None:
            return []
        try:
            tag = nfc.tag.activate(self._clf, target)
        except nfc.clf.CommunicationError:
            return []
        if tag is None:  # a phone in card mode, a tag type nfcpy cannot read
            return []
        self._tag = tag
        return [self._to_item(tag)]

    def _ndef(self, tag: Any) -> tuple[Any, bool]:
        """(the tag's NDEF message or None, whether the tag stayed to be read).

        nfcpy answers None both for a tag without NDEF data and for a read that failed
        half-way, so None is believed only from a tag still in the field after
        ``NDEF_ATTEMPTS`` reads: otherwise a bin tag's label could come out as a bare UID."""
        for _ in range(NDEF_ATTEMPTS):
            message = tag.ndef
            if message is not None:
                return message, True
            if not self._still_present(tag):
                return None, False
        return None, True

    @staticmethod
    def _still_present(tag: Any) -> bool:
        import nfc.clf

        try:
            return bool(tag.is_present)
        except nfc.clf.CommunicationError:
            return False

    def _to_item(self, tag: Any) -> Item:
        import ndef
        import nfc.clf
        import nfc.tag

        uid = bytes(tag.identifier).hex().upper()
        now = time.time()
        records: tuple[NdefRecord, ...] = ()
        octets = b""
        try:
            message, stayed = self._ndef(tag)
            octets = bytes(message.octets) if message is not None else b""
            if octets:
                records = decode_ndef(octets)
        except (nfc.tag.TagCommandError, nfc.clf.CommunicationError) as exc:
            stayed = False
            log.debug("%s: reading tag %s failed: %s", self.name, uid, exc)
        except (ndef.DecodeError, DecodeError) as exc:
            detail = exc.detail if isinstance(exc, DecodeError) else str(exc)
            return RejectedRead(
                self.name, "malformed_ndef", f"tag {uid}: {detail}", octets[:64], now
            )
        if not stayed:
            return RejectedRead(
                self.name,
                "tag_left",
                f"tag {uid} left the field before its data was read; present it again",
                bytes(tag.identifier),
                now,
            )
        data = preferred(records) or uid
        return Read(
            self.name, data, octets[:512] or bytes(tag.identifier), now, uid=uid, records=records
        )
