"""CAN-bus scanners: a simulated node on python-can's virtual bus, log replay, faults."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from unittest import mock

import can
import pytest

from warehouse_drivers import Read, RejectedRead, create_driver
from warehouse_drivers.can.protocol import CHUNK_ID, DONE_ID, Frame, frames_for
from warehouse_drivers.can.reassembly import Reassembler

CODE = b"]d2010590123000100110L2611A\x1d17270131\x1d21SERIAL000012345"  # a DataMatrix read


def feed(frames: list[Frame], step: float = 0.001) -> list[Read | RejectedRead]:
    reassembler = Reassembler("forklift-1")
    out: list[Read | RejectedRead] = []
    for n, frame in enumerate(frames):
        out += reassembler.frame(frame.arbitration_id, frame.data, n * step)
    return out


def test_a_long_code_spans_frames_and_comes_back_whole() -> None:
    frames = frames_for(CODE, 1)
    assert len(frames) == 12  # 11 chunks of at most 5 bytes, then DONE
    (read,) = feed(frames)
    assert isinstance(read, Read)
    assert read.data == CODE.decode()


def reasons(items: list[Read | RejectedRead]) -> list[str]:
    return [i.reason if isinstance(i, RejectedRead) else "read" for i in items]


def corrupt_crc(frames: list[Frame]) -> list[Frame]:
    done = frames[-1]
    return [
        *frames[:-1],
        Frame(DONE_ID, done.data[:2] + bytes([done.data[2] ^ 0xFF]) + done.data[3:]),
    ]


@pytest.mark.parametrize(
    ("mangle", "expected"),
    [
        (lambda f: [Frame(f[0].arbitration_id, f[0].data[:5]), *f[1:]], "truncated_frame"),
        (lambda f: [f[0], *f[2:]], "reordered"),  # chunk 1 lost: chunk 2 comes too early
        (lambda f: [f[0], f[1], f[1], *f[2:]], "duplicated_chunk"),
        (lambda f: [f[1], f[0], *f[2:]], "missing_chunks"),  # starts at chunk 1
        (lambda f: [f[0], f[2], f[1], *f[3:]], "reordered"),
        (corrupt_crc, "crc_mismatch"),
        (
            lambda f: [Frame(CHUNK_ID, f[0].data[:2] + bytes([7]) + f[0].data[3:]), *f[1:]],
            "corrupt_frame",
        ),  # a length of 7 bytes cannot fit in a chunk
        (lambda f: [f[-1]], "unexpected_done"),
    ],
)
def test_faults_are_rejected_reads_with_reasons(mangle, expected: str) -> None:  # type: ignore[no-untyped-def]
    items = feed(mangle(frames_for(CODE, 3)))
    assert reasons(items)[0] == expected
    assert "read" not in reasons(items)


def test_a_bad_transfer_does_not_spoil_the_next() -> None:
    bad = frames_for(CODE, 4)
    items = feed([bad[0], bad[2], *bad[3:], *frames_for(b"5901230001001", 5)])
    assert reasons(items) == ["reordered", "read"]


def test_a_transfer_that_stops_times_out() -> None:
    reassembler = Reassembler("forklift-1", timeout_s=0.5)
    frames = frames_for(CODE, 6)
    assert reassembler.frame(frames[0].arbitration_id, frames[0].data, 10.0) == []
    (timeout,) = reassembler.expire(10.6)
    assert timeout.reason == "timeout"
    assert "1 of 11 chunks" in timeout.detail


def test_scanner_error_status_is_a_rejected_read() -> None:
    assert reasons(feed(frames_for(b"NOREAD", 9, status=2))) == ["scanner_error"]


def send(bus: can.BusABC, frames: list[Frame]) -> None:
    for frame in frames:
        bus.send(
            can.Message(arbitration_id=frame.arbitration_id, data=frame.data, is_extended_id=False)
        )


def test_simulated_node_on_the_virtual_bus_and_a_receive_error() -> None:
    channel = f"test-{uuid.uuid4().hex[:8]}"
    driver = create_driver("can", "forklift-1", interface="virtual", channel=channel)
    node = can.Bus(interface="virtual", channel=channel)
    driver.open()
    try:
        send(node, frames_for(CODE, 1))
        first = next_item(driver)
        assert isinstance(first, Read)
        assert first.data == CODE.decode()

        real_recv = driver._bus.recv  # type: ignore[attr-defined]
        errors = iter([can.CanOperationError("controller reports bus-off")])

        def flaky(timeout: float | None = None) -> can.Message | None:
            error = next(errors, None)
            if error is not None:
                raise error
            return real_recv(timeout=timeout)

        with mock.patch.object(driver._bus, "recv", side_effect=flaky):  # type: ignore[attr-defined]
            send(node, frames_for(b"5901230001001", 2))
            error = next_item(driver)
            assert isinstance(error, RejectedRead)
            assert error.reason == "bus_error"
            after = next_item(driver)  # the reader carried on
            assert isinstance(after, Read)
            assert after.data == "5901230001001"
        assert driver.bus_errors == 1  # type: ignore[attr-defined]
    finally:
        driver.close()
        node.shutdown()


def next_item(driver: object, timeout: float = 3) -> Read | RejectedRead:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = driver.read(0.2)  # type: ignore[attr-defined]
        if item is not None:
            return item  # type: ignore[no-any-return]
    raise AssertionError("no read in time")


@pytest.mark.parametrize("suffix", [".asc", ".log"])
def test_log_replay(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"forklift{suffix}"
    writer = can.Logger(str(path))
    start = 1_700_000_000.0
    frames = frames_for(CODE, 1) + frames_for(b"5901230001025", 2)
    for n, frame in enumerate(frames):
        writer.on_message_received(
            can.Message(
                timestamp=start + n / 1000,
                channel="can0",
                arbitration_id=frame.arbitration_id,
                data=frame.data,
                is_extended_id=False,
            )
        )
    writer.stop()
    reassembler = Reassembler("forklift-1")
    items = []
    for message in can.LogReader(str(path)):
        items += reassembler.frame(message.arbitration_id, bytes(message.data), message.timestamp)
    assert [i.data for i in items if isinstance(i, Read)] == [CODE.decode(), "5901230001025"]


def test_udp_multicast_is_refused() -> None:
    from warehouse_drivers import DriverConfigError

    with pytest.raises(DriverConfigError, match="outside this machine"):
        create_driver("can", "x", interface="udp_multicast", channel="239.0.0.1")


def test_replay_command_reports_reads_rejections_and_profile_outcomes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from warehouse_edge.cli import main

    log = tmp_path / "forklift.log"
    writer = can.Logger(str(log))
    frames = (
        frames_for(b"LOC:WH1-A-01", 1)
        + frames_for(b"5901230001025", 2)
        + frames_for(b"5901230001032", 3)[1:]
    )
    for n, frame in enumerate(frames):
        writer.on_message_received(
            can.Message(
                timestamp=1.7e9 + n / 100,
                channel="can0",
                arbitration_id=frame.arbitration_id,
                data=frame.data,
                is_extended_id=False,
            )
        )
    writer.stop()
    config = tmp_path / "agent.toml"
    config.write_text(
        'agent_id = "forklift-1"\nsite = "WH1"\n[[stations]]\nname = "truck"\n'
        'mode = "putaway"\nlocation = "WH1-DOCK-1"\n'
    )
    result = CliRunner().invoke(main, ["replay", "--can", str(log), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "2 reads, 1 rejected" in result.output
    assert "missing_chunks" in result.output
    assert '"kind":"transfer"' in result.output
    assert '"to_location":"WH1-A-01"' in result.output


def test_doctor_probes_every_device(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from warehouse_edge.cli import main

    config = tmp_path / "agent.toml"
    config.write_text(f"""
agent_id = "forklift-1"
site = "WH1"
[[stations]]
name = "truck"
mode = "putaway"
location = "WH1-DOCK-1"
[[devices]]
name = "can-scanner"
driver = "can"
station = "truck"
params = {{ interface = "virtual", channel = "doctor-{uuid.uuid4().hex[:6]}" }}
[[devices]]
name = "gone"
driver = "serial"
station = "truck"
params = {{ port = "{tmp_path / "no-such-port"}" }}
""")
    result = CliRunner().invoke(main, ["doctor", "--config", str(config)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["DEVICE", "DRIVER", "STATION", "STATUS"]
    assert lines[1].split()[:4] == ["can-scanner", "can", "truck", "ok"]
    assert lines[2].split()[:4] == ["gone", "serial", "truck", "unavailable"]
    assert any(line.startswith("gone: ") and "no-such-port" in line for line in lines[3:])
