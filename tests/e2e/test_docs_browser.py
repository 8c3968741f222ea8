"""The interactive API docs in a real browser (Debian's chromium driven by Playwright), with
every request off this machine refused: /docs and /redoc work with no internet."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveApi
from tests.e2e.conftest import ARTIFACTS

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

pytestmark = pytest.mark.slow


def offline_page(browser: Any, base: str) -> tuple[Any, list[str]]:
    """A page that may fetch only from ``base``; what else it asked for is listed."""
    page = browser.new_page()
    refused: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(base) or url.startswith("data:"):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    page.route("**/*", route)
    return page, refused


def test_swagger_ui_lists_the_operations_offline(browser: Any, live_api: LiveApi) -> None:
    page, refused = offline_page(browser, live_api.base)
    page.goto(f"{live_api.base}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "docs.png"), full_page=True)
    assert "/api/v1/movements" in paths
    assert "/api/v1/stock/{sku}" in paths
    assert refused == []


def test_redoc_renders_offline(browser: Any, live_api: LiveApi) -> None:
    page, refused = offline_page(browser, live_api.base)
    page.goto(f"{live_api.base}/redoc")
    page.wait_for_selector("text=Record a manual receipt", timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "redoc.png"))
    # ReDoc's side menu always shows Redocly's logo from its CDN, and hides it when that fails
    assert [url for url in refused if url != REDOCLY_LOGO] == []
