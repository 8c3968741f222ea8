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
    """Each site's price book to its agents, when it changed (and to an agent that appeared
    since: a register added to a site gets the book it has not had)."""

    doing = "reading the price books"
    needs_broker = True

    def __init__(self, service: IngestService, command: Command) -> None:
        super().__init__(service.settings.price_book_check_s)
        self.service = service
        self.command = command
        self._sent: dict[tuple[str, str], str] = {}  # (site, agent) -> the version it was sent

    def run(self) -> None:
        today = datetime.now(UTC).date()
        with self.service.engine.connect() as conn:
            targets = queries.price_book_targets(conn)
            books = {site: price_book(conn, site, today) for site in targets}
        for site, source in books.items():
            if source is None:
                continue
            version = source.book.version
            due = [a for a in targets[site] if self._sent.get((site, a)) != version]
            if not due:
                continue
            body = contracts.PriceBookCommand(
                site=site, version=version, book=source.book.to_dict()
            )
            for agent_id in due:
                self.command(site, agent_id, body)
                self._sent[(site, agent_id)] = version
            log.info("price book %s of site %s sent to %d agents", version, site, len(due))
