"""Which ingest worker consumes which partition of the NATS stream: leases in a JetStream
key-value bucket whose entries lapse after ``lease_s`` unless renewed.

Every tick a worker writes its heartbeat (``worker.{id}``), counts the live workers, renews
the partitions it holds (``partition.{n}``, compare-and-set on the revision it last wrote),
gives back what exceeds its fair share, and takes free partitions up to it. A lease it cannot
renew because another worker holds it is dropped at once; one it cannot renew because the
cluster is electing a leader is kept (at worst two workers read one partition for a moment,
which the inbox's unique event ids make harmless). Correctness never rests on a lease: they
keep each agent's events in order and the work spread, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import KeyWrongLastSequenceError, NoKeysError
from nats.js.kv import KeyValue

log = logging.getLogger(__name__)

#: Errors of a cluster that is (re)electing or unreachable: try again at the next tick.
_TRANSIENT = (nats.errors.Error, TimeoutError)


class Leases:
    """This worker's partitions, renewed and balanced by ``tick``."""

    def __init__(self, kv: KeyValue, me: str, partitions: int) -> None:
        self.kv = kv
        self.me = me
        self.partitions = partitions
        self.held: dict[int, int] = {}  # partition -> the revision we last wrote

    @classmethod
    async def open(
        cls,
        js: JetStreamContext,
        bucket: tuple[str, float, int],
        me: str,
        partitions: int,
        stopping: asyncio.Event,
    ) -> Leases | None:
        """The bucket (name, lease seconds, replicas), created unless it exists, for worker
        ``me`` among ``partitions``; None if stopped first."""
        name, lease_s, replicas = bucket
        while not stopping.is_set():
            try:
                try:
                    kv = await js.key_value(name)
                except nats.js.errors.BucketNotFoundError:
                    kv = await js.create_key_value(
                        bucket=name, ttl=lease_s, history=1, replicas=replicas
                    )
                return cls(kv, me, partitions)
            except _TRANSIENT as exc:
                log.warning("cannot open the lease bucket yet: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), 1.0)
        return None

    async def tick(self) -> tuple[set[int], set[int]]:
        """(partitions gained, partitions lost) since the last tick."""
        try:
            await self.kv.put(f"worker.{self.me}", b"")
            keys = await self._keys()
        except _TRANSIENT as exc:
            log.debug("lease tick skipped: %s", exc)
            return set(), set()
        live = max(1, sum(1 for k in keys if k.startswith("worker.")))
        share = -(-self.partitions // live)
        lost = await self._renew()
        lost |= await self._give_back(share)
        taken = {int(k.split(".")[1]) for k in keys if k.startswith("partition.")}
        gained = await self._take(share, taken)
        return gained, lost

    async def _keys(self) -> list[str]:
        try:
            return await self.kv.keys()
        except NoKeysError:
            return []

    async def _renew(self) -> set[int]:
        lost: set[int] = set()
        for partition, revision in list(self.held.items()):
            try:
                self.held[partition] = await self.kv.update(
                    f"partition.{partition}", self.me.encode(), last=revision
                )
            except KeyWrongLastSequenceError:
                if await self._still_ours(partition):
                    continue
                log.warning("partition %d passed to another worker", partition)
                del self.held[partition]
                lost.add(partition)
            except _TRANSIENT as exc:
                log.debug("could not renew partition %d: %s", partition, exc)
        return lost

    async def _still_ours(self, partition: int) -> bool:
        """After a renewal refused for its revision: whether the lease is ours all the same (a
        renewal whose reply was lost to a failover), adopting its revision if so."""
        try:
            entry = await self.kv.get(f"partition.{partition}")
        except nats.js.errors.KeyNotFoundError:
            return False
        except _TRANSIENT:
            return True  # ask again at the next tick
        if entry.value != self.me.encode() or entry.revision is None:
            return False
        self.held[partition] = entry.revision
        return True

    async def _give_back(self, share: int) -> set[int]:
        lost: set[int] = set()
        for partition in sorted(self.held, reverse=True)[: max(0, len(self.held) - share)]:
            revision = self.held.pop(partition)
            lost.add(partition)
            with contextlib.suppress(*_TRANSIENT):  # it lapses by itself otherwise
                await self.kv.delete(f"partition.{partition}", last=revision)
        return lost

    async def _take(self, share: int, taken: set[int]) -> set[int]:
        gained: set[int] = set()
        for partition in range(self.partitions):
            if len(self.held) >= share:
                break
            if partition in self.held or partition in taken:
                continue
            try:
                self.held[partition] = await self.kv.create(
                    f"partition.{partition}", self.me.encode()
                )
                gained.add(partition)
            except KeyWrongLastSequenceError:
                continue  # another worker took it first
            except _TRANSIENT as exc:
                log.debug("could not take partition %d: %s", partition, exc)
                break
        return gained

    async def release(self) -> None:
        """Give back every partition and the heartbeat, so others take over at once."""
        for partition, revision in list(self.held.items()):
            with contextlib.suppress(*_TRANSIENT):
                await self.kv.delete(f"partition.{partition}", last=revision)
        self.held.clear()
        with contextlib.suppress(*_TRANSIENT):
            await self.kv.delete(f"worker.{self.me}")
