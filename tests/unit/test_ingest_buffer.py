"""The ingest worker's bounded buffer: order, bounds, collapsing re-sends, waking up."""

from __future__ import annotations

import threading
import time

from warehouse.ingest.worker.buffer import IngestBuffer


def test_fifo_and_takes_at_most_what_is_asked() -> None:
    buffer = IngestBuffer(100, 10_000)
    buffer.put_many([("t", b"1"), ("t", b"2"), ("t", b"3")])
    assert buffer.take(2, timeout=0) == [("t", b"1"), ("t", b"2")]
    assert buffer.take(5, timeout=0) == [("t", b"3")]
    assert buffer.take(5, timeout=0.01) == []


def test_a_waiting_resend_collapses_into_its_twin() -> None:
    buffer = IngestBuffer(100, 10_000)
    buffer.put_many([("t", b"same"), ("t", b"same"), ("u", b"same"), ("t", b"other")])
    assert buffer.collapsed == 1
    assert len(buffer) == 3
    buffer.take(10, timeout=0)
    buffer.put_many([("t", b"same")])  # its twin was taken: it is new again
    assert len(buffer) == 1


def test_a_full_buffer_blocks_the_producer_until_there_is_room() -> None:
    buffer = IngestBuffer(3, 10_000)
    done = threading.Event()

    def produce() -> None:
        buffer.put_many([("t", str(n).encode()) for n in range(6)])
        done.set()

    threading.Thread(target=produce, daemon=True).start()
    time.sleep(0.2)
    assert not done.is_set()
    assert len(buffer) == 3
    taken = buffer.take(3, timeout=1)
    assert done.wait(2)
    taken += buffer.take(10, timeout=0)
    assert [p for _, p in taken] == [str(n).encode() for n in range(6)]
    assert buffer.peak_messages == 3


def test_the_byte_bound_admits_one_oversized_message_at_a_time() -> None:
    buffer = IngestBuffer(100, 10)
    buffer.put_many([("t", b"x" * 50)])  # alone, it fits
    blocked = threading.Thread(target=buffer.put_many, args=([("t", b"y")],), daemon=True)
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive()
    buffer.take(1, timeout=0)
    blocked.join(2)
    assert not blocked.is_alive()


def test_closing_releases_a_blocked_producer() -> None:
    buffer = IngestBuffer(1, 10_000)
    buffer.put_many([("t", b"1")])
    blocked = threading.Thread(target=buffer.put_many, args=([("t", b"2")],), daemon=True)
    blocked.start()
    buffer.close()
    blocked.join(2)
    assert not blocked.is_alive()


def test_a_batch_waits_out_its_window_for_more() -> None:
    buffer = IngestBuffer(100, 10_000)
    buffer.put_many([("t", b"1")])
    later = threading.Timer(0.05, buffer.put_many, args=([("t", b"2")],))
    later.start()
    started = time.monotonic()
    taken = buffer.take_batch(10, timeout=1, window=0.3)
    assert [p for _, p in taken] == [b"1", b"2"]
    assert time.monotonic() - started >= 0.25  # it waited the window, not the first arrival


def test_a_batch_that_fills_returns_before_its_window_ends() -> None:
    buffer = IngestBuffer(100, 10_000)
    buffer.put_many([("t", b"1")])
    threading.Timer(0.05, buffer.put_many, args=([("t", b"2"), ("t", b"3")],)).start()
    started = time.monotonic()
    taken = buffer.take_batch(3, timeout=1, window=5)
    assert len(taken) == 3
    assert time.monotonic() - started < 2


def test_a_full_buffer_ends_the_window_so_its_producer_is_not_held() -> None:
    buffer = IngestBuffer(2, 10_000)
    buffer.put_many([("t", b"1")])
    threading.Timer(0.05, buffer.put_many, args=([("t", b"2"), ("t", b"3")],)).start()
    started = time.monotonic()
    taken = buffer.take_batch(10, timeout=1, window=5)
    assert [p for _, p in taken] == [b"1", b"2"]
    assert time.monotonic() - started < 2


def test_an_empty_buffer_returns_nothing_after_the_timeout() -> None:
    assert IngestBuffer(10, 10_000).take_batch(10, timeout=0.01, window=1) == []
