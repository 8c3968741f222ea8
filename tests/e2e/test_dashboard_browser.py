"""The dashboard in headless Chromium against `warehouse serve` and `warehouse ingest` as
processes, on PostgreSQL and the shared Mosquitto: sign in, search, a movement published over
MQTT changing the number on the page without a reload, the live feed resuming after the server
restarts, a cashier kept to their site, a hostile product name shown as text, forms without the
session's CSRF token refused, axe-core's rules, and the stock page by keyboard alone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_worker_crash import start_worker, wait_connected
from tests.helpers import ResendingPublisher, admin_headers, movement_payload
from warehouse.access.domain import Grant, Role
from warehouse.access.service import accounts as access
from warehouse.app import create_app
from warehouse.bootstrap import Service

pytestmark = [
    pytest.mark.slow,
    pytest.mark.mosquitto,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]
PASSWORD = "a long enough password"
XSS = "<script>alert(1)</script>"
SECRET = "dashboard-test-secret-" + "x" * 32


@dataclass
class Dashboard:
    base: str
    port: int
    database_url: str
    site: str
    mosquitto: tuple[str, int]
    log: Path
    serve: subprocess.Popen[bytes] | None = None
    seq: int = 0

    def start_serve(self) -> None:
        env = {
            **os.environ,
            "WAREHOUSE_DATABASE_URL": self.database_url,
            "WAREHOUSE_JWT_SECRET": SECRET,
            "WAREHOUSE_LOG_LEVEL": "WARNING",
            "WAREHOUSE_STREAM_POLL_S": "0.1",
        }
        with self.log.open("ab") as out:
            self.serve = subprocess.Popen(
                [sys.executable, "-m", "warehouse.cli", "serve", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"warehouse serve did not start:\n{self.log.read_text()[-2000:]}")

    def stop_serve(self) -> None:
        if self.serve is not None:
            self.serve.send_signal(signal.SIGTERM)
            self.serve.wait(15)
            self.serve = None

    def receive(self, publisher: ResendingPublisher, qty: int) -> None:
        """A receipt of COF-250 (GTIN 5901230001001, lot L1) into WH1-DOCK-1, over MQTT."""
        self.seq += 1
        publisher.publish(self.seq, movement_payload(self.site, "dash-1", self.seq, qty=qty))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dashboard(
    seeded: Service, site: str, mosquitto: tuple[str, int], tmp_path: Path
) -> Iterator[Dashboard]:
    now = datetime.now(UTC)
    for name, grant in (("mia", Grant(Role.MANAGER, "*")), ("cal", Grant(Role.CASHIER, "ST1"))):
        access.create_user(seeded.uow, seeded.credentials, name, PASSWORD, (grant,), "test", now)
    with TestClient(create_app(service=seeded), headers=admin_headers(seeded)) as client:
        product = {"sku": "XSS-1", "name": XSS, "unit": "each"}
        assert client.post("/api/v1/products", json=product).status_code == 201
        receipt = {"kind": "receive", "sku": "XSS-1", "qty": "3", "to_location": "WH1-A-01"}
        assert client.post("/api/v1/movements", json=receipt).status_code == 201
        first = {**receipt, "sku": "COF-250", "lot": "L1", "to_location": "WH1-DOCK-1"}
        assert client.post("/api/v1/movements", json=first).status_code == 201
    port = free_port()
    board = Dashboard(
        f"http://127.0.0.1:{port}", port, seeded.settings.database_url, site, mosquitto,
        tmp_path / "serve.log",
    )  # fmt: skip
    worker = start_worker(seeded.settings.database_url, site, tmp_path / "worker.log")
    try:
        wait_connected(tmp_path / "worker.log", 1)
        board.start_serve()
        yield board
    finally:
        board.stop_serve()
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)


def sign_in(browser: Any, board: Dashboard, user: str, width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(board.base + "/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(board.base + "/home")
    return page


def on_hand_cell(page: Any) -> Any:
    return page.locator('tr[data-key="COF-250|WH1-DOCK-1|L1"] [data-field="on_hand"]')


def test_sign_in_search_and_see_a_scan_arrive_without_a_reload(
    browser: Any, dashboard: Dashboard
) -> None:
    page = sign_in(browser, dashboard, "mia")
    assert page.get_by_role("heading", name="Today").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 820, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"dashboard-home-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Stock").click()
    page.get_by_label("Search").fill("COF-250")
    page.get_by_label("Search").press("Enter")
    cell = on_hand_cell(page)
    cell.wait_for(timeout=10_000)
    assert cell.get_attribute("data-num") == "3"
    page.wait_for_selector('#live[data-state="live"]', timeout=10_000)
    page.evaluate("window.notReloaded = true")
    publisher = ResendingPublisher(*dashboard.mosquitto, dashboard.site, "dash-1")
    try:
        published = time.monotonic()
        dashboard.receive(publisher, 5)
        page.wait_for_selector(
            '[data-field="on_hand"][data-num="8"]', timeout=10_000
        )  # 3 + 5, in place
        shown_after = time.monotonic() - published
        assert page.evaluate("window.notReloaded") is True
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-stock-1280.png"), full_page=True)
        for width in (820, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(ARTIFACTS / f"dashboard-stock-{width}.png"), full_page=True)

        # the server goes away: the page says so, then resumes where it stopped
        dashboard.stop_serve()
        page.wait_for_selector('#live[data-state="lost"]', timeout=10_000)
        dashboard.receive(publisher, 2)  # committed while the page is cut off
        assert publisher.wait_all_acked(dashboard.seq, timeout=20)
        dashboard.start_serve()
        page.wait_for_selector('[data-field="on_hand"][data-num="10"]', timeout=20_000)
        assert "resumed" in page.locator("#live").inner_text()
        assert page.evaluate("window.notReloaded") is True
        page.get_by_role("link", name="COF-250").click()  # open the product
        page.wait_for_url("**/products/COF-250")
        assert page.get_by_role("heading", name="Coffee beans 250 g").is_visible()
        assert page.locator("svg[role=img]").count() == 1  # stock over time
        assert page.get_by_role("cell", name="dash-1 / scanner-1").first.is_visible()
        page.screenshot(path=str(ARTIFACTS / "dashboard-product-1280.png"), full_page=True)
    finally:
        publisher.close()
    print(f"publish to screen: {shown_after * 1000:.0f} ms")


def test_a_hostile_product_name_is_shown_as_text(browser: Any, dashboard: Dashboard) -> None:
    page = sign_in(browser, dashboard, "mia")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(dashboard.base + "/stock?q=XSS-1")
    row = page.locator('tr[data-key="XSS-1|WH1-A-01|"]')
    assert row.locator("td").first.inner_text() == XSS
    assert page.locator("main script").count() == 0
    assert dialogs == []


def test_a_cashier_sees_their_site_and_is_refused_another(
    browser: Any, dashboard: Dashboard
) -> None:
    page = sign_in(browser, dashboard, "cal")
    page.goto(dashboard.base + "/stock")
    assert page.get_by_label("Location", exact=True).input_value() == "ST1"
    answer = page.goto(dashboard.base + "/stock?location=WH1")
    assert answer is not None
    assert answer.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert "WH1" in page.get_by_role("alert").inner_text()
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []


def test_forms_without_the_sessions_csrf_token_are_refused(
    browser: Any, dashboard: Dashboard
) -> None:
    page = sign_in(browser, dashboard, "mia")
    request = page.context.request  # the page's cookies, none of its tokens
    refused = request.post(dashboard.base + "/sign-out", form={"csrf_token": "0" * 32})
    assert refused.status == 403
    assert "CSRF" in refused.text()
    bare = request.post(dashboard.base + "/sign-out")
    assert bare.status == 403
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    forged_origin = request.post(
        dashboard.base + "/sign-out",
        form={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert forged_origin.status == 403
    page.reload()
    assert page.get_by_role("heading", name="Today").is_visible()  # still signed in
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(dashboard.base + "/")
    assert page.goto(dashboard.base + "/home").status == 401  # type: ignore[union-attr]


def test_every_page_passes_axe_and_the_stock_page_works_by_keyboard(
    browser: Any, dashboard: Dashboard
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    found = {}
    page.goto(dashboard.base + "/")
    found["sign-in"] = axe.run(page).response["violations"]
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(dashboard.base + "/home")
    found["home"] = axe.run(page).response["violations"]
    page.goto(dashboard.base + "/stock?q=COF")
    found["stock"] = axe.run(page).response["violations"]
    pages = (
        "exceptions",
        "devices",
        "products/COF-250",
        "pos?site=ST1",
        "audit",
        "orders",
        "counts",
    )
    for name in pages:
        page.goto(f"{dashboard.base}/{name}")
        found[name] = axe.run(page).response["violations"]
    serious = {
        name: [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")]
        for name, violations in found.items()
    }
    assert serious == {name: [] for name in found}

    page.goto(dashboard.base + "/stock")
    reached = []
    for _ in range(24):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("document.activeElement.id || document.activeElement.innerText")
        )
        if reached[-1] == "COF-250":
            break
    assert {"q", "location", "lot"} <= set(reached), reached
    assert reached[-1] == "COF-250", reached
    page.keyboard.press("Enter")
    page.wait_for_url("**/products/COF-250")


def test_an_agent_killed_turns_offline_on_the_devices_page(
    browser: Any, dashboard: Dashboard, seeded: Service, tmp_path: Path
) -> None:
    """A real `warehouse-edge run` with a serial scanner on a pty: its scan reaches the stock
    page, and when its process is SIGKILLed the devices page says offline within seconds."""
    from tests.e2e.test_edge_agent import Scanner, agent_config, start_agent
    from warehouse.access.service import devices

    devices.register_device(
        seeded.uow, seeded.credentials, "dock-door-1", dashboard.site, "test", datetime.now(UTC)
    )
    scanner = Scanner(tmp_path / "scanner")
    config = agent_config(tmp_path, dashboard.site, dashboard.mosquitto[1], scanner.link)
    agent = start_agent(config, tmp_path / "agent.log")
    try:
        page = sign_in(browser, dashboard, "mia")
        page.get_by_role("link", name="Devices").click()
        row = 'tr[data-agent="dock-door-1"] td.state'
        page.wait_for_selector(f'{row}[data-state="online"]', timeout=20_000)
        assert scanner.scan("(01)05901230001001(10)L1", timeout=10) == b"\x06"  # the ok beep
        page.goto(dashboard.base + "/stock?q=COF-250")
        page.wait_for_selector('[data-field="on_hand"][data-num="4"]', timeout=10_000)
        page.goto(dashboard.base + "/devices")
        page.wait_for_selector(f'{row}[data-state="online"]', timeout=10_000)
        killed = time.monotonic()
        agent.send_signal(signal.SIGKILL)
        page.wait_for_selector(f'{row}[data-state="offline"]', timeout=15_000)
        assert "offline" in page.locator(row).inner_text()  # said in words, not by colour alone
        print(f"killed to shown offline: {(time.monotonic() - killed) * 1000:.0f} ms")
    finally:
        agent.kill()
        agent.wait(10)
        scanner.close()


def test_an_unknown_code_is_linked_from_the_exceptions_inbox(
    browser: Any, dashboard: Dashboard
) -> None:
    publisher = ResendingPublisher(*dashboard.mosquitto, dashboard.site, "dash-1")
    try:
        dashboard.seq += 1
        unknown = movement_payload(
            dashboard.site, "dash-1", dashboard.seq, code="4006381333931", lot=None, qty=2
        )
        publisher.publish(dashboard.seq, unknown)
        assert publisher.wait_all_acked(dashboard.seq, timeout=20)
    finally:
        publisher.close()
    page = sign_in(browser, dashboard, "mia")
    page.wait_for_selector("#open-count.badge", timeout=10_000)  # the navigation's live count
    page.get_by_role("link", name="Exceptions").click()
    card = page.locator("article.exception").filter(has_text="4006381333931")
    card.get_by_text("The event as it arrived").click()
    assert "4006381333931" in card.locator("pre").inner_text()
    card.get_by_label("Product (SKU) for code 4006381333931").fill("TEA-GRN")
    card.get_by_role("button", name="Link the code").click()
    page.wait_for_selector("p.done")
    assert "resolved" in page.locator("p.done").inner_text()
    assert page.locator("article.exception").filter(has_text="4006381333931").count() == 0
    page.goto(dashboard.base + "/stock?q=TEA-GRN")
    assert (
        page.locator('tr[data-key="TEA-GRN|WH1-DOCK-1|"] [data-field="on_hand"]').get_attribute(
            "data-num"
        )
        == "2"
    )  # the event that waited for the code was applied
