"""A register station at work: the basket (register.py), its price book, the outbox and the
receipt printer.

The price book comes from the service's API when the agent starts (``[api]`` in the config) and
whenever the service publishes a ``price_book`` command; each copy is kept on disk next to the
outbox, so a register that restarts while the broker and the service are away still sells.
A completed sale is stored in the outbox with the register's next receipt number in one
transaction (gapless, exactly once: the outbox re-sends it until the service acknowledges it),
then printed; the drawer opens when cash was tendered. A printer that fails does not undo the
sale: the receipt can be printed again from the service.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

from warehouse import contracts, logs, pricing, receipts
from warehouse_drivers import DeviceUnavailable
from warehouse_edge.config import AgentConfig, Station
from warehouse_edge.outbox import Outbox
from warehouse_edge.register import Outcome, Register

log = logging.getLogger(__name__)


class PriceBooks:
    """The site's price book: fetched, kept on disk, replaced by ``price_book`` commands."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.path = config.outbox.path.parent / f"price-book-{config.site}.json"
        self.book: pricing.PriceBook | None = None

    def load(self) -> pricing.PriceBook | None:
        """The copy on disk (None when there is none or it is unreadable)."""
        try:
            self.book = pricing.PriceBook.from_json(self.path.read_bytes())
        except FileNotFoundError:
            return None
        except pricing.PricingError as exc:
            log.error("price book %s is unreadable (%s); waiting for a new one", self.path, exc)
            return None
        log.info("price book %s loaded from %s", self.book.version, self.path)
        return self.book

    def fetch(self) -> pricing.PriceBook | None:
        """Today's book from the API; None (and a log line) when it cannot be had."""
        api = self.config.api
        if api.url is None:
            return None
        query = urllib.parse.urlencode({"site": self.config.site})
        url = f"{api.url.rstrip('/')}/api/v1/pos/price-book?{query}"
        request = urllib.request.Request(url)  # noqa: S310 - the config allows http(s) only
        if api.key is not None:
            request.add_header("X-API-Key", api.key.get_secret_value())
        context = ssl.create_default_context(cafile=str(api.ca_file)) if api.ca_file else None
        try:
            with urllib.request.urlopen(  # noqa: S310 - http(s) only, as above
                request, timeout=api.timeout_s, context=context
            ) as answer:
                body = answer.read()
        except OSError as exc:  # URLError, HTTPError, timeouts
            log.warning("price book not fetched from %s: %s", api.url, exc)
            return None
        try:
            book = pricing.PriceBook.from_json(body)
        except pricing.PricingError as exc:
            log.error("the API sent a price book that does not read: %s", exc)
            return None
        self.replace(book)
        return book

    def replace(self, book: pricing.PriceBook) -> None:
        """Use ``book`` from now on and keep it on disk (written whole, then renamed)."""
        self.book = book
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(book.to_json())
        os.replace(temporary, self.path)
        log.info("price book %s in use (%d items)", book.version, len(book.items))


class Till:
    """One register station: reads in, sales out to the outbox, receipts to the printer."""

    def __init__(
        self, config: AgentConfig, station: Station, outbox: Outbox, printer: Any | None
    ) -> None:
        self.config = config
        self.station = station
        self.outbox = outbox
        self.printer = printer
        self.register = Register(
            None,
            config.rcn_region,
            frozenset(card.get_secret_value() for card in station.manager_cards),
        )
        self.counter = f"receipt:{station.name}"
        self.receipts_printed = 0
        self._lock = threading.Lock()

    def use(self, book: pricing.PriceBook) -> None:
        with self._lock:
            self.register.use(book)

    def read(self, code: str, device: str | None) -> Outcome:
        """A scan at the register; a sale it completes is stored, then printed."""
        with self._lock:
            outcome = self.register.read(code)
            if outcome.completed is None:
                return outcome
            done = outcome.completed
            cashier = self.station.cashier
            topic = contracts.topic(self.config.site, self.config.agent_id, "events")
            occurred_at = datetime.now(UTC)
            event_id = uuid.uuid4()

            def render(seq: int, number: int) -> tuple[str, str, bytes]:
                event = contracts.SaleEvent(
                    event_id=event_id,
                    agent_id=self.config.agent_id,
                    site=self.config.site,
                    seq=seq,
                    boot=self.outbox.boot,
                    occurred_at=occurred_at,
                    device=device,
                    station=self.station.name,
                    data=done.data(self.station.location, number, cashier),
                )
                return str(event_id), topic, contracts.encode(event)

            seq, number = self.outbox.append_numbered(render, self.counter)
        log.info(
            "register %s: sale %s receipt %d total %d seq=%d",
            self.station.location,
            done.sale_id,
            number,
            done.basket.total_minor,
            seq,
            extra=logs.ids(event_id, self.config.agent_id, seq),
        )
        doc = done.receipt(
            self.config.site, self.station.location, number, occurred_at.isoformat(), cashier
        )
        self._print(doc, open_drawer=any(t.kind == "cash" for t in done.settlement.tenders))
        outcome.text = f"receipt {number}: {outcome.text}"
        return outcome

    def _print(self, doc: dict[str, Any], *, open_drawer: bool) -> None:
        if self.printer is None:
            log.debug("receipt %s: no printer at %s", doc["receipt_no"], self.station.name)
            return
        try:
            self.printer.print_receipt(receipts.text(doc), open_drawer=open_drawer)
        except DeviceUnavailable as exc:
            log.error(
                "receipt %s not printed (the sale stands; reprint from the API): %s",
                doc["receipt_no"],
                exc,
            )
            return
        self.receipts_printed += 1
