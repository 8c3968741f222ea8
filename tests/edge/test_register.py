"""The register at the edge: the basket from scans, tenders, the completed sale as a contract
event, the till's numbered outbox entry and receipt, and the ESC/POS printer and drawer."""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path

import pytest

from tests.pricing_table import book
from warehouse import contracts, pricing, receipts
from warehouse_drivers import DeviceUnavailable, DriverConfigError, create_printer
from warehouse_drivers.printer import EscposPrinter
from warehouse_edge.config import AgentConfig
from warehouse_edge.outbox import Outbox
from warehouse_edge.register import Register
from warehouse_edge.till import PriceBooks, Till

TEA, WATER, RICE = "5901230001025", "5901230001070", "5901230001094"
KICK_PIN2 = b"\x1bp\x00"  # ESC p 0: the pulse on drawer pin 2
CUT = b"\x1dV"  # GS V


def register(**extra: object) -> Register:
    return Register(pricing.PriceBook.from_dict(book()), manager_cards=frozenset({"M1"}), **extra)  # type: ignore[arg-type]


def ring(reg: Register, *scans: str) -> list[tuple[str, str]]:
    return [(o.level, o.text) for o in (reg.read(s) for s in scans)]


def test_a_repeated_scan_or_a_quantity_key_sets_the_quantity() -> None:
    reg = register()
    ring(reg, TEA, TEA, "QTY:3", WATER)
    assert [(x.sku, x.qty) for x in reg.lines] == [("TEA-GRN", 2), ("WTR-6", 3)]
    assert reg.price().total_minor == 2 * 499 + 3 * 299
    assert reg.read("QTY:0").level == "error"
    assert reg.read("QTY:lots").level == "error"


def test_void_discount_and_cancel() -> None:
    reg = register()
    ring(reg, TEA, WATER, RICE, "VOID:2")
    assert [x.sku for x in reg.lines] == ["TEA-GRN", "RIC-1K"]
    ring(reg, "VOID")
    assert [x.sku for x in reg.lines] == ["TEA-GRN"]
    assert reg.read("VOID:9").level == "error"
    ring(reg, "DISC:10%", "BDISC:0.50")
    assert reg.price().total_minor == 499 - 50 - 50
    assert reg.read("DISC:-3").level == "error"
    assert reg.read("CANCEL").level == "warn"
    assert reg.lines == []
    assert reg.read("PAY:CASH").level == "error"  # nothing to pay for


def test_a_price_override_needs_a_manager_card_first() -> None:
    reg = register()
    ring(reg, RICE)
    assert reg.read("PRICE:5.00").level == "error"
    assert reg.read("MGR:nobody").level == "error"
    ring(reg, "MGR:M1", "PRICE:5.00")
    assert reg.price().total_minor == 500
    ring(reg, "PRICE:4.00")  # the card allows one override
    assert reg.price().total_minor == 500


def test_garbled_unknown_and_bookless_scans_are_errors_that_change_nothing() -> None:
    reg = register()
    assert reg.read("5901230001026").level == "error"  # bad check digit
    assert "not in the price book" in reg.read("4006381333931").text
    assert reg.read("PAY:GOLD").level == "error"
    assert reg.lines == []
    assert Register(None).read(TEA).text.startswith("no price book")


def test_split_tender_completes_with_change_and_the_contract_event() -> None:
    reg = register()
    ring(reg, TEA, TEA, WATER)  # 12.97
    short = reg.read("PAY:CARD:10.00:AUTH-1")
    assert (short.level, short.completed) == ("ok", None)
    assert "short" in short.text
    done = reg.read("PAY:CASH:5.00").completed
    assert done is not None
    assert reg.lines == []  # the next basket starts empty
    paid = done.settlement
    assert [(t.kind, t.amount_minor, t.reference) for t in paid.tenders] == [
        ("card", 1000, "AUTH-1"),
        ("cash", 295, None),
    ]
    assert (paid.change_minor, paid.rounding_minor) == (205, -2)
    data = done.data("ST1-REG1", 7, "ann")
    event = contracts.SaleData.model_validate(data.model_dump(mode="json", by_alias=True))
    assert (event.receipt_no, event.total_minor, event.register_code) == (7, 1297, "ST1-REG1")
    assert [(x.sku, x.qty, x.unit_price_minor) for x in event.lines] == [
        ("TEA-GRN", Decimal(2), 499),
        ("WTR-6", Decimal(1), 299),
    ]
    text = receipts.text(done.receipt("ST1", "ST1-REG1", 7, "2026-12-02T10:00:00+00:00", "ann"))
    assert "No. 7" in text
    assert "12.97" in text
    assert max(len(line) for line in text.splitlines()) <= 42


def test_a_weighed_and_a_price_embedded_item_from_their_barcodes() -> None:
    cheese = register(rcn_region="fi")
    ring(cheese, "2312345012340")  # 1.234 kg at 18.90
    assert [(x.sku, x.qty, x.weighed) for x in cheese.lines] == [("CHEESE", Decimal("1.234"), True)]
    assert cheese.price().total_minor == 2332
    deli = register(rcn_region="se")
    ring(deli, "2012345012349", "2012345012349")  # 12.34 each: two lines, never merged
    assert [x.embedded_minor for x in deli.lines] == [1234, 1234]


# --- the till: outbox, numbering, printing -------------------------------------------------


def till(tmp_path: Path, printer: object) -> Till:
    config = AgentConfig.model_validate(
        {
            "agent_id": "till-1",
            "site": "ST1",
            "outbox": {"path": str(tmp_path / "outbox.db")},
            "stations": [{"name": "till", "mode": "pos", "location": "ST1-REG1"}],
        }
    )
    outbox = Outbox(config.outbox.path, budget_bytes=10_000_000)
    t = Till(config, config.stations[0], outbox, printer)
    t.use(pricing.PriceBook.from_dict(book()))
    return t


def test_each_sale_takes_the_next_receipt_number_prints_and_kicks_the_drawer_on_cash(
    tmp_path: Path,
) -> None:
    printer = EscposPrinter("p1", "dummy")
    t = till(tmp_path, printer)
    for code in (TEA, "PAY:CASH:10.00", WATER, "PAY:CARD"):
        t.read(code, "scanner-1")
    assert t.outbox.counter("receipt:till") == 2
    sent = [contracts.decode_event(p.payload) for p in t.outbox.pending(0, 10)]
    sales = [e for e in sent if isinstance(e, contracts.SaleEvent)]
    assert [s.data.receipt_no for s in sales] == [1, 2]
    assert [e.type for e in sent] == ["session", "sale", "sale"]  # the first sale opened it
    assert (printer.printed, printer.kicks, t.receipts_printed) == (2, 1, 2)
    out = printer.output
    assert out.count(KICK_PIN2) == 1
    assert out.index(KICK_PIN2) < out.index(b"No. 1")  # the drawer opens as the receipt prints
    assert out.count(CUT) == 2
    t.outbox.close()


def test_a_printer_that_is_away_does_not_undo_the_sale(tmp_path: Path) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    printer = create_printer(
        "escpos", "p1", connection="network", host="127.0.0.1", port=port, timeout_s=1
    )
    t = till(tmp_path, printer)
    outcome = t.read(TEA, None)
    outcome = t.read("PAY:CARD", None)
    assert outcome.completed is not None
    assert "receipt 1" in outcome.text
    assert (t.receipts_printed, len(t.outbox.pending(0, 10))) == (0, 2)  # a session and a sale
    with pytest.raises(DeviceUnavailable):
        printer.kick()
    t.outbox.close()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"connection": "parallel"}, "expected one of"),
        ({"connection": "network"}, "needs host"),
        ({"connection": "serial"}, "needs devfile"),
        ({"connection": "usb", "vendor_id": 0x0416}, "needs vendor_id and product_id"),
        ({"drawer_pin": 3}, "drawer_pin is 2 or 5"),
    ],
)
def test_printer_configuration_errors_name_what_is_missing(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(DriverConfigError, match=message):
        create_printer("escpos", "p1", **params)


def test_the_price_book_on_disk_survives_a_restart_and_a_corrupt_copy_is_not_used(
    tmp_path: Path,
) -> None:
    config = AgentConfig.model_validate(
        {
            "agent_id": "till-1",
            "site": "ST1",
            "outbox": {"path": str(tmp_path / "o.db")},
            "stations": [{"name": "till", "mode": "pos", "location": "ST1-REG1"}],
        }
    )
    books = PriceBooks(config)
    assert books.load() is None
    assert books.fetch() is None  # no [api] configured
    books.replace(pricing.PriceBook.from_dict(book()))
    again = PriceBooks(config).load()
    assert again is not None
    assert again.items["TEA-GRN"].unit_price_minor == 499
    books.path.write_text('{"currency": "EUR", "items": [')
    assert PriceBooks(config).load() is None


def events(t: Till) -> list[contracts.Event]:
    return [contracts.decode_event(p.payload) for p in t.outbox.pending(0, 100)]


def test_a_session_opens_with_its_float_and_every_sale_and_drawer_event_belongs_to_it(
    tmp_path: Path,
) -> None:
    printer = EscposPrinter("p1", "dummy")
    t = till(tmp_path, printer)
    assert t.read("PAYOUT:5.00", None).level == "error"  # no session yet
    assert t.read("CLOSE:1.00", None).level == "error"
    opened = t.read("OPEN:100.00", None)
    assert (opened.level, t.session) == ("ok", 1)
    assert t.read("OPEN:50.00", None).level == "error"  # one at a time
    for scan in (TEA, "PAY:CASH:10.00", "PAYOUT:5.00:milk for the staff", "PAYIN:20.00", "NOSALE"):
        assert t.read(scan, None).level == "ok", scan
    assert t.read("PAYOUT", None).level == "error"  # no amount
    assert t.read(TEA, None).level == "ok"
    assert t.read("CLOSE:120.00", None).level == "error"  # the basket first
    assert t.read("CANCEL", None).level == "warn"
    closed = t.read("CLOSE:120.00", None)
    assert (closed.level, t.session) == ("ok", 0)
    sent = events(t)
    assert [e.type for e in sent] == ["session", "sale", "drawer", "drawer", "drawer", "session"]
    first, sale, out, into, nosale, last = (e.data for e in sent)
    assert isinstance(first, contracts.SessionData)
    assert isinstance(last, contracts.SessionData)
    assert (first.action, first.session_no, first.float_minor) == ("open", 1, 10000)
    assert (last.action, last.session_no, last.counted_minor) == ("close", 1, 12000)
    assert isinstance(sale, contracts.SaleData)
    assert sale.session_no == 1
    assert isinstance(out, contracts.DrawerData)
    assert isinstance(into, contracts.DrawerData)
    assert (out.kind, out.amount_minor, out.reason) == ("paid_out", 500, "milk for the staff")
    assert (into.kind, into.amount_minor) == ("paid_in", 2000)
    assert isinstance(nosale, contracts.DrawerData)
    assert nosale.kind == "no_sale"
    assert printer.kicks == 6  # opening, the cash sale, three drawer events, closing
    assert t.read(WATER, None).level == "ok"
    t.read("PAY:CARD", None)  # a sale with no session open opens the next one
    assert t.session == 2
    t.outbox.close()


def test_the_open_session_survives_a_restart(tmp_path: Path) -> None:
    t = till(tmp_path, None)
    t.read("OPEN:50.00", None)
    t.outbox.close()
    again = till(tmp_path, None)
    assert again.session == 1
    again.read(TEA, None)
    again.read("PAY:CARD", None)
    sale = events(again)[-1].data
    assert isinstance(sale, contracts.SaleData)
    assert sale.session_no == 1
    again.outbox.close()


def test_a_files_printer_keeps_each_receipt_readable_and_as_escpos(tmp_path: Path) -> None:
    printer = create_printer("escpos", "till-1", connection="files", directory=str(tmp_path / "p"))
    t = till(tmp_path, printer)
    t.read(TEA, None)
    t.read("PAY:CASH:10.00", None)
    t.read(WATER, None)
    t.read("PAY:CARD", None)
    texts = sorted((tmp_path / "p").glob("*.txt"))
    assert len(texts) == 2  # (a session a sale opens prints no slip)
    receipt = texts[0].read_text()
    assert receipt.startswith("[drawer opened]\n")
    assert "No. 1" in receipt
    assert "4.99" in receipt
    assert receipt.endswith("[cut]\n")
    assert "[drawer opened]" not in texts[1].read_text()  # paid by card
    raw = texts[0].with_suffix(".escpos").read_bytes()
    assert KICK_PIN2 in raw
    assert CUT in raw
    with pytest.raises(DriverConfigError, match="directory"):
        create_printer("escpos", "p", connection="files")
    t.outbox.close()


def test_the_heartbeat_says_where_each_device_works_and_the_tills_price_book(
    tmp_path: Path,
) -> None:
    """The devices page shows each device's station and a register's price-book version."""
    from warehouse_drivers.virtual import VirtualScanner
    from warehouse_edge.agent import Agent

    config = AgentConfig.model_validate(
        {
            "agent_id": "store-1",
            "site": "ST1",
            "heartbeat_s": 3600,
            "outbox": {"path": str(tmp_path / "o.db")},
            "stations": [
                {"name": "till", "mode": "pos", "location": "ST1-REG1"},
                {"name": "back", "mode": "receiving", "location": "ST1-BACK"},
            ],
            "devices": [
                {"name": "hand", "driver": "virtual", "station": "till"},
                {"name": "gun", "driver": "virtual", "station": "back"},
            ],
        }
    )
    drivers = {"hand": VirtualScanner("hand"), "gun": VirtualScanner("gun")}
    agent = Agent(config, drivers=drivers)  # type: ignore[arg-type]
    agent.books.replace(pricing.PriceBook.from_dict({**book(), "version": "pb-42"}))
    agent._heartbeat()
    (event,) = [contracts.decode_event(p.payload) for p in agent.outbox.pending(0, 10)]
    assert isinstance(event.data, contracts.HeartbeatData)
    placed = {
        name: (d.get("station"), d.get("price_book")) for name, d in event.data.devices.items()
    }
    assert placed == {"hand": ("till", "pb-42"), "gun": ("back", None)}
    agent.outbox.close()
