"""Browser fixtures: Debian's Chromium driven by Playwright, a live server on loopback, and watchers.

Chromium is the system one (``/usr/bin/chromium``, from ``apt-get install chromium``); the
suite never downloads a browser. Without it the tests skip with that advice, except under
``CI=true``, where they fail: CI must run them.

Every page a test opens is watched: console errors, uncaught exceptions, dialogs (an
``alert`` from injected markup would be one), Content-Security-Policy violations, and any
request to a host other than the app — which is aborted, so a view that needs the
network fails visibly. Screenshots go to ``$INNOGRAPH_ARTIFACTS/screenshots`` (default:
pytest's temporary directory); the path is printed at the end of the session.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import CHROMIUM, CHROMIUM_ARGS, HOW_TO, IN_CI, Watch, hostile_store

from graph_service.core.settings import Settings


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"CI=true but Chromium is missing at {CHROMIUM}. {HOW_TO}")
        pytest.skip(HOW_TO)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over the hostile Wenzhou store, served by a real uvicorn on a free loopback port."""
    import uvicorn

    from graph_service.app.api.app import create_app

    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("browser-data")), hostile_store())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots are saved."""
    base = os.environ.get("INNOGRAPH_ARTIFACTS")
    folder = (Path(base) if base else tmp_path_factory.getbasetemp()) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


_WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture
def watched(browser: Any, live_server: str) -> Iterator[tuple[Any, Watch]]:
    """A fresh page whose network stays on the app (or local files), and what it got up to."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page = context.new_page()
    watch = Watch()

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith((live_server, "file:", "data:", "about:", "blob:")):
            r.continue_()
        else:
            watch.outside.append(url)
            r.abort()

    page.route("**/*", route)
    page.add_init_script(_WATCH_VIOLATIONS)
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(f"uncaught: {e}"))

    def dialog(d: Any) -> None:
        watch.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    try:
        yield page, watch
    finally:
        context.close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Say where the screenshots are."""
    base = os.environ.get("INNOGRAPH_ARTIFACTS")
    if base:
        print(f"\nbrowser screenshots: {Path(base) / 'screenshots'}")
