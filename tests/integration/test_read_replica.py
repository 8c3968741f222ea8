"""Reads from a streaming replica: a private primary and a replica made from it with
pg_basebackup. Reads are served by the replica; a client that has just written reads its write
(from the primary); with the replica stopped the reads fall back to the primary, logged, no 5xx."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal

import httpx2
import psycopg
import pytest

from tests.conftest import LiveApi, make_settings, require
from tests.faults.processes import Cluster, seeded_database
from tests.helpers import token_for, wait_for
from warehouse.bootstrap import bootstrap

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
API = "/api/v1"


@pytest.fixture
def primary_and_replica() -> Iterator[tuple[Cluster, Cluster, str]]:
    import shutil

    require("pg_basebackup", shutil.which("runuser") is not None, "runuser is missing")
    primary = Cluster()
    primary.start()
    replica: Cluster | None = None
    try:
        url = seeded_database(primary.url, "warehouse")
        replica = Cluster(primary)
        replica.start()
        yield primary, replica, url
    finally:
        if replica is not None:
            replica.remove()
        primary.remove()


def on_hand(client: httpx2.Client, headers: dict[str, str]) -> Decimal:
    reply = client.get(f"{API}/stock", params={"sku": "TEA-GRN"}, headers=headers)
    assert reply.status_code == 200, reply.text
    return sum((Decimal(r["on_hand"]) for r in reply.json()["items"]), Decimal(0))


def test_reads_from_the_replica_own_writes_from_the_primary_and_a_fallback(
    primary_and_replica: tuple[Cluster, Cluster, str], caplog: pytest.LogCaptureFixture
) -> None:
    primary, replica, url = primary_and_replica
    replica_url = url.replace(f":{primary.port}/", f":{replica.port}/")
    settings = make_settings(url, read_database_url=replica_url, read_your_writes_s=30)
    service = bootstrap(settings, catalog_ttl=0)
    writer = {"Authorization": f"Bearer {token_for(service, 'admin@*', name='writer')}"}
    reader = {"Authorization": f"Bearer {token_for(service, 'admin@*', name='reader')}"}
    with psycopg.connect(replica_url, autocommit=True) as standby:
        assert standby.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        with LiveApi(service) as api, httpx2.Client(base_url=api.base, timeout=10) as client:
            before = on_hand(client, reader)
            # the replica stops replaying: what it serves from now on is behind the primary
            standby.execute("SELECT pg_wal_replay_pause()")
            receipt = client.post(
                f"{API}/movements",
                headers=writer,
                json={"kind": "receive", "sku": "TEA-GRN", "qty": "5", "to_location": "WH1-A-01"},
            )
            assert receipt.status_code == 201, receipt.text
            assert "warehouse_wrote=" in receipt.headers["set-cookie"]
            # the writer sees its write (the primary) ...
            assert on_hand(client, writer) == before + 5
            # ... a client that wrote nothing reads the replica, still behind
            client.cookies.clear()
            assert on_hand(client, reader) == before
            # without the cookie, this process knows the writer by its credential
            assert on_hand(client, writer) == before + 5
            standby.execute("SELECT pg_wal_replay_resume()")
            wait_for(lambda: on_hand(client, reader) == before + 5, timeout=20)
            # the replica stops: reads go to the primary, with a line in the log, no 5xx
            caplog.set_level(logging.WARNING, logger="warehouse.core.api.replica")
            replica.stop("fast")
            assert on_hand(client, reader) == before + 5
            assert on_hand(client, reader) == before + 5
            assert any("read replica failed" in r.getMessage() for r in caplog.records)
    service.close()
