"""bench/ingest.py --broker nats: a private nats-server (JetStream, MQTT listener, the ingest
stream's mappings) and two raw baselines beside the ingest, the same payloads on the same server
in the same run, each into a JetStream stream consumed by one nats-py pull consumer process that
fetches in batches of 500 and acks every message:

- raw nats-py: one nats-py publisher process publishing on the stream's subjects;
- raw MQTT: one paho QoS 1 publisher process into the MQTT listener, on the devices' topics
  (which the mappings put in the stream), as devices reach the cluster."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

RAW_STREAM = "BENCH_RAW"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_nats(partitions: int) -> tuple[subprocess.Popen[bytes], int, int, Path]:
    """(process, client port, MQTT port, its directory): one node, stopped by the caller."""
    from warehouse.access.adapters.nats_files import mappings_conf

    workdir = Path(tempfile.mkdtemp(prefix="bench-nats-"))
    port, mqtt_port, http_port = _port(), _port(), _port()
    (workdir / "mappings.conf").write_text(mappings_conf(partitions))
    conf = workdir / "nats.conf"
    conf.write_text(
        f"server_name: bench\nlisten: 127.0.0.1:{port}\nhttp: 127.0.0.1:{http_port}\n"
        f'jetstream {{ store_dir: "{workdir}/js" }}\nmqtt {{ listen: 127.0.0.1:{mqtt_port} }}\n'
        "include mappings.conf\n"
    )
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=1):
                return proc, port, mqtt_port, workdir
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("could not start nats-server for the benchmark") from None
            time.sleep(0.1)


def _raw_consumer(url: str, n: int, ready: Any, out: Any, subject: str) -> None:
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig

    async def consume() -> None:
        nc = await nats.connect(url)
        js = nc.jetstream()
        await js.add_stream(name=RAW_STREAM, subjects=[subject])
        config = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=50_000)
        sub = await js.pull_subscribe(subject, durable="raw", config=config)
        ready.set()
        got, last = 0, time.time()
        while got < n and time.time() - last < 5:
            try:
                batch = await sub.fetch(500, timeout=1)
            except TimeoutError:
                continue
            for message in batch:
                await message.ack()
            got += len(batch)
            last = time.time()
        out.put({"received": got, "last": last, "cpu": sum(os.times()[:2])})
        await js.delete_stream(RAW_STREAM)  # the ingest's stream takes these subjects next
        await nc.close()

    asyncio.run(consume())


def _raw_publisher(url: str, payloads: list[bytes], out: Any) -> None:
    import nats

    async def publish() -> None:
        nc = await nats.connect(url)
        start = time.time()
        for n, payload in enumerate(payloads):
            await nc.publish(f"bench.raw.{n % 8}", payload)
        await nc.flush()
        out.put({"start": start, "cpu": sum(os.times()[:2])})
        await nc.close()

    asyncio.run(publish())


def measure_raw_nats(
    url: str, items: list[tuple[str, str, int, bytes]], nats_pid: int, mqtt_port: int = 0
) -> dict[str, Any]:
    """Raw nats-py publish → JetStream → consume-and-ack, or with ``mqtt_port`` raw paho QoS 1
    into nats-server's MQTT listener instead of the nats-py publisher (devices' way in);
    events/s and CPU per process."""
    import paho.mqtt.client as mqtt
    from ingest import CpuMeter, raw_publisher  # type: ignore[import-not-found]

    subject = "warehouse.ingest.>" if mqtt_port else "bench.raw.>"
    ready, sub_out, pub_out = mp.Event(), mp.Queue(), mp.Queue()
    sub = mp.Process(target=_raw_consumer, args=(url, len(items), ready, sub_out, subject))
    sub.start()
    ready.wait(20)
    meter = CpuMeter({"nats-server": lambda: [nats_pid]})
    meter.start()
    if mqtt_port:
        args: tuple[Any, ...] = ("127.0.0.1", mqtt_port, items, pub_out, mqtt.MQTTv311)
        pub = mp.Process(target=raw_publisher, args=args)
    else:
        pub = mp.Process(target=_raw_publisher, args=(url, [p for *_, p in items], pub_out))
    pub.start()
    published = pub_out.get(timeout=300)
    result = sub_out.get(timeout=300)
    cpu = meter.stop()
    cpu["publisher"], cpu["consumer"] = published["cpu"], result["cpu"]
    pub.join(30)
    sub.join(30)
    seconds = result["last"] - published["start"]
    return {
        "events": result["received"],
        "seconds": seconds,
        "rate": result["received"] / seconds,
        "cpu": cpu,
    }
