"""The dashboard's pages and its session cookie, in-process, on both databases: sign-in and
sign-out, the cookie's flags, the idle timeout, CSRF on every change the cookie makes, the
search box's readings of a code, today's figures per site and who sees which of them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.helpers import admin_headers
from warehouse.access.domain import Grant, Role
from warehouse.access.service import accounts as access
from warehouse.access.service import web_sessions
from warehouse.app import create_app
from warehouse.bootstrap import Service, bootstrap
from warehouse.core.errors import NotAuthenticated

PASSWORD = "a long enough password"
HTML = {"Accept": "text/html"}
NOW = datetime.now(UTC)


def user(service: Service, name: str, grant: str) -> None:
    role, site = grant.split("@")
    access.create_user(
        service.uow, service.credentials, name, PASSWORD, (Grant(Role(role), site),), "t", NOW
    )


def signed_in(service: Service, name: str, **client: Any) -> TestClient:
    browser = TestClient(create_app(service=service), **client)
    answer = browser.post(
        "/sign-in", data={"username": name, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return browser


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


@pytest.fixture
def stocked(seeded: Service) -> Service:
    """Two receipts into WH1 (one of them a product with a hostile name), one into ST1."""
    with TestClient(create_app(service=seeded), headers=admin_headers(seeded)) as api:
        product = {"sku": "XSS-1", "name": "<script>alert(1)</script>", "unit": "each"}
        assert api.post("/api/v1/products", json=product).status_code == 201
        for sku, lot, where in (("XSS-1", None, "WH1-A-01"), ("COF-250", "L1", "WH1-A-02"),
                                ("TEA-GRN", None, "ST1-BACK")):  # fmt: skip
            receipt = {"kind": "receive", "sku": sku, "qty": "4", "to_location": where}
            answer = api.post("/api/v1/movements", json={**receipt, "lot": lot} if lot else receipt)
            assert answer.status_code == 201, answer.text
    user(seeded, "mia", "manager@*")
    user(seeded, "cal", "cashier@ST1")
    return seeded


def test_sign_in_sets_a_strict_cookie_and_sign_out_ends_the_session(stocked: Service) -> None:
    with TestClient(create_app(service=stocked)) as browser:
        landing = browser.get("/", headers=HTML)
        assert landing.status_code == 200
        assert "script-src 'self'" in landing.headers["content-security-policy"]
        assert "unsafe-inline" not in landing.headers["content-security-policy"]
        assert browser.get("/").json()["docs"] == "/docs"  # a client that is not a browser
        answer = browser.post(
            "/sign-in",
            data={"username": "mia", "password": PASSWORD, "next": "//evil.example/x"},
            follow_redirects=False,
        )
        assert (answer.status_code, answer.headers["location"]) == (303, "/home")
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Secure" not in cookie  # plain HTTP here; see the TLS test below
        assert browser.get("/", headers=HTML, follow_redirects=False).status_code == 303
        home = browser.get("/home")
        assert home.status_code == 200
        browser.post("/sign-out", data={"csrf_token": csrf(home.text)}, follow_redirects=False)
        gone = browser.get("/home")
        assert gone.status_code == 401
        assert 'action="/sign-in"' in gone.text
        assert 'value="/home"' in gone.text  # back to the page after signing in


def test_the_cookie_is_secure_behind_tls(stocked: Service) -> None:
    form = {"username": "mia", "password": PASSWORD}
    with TestClient(create_app(service=stocked), base_url="https://testserver") as browser:
        answer = browser.post("/sign-in", data=form, follow_redirects=False)
        assert "Secure" in answer.headers["set-cookie"]
    proxied = {"X-Forwarded-Proto": "https"}
    with TestClient(create_app(service=stocked)) as browser:  # nobody is a trusted proxy
        answer = browser.post("/sign-in", data=form, headers=proxied, follow_redirects=False)
        assert "Secure" not in answer.headers["set-cookie"]
    behind = bootstrap(make_settings(stocked.settings.database_url, trusted_proxies=["127.0.0.1"]))
    try:
        with TestClient(create_app(service=behind), client=("127.0.0.1", 50000)) as browser:
            answer = browser.post("/sign-in", data=form, headers=proxied, follow_redirects=False)
            assert "Secure" in answer.headers["set-cookie"]
    finally:
        behind.close()


def test_a_wrong_password_is_the_form_again_with_the_reason(stocked: Service) -> None:
    with TestClient(create_app(service=stocked)) as browser:
        answer = browser.post("/sign-in", data={"username": "mia", "password": "nope nope"})
        assert answer.status_code == 401
        assert "wrong username or password" in answer.text
        assert 'value="mia"' in answer.text
        missing = browser.post("/sign-in", data={"username": "mia"})
        assert missing.status_code == 422
        assert "password" in missing.text
        # a NUL that PostgreSQL cannot store (SQLite can: no such user) is still a page
        nul = browser.post("/sign-in", data={"username": "mi\x00a", "password": "nope nope"})
        assert nul.status_code in (401, 422)
        assert nul.headers["content-type"].startswith("text/html")


def test_changes_made_with_the_cookie_need_the_sessions_csrf_token(stocked: Service) -> None:
    with signed_in(stocked, "mia") as browser:
        token = csrf(browser.get("/home").text)
        assert browser.get("/api/v1/stock").status_code == 200  # reads need no token
        receipt = {"kind": "receive", "sku": "TEA-GRN", "qty": "1", "to_location": "WH1-A-01"}
        refused = browser.post("/api/v1/movements", json=receipt)
        assert refused.status_code == 403
        assert refused.json()["field"] == "csrf_token"
        wrong = browser.post("/api/v1/movements", json=receipt, headers={"X-CSRF-Token": "0" * 32})
        assert wrong.status_code == 403
        elsewhere = browser.post(
            "/api/v1/movements",
            json=receipt,
            headers={"X-CSRF-Token": token, "Origin": "https://evil.example"},
        )
        assert elsewhere.status_code == 403
        made = browser.post("/api/v1/movements", json=receipt, headers={"X-CSRF-Token": token})
        assert made.status_code == 201, made.text
        assert browser.post("/sign-out", follow_redirects=False).status_code == 403
        page = browser.post("/sign-out", data={"csrf_token": "f" * 32})
        assert page.status_code == 403
        assert "CSRF" in page.text


def test_the_session_slides_with_use_and_ends_when_idle_or_disabled(stocked: Service) -> None:
    idle = timedelta(minutes=30)
    session = web_sessions.sign_in(
        stocked.uow, stocked.credentials, stocked.tokens, "mia", PASSWORD, NOW,  # type: ignore[arg-type]
        stocked.login_policy, idle,
    )  # fmt: skip
    cookie = session.refresh_token

    def who(at: datetime) -> str:
        return web_sessions.principal_of_session(
            stocked.uow, stocked.credentials, cookie, at, idle
        ).name

    assert who(NOW + timedelta(minutes=20)) == "mia"  # used: now good until 50
    assert who(NOW + timedelta(minutes=49)) == "mia"  # used again: until 79
    with pytest.raises(NotAuthenticated, match="30 minutes without use"):
        who(NOW + timedelta(minutes=80))
    other = web_sessions.sign_in(
        stocked.uow, stocked.credentials, stocked.tokens, "mia", PASSWORD, NOW,  # type: ignore[arg-type]
        stocked.login_policy, idle,
    ).refresh_token  # fmt: skip
    access.set_disabled(stocked.uow, "mia", True, "t", NOW)
    with pytest.raises(NotAuthenticated, match="ended"):  # disabling ends its sessions
        web_sessions.principal_of_session(stocked.uow, stocked.credentials, other, NOW, idle)


@pytest.mark.parametrize(
    ("q", "rows", "said"),
    [
        ("COF-250", ["COF-250|WH1-A-02|L1"], None),
        ("coffee BEANS", ["COF-250|WH1-A-02|L1"], None),
        ("5901230001001", ["COF-250|WH1-A-02|L1"], None),
        ("(01)05901230001001(10)L1", ["COF-250|WH1-A-02|L1"], "lot L1"),
        ("https://id.example.com/01/05901230001001/10/L2", [], "lot L2"),
        ("(00)106141411234567897", [], "SSCC"),
        ("nothing like it", [], None),
        ("%", [], None),  # wildcards are taken literally
        ("_", [], None),
    ],
)
def test_the_search_box_reads_skus_names_gtins_and_gs1_codes(
    stocked: Service, q: str, rows: list[str], said: str | None
) -> None:
    with signed_in(stocked, "mia") as browser:
        page = browser.get("/stock", params={"q": q, "location": "", "lot": ""})
        assert page.status_code == 200, page.text
        assert re.findall(r'<tr data-key="([^"]+)"', page.text) == rows
        if said:
            assert said in page.text


def test_names_are_shown_as_text_and_htmx_gets_the_results_alone(stocked: Service) -> None:
    with signed_in(stocked, "mia") as browser:
        page = browser.get("/stock?q=XSS-1")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<script>alert" not in page.text
        part = browser.get("/stock?q=XSS-1", headers={"HX-Request": "true"})
        assert part.text.lstrip().startswith('<div id="results">')
        assert "<html" not in part.text


def test_today_per_site_shows_each_viewer_what_their_grants_allow(stocked: Service) -> None:
    with signed_in(stocked, "mia") as manager:
        home = manager.get("/home").text
        assert re.findall(r'<h2 id="site-\d+">([^<]+)</h2>', home) == ["ST1", "WH1"]
        assert "Receipts" in home
        assert "Agents offline" in home
    with signed_in(stocked, "cal") as cashier:
        home = cashier.get("/home").text
        assert re.findall(r'<h2 id="site-\d+">([^<]+)</h2>', home) == ["ST1"]
        assert "POS takings" in home
        assert "Receipts" not in home  # a cashier may not read the ledger
        assert "Agents offline" not in home
        assert "Stock" in home  # a cashier may read the stock of their site
        assert cashier.get("/stock").status_code == 200
        refused = cashier.get("/stock?location=WH1-A")
        assert refused.status_code == 403
        assert "Not allowed" in refused.text


def test_the_assets_are_served_by_the_app(stocked: Service) -> None:
    with TestClient(create_app(service=stocked)) as browser:
        for path in ("/static/app.js", "/static/app.css", "/static/vendor/htmx-2.0.11.min.js",
                     "/static/vendor/htmx-LICENSE.txt", "/static/favicon.svg"):  # fmt: skip
            assert browser.get(path).status_code == 200, path


def unknown_code(service: Service, code: str = "4006381333931") -> None:
    """A receipt of a code no product has, ingested: an unknown_code exception at WH1."""
    from tests.helpers import events_topic, movement_payload
    from warehouse.ingest.service.ingest import ingest_batch
    from warehouse.ingest.worker.translate import translate

    payload = movement_payload("WH1", "dock-x", 1, code=code, lot=None, qty=2)
    item = translate(events_topic("WH1", "dock-x"), payload, 65536)
    ingest_batch(service.uow(), service.catalog, [item], datetime.now(UTC))


def heartbeat(service: Service, agent: str, devices: dict[str, dict[str, str]]) -> None:
    """A heartbeat from ``agent`` at WH1 (seq 2), ingested."""
    from uuid import uuid4

    from tests.helpers import events_topic
    from warehouse import contracts
    from warehouse.ingest.service.ingest import ingest_batch
    from warehouse.ingest.worker.translate import translate

    event = contracts.HeartbeatEvent(
        event_id=uuid4(),
        agent_id=agent,
        site="WH1",
        seq=2,
        boot=1,
        occurred_at=datetime.now(UTC),
        data=contracts.HeartbeatData(uptime_s=5, outbox_depth=0, devices=devices),
    )
    item = translate(events_topic("WH1", agent), contracts.encode(event), 65536)
    ingest_batch(service.uow(), service.catalog, [item], datetime.now(UTC))


def test_the_inbox_shows_evidence_and_resolves_only_for_those_allowed(stocked: Service) -> None:
    unknown_code(stocked)
    user(stocked, "sam", "staff@WH1")
    with signed_in(stocked, "sam") as staff:
        inbox = staff.get("/exceptions")
        assert inbox.status_code == 200
        assert "unknown code" in inbox.text
        assert "4006381333931" in inbox.text
        assert "The event as it arrived" in inbox.text
        assert 'action="/exceptions/' not in inbox.text  # staff may look, not resolve
        assert ">1<" in staff.get("/exceptions/count").text
    with signed_in(stocked, "mia") as manager:
        inbox = manager.get("/exceptions?kind=unknown_code&age=1h")
        assert "Nothing open here" in inbox.text  # not an hour old yet
        inbox = manager.get("/exceptions?kind=unknown_code")
        (exception_id,) = re.findall(r'action="/exceptions/(\d+)/resolve"', inbox.text)[:1]
        token = csrf(inbox.text)
        no_note = manager.post(
            f"/exceptions/{exception_id}/resolve",
            data={"resolution": "dismiss", "csrf_token": token},
        )
        assert no_note.status_code in (409, 422), no_note.text
        assert "note" in no_note.text
        linked = manager.post(
            f"/exceptions/{exception_id}/resolve",
            data={"resolution": "link_code", "sku": "TEA-GRN", "csrf_token": token},
            follow_redirects=False,
        )
        assert (linked.status_code, linked.headers["location"]) == (
            303, f"/exceptions?resolved={exception_id}"
        )  # fmt: skip
        after = manager.get(linked.headers["location"]).text
        assert f"Exception #{exception_id} is resolved" in after
        assert "4006381333931" not in after
        assert manager.get("/exceptions/count").text == '<span id="open-count"></span>'
        assert manager.get("/exceptions?kind=nonsense").status_code == 422
    with signed_in(stocked, "cal") as cashier:
        assert cashier.get("/exceptions").status_code == 403
        assert cashier.get("/devices").status_code == 403


def test_the_devices_page_lists_registered_agents_with_their_state(stocked: Service) -> None:
    from warehouse.access.service import devices

    devices.register_device(stocked.uow, stocked.credentials, "dock-x", "WH1", "t", NOW)
    unknown_code(stocked)  # the agent has been seen
    with signed_in(stocked, "mia") as manager:
        page = manager.get("/devices")
        assert page.status_code == 200
        assert 'data-agent="dock-x"' in page.text
        assert "no status yet" in page.text
        part = manager.get("/devices", headers={"HX-Request": "true"})
        assert part.text.lstrip().startswith('<div id="agents"')
        heartbeat(  # an older agent's device says neither its station nor a price book
            stocked,
            "dock-x",
            {"till-1": {"state": "up", "station": "till", "price_book": "pb-7"}, "old": {}},
        )
        page = manager.get("/devices")
        assert page.status_code == 200, page.text
        assert "till-1 at till (up), old</td>" in page.text
        assert '<td><code title="pb-7">pb-7</code></td>' in page.text
        assert "Revoke dock-x" not in page.text  # managers look; admins revoke
    user(stocked, "ada", "admin@WH1")
    with signed_in(stocked, "ada") as admin:
        page = admin.get("/devices").text
        done = admin.post(
            "/devices/dock-x/revoke", data={"csrf_token": csrf(page)}, follow_redirects=False
        )
        assert done.headers["location"] == "/devices?revoked=dock-x"
        after = admin.get(done.headers["location"]).text
        assert "dock-x is revoked" in after
        assert 'data-agent="dock-x"' not in after
        assert (
            admin.post("/devices/dock-x/revoke", data={"csrf_token": csrf(page)}).status_code == 404
        )


def test_a_products_page_draws_its_stock_day_by_day_from_the_ledger(stocked: Service) -> None:
    days_ago = [datetime.now(UTC) - timedelta(days=n) for n in (0, 1, 2, 3)]
    with TestClient(create_app(service=stocked), headers=admin_headers(stocked)) as api:
        for qty, when, kind in (("6", days_ago[3], "receive"), ("-2", days_ago[1], "adjust")):
            move = {"kind": kind, "sku": "TEA-GRN", "qty": qty.lstrip("-"),
                    "occurred_at": when.isoformat()}  # fmt: skip
            move |= (
                {"to_location": "WH1-A-01"} if kind == "receive"
                else {"from_location": "WH1-A-01", "to_location": "LOSS"}
            )  # fmt: skip
            assert api.post("/api/v1/movements", json=move).status_code == 201, move
    with signed_in(stocked, "mia") as manager:
        page = manager.get("/products/TEA-GRN")
        assert page.status_code == 200
        cell = r'<td class="num" data-num="([^"]+)"'
        numbers = re.findall(
            r'<time datetime="(\d{4}-\d\d-\d\d)">[^<]*</time></td>' + cell, page.text
        )
        by_day = dict(numbers)
        day = [d.date().isoformat() for d in days_ago]
        # 6 received 3 days ago, 2 written off yesterday, 4 received into ST1 today
        assert [by_day[day[3]], by_day[day[2]], by_day[day[1]], by_day[day[0]]] == [
            "6", "6", "4", "8"
        ]  # fmt: skip
        assert by_day[(days_ago[3] - timedelta(days=1)).date().isoformat()] == "0"
        assert "<polyline" in page.text
        assert "Recent movements" in page.text
        assert manager.get("/products/NOPE-1").status_code == 404
    with signed_in(stocked, "cal") as cashier:  # ST1 only, and no ledger
        page = cashier.get("/products/TEA-GRN")
        assert page.status_code == 200
        assert "ST1-BACK" in page.text
        assert "WH1-A-01" not in page.text
        assert "Recent movements" not in page.text


def test_the_point_of_sale_page_shows_todays_takings_by_tender(stocked: Service) -> None:
    from tests.integration.pos_fixtures import ok, open_store, sale

    with TestClient(create_app(service=stocked), headers=admin_headers(stocked)) as api:
        open_store(api)
        tenders = [{"kind": "card", "amount_minor": 500}, {"kind": "cash", "amount_minor": 1000}]
        body = sale("S-W1", [{"sku": "TEA-GRN", "qty": "2"}], tenders)
        ok(api.post("/api/v1/pos/sales", json=body))
    with signed_in(stocked, "cal") as cashier:  # cashier@ST1
        page = cashier.get("/pos")
        assert page.status_code == 200, page.text
        assert 'data-currency="EUR"' in page.text
        tenders = dict(re.findall(r"<dt>(\w+) \(1\)</dt><dd data-money=\"(-?\d+)\"", page.text))
        assert tenders == {"card": "500", "cash": "500"}  # 9.98 less 5.00 by card: 4.98 -> 5.00
        assert "ST1-REG1" in page.text
        (report,) = set(re.findall(r'href="(/pos/sessions/\d+)">X report', page.text))
        x = cashier.get(report).text
        assert "X report" in x
        assert re.search(r'<th scope="row">card</th><td class="num" data-money="500"', x)
        assert "Top sellers" not in page.text  # a cashier may not read reports
        assert cashier.get("/pos?site=WH1").status_code == 403
    with signed_in(stocked, "mia") as manager:
        page = manager.get("/pos?site=ST1")
        assert "Top sellers today" in page.text
        assert "TEA-GRN" in page.text
        audit = manager.get("/audit?action=pos.price_list.create")
        assert audit.status_code == 200


def test_the_orders_board_shows_orders_where_they_stand(stocked: Service) -> None:
    lines = [{"sku": "COF-250", "qty": "2"}]
    with TestClient(create_app(service=stocked), headers=admin_headers(stocked)) as api:
        po = {"ref": "PO-W1", "site": "WH1", "supplier": "Beans & Co", "lines": lines}
        assert api.post("/api/v1/purchase-orders", json=po).status_code == 201
        so = {"ref": "SO-W1", "site": "WH1", "customer": "Cafe <b>", "lines": lines}
        assert api.post("/api/v1/sales-orders", json=so).status_code == 201
        assert api.post("/api/v1/sales-orders/SO-W1/confirm").status_code == 200
    with signed_in(stocked, "mia") as manager:
        board = manager.get("/orders?site=WH1")
        assert board.status_code == 200
        reserved = board.text.split('id="lane-confirmed"')[1].split("</section>")[0]
        assert "SO-W1" in reserved
        assert "Cafe &lt;b&gt;" in reserved
        shipped = board.text.split('id="lane-shipped"')[1].split("</section>")[0]
        assert "SO-W1" not in shipped
        assert "PO-W1" in board.text
        assert "Beans &amp; Co" in board.text
    with signed_in(stocked, "cal") as cashier:
        assert cashier.get("/orders").status_code == 403


def test_a_count_is_started_watched_and_approved_from_the_pages(stocked: Service) -> None:
    user(stocked, "sam", "staff@WH1")
    with signed_in(stocked, "sam") as staff:
        token = csrf(staff.get("/counts").text)
        started = staff.post(
            "/counts",
            data={"ref": "CNT-W1", "location": "WH1-A", "blind": "true", "csrf_token": token},
            follow_redirects=False,
        )
        assert (started.status_code, started.headers["location"]) == (303, "/counts/CNT-W1")
        blind = staff.get("/counts/CNT-W1").text
        assert "Approve the variance" not in blind  # staff count, managers approve
        assert "XSS-1" not in blind  # a blind count shows staff no book
    with TestClient(create_app(service=stocked), headers=admin_headers(stocked)) as api:
        entry = {"sku": "COF-250", "location": "WH1-A-02", "lot": "L1", "qty": "3"}
        answer = api.post("/api/v1/counts/CNT-W1/entries", json={"entries": [entry]})
        assert answer.status_code == 200, answer.text
    with signed_in(stocked, "mia") as manager:
        listed = manager.get("/counts").text
        assert "CNT-W1" in listed
        assert "1 of 2" in listed
        page = manager.get("/counts/CNT-W1").text
        assert re.search(r'data-num="-1">-1</span> <span class="tag">short', page)
        done = manager.post(
            "/counts/CNT-W1/approve", data={"csrf_token": csrf(page)}, follow_redirects=False
        )
        assert done.headers["location"] == "/counts/CNT-W1?approved=true"
        after = manager.get(done.headers["location"]).text
        assert "the variance is posted" in after
        assert "approved" in after
