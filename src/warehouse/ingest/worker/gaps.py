"""The chore that asks agents for what stays missing: a gap open ``gap_resync_after_s`` gets a
resync command from its first seq, repeated every ``gap_resync_every_s`` until it closes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from warehouse import contracts
from warehouse.ingest.service.resync import request_resyncs
from warehouse.ingest.worker.chores import Chore
from warehouse.ingest.worker.deps import IngestService
from warehouse.ingest.worker.price_books import Command

log = logging.getLogger(__name__)


class AskForGaps(Chore):
    """Resync commands for the gaps that stayed open."""

    doing = "gap check"
    needs_broker = True

    def __init__(self, service: IngestService, command: Command) -> None:
        super().__init__(0.0)  # every round: the gaps' own times say when to ask
        self.service = service
        self.command = command

    def run(self) -> None:
        settings = self.service.settings
        requests = request_resyncs(
            self.service.uow(),
            datetime.now(UTC),
            after_s=settings.gap_resync_after_s,
            every_s=settings.gap_resync_every_s,
        )
        for request in requests:
            self.command(
                request.site, request.agent_id, contracts.ResyncCommand(from_seq=request.from_seq)
            )
            log.info(
                "asked agent_id=%s to re-send from seq %d (a gap stayed open)",
                request.agent_id,
                request.from_seq,
            )
