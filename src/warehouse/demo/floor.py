"""The demo's warehouse floor: operators scanning at a dock, a putaway cart, a pick station,
a store's back door and two registers, as reads fed to the real edge agents' virtual scanners.

It keeps its own idea of where stock is, so it scans what is plausibly there: receipts by the
case (a QTY label, then the item), putaway and picks with location labels, orders, sales.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from warehouse.catalog.domain import Product, Tracking
from warehouse_drivers.virtual import VirtualScanner
from warehouse_edge.config import AgentConfig

BINS = [f"WH1-{aisle}-{i:02d}" for aisle in "AB" for i in range(1, 7)]
REGISTERS = {"register-1": "ST1-REG-1", "register-2": "ST1-REG-2"}


def agent_configs(workdir: Path, mqtt_url: str) -> list[AgentConfig]:
    """Three agents: a dock door with a putaway cart, a pick station, a store."""

    def agent(agent_id: str, site: str, stations: list[tuple[str, str, str]]) -> AgentConfig:
        return AgentConfig(
            agent_id=agent_id,
            site=site,
            heartbeat_s=30,
            broker={"url": mqtt_url, "protocol": "3.1.1"},
            outbox={"path": workdir / f"outbox-{agent_id}.db"},
            stations=[
                {"name": n, "mode": m, "location": loc, "debounce_ms": 100}
                for n, m, loc in stations
            ],
            devices=[
                {"name": f"{n}-scanner", "driver": "virtual", "station": n} for n, _, _ in stations
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
    ) -> None:
        self.products = [p for p in products if p.gtins]
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
        scanner, register = self.random.choice(list(REGISTERS.items()))
        found = self._taken(register, whole=False, limit=1)
        if found is None:
            return None
        product, key, qty = found
        self._move(product.sku, key, qty, register, None)
        return [
            (f"{scanner}-scanner", c)
            for c in [*self._qty_label(product, qty), self._code(product, key)]
        ]
