"""`innograph serve` as `make run` starts it: what it says on start-up is what it does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    """Start the server, wait until it answers, and return it with what it printed first."""
    env = {**os.environ, "INNOGRAPH_DATA_DIR": str(data_dir), "INNOGRAPH_BACKEND": "embedded"}
    env.pop("INNOGRAPH_API_KEY", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "graph_service.app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert server.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        lines.append(line.rstrip())
        if "serving at" in line:
            break
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return server, lines
        except httpx.TransportError:
            time.sleep(0.2)
    stop(server)
    raise AssertionError(f"the server did not answer: {lines}")


def stop(server: subprocess.Popen[str]) -> None:
    server.terminate()
    try:
        server.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()


def test_the_first_start_says_it_loads_the_bundled_data_and_the_next_says_it_serves_what_is_there(
    tmp_path: Path,
) -> None:
    port = free_port()
    server, lines = start(tmp_path, port)
    try:
        said = "\n".join(lines)
        assert "The store is empty: loading the bundled Wenzhou data" in said
        assert "run `innograph load`" not in said  # it does not tell the user to do what it does itself
        assert f"http://127.0.0.1:{port}/" in said
        stats = httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=10).json()
        assert sum(stats["nodes"].values()) > 300
    finally:
        stop(server)
    server, lines = start(tmp_path, free_port())
    try:
        assert any(line.startswith("Serving the store as it is:") for line in lines), lines
    finally:
        stop(server)
