"""A question that runs past the request time limit gets a prompt 503, not an endless wait."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from graph_service.app.api import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Settings
from graph_service.core.store import GraphCounts


class SlowStore(EmbeddedStore):
    """A store whose counts take six seconds."""

    def counts(self) -> GraphCounts:
        time.sleep(6)
        return super().counts()


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[str]:
    app = create_app(Settings(data_dir=tmp_path, request_timeout=1.0), store=SlowStore(None))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_slow_question_is_cut_off_with_503(slow_server: str) -> None:
    for _ in range(3):  # warm the server up: a first request may be slow on a busy machine
        try:
            with urllib.request.urlopen(f"{slow_server}/static/favicon.svg", timeout=10):
                break
        except urllib.error.HTTPError as exc:
            exc.close()
    started = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{slow_server}/api/stats", timeout=10)
    elapsed = time.monotonic() - started
    assert caught.value.code == 503
    body = json.loads(caught.value.read())
    caught.value.close()
    assert "longer than 1 s" in body["error"]["message"]
    assert caught.value.headers["Retry-After"] == "5"
    assert elapsed < 4, f"the client waited {elapsed:.1f} s for a question that takes 6 s"
    with urllib.request.urlopen(f"{slow_server}/static/favicon.svg", timeout=10) as quick:
        assert quick.status == 200, "the server answers other requests while the slow one finishes"
