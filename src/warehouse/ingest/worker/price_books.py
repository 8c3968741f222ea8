"""The chore that sends price books: every ``price_book_check_s``, a site whose price book
changed (a new list, rate or promotion, or a new day) is sent to every agent registered there,
so its registers sell at the new prices even when they cannot reach the API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from warehouse import contracts
from warehouse.ingest.adapters import queries
from warehouse.ingest.worker.chores import Chore
from warehouse.ingest.worker.deps import IngestService
from warehouse.pos.adapters.prices import price_book

log = logging.getLogger(__name__)

#: Publishes a command to one agent: (site, agent_id, body).
Command = Callable[[str, str, Any], None]


class PublishPriceBooks(Chore):
    """Each site's price book to its agents, when it changed."""

    doing = "reading the price books"
    needs_broker = True

    def __init__(self, service: IngestService, command: Command) -> None:
        super().__init__(service.settings.price_book_check_s)
        self.service = service
        self.command = command
        self._sent: dict[str, str] = {}  # site -> the price book version published

    def run(self) -> None:
        today = datetime.now(UTC).date()
        with self.service.engine.connect() as conn:
            targets = queries.price_book_targets(conn)
            books = {site: price_book(conn, site, today) for site in targets}
        for site, source in books.items():
            if source is None or self._sent.get(site) == source.book.version:
                continue
            body = contracts.PriceBookCommand(
                site=site, version=source.book.version, book=source.book.to_dict()
            )
            for agent_id in targets[site]:
                self.command(site, agent_id, body)
            self._sent[site] = source.book.version
            log.info(
                "price book %s of site %s sent to %d agents",
                source.book.version,
                site,
                len(targets[site]),
            )
