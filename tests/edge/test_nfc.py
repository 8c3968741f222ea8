"""The nfcpy driver against Type 3 tags emulated by nfcpy's udp driver on 127.0.0.1."""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator

import pytest

from tests.edge.nfc_tags import EmulatedTag, free_udp_port, text_message, uri_message
from tests.helpers import wait_for
from warehouse_drivers import (
    DeviceUnavailable,
    DriverConfigError,
    Read,
    RejectedRead,
    TagReport,
    create_driver,
    decode_barcode,
)
from warehouse_drivers.nfc import NfcReader
from warehouse_edge.supervisor import Supervisor

DIGITAL_LINK = "https://id.gs1.org/01/05901230001254/21/HDP-0001"
IDM = "02FE000000004201"


def reads_for(reader: NfcReader, seconds: float) -> list[Read | RejectedRead | TagReport]:
    out = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        item = reader.read(0.2)
        if item is not None:
            out.append(item)
    return out


def first_read(reader: NfcReader, timeout: float = 5) -> Read | RejectedRead | TagReport:
    """The next read; a poll sent just before the tag arrived takes up to 1 s to time out."""
    item = reader.read(timeout)
    assert item is not None, "no read"
    return item


@pytest.fixture
def port() -> int:
    return free_udp_port()


@pytest.fixture
def reader(port: int) -> Iterator[NfcReader]:
    driver = NfcReader("nfc-1", path=f"udp:127.0.0.1:{port}", targets=["212F"])
    driver.open()
    yield driver
    driver.close()


def test_a_digital_link_tag_gives_one_read_per_presentation(reader: NfcReader, port: int) -> None:
    tag = EmulatedTag(port, IDM, uri_message(DIGITAL_LINK))
    with tag:
        read = first_read(reader)
        assert reads_for(reader, 2.0) == []  # held in the field for 2 s more: still one read
    assert isinstance(read, Read)
    assert (read.data, read.uid) == (DIGITAL_LINK, IDM)
    decoded = decode_barcode(read.data)
    assert (decoded.gtin, decoded.serial) == ("05901230001254", "HDP-0001")

    assert reads_for(reader, 0.6) == []  # taken away: nothing
    with tag:  # presented again: one more read
        again = first_read(reader)
    assert isinstance(again, Read)
    assert again.data == DIGITAL_LINK


def test_a_bin_tag_with_a_text_record(reader: NfcReader, port: int) -> None:
    with EmulatedTag(port, "02FE000000004202", text_message("LOC:WH1-A-01")):
        read = first_read(reader)
    assert isinstance(read, Read)
    assert read.data == "LOC:WH1-A-01"


def test_a_tag_without_ndef_is_read_by_its_uid(reader: NfcReader, port: int) -> None:
    with EmulatedTag(port, "02FE000000004203", None, system_code=0x88B4):
        read = first_read(reader)
    assert isinstance(read, Read)
    assert read.data == read.uid == "02FE000000004203"


def test_a_malformed_ndef_message_is_a_rejected_read(reader: NfcReader, port: int) -> None:
    broken = b"\xd1\x01\x40U\x04id.gs1.org"  # a URI record claiming 64 bytes, holding 11
    with EmulatedTag(port, "02FE000000004204", broken):
        rejected = first_read(reader)
    assert isinstance(rejected, RejectedRead)
    assert rejected.reason == "malformed_ndef"
    assert "02FE000000004204" in rejected.detail


@pytest.mark.parametrize(
    ("octets", "says"),
    [
        (b"\x51\x01\x0cU\x04id.gs1.org/", "MB flag not set"),  # nfcpy alone read it as a URI
        (b"\xd1\x01\x0cU\x24id.gs1.org/", "URI identifier 36"),
    ],
    ids=["no MB", "reserved URI code"],
)
def test_ndef_that_only_a_relaxed_decode_accepts_is_rejected(
    reader: NfcReader, port: int, octets: bytes, says: str
) -> None:
    with EmulatedTag(port, "02FE000000004205", octets):
        rejected = first_read(reader)
    assert isinstance(rejected, RejectedRead)
    assert rejected.reason == "malformed_ndef"
    assert says in rejected.detail


def test_a_read_carries_every_record(reader: NfcReader, port: int) -> None:
    import ndef

    message = b"".join(
        ndef.message_encoder(
            [
                ndef.TextRecord("LOC:WH1-A-02", "en"),
                ndef.UriRecord("urn:epc:id:sgln:0614141.12345.0"),
            ]
        )
    )
    with EmulatedTag(port, "02FE000000004206", message):
        read = first_read(reader)
    assert isinstance(read, Read)
    assert read.data == "urn:epc:id:sgln:0614141.12345.0"  # a URI before a text
    text, uri = read.records
    assert (text.kind, text.text, text.language) == ("text", "LOC:WH1-A-02", "en")
    assert uri.epc is not None
    assert uri.epc.gln == "0614141123452"


class _PulledTag:
    """A tag whose NDEF read came back empty because it left the field (nfcpy says None)."""

    identifier = bytes.fromhex("04A224C2B15280")
    ndef = None
    is_present = False


def test_a_tag_pulled_away_before_its_data_was_read_is_rejected() -> None:
    item = NfcReader("nfc-1", path="udp:127.0.0.1:9")._to_item(_PulledTag())
    assert isinstance(item, RejectedRead)
    assert item.reason == "tag_left"
    assert "04A224C2B15280" in item.detail


def test_the_reader_is_reopened_after_it_is_unplugged(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    items: list[Read | RejectedRead | TagReport] = []
    driver = create_driver("nfc", "nfc-1", path=f"udp:127.0.0.1:{port}", targets=["212F"])
    supervisor = Supervisor(driver, items.append, min_backoff=0.05, max_backoff=0.2)
    supervisor.start()
    try:
        wait_for(lambda: supervisor.health.state == "up")
        with EmulatedTag(port, IDM, uri_message(DIGITAL_LINK)):
            wait_for(lambda: len(items) == 1)

        import nfc.clf

        real_sense = nfc.clf.ContactlessFrontend.sense
        unplugged = {"done": False}

        def unplug_once(self: object, *targets: object, **options: object) -> object:
            if not unplugged["done"]:  # what nfcpy raises when the USB device disappears
                unplugged["done"] = True
                raise OSError(errno.ENODEV, "No such device")
            return real_sense(self, *targets, **options)  # type: ignore[arg-type]

        monkeypatch.setattr(nfc.clf.ContactlessFrontend, "sense", unplug_once)
        wait_for(lambda: supervisor.health.reconnects == 1)
        assert supervisor.health.outages == 1
        with EmulatedTag(port, "02FE000000004205", uri_message(DIGITAL_LINK + "X")):
            wait_for(lambda: len(items) == 2)
    finally:
        supervisor.stop()
    assert [i.data for i in items if isinstance(i, Read)] == [DIGITAL_LINK, DIGITAL_LINK + "X"]
    assert supervisor.health.state in ("up", "stopped")


def test_a_missing_usb_reader_is_unavailable_not_a_crash() -> None:
    driver = NfcReader("nfc-1", path="usb:ffff:fffe")
    with pytest.raises(DeviceUnavailable, match="usb:ffff:fffe"):
        driver.open()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"path": "bluetooth:1"}, "path must start with"),
        ({"targets": ["106X"]}, "targets must be some of"),
        ({"targets": []}, "targets must be some of"),
        ({"speed": 3}, "unknown parameters"),
    ],
)
def test_bad_configuration_is_refused(params: dict[str, object], message: str) -> None:
    with pytest.raises(DriverConfigError, match=message):
        create_driver("nfc", "nfc-1", **params)
