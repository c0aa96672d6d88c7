"""The API documentation pages in real headless Chromium: offline, clean, and searchable."""

from __future__ import annotations

from typing import Any

import pytest
from browsing import Watch

pytestmark = pytest.mark.browser


def test_redoc_search_finds_routes_offline_and_clean(watched: tuple[Any, Watch], live_server: str) -> None:
    page, watch = watched
    page.goto(live_server + "/redoc", wait_until="networkidle")
    box = page.get_by_placeholder("Search...")
    box.fill("societies serving")
    results = page.locator("[data-role='search:results']")
    results.get_by_text("Get Societies Serving").wait_for(timeout=10_000)
    assert "Get Plan Progress" not in results.inner_text()
    box.fill("qqqzzz")
    page.get_by_text("No results found").wait_for(timeout=10_000)
    assert page.evaluate("[...document.images].filter(i => !i.src.startsWith(location.origin)).length") == 0
    watch.assert_clean(page)


def test_swagger_ui_lists_the_routes_offline_and_clean(watched: tuple[Any, Watch], live_server: str) -> None:
    page, watch = watched
    page.goto(live_server + "/docs", wait_until="networkidle")
    page.get_by_text("/api/industries/{industry}/societies").first.wait_for(timeout=10_000)
    watch.assert_clean(page)
