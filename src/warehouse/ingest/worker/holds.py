"""The chore that releases the reservations of sales orders past their hold, every
``reservation_check_s`` (nobody has to call the API for it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from warehouse.ingest.worker.chores import Chore
from warehouse.ingest.worker.deps import IngestService
from warehouse.orders.service import fulfilment

log = logging.getLogger(__name__)


class ReleaseHolds(Chore):
    """Expired reservations released."""

    doing = "releasing expired reservations"

    def __init__(self, service: IngestService) -> None:
        super().__init__(service.settings.reservation_check_s)
        self.service = service

    def run(self) -> None:
        for ref in fulfilment.release_expired(self.service.uow(), datetime.now(UTC)):
            log.info("sales order %s: its reservation expired and was released", ref)
