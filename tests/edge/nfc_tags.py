"""NFC Forum Type 3 (FeliCa) tags emulated with nfcpy's own udp driver on 127.0.0.1.

The reader under test opens ``udp:127.0.0.1:<port>``; a tag "presented" here answers its
polls and block reads as a real Type 3 tag would, until it is removed. Test code only.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType
from typing import Any

import ndef

#: PMm: IC type, then the response time parameters, here the longest a tag may declare, so a
#: busy test machine's emulator thread is not mistaken for a tag that left the field.
PMM = bytes.fromhex("0301FFFFFFFFFFFF")
NDEF_SYSTEM = 0x12FC  # the system code of an NFC Forum Type 3 tag


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def uri_message(uri: str) -> bytes:
    return b"".join(ndef.message_encoder([ndef.UriRecord(uri)]))


def text_message(text: str) -> bytes:
    return b"".join(ndef.message_encoder([ndef.TextRecord(text)]))


def type3_blocks(message: bytes) -> bytes:
    """The attribute block (NFC Forum Type 3 Tag spec, 7.1) followed by the NDEF data."""
    attribute = bytearray(16)
    attribute[0] = 0x10  # mapping version 1.0
    attribute[1] = 4  # blocks per read
    attribute[2] = 0  # read-only
    attribute[3:5] = struct.pack(">H", max(1, (len(message) + 15) // 16))
    attribute[11:14] = struct.pack(">I", len(message))[1:]
    attribute[14:16] = struct.pack(">H", sum(attribute[0:14]))
    return bytes(attribute) + message + bytes(-len(message) % 16)


class EmulatedTag:
    """One tag: ``present()`` puts it in the reader's field, ``remove()`` takes it out."""

    def __init__(
        self, port: int, idm: str, message: bytes | None, system_code: int = NDEF_SYSTEM
    ) -> None:
        self.port, self.idm = port, bytes.fromhex(idm)
        self.blocks = type3_blocks(message) if message is not None else None
        self.system_code = system_code
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sessions = 0

    def present(self) -> None:
        import nfc

        self._stop.clear()
        clf = nfc.ContactlessFrontend(f"udp:127.0.0.1:{self.port}")
        self._thread = threading.Thread(target=self._serve, args=(clf,), daemon=True)
        self._thread.start()

    def remove(self) -> None:
        self._stop.set()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # ends a waiting exchange
            sock.sendto(b"RFOFF", ("127.0.0.1", self.port))
        if self._thread is not None:
            self._thread.join(5)
            assert not self._thread.is_alive(), "the emulated tag did not stop"

    def _serve(self, clf: Any) -> None:
        def on_startup(target: Any) -> Any:
            target.brty = "212F"
            target.sensf_res = b"\x01" + self.idm + PMM + struct.pack(">H", self.system_code)
            return target

        def read_block(block: int, rb: bool, re: bool) -> bytes | None:
            assert self.blocks is not None
            if block * 16 >= len(self.blocks):
                return None
            return self.blocks[block * 16 : (block + 1) * 16]

        def on_connect(tag: Any) -> bool:
            self.sessions += 1
            if self.blocks is not None:
                tag.add_service(0x0009, read_block, None)  # NDEF read/write service
                tag.add_service(0x000B, read_block, None)  # NDEF read-only service
            return True

        try:
            while not self._stop.is_set():
                clf.connect(
                    card={"on-startup": on_startup, "on-connect": on_connect},
                    terminate=self._stop.is_set,
                )
        finally:
            clf.close()

    def __enter__(self) -> EmulatedTag:
        self.present()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()
