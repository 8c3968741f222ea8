"""The LLRP driver against a fake reader on 127.0.0.1 serving recorded report streams."""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator

import pytest

from tests.data.llrp.make_recordings import PALLET, SGTIN_198
from tests.edge.llrp_fake import KEEPALIVE, FakeReader, message, recording
from tests.helpers import wait_for
from warehouse_drivers import (
    DeviceUnavailable,
    DriverConfigError,
    Read,
    RejectedRead,
    TagReport,
    create_driver,
)
from warehouse_drivers.llrp import LlrpReader
from warehouse_edge.supervisor import Supervisor

Item = Read | RejectedRead | TagReport
HANDSHAKE = ["SET_READER_CONFIG", "DELETE_ROSPEC", "ADD_ROSPEC", "ENABLE_ROSPEC", "START_ROSPEC"]
#: chunk sizes cycled through while serving: headers and parameters split across segments
FRAGMENTED = (1, 3, 7, 11, 64, 2, 500)


def drain(reader: LlrpReader, count: int, timeout: float = 10) -> list[Item]:
    items: list[Item] = []
    deadline = time.monotonic() + timeout
    while len(items) < count and time.monotonic() < deadline:
        item = reader.read(0.2)
        if item is not None:
            items.append(item)
    return items


@pytest.fixture
def fake() -> Iterator[FakeReader]:
    reader = FakeReader()
    yield reader
    reader.close()


def open_reader(fake: FakeReader, **params: object) -> LlrpReader:
    reader = create_driver("llrp", "door-1", host="127.0.0.1", port=fake.port, **params)
    assert isinstance(reader, LlrpReader)
    reader.open()
    return reader


def test_a_fragmented_dock_door_stream_gives_every_tag_read(fake: FakeReader) -> None:
    fake.stream, fake.chunks = recording("dock-door.bin"), list(FRAGMENTED)
    reader = open_reader(fake, antennas=[1, 2], session=2)
    try:
        items = drain(reader, 16)
        assert reader.read(0.3) is None  # nothing more than the recording holds
    finally:
        reader.close()
    expected = []
    for sweep in range(3):
        expected += [(epc, 1, -48.0 - i) for i, epc in enumerate(PALLET)]
        expected.append((PALLET[sweep], 2, -71.0))
    expected.append((SGTIN_198, 1, -55.0))
    assert [(i.epc, i.antenna, i.rssi) for i in items if isinstance(i, TagReport)] == expected
    assert fake.received[:5] == HANDSHAKE
    assert fake.keepalive_acks == 1  # the keepalive between reports was answered
    wait_for(lambda: fake.received[-2:] == ["DELETE_ROSPEC", "CLOSE_CONNECTION"])


def test_the_rospec_asks_for_the_configured_antennas_session_and_reports(
    fake: FakeReader,
) -> None:
    reader = LlrpReader("door-1", host="127.0.0.1", antennas=[1, 3], session=2)
    from sllurp.llrp import LLRPMessage

    spec = reader._rospec()
    data = LLRPMessage(msgdict={"ADD_ROSPEC": {"ROSpecID": 1, "ROSpec": spec, "ID": 1}}).msgbytes
    ai_spec = data.find(b"\x00\xb7")  # AISpec: antenna count, then the antenna ids
    assert struct.unpack_from(">HHH", data, ai_spec + 4) == (2, 1, 3)
    singulation = data.find(b"\x01\x50\x00\x0b")  # C1G2SingulationControl
    assert data[singulation + 4] >> 6 == 2  # session 2
    report_spec = data.find(b"\x00\xed")  # ROReportSpec: upon N tags, N = 1
    assert struct.unpack_from(">BH", data, report_spec + 4) == (1, 1)
    selector = data.find(b"\x00\xee")  # TagReportContentSelector: AntennaID and PeakRSSI on
    flags = struct.unpack_from(">H", data, selector + 4)[0]
    assert flags & (1 << 12)  # EnableAntennaID
    assert flags & (1 << 10)  # EnablePeakRSSI
    assert b"\x00\xe0" not in data  # no RFTransmitter: the reader keeps its power setting


def test_corrupt_messages_are_rejected_and_reading_goes_on(fake: FakeReader) -> None:
    fake.stream, fake.chunks = recording("corrupt-message.bin"), list(FRAGMENTED)
    reader = open_reader(fake)
    try:
        items = drain(reader, 15)
        assert reader.read(0.3) is None
    finally:
        reader.close()
    rejected = [i for i in items if isinstance(i, RejectedRead)]
    tags = [i.epc for i in items if isinstance(i, TagReport)]
    assert tags == PALLET * 3  # every good report, before and after the broken ones
    assert [r.reason for r in rejected] == ["corrupt_message"] * 3
    assert "id 901" in rejected[0].detail
    assert "id 902" in rejected[1].detail
    assert "EPC-96 parameter holding 72 bits" in rejected[2].detail
    assert fake.connections == 1  # a broken body does not cost the connection


def test_a_corrupt_header_costs_the_connection_and_the_reader_reconnects(
    fake: FakeReader,
) -> None:
    fake.stream, fake.chunks = recording("corrupt-header.bin"), list(FRAGMENTED)
    items: list[Item] = []
    driver = create_driver("llrp", "door-1", host="127.0.0.1", port=fake.port)
    supervisor = Supervisor(driver, items.append, min_backoff=0.05, max_backoff=0.2)
    supervisor.start()
    try:
        wait_for(lambda: fake.connections >= 2 and len(items) >= 5)
    finally:
        supervisor.stop()
    kinds = [(type(i).__name__, getattr(i, "reason", None)) for i in items[:5]]
    assert (
        kinds
        == [("TagReport", None)] * 2
        + [("RejectedRead", "corrupt_stream")]
        + [("TagReport", None)] * 2
    )  # the two good tags again, on the new connection
    assert supervisor.health.reconnects >= 1


def test_a_lost_connection_is_reopened(fake: FakeReader) -> None:
    fake.stream = recording("dock-door.bin")
    items: list[Item] = []
    driver = create_driver("llrp", "door-1", host="127.0.0.1", port=fake.port)
    supervisor = Supervisor(driver, items.append, min_backoff=0.05, max_backoff=0.2)
    supervisor.start()
    try:
        wait_for(lambda: len(items) == 16)
        fake.drop()  # the cable is pulled; the reader comes back
        wait_for(lambda: len(items) == 32)
    finally:
        supervisor.stop()
    assert fake.connections == 2
    assert supervisor.health.outages == 1


def test_a_silent_reader_is_given_up_after_three_keepalive_periods(fake: FakeReader) -> None:
    reader = open_reader(fake, keepalive_s=0.2)
    try:
        fake.send(message(KEEPALIVE, message_id=5))
        assert reader.read(0.3) is None
        wait_for(lambda: fake.keepalive_acks == 1)
        time.sleep(0.7)  # three keepalive periods without a byte
        with pytest.raises(DeviceUnavailable, match="nothing from the reader"):
            reader.read(0.2)
    finally:
        reader.close()


def test_a_refused_rospec_names_the_readers_reason(fake: FakeReader) -> None:
    fake.refuse["ADD_ROSPEC"] = (101, "antenna 9 does not exist")
    reader = LlrpReader("door-1", host="127.0.0.1", port=fake.port, antennas=[9])
    with pytest.raises(DeviceUnavailable, match=r"refused ADD_ROSPEC: .* antenna 9 does not exist"):
        reader.open()


def test_a_reader_that_refuses_the_connection(fake: FakeReader) -> None:
    from tests.edge.llrp_fake import connection_event

    fake.greeting = connection_event(status_code=4)  # another client is connected
    reader = LlrpReader("door-1", host="127.0.0.1", port=fake.port)
    with pytest.raises(DeviceUnavailable, match="refused the connection"):
        reader.open()


def test_nothing_listening_is_unavailable_not_a_crash(fake: FakeReader) -> None:
    port = fake.port
    fake.close()
    with pytest.raises(DeviceUnavailable, match="cannot connect"):
        LlrpReader("door-1", host="127.0.0.1", port=port).open()


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"antennas": []}, "antennas must be"),
        ({"antennas": [0]}, "antennas must be"),
        ({"session": 4}, "session must be"),
        ({"report_every_n_tags": 0}, "report_every_n_tags"),
        ({"power": 30}, "unknown parameters"),
    ],
)
def test_bad_configuration_is_refused(params: dict[str, object], text: str) -> None:
    with pytest.raises(DriverConfigError, match=text):
        create_driver("llrp", "door-1", host="127.0.0.1", **params)
