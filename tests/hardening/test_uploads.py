"""The upload path under attack, against a real uvicorn on loopback: refusals before the body is read,
one load at a time beside the readers, workbooks read by their real cells, partial answers in brief.

Timings printed with ``-s`` are the figures RELIABILITY.md quotes.
"""

from __future__ import annotations

import csv
import io
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from corpus import (
    MINI,
    ROOT,
    graph_state,
    societies,
    with_cells,
    with_dimension,
    workbook_bytes,
    write_dataset,
    zipped,
    zipped_dataset,
)
from fastapi.testclient import TestClient

from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Settings
from loaders.load import load_dataset

KEY = "upload-key"
MB = 1024 * 1024


class Served:
    """An app served by uvicorn in a thread of this process, on a free loopback port."""

    def __init__(self, **settings: Any) -> None:
        store = EmbeddedStore(None)
        load_dataset(MINI, store)
        self.tmp = Path(tempfile.mkdtemp(prefix="innograph-test-"))
        self.settings = Settings(data_dir=self.tmp, api_key=KEY, **settings)
        self.app = create_app(self.settings, store)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def state(self) -> Any:
        return graph_state(self.app.state.holder.get())

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture
def served() -> Iterator[Served]:
    with Served(max_upload_bytes=50 * MB) as server:
        yield server


def multipart_head(filename: str, boundary: str = "innograph-boundary") -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


def send_while_listening(
    port: int, headers: dict[str, str], chunks: Iterator[bytes], *, chunked: bool = False
) -> tuple[int, float, int, bytes]:
    """POST /api/datasets by hand: send the body chunk by chunk and stop as soon as an answer arrives.

    Returns the status, the seconds from the first byte sent to the answer, the body bytes sent
    by then, and the answer.
    """
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    lines = ["POST /api/datasets HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    started = time.monotonic()
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    sent = 0
    answer = b""
    try:
        for chunk in chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            frame = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        sock.settimeout(30)
        while b"\r\n\r\n" not in answer:
            part = sock.recv(65536)
            if not part:
                break
            answer += part
        elapsed = time.monotonic() - started
        head, _, body = answer.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            ),
            0,
        )
        while len(body) < length:
            part = sock.recv(65536)
            if not part:
                break
            body += part
    finally:
        sock.close()
    status = int(head.split(b" ")[1])
    return status, elapsed, sent, head + b"\r\n\r\n" + body


def zeros(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    block = b"\0" * size
    for _ in range(total // size):
        yield block


def rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakMemory:
    """The highest resident memory of this process (server and client) while the block runs, above its start."""

    def __enter__(self) -> PeakMemory:
        self.start = rss()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def grown(self) -> int:
        return self.peak - self.start


# -- 1. refused before the body is read --------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "wrong"], ids=["no-key", "wrong-key"])
def test_a_300_mb_upload_without_the_key_is_refused_while_it_is_still_being_sent(
    served: Served, key: str | None
) -> None:
    before = served.state()
    headers = {
        "Content-Type": "multipart/form-data; boundary=innograph-boundary",
        "Content-Length": str(300 * MB),
    }
    if key:
        headers["X-API-Key"] = key
    with PeakMemory() as memory:
        status, seconds, sent, answer = send_while_listening(
            served.port, headers, iter([multipart_head("d.zip"), *zeros(300 * MB)])
        )
    print(
        f"\n401 after {seconds * 1000:.1f} ms, {sent:,} body bytes sent; memory +{memory.grown / MB:.1f} MiB"
    )
    assert status == 401
    assert b"missing or wrong X-API-Key header" in answer
    assert sent < 20 * MB  # answered long before the client got through its 300 MB
    assert seconds < 2
    assert memory.grown < 40 * MB
    assert served.state() == before


def test_a_declared_size_over_the_limit_is_refused_before_the_body(served: Served) -> None:
    headers = {
        "Content-Type": "multipart/form-data; boundary=innograph-boundary",
        "Content-Length": str(300 * MB),
        "X-API-Key": KEY,
    }
    with PeakMemory() as memory:
        status, seconds, sent, answer = send_while_listening(
            served.port, headers, iter([multipart_head("d.zip"), *zeros(300 * MB)])
        )
    print(
        f"\n413 after {seconds * 1000:.1f} ms, {sent:,} body bytes sent; memory +{memory.grown / MB:.1f} MiB"
    )
    assert status == 413
    assert b"over the limit of 52,428,800 bytes" in answer
    assert b"INNOGRAPH_MAX_UPLOAD_BYTES" in answer
    assert sent < 20 * MB
    assert seconds < 2
    assert memory.grown < 40 * MB


def test_a_chunked_body_is_cut_off_at_the_limit_while_streamed_to_disk(served: Served) -> None:
    before = served.state()
    headers = {"Content-Type": "multipart/form-data; boundary=innograph-boundary", "X-API-Key": KEY}
    with PeakMemory() as memory:
        status, seconds, sent, answer = send_while_listening(
            served.port, headers, iter([multipart_head("d.zip"), *zeros(300 * MB)]), chunked=True
        )
    print(
        f"\n413 after {seconds:.2f} s, {sent / MB:.1f} MiB sent (limit 50); memory +{memory.grown / MB:.1f} MiB"
    )
    assert status == 413
    assert b"over the limit of 52,428,800 bytes" in answer
    assert sent < 120 * MB  # cut off near the limit, not after the client's 300 MB
    assert memory.grown < 40 * MB  # streamed to disk, never held whole
    assert served.state() == before
    leftovers = list(Path(tempfile.gettempdir()).glob(f"innograph-upload-{os.getpid()}-*"))
    assert leftovers == []


def test_a_body_of_many_parts_is_refused_without_holding_them(served: Served) -> None:
    boundary = "innograph-boundary"
    parts = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nvalue\r\n'.encode()
        for i in range(999)
    )
    response = httpx.post(
        f"{served.url}/api/datasets",
        content=parts + f"--{boundary}--\r\n".encode(),
        headers={"X-API-Key": KEY, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=30,
    )
    assert response.status_code == 422
    assert "more than 8 parts" in response.json()["error"]["message"]


def test_a_repeated_api_key_header_is_a_400_whichever_comes_first(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, api_key=KEY), EmbeddedStore(None))
    with TestClient(app) as client:
        for pair in (
            [("X-API-Key", KEY), ("X-API-Key", "wrong")],
            [("X-API-Key", "wrong"), ("X-API-Key", KEY)],
        ):
            response = client.post("/api/datasets", headers=pair, files={"file": ("d.zip", b"x")})
            assert response.status_code == 400, response.text
            assert response.json()["error"] == {
                "type": "BadRequest",
                "message": "the X-API-Key header is sent 2 times; send it once",
            }
        response = client.get("/api/health", headers=[("X-API-Key", KEY), ("X-API-Key", KEY)])
        assert response.status_code == 400


# -- loads one at a time, beside the readers -------------------------------------------------------------


def test_an_upload_while_another_loads_is_answered_at_once_with_429(served: Served) -> None:
    claim = served.app.state.loads.claim()  # as a running load holds it
    assert claim is not None
    try:
        started = time.monotonic()
        response = httpx.post(
            f"{served.url}/api/datasets",
            files={"file": ("d.zip", zipped_dataset(MINI))},
            headers={"X-API-Key": KEY},
            timeout=30,
        )
        seconds = time.monotonic() - started
    finally:
        claim.release()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "10"
    assert response.json()["error"]["type"] == "Busy"
    assert "try again in 10 s" in response.json()["error"]["message"]
    assert seconds < 2
    again = httpx.post(
        f"{served.url}/api/datasets",
        files={"file": ("d.zip", zipped_dataset(MINI))},
        headers={"X-API-Key": KEY},
    )
    assert again.status_code == 200, again.text


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[str]:
    """``uvicorn`` serving the app in a process of its own (as ``innograph serve`` does) over the mini
    dataset, with a 2 s time limit on loads."""
    env = {
        **os.environ,
        "INNOGRAPH_DATA_DIR": str(tmp_path),
        "INNOGRAPH_API_KEY": KEY,
        "INNOGRAPH_LOAD_TIMEOUT": "2",
        "INNOGRAPH_MAX_CELLS": "5000000",
    }
    subprocess.run(
        [sys.executable, "-m", "graph_service.app.cli", "load", str(MINI)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "graph_service.app.api.app:create_app", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API never came up"
            time.sleep(0.1)
        yield base
    finally:
        api.terminate()
        _, errors = api.communicate(timeout=30)
        assert "Traceback" not in errors, errors


def test_health_and_reads_answer_within_a_second_while_a_hostile_workbook_is_refused(
    server_process: str,
) -> None:
    # 300,000 rows of 6 empty cells (2.1 million, within the budget): parsing them takes longer than
    # the 2 s the server gives a load, so the upload is refused by its time limit
    bomb = with_cells(workbook_bytes(societies(3)), 300_000, columns=6)
    base = server_process
    reads = ("/api/health", "/", "/api/stats", "/api/search?q=society")
    quiet = []
    for _ in range(6):  # the first askings warm the server; then what reads take with no upload
        for path in reads:
            started = time.monotonic()
            assert httpx.get(f"{base}{path}", timeout=30).status_code == 200
            quiet.append(time.monotonic() - started)
    before = httpx.get(f"{base}/api/stats").json()
    result: dict[str, Any] = {}

    def hostile() -> None:
        started = time.monotonic()
        response = httpx.post(
            f"{base}/api/datasets",
            files={"file": ("bomb.xlsx", bomb)},
            headers={"X-API-Key": KEY},
            timeout=120,
        )
        result["status"] = response.status_code
        result["body"] = response.json()
        result["seconds"] = time.monotonic() - started

    uploader = threading.Thread(target=hostile)
    uploader.start()
    latencies: list[tuple[float, str]] = []
    second = None
    time.sleep(0.3)  # the body is on its way; the load starts as soon as it has arrived
    while uploader.is_alive():
        for path in reads:
            started = time.monotonic()
            response = httpx.get(f"{base}{path}", timeout=10)
            latencies.append((time.monotonic() - started, path))
            assert response.status_code == 200, (path, response.text)
        if second is None:
            second = httpx.post(
                f"{base}/api/datasets",
                files={"file": ("d.zip", zipped_dataset(MINI))},
                headers={"X-API-Key": KEY},
                timeout=10,
            )
    uploader.join()
    print(
        f"\nhostile workbook refused in {result['seconds']:.2f} s; {len(latencies)} reads meanwhile, "
        f"slowest {max(latencies)[0] * 1000:.0f} ms ({max(latencies)[1]}); with no upload the slowest of "
        f"{len(quiet) - 4} took {max(quiet[4:]) * 1000:.0f} ms"
    )
    assert result["status"] == 413, result
    assert "INNOGRAPH_LOAD_TIMEOUT" in result["body"]["error"]["message"]
    assert len(latencies) >= 4
    assert max(latencies)[0] < 1.0, sorted(latencies)[-5:]
    assert second is not None and second.status_code == 429, second.text if second else None
    assert httpx.get(f"{base}/api/stats").json() == before


def test_a_load_past_its_time_limit_is_cancelled_and_the_graph_is_unchanged() -> None:
    slow = with_cells(workbook_bytes(societies(3)), 150_000, columns=4)  # ~2 s of reading
    with Served(load_timeout=0.3) as served:
        before = served.state()
        started = time.monotonic()
        response = httpx.post(
            f"{served.url}/api/datasets",
            files={"file": ("slow.xlsx", slow)},
            headers={"X-API-Key": KEY},
            timeout=60,
        )
        seconds = time.monotonic() - started
        assert response.status_code == 413, response.text
        message = response.json()["error"]["message"]
        assert "longer than its limit of 0.3 s (INNOGRAPH_LOAD_TIMEOUT)" in message
        assert "nothing was written" in message
        assert seconds < 5
        assert served.state() == before
        assert not served.app.state.loads.busy  # the next upload may run
        ok = httpx.post(
            f"{served.url}/api/datasets",
            files={"file": ("d.xlsx", workbook_bytes(societies(2, "ok")))},
            headers={"X-API-Key": KEY},
        )
        assert ok.status_code == 200, ok.text


# -- 2, 3, 4, 9. workbooks read by their real cells, wherever they sit, opened once -------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    store = EmbeddedStore(None)
    load_dataset(MINI, store)
    app = create_app(Settings(data_dir=tmp_path, api_key=KEY, max_cells=200_000), store)
    with TestClient(app) as test_client:
        yield test_client, app


def post(client: TestClient, filename: str, body: bytes, **params: Any) -> httpx.Response:
    return client.post(
        "/api/datasets", files={"file": (filename, body)}, headers={"X-API-Key": KEY}, params=params
    )


def test_a_sheet_claiming_the_whole_grid_is_read_by_its_real_cells(client: tuple[TestClient, Any]) -> None:
    test_client, _ = client
    data = with_dimension(workbook_bytes(societies(3, "grid")), "A1:XFD1048576")
    assert len(data) < 10_000
    started = time.monotonic()
    response = post(test_client, "grid.xlsx", data)
    seconds = time.monotonic() - started
    print(f"\nA1:XFD1048576 workbook of {len(data):,} bytes answered in {seconds * 1000:.0f} ms")
    assert response.status_code == 200, response.text
    assert response.json()["rows_read"] == 3
    assert response.json()["nodes"]["Society"]["created"] == 3
    assert seconds < 3


@pytest.mark.parametrize("where", ["workbook", "zip", "directory"])
def test_a_sheet_claiming_one_cell_loads_every_row_it_holds(
    client: tuple[TestClient, Any], tmp_path: Path, where: str
) -> None:
    test_client, app = client
    data = with_dimension(workbook_bytes(societies(3, "dim"), alone=where != "workbook"), "A1")
    if where == "directory":
        store = EmbeddedStore(None)
        report = load_dataset(write_dataset(tmp_path / "d", {"societies.xlsx": data}), store)
        assert report.rows_read == 3
        assert store.counts().nodes["Society"] == 3
        return
    body = workbook_bytes([]) if where == "zip" else data
    if where == "zip":
        directory = write_dataset(tmp_path / "d", {"societies.xlsx": data})
        body = zipped_dataset(directory)
    response = post(test_client, f"d.{'zip' if where == 'zip' else 'xlsx'}", body)
    assert response.status_code == 200, response.text
    assert response.json()["rows_read"] == 3
    assert response.json()["nodes"]["Society"]["created"] == 3
    assert app.state.holder.get().get_node("society:dim2").name == "Society DIM2"


@pytest.mark.parametrize("where", ["workbook", "zip", "directory"])
def test_a_workbook_over_the_cell_budget_is_refused_wherever_it_sits(
    client: tuple[TestClient, Any], tmp_path: Path, where: str
) -> None:
    test_client, app = client
    # 300,000 cells, over the 200,000 of the fixture
    bomb = with_cells(workbook_bytes(societies(1), alone=where != "workbook"), 50_000)
    before = graph_state(app.state.holder.get())
    directory = write_dataset(tmp_path / "d", {"societies.xlsx": bomb})
    if where == "directory":
        from graph_service.core.errors import PayloadTooLarge
        from loaders.tables import ReadBudget, reading_budget

        with reading_budget(ReadBudget(cells=200_000)), pytest.raises(PayloadTooLarge) as caught:
            load_dataset(directory, EmbeddedStore(None))
        assert "INNOGRAPH_MAX_CELLS" in caught.value.message
        return
    started = time.monotonic()
    response = post(
        test_client,
        "d.zip" if where == "zip" else "d.xlsx",
        zipped_dataset(directory) if where == "zip" else bomb,
    )
    seconds = time.monotonic() - started
    print(f"\n{where}: cell bomb refused in {seconds * 1000:.0f} ms")
    assert response.status_code == 413, response.text
    assert "more than 200,000 workbook cells" in response.json()["error"]["message"]
    assert graph_state(app.state.holder.get()) == before


def test_a_workbook_within_the_cell_budget_is_paid_for_once(client: tuple[TestClient, Any]) -> None:
    test_client, _ = client
    # 20,000 rows of 5 empty cells: 120,000 of the fixture's 200,000, which a second charge would pass
    data = with_cells(workbook_bytes(societies(3, "once")), 20_000)
    response = post(test_client, "once.xlsx", data)
    assert response.status_code == 200, response.text
    assert response.json()["rows_read"] == 3


@pytest.mark.parametrize("where", ["workbook", "zip", "directory"])
def test_a_shared_strings_bomb_is_refused_wherever_it_sits(
    client: tuple[TestClient, Any], tmp_path: Path, where: str
) -> None:
    from corpus import shared_strings_bomb

    test_client, app = client
    bomb = shared_strings_bomb(40)
    before = graph_state(app.state.holder.get())
    directory = write_dataset(tmp_path / "d", {"societies.xlsx": bomb})
    started = time.monotonic()
    if where == "directory":
        from graph_service.core.errors import PayloadTooLarge

        with pytest.raises(PayloadTooLarge) as caught:
            load_dataset(directory, EmbeddedStore(None))
        message = caught.value.message
    else:
        response = post(
            test_client,
            "d.zip" if where == "zip" else "d.xlsx",
            zipped_dataset(directory) if where == "zip" else bomb,
        )
        assert response.status_code == 413, response.text
        message = response.json()["error"]["message"]
    seconds = time.monotonic() - started
    print(f"\n{where}: shared-strings bomb ({len(bomb):,} bytes) refused in {seconds * 1000:.0f} ms")
    assert "xl/sharedStrings.xml" in message and "zip bomb" in message
    assert seconds < 3
    assert graph_state(app.state.holder.get()) == before


def test_each_workbook_is_opened_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from openpyxl.reader.excel import ExcelReader

    opened: list[str] = []
    real = ExcelReader.read

    def counting(self: Any) -> None:
        opened.append(str(self.archive.filename))
        real(self)

    monkeypatch.setattr(ExcelReader, "read", counting)
    path = tmp_path / "d.xlsx"
    path.write_bytes(workbook_bytes(societies(5)))
    report = load_dataset(path, EmbeddedStore(None))
    assert report.rows_read == 5
    assert opened == [str(path)]


# -- 7. a partial load answers in brief, the full list as a file ------------------------------------------


def test_a_partial_load_lists_twenty_rejections_and_links_all_of_them_as_csv(
    client: tuple[TestClient, Any], tmp_path: Path
) -> None:
    test_client, _ = client
    bad = [[f"society:bad{i}", f"Bad {i}", "galactic", "corpus", "stated"] for i in range(500)]
    data = workbook_bytes(societies(4, "good") + bad)
    response = post(test_client, "d.xlsx", data, partial="true")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["rows_read"] == 504
    assert answer["nodes"]["Society"]["created"] == 4
    assert answer["rejected_count"] == 500
    assert len(answer["rejected"]) == 20
    assert len(response.content) < 20_000
    link = answer["rejects_url"]
    assert link.startswith("/api/datasets/rejects/")
    download = test_client.get(link)  # the link is the key: no X-API-Key needed
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "rejected-rows.csv" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["file", "row", "column", "problem"]
    assert len(rows) == 501
    assert rows[1][:3] == ["d.xlsx[societies]", "6", "level"]
    assert "galactic" in rows[1][3]
    assert test_client.get(link[:-3] + "AAA").status_code == 404
    assert test_client.get("/api/datasets/rejects/..%2F..%2Fgraph").status_code == 404


# -- 9. the key at start-up, stale folders ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", "set but empty"),
        ("   ", "set but empty"),
        ("clé-secrète", "printable ASCII"),
        ("a key", "printable ASCII"),
    ],
    ids=["empty", "spaces", "non-ascii", "space-inside"],
)
def test_serve_refuses_a_key_no_request_could_match(tmp_path: Path, key: str, words: str) -> None:
    env = dict(os.environ, INNOGRAPH_API_KEY=key, INNOGRAPH_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "graph_service.app.cli", "serve", "--no-load", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 2, done.stderr
    assert words in done.stderr
    assert "INNOGRAPH_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_stale_upload_folders_are_swept_at_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = tmp_path / f"innograph-upload-{dead.pid}-abc"
    mine = tmp_path / f"innograph-upload-{os.getpid()}-def"
    old = tmp_path / "innograph-upload-x1y2z3"
    recent = tmp_path / "innograph-upload-q9w8e7"
    other = tmp_path / "someone-else"
    for folder in (gone, mine, old, recent, other):
        folder.mkdir()
        (folder / "upload.zip").write_bytes(b"x" * 1000)
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    create_app(Settings(data_dir=tmp_path / "data", api_key=KEY), EmbeddedStore(None))
    left = {p.name for p in tmp_path.iterdir()}
    assert not gone.exists() and not old.exists()  # a killed process's, and an older server's past an hour
    assert {mine.name, recent.name, other.name} <= left  # a live process's, a recent one, not ours


def test_a_zip_of_a_manifest_alone_is_refused(client: tuple[TestClient, Any]) -> None:
    test_client, _ = client
    response = post(test_client, "d.zip", zipped({"d/dataset.toml": 'name = "d"\n'}))
    assert response.status_code == 422
    assert "holds no data files" in response.json()["error"]["message"]


def test_a_load_cancelled_while_writing_leaves_the_graph_as_it_was(store: Any, tmp_path: Path) -> None:
    """On both backends: the time limit checked after each write batch cancels the load, and what the
    batches before wrote is not kept (the embedded store's clone is dropped; Neo4j's one transaction
    is rolled back)."""
    load_dataset(MINI, store)
    before = graph_state(store)
    rows = "".join(f"society:w{i},Writer {i},national,corpus,stated\n" for i in range(60_000))
    body = zipped_dataset(
        write_dataset(tmp_path / "big", {"societies.csv": "id,name,level,source,basis\n" + rows})
    )
    app = create_app(Settings(data_dir=tmp_path / "data", api_key=KEY, load_timeout=0.2), store)
    response = post(TestClient(app), "big.zip", body)  # no lifespan: the store stays the fixture's to close
    assert response.status_code == 413, response.text[:500]
    assert "INNOGRAPH_LOAD_TIMEOUT" in response.json()["error"]["message"]
    assert graph_state(app.state.holder.get()) == before
