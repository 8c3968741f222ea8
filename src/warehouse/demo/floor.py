"""The demo's warehouse floor: operators scanning at a dock, a putaway cart, a pick station,
a store's back door and two registers, as reads fed to the real edge agents' virtual scanners.

It keeps its own idea of where stock is, so it scans what is plausibly there: receipts by the
case (a QTY label, then the item), putaway and picks with location labels, orders. The cashiers
open a session with a float, ring up baskets of a few items (now and then with a discount) and
take cash or a card, pay the window cleaner from the till once in a while, and close the session
with the cash the service expects counted; the service desk refunds a recent sale now and then.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from warehouse.catalog.domain import Product, Tracking
from warehouse_drivers.virtual import VirtualScanner
from warehouse_edge.config import AgentConfig

BINS = [f"WH1-{aisle}-{i:02d}" for aisle in "AB" for i in range(1, 7)]
REGISTERS = {"register-1": "ST1-REG-1", "register-2": "ST1-REG-2"}
CASHIERS = {"register-1": "ann", "register-2": "ben"}
#: How long a cashier's session lasts (at least four baskets) before the drawer is counted.
SESSION_S = 40.0


@dataclass
class Till:
    """A simulated register's cashier: whether a session is open, since when, how many baskets."""

    opened: float | None = None
    baskets: int = 0


#: The cash a register's open session expects (None: not known yet); what the desk refunds.
CashCount = Callable[[str], int | None]
Desk = Callable[[str], object]


def agent_configs(workdir: Path, mqtt_url: str) -> list[AgentConfig]:
    """Three agents: a dock door with a putaway cart, a pick station, a store whose registers
    print their receipts into ``workdir/receipts/<register>/``."""

    def agent(agent_id: str, site: str, stations: list[tuple[str, str, str]]) -> AgentConfig:
        tills = [(n, loc) for n, m, loc in stations if m == "pos"]
        return AgentConfig(
            agent_id=agent_id,
            site=site,
            heartbeat_s=30,
            broker={"url": mqtt_url, "protocol": "3.1.1"},
            outbox={"path": workdir / f"outbox-{agent_id}.db"},
            stations=[
                {
                    "name": n,
                    "mode": m,
                    "location": loc,
                    "debounce_ms": 100,
                    "cashier": CASHIERS.get(n),
                }
                for n, m, loc in stations
            ],
            devices=[
                {"name": f"{n}-scanner", "driver": "virtual", "station": n} for n, _, _ in stations
            ],
            printers=[
                {
                    "name": f"{n}-printer",
                    "station": n,
                    "params": {"connection": "files", "directory": str(workdir / "receipts" / loc)},
                }
                for n, loc in tills
            ],
        )

    return [
        agent(
            "wh1-dock",
            "WH1",
            [("dock-1", "receiving", "WH1-DOCK-1"), ("putaway-1", "putaway", "WH1-DOCK-1")],
        ),
        agent(
            "wh1-pick",
            "WH1",
            [("pick-1", "picking", "WH1-PACK"), ("ship-1", "shipping", "WH1-PACK")],
        ),
        agent(
            "st1-pos",
            "ST1",
            [
                ("backdoor", "receiving", "ST1-BACK"),
                ("shelving", "putaway", "ST1-BACK"),
                ("register-1", "pos", "ST1-REG-1"),
                ("register-2", "pos", "ST1-REG-2"),
            ],
        ),
    ]


class Floor:
    """Generates plausible scans and types them into the agents' virtual scanners."""

    def __init__(
        self,
        products: list[Product],
        scanners: dict[str, VirtualScanner],
        *,
        rate: float,
        seed: int | None = None,
        till_cash: CashCount | None = None,
        desk: Desk | None = None,
        ready: Callable[[], bool] | None = None,
    ) -> None:
        self.products = [p for p in products if p.gtins]
        self.till_cash = till_cash
        self.desk = desk
        self.ready = ready  # whether the registers can sell (they have their price book)
        self.tills = {register: Till() for register in REGISTERS.values()}
        self.scanners = scanners
        self.rate = rate
        self.random = random.Random(seed)  # noqa: S311 - a simulation, not secrets
        self.stock: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(dict)
        self.scans = 0
        self._order = 1000

    def run(self, stop: threading.Event) -> None:
        """Scan until ``stop`` is set, about ``rate`` item reads a second."""
        while not stop.wait(1.0 / self.rate):
            for _ in range(20):
                reads = self.random.choices(
                    [
                        self._receive,
                        self._putaway,
                        self._pick,
                        self._ship,
                        self._store_receive,
                        self._shelve,
                        self._sell,
                    ],
                    [3, 3, 3, 1, 1, 2, 6],
                )[0]()
                if reads:
                    break
            for scanner, code in reads or []:
                self.scanners[scanner].inject(code)
                self.scans += 1
                if stop.wait(0.12):  # an operator's pace between labels and items
                    return

    # --- the floor's own stock book, by (product sku, lot or serial) per location ----------

    def _at(self, location: str) -> list[tuple[str, str, Decimal]]:
        return [(sku, key, qty) for (sku, key), qty in self.stock[location].items() if qty > 0]

    def _move(self, sku: str, key: str, qty: Decimal, src: str | None, dst: str | None) -> None:
        if src:
            self.stock[src][(sku, key)] -= qty
        if dst:
            self.stock[dst][(sku, key)] = self.stock[dst].get((sku, key), Decimal(0)) + qty

    def _product(self, sku: str) -> Product:
        return next(p for p in self.products if p.sku == sku)

    def _code(self, product: Product, key: str) -> str:
        gtin14 = product.gtins[0].zfill(14)
        if product.tracking is Tracking.LOT:
            return f"]C101{gtin14}10{key}"
        if product.tracking is Tracking.SERIAL:
            return f"]C101{gtin14}21{key}"
        return f"]E0{gtin14[1:]}"  # an EAN-13 with its AIM prefix

    def _qty_label(self, product: Product, qty: Decimal) -> list[str]:
        return [] if qty == 1 else [f"QTY:{qty}"]

    def _taken(
        self, location: str, *, whole: bool, limit: int = 3
    ) -> tuple[Product, str, Decimal] | None:
        options = self._at(location)
        if not options:
            return None
        sku, key, have = self.random.choice(options)
        product = self._product(sku)
        if product.tracking is Tracking.SERIAL or whole:
            return product, key, have if product.tracking is not Tracking.SERIAL else Decimal(1)
        if product.allows_fraction:
            return product, key, min(have, Decimal(self.random.randrange(200, 1500)) / 1000)
        return product, key, min(have, Decimal(self.random.randrange(1, limit + 1)))

    # --- what people do ------------------------------------------------------------------

    def _new_stock(self, dock: str) -> tuple[Product, str, Decimal]:
        product = self.random.choice(self.products)
        if product.tracking is Tracking.SERIAL:
            key, qty = f"SN{self.random.randrange(10**8):08d}", Decimal(1)
        elif product.allows_fraction:
            key, qty = "", Decimal(self.random.randrange(5000, 20000)) / 1000
        else:
            key, qty = "", Decimal(self.random.choice([6, 12, 24]))
        if product.tracking is Tracking.LOT:
            key = f"L{(datetime.now(UTC) + timedelta(days=90)):%y%m%d}{self.random.randrange(9)}"
        self._move(product.sku, key, qty, None, dock)
        return product, key, qty

    def _receive(self) -> list[tuple[str, str]]:
        product, key, qty = self._new_stock("WH1-DOCK-1")
        return [
            ("dock-1-scanner", c)
            for c in [*self._qty_label(product, qty), self._code(product, key)]
        ]

    def _store_receive(self) -> list[tuple[str, str]]:
        product, key, qty = self._new_stock("ST1-BACK")
        return [
            ("backdoor-scanner", c)
            for c in [*self._qty_label(product, qty), self._code(product, key)]
        ]

    def _putaway(self) -> list[tuple[str, str]] | None:
        found = self._taken("WH1-DOCK-1", whole=True)
        if found is None:
            return None
        product, key, qty = found
        bin_ = self.random.choice(BINS)
        self._move(product.sku, key, qty, "WH1-DOCK-1", bin_)
        return [
            ("putaway-1-scanner", c)
            for c in [f"LOC:{bin_}", *self._qty_label(product, qty), self._code(product, key)]
        ]

    def _pick(self) -> list[tuple[str, str]] | None:
        bin_ = self.random.choice(BINS)
        found = self._taken(bin_, whole=False)
        if found is None:
            return None
        product, key, qty = found
        self._order += 1
        self._move(product.sku, key, qty, bin_, "WH1-PACK")
        return [
            ("pick-1-scanner", c)
            for c in [
                f"SO-{self._order}",
                f"LOC:{bin_}",
                *self._qty_label(product, qty),
                self._code(product, key),
            ]
        ]

    def _ship(self) -> list[tuple[str, str]] | None:
        found = self._taken("WH1-PACK", whole=True)
        if found is None:
            return None
        product, key, qty = found
        self._move(product.sku, key, qty, "WH1-PACK", None)
        return [
            ("ship-1-scanner", c)
            for c in [f"SO-{self._order}", *self._qty_label(product, qty), self._code(product, key)]
        ]

    def _shelve(self) -> list[tuple[str, str]] | None:
        found = self._taken("ST1-BACK", whole=True)
        if found is None:
            return None
        product, key, qty = found
        register = self.random.choice(list(REGISTERS.values()))
        self._move(product.sku, key, qty, "ST1-BACK", register)
        return [
            ("shelving-scanner", c)
            for c in [f"LOC:{register}", *self._qty_label(product, qty), self._code(product, key)]
        ]

    def _sell(self) -> list[tuple[str, str]] | None:
        """A cashier's turn: open the session, ring up and pay a basket, or count the drawer
        and close the session once it has run its time."""
        if self.ready is not None and not self.ready():
            return None
        scanner, register = self.random.choice(list(REGISTERS.items()))
        till, name = self.tills[register], f"{scanner}-scanner"
        if till.opened is None:
            till.opened, till.baskets = time.monotonic(), 0
            return [(name, "OPEN:100.00")]
        if till.baskets >= 4 and time.monotonic() - till.opened >= SESSION_S:
            cash = self.till_cash(register) if self.till_cash else None
            if cash is not None:
                till.opened = None
                return [(name, f"CLOSE:{Decimal(cash).scaleb(-2):.2f}")]
        reads = self._basket(register)
        if not reads:
            return None
        till.baskets += 1
        if self.desk is not None and till.baskets % 6 == 0:
            self.desk(register)  # a customer back at the service desk with an earlier buy
        if self.random.random() < 0.06:
            reads.append("PAYOUT:4.50:window cleaner")
        return [(name, code) for code in reads]

    def _basket(self, register: str) -> list[str]:
        """One to four items from the register's shelf, a discount now and then, and the
        payment: cash (what is due, to the cash step) or a card with its authorisation."""
        reads: list[str] = []
        for _ in range(self.random.randint(1, 4)):
            found = self._taken(register, whole=False, limit=2)
            if found is None:
                break
            product, key, qty = found
            self._move(product.sku, key, qty, register, None)
            reads += [*self._qty_label(product, qty), self._code(product, key)]
            if self.random.random() < 0.1:
                reads.append("DISC:10%")
        if not reads:
            return []
        if self.random.random() < 0.6:
            reads.append("PAY:CASH")
        else:
            reads.append(f"PAY:CARD::AUTH-{self.random.randrange(10**6):06d}")
        return reads
