"""The chore that makes the ledger's monthly partitions ahead (PostgreSQL, stock/adapters/
partitions.py): every hour, so a month's partition exists long before its first movement."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from warehouse.ingest.worker.chores import Chore
from warehouse.ingest.worker.deps import IngestService
from warehouse.stock.adapters import partitions

log = logging.getLogger(__name__)


class MakePartitions(Chore):
    """The next months' partitions of the ledger, where it is partitioned."""

    doing = "making the ledger's partitions ahead"

    def __init__(self, service: IngestService) -> None:
        super().__init__(3600.0)
        self.service = service

    def run(self) -> None:
        if self.service.engine.dialect.name != "postgresql":
            return
        with self.service.engine.begin() as conn:
            if not partitions.partitioned(conn):
                return
            made = partitions.ensure_ahead(conn, datetime.now(UTC).date())
        if made:
            log.info("the ledger's partitions made ahead: %s", ", ".join(made))
