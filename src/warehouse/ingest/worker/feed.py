"""The chore that numbers the stock change feed and drops what is older than its retention, once
a minute (numbered first: a change is pruned only once a client could have had it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from warehouse.ingest.worker.chores import Chore
from warehouse.ingest.worker.deps import IngestService
from warehouse.stock.adapters import feed

log = logging.getLogger(__name__)


class PruneFeed(Chore):
    """The change feed numbered, and pruned past its retention."""

    doing = "pruning the stock change feed"

    def __init__(self, service: IngestService) -> None:
        super().__init__(60.0)
        self.service = service

    def run(self) -> None:
        retention = timedelta(seconds=self.service.settings.stock_feed_retention_s)
        cutoff = datetime.now(UTC) - retention
        with self.service.engine.begin() as conn:
            feed.sequence(conn)
        with self.service.engine.begin() as conn:
            pruned = feed.prune(conn, cutoff)
        if pruned:
            log.info("stock change feed: %d changes past their retention pruned", pruned)
