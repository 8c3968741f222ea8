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
from decimal import Decimal
from typing import Any

from warehouse import contracts, logs, pricing, receipts
from warehouse_drivers import DeviceUnavailable
from warehouse_edge.config import AgentConfig, Station
from warehouse_edge.outbox import Outbox
from warehouse_edge.register import Outcome, Register, TillAction

log = logging.getLogger(__name__)


def warn_refused(book: pricing.PriceBook) -> None:
    """Say which products the registers will refuse, before a cashier finds out at the till."""
    if not book.refused_count:
        return
    shown = ", ".join(book.refused)
    more = book.refused_count - len(book.refused)
    log.warning(
        "price book %s: %d products will be refused at the till (no price, or no tax rate for "
        "their category): %s%s",
        book.version,
        book.refused_count,
        shown,
        f" and {more} more" if more > 0 else "",
    )


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
        warn_refused(self.book)
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
        warn_refused(book)


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
        self._session_counter = f"session:{station.name}"
        self._open_key = f"session-open:{station.name}"
        self.receipts_printed = 0
        self._lock = threading.Lock()

    def use(self, book: pricing.PriceBook) -> None:
        with self._lock:
            self.register.use(book)

    @property
    def session(self) -> int:
        """The number of the cashier session open at this register (0: none)."""
        return self.outbox.counter(self._open_key)

    def read(self, code: str, device: str | None) -> Outcome:
        """A scan at the register; a sale it completes is stored, then printed; a session or
        drawer scan is stored (and the drawer opened)."""
        with self._lock:
            outcome = self.register.read(code)
            if outcome.action is not None:
                return self._act(outcome, outcome.action, device)
            if outcome.completed is None:
                return outcome
            done = outcome.completed
            session = self.session or self._open(self.station.float_minor, device, auto=True)
            occurred_at = datetime.now(UTC)
            event_id = uuid.uuid4()

            def render(seq: int, number: int) -> tuple[str, str, bytes]:
                data = done.data(self.station.location, number, self.station.cashier)
                data = data.model_copy(update={"session_no": session})
                return self._render(contracts.SaleEvent, data, seq, device, occurred_at, event_id)

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
            self.config.site,
            self.station.location,
            number,
            occurred_at.isoformat(),
            self.station.cashier,
        )
        book = self.register.book
        lines: list[dict[str, Any]] = doc["lines"]  # type: ignore[assignment]
        for line in lines:  # the product's name on the paper, as the service prints it
            item = book.item(str(line["sku"])) if book else None
            line["name"] = item.name if item is not None and item.name else line["sku"]
        self._print(
            receipts.text(doc),
            number,
            open_drawer=any(t.kind == "cash" for t in done.settlement.tenders),
        )
        outcome.text = f"receipt {number}: {outcome.text}"
        return outcome

    # --- sessions and the drawer ---------------------------------------------------------

    def _act(self, outcome: Outcome, action: TillAction, device: str | None) -> Outcome:
        """Record a session opened or closed, or the drawer opened without a sale; the drawer
        opens with a slip."""
        session = self.session
        if action.kind == "open":
            if session:
                return Outcome("error", f"session {session} is open: CLOSE:<counted> first")
            number = self._open(action.amount_minor, device)
            outcome.text = f"session {number} opened, float {self._money(action.amount_minor)}"
        elif not session:
            return Outcome("error", "no session is open: scan OPEN:<float> first")
        elif action.kind == "close":
            data = {"action": "close", "session_no": session, "counted_minor": action.amount_minor}
            self._store(contracts.SessionEvent, contracts.SessionData, data, device, close=True)
            counted = self._money(action.amount_minor)
            outcome.text = f"session {session} closed, {counted} counted"
        else:
            data = {
                "kind": action.kind,
                "session_no": session,
                "amount_minor": action.amount_minor,
                "reason": action.reason,
            }
            self._store(contracts.DrawerEvent, contracts.DrawerData, data, device)
            if action.amount_minor:
                outcome.text += f" {self._money(action.amount_minor)}"
        log.info("register %s: %s", self.station.location, outcome.text)
        self._print(outcome.text.upper() + "\n", None, open_drawer=True)
        return outcome

    def _open(self, float_minor: int, device: str | None, *, auto: bool = False) -> int:
        """Open the next session (its number taken and kept open in one outbox commit)."""
        occurred_at, event_id = datetime.now(UTC), uuid.uuid4()

        def render(seq: int, number: int) -> tuple[str, str, bytes]:
            data = contracts.SessionData.model_validate(
                {
                    "action": "open",
                    "register": self.station.location,
                    "session_no": number,
                    "cashier": self.station.cashier,
                    "float_minor": float_minor,
                }
            )
            return self._render(contracts.SessionEvent, data, seq, device, occurred_at, event_id)

        _, number = self.outbox.append_numbered(
            render, self._session_counter, sets={self._open_key: None}
        )
        if auto:
            log.info("register %s: session %d opened by a sale", self.station.location, number)
        return number

    def _store(
        self,
        event_type: Any,
        data_type: Any,
        body: dict[str, Any],
        device: str | None,
        *,
        close: bool = False,
    ) -> None:
        occurred_at, event_id = datetime.now(UTC), uuid.uuid4()
        data = data_type.model_validate(
            {"register": self.station.location, "cashier": self.station.cashier, **body}
        )

        def render(seq: int) -> tuple[str, str, bytes]:
            return self._render(event_type, data, seq, device, occurred_at, event_id)

        self.outbox.append(render, sets={self._open_key: 0} if close else None)

    def _render(
        self,
        event_type: Any,
        data: Any,
        seq: int,
        device: str | None,
        occurred_at: datetime,
        event_id: uuid.UUID,
    ) -> tuple[str, str, bytes]:
        event = event_type(
            event_id=event_id,
            agent_id=self.config.agent_id,
            site=self.config.site,
            seq=seq,
            boot=self.outbox.boot,
            occurred_at=occurred_at,
            device=device,
            station=self.station.name,
            data=data,
        )
        topic = contracts.topic(self.config.site, self.config.agent_id, "events")
        return str(event_id), topic, contracts.encode(event)

    def _money(self, minor: int) -> str:
        exponent = self.register.book.exponent if self.register.book else 2
        return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"

    def _print(self, text: str, receipt_no: int | None, *, open_drawer: bool) -> None:
        """A receipt (or, without a number, a session or drawer slip) to the printer."""
        what = f"receipt {receipt_no}" if receipt_no is not None else "slip"
        if self.printer is None:
            log.debug("%s: no printer at %s", what, self.station.name)
            return
        try:
            self.printer.print_receipt(text, open_drawer=open_drawer)
        except DeviceUnavailable as exc:
            log.error(
                "%s not printed (what it records stands; reprint from the API): %s", what, exc
            )
            return
        if receipt_no is not None:
            self.receipts_printed += 1
