"""Faults under a running service: Neo4j restarted under a live API, connections cut or stalled.

Each test here runs against a Neo4j server of this module's own, so stopping it or cutting its
connections never disturbs the session's server. ``scripts/neo4j_server.py`` configures it as
``docker-compose.yml`` configures production (``server.bolt.connection_keep_alive_for_requests=ALL``,
keep-alive every 4 s, 2 probes): the server then tells the driver that a connection silent for
8 s is dead (``connection.recv_timeout_seconds``), which is what bounds a stalled network.

Kill -9 during an embedded save and a full disk are in ``tests/unit/test_embedded_snapshot.py``;
Neo4j killed mid-load is in ``tests/contract/test_neo4j_real.py``; the 200-kill run is
``python bench/soak.py kills --count 200``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from corpus import ROOT

from graph_service.backends.embedded import EmbeddedStore
from graph_service.backends.neo4j.store import Neo4jStore
from graph_service.core.errors import BackendUnavailable
from graph_service.core.settings import Neo4jSettings
from loaders.generate import generate_dataset
from loaders.load import load_dataset

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

RECV_TIMEOUT = 8.0
"""The silence after which the driver drops a connection: the server's keep-alive hint (4 s x 2 probes)."""
CONNECT_TIMEOUT = 2.0
TIMEOUT = 3.0
STALL_BOUND = RECV_TIMEOUT + TIMEOUT + CONNECT_TIMEOUT + 5
"""Longest a call may hang on a stalled network: the hint, then retries for at most TIMEOUT (each new
connection through the stall gives up after CONNECT_TIMEOUT), and 5 s for a busy 2-core machine."""
BOUND = 60.0
"""Longest a faulted load may take to end."""
OUTAGE_BOUND = 1.0
"""Longest a request may take to get its 503 while the server is down."""


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    """A Neo4j server of this module's own, to stop and to put a proxy in front of."""
    from neo4j_server import Neo4jServer, java_available

    if os.environ.get("NEO4J_URI"):
        pytest.skip("fault tests stop their own server; they do not run against an external NEO4J_URI")
    if not java_available():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI=true but Java is missing")
        pytest.skip("fault tests start their own Neo4j and need Java 17")
    with Neo4jServer() as started:
        yield started


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A generated dataset big enough that a load is still running a second in, and its counts."""
    data = tmp_path_factory.mktemp("eco") / "eco"
    generate_dataset(data, scale="XS", seed=5)
    expected = EmbeddedStore(None)
    load_dataset(data, expected)
    return data, expected.counts()


def settings_for(server: Any, port: int | None = None, timeout: float = TIMEOUT) -> Neo4jSettings:
    return Neo4jSettings(
        uri=f"bolt://127.0.0.1:{port or server.port}",
        user=server.user,
        password=server.password,
        timeout=timeout,
        connect_timeout=CONNECT_TIMEOUT,
    )


def plain_counts(settings: Neo4jSettings) -> tuple[int, int]:
    """Nodes and relationships, as a plain driver sees them."""
    import neo4j

    with neo4j.GraphDatabase.driver(
        settings.uri, auth=(settings.user, settings.password.get_secret_value())
    ) as d:
        nodes, _, _ = d.execute_query("MATCH (n) WHERE NOT n:InnographGeneration RETURN count(n) AS n")
        rels, _, _ = d.execute_query("MATCH ()-[r]->() RETURN count(r) AS n")
    return int(nodes[0]["n"]), int(rels[0]["n"])


def duplicates(settings: Neo4jSettings) -> int:
    import neo4j

    with neo4j.GraphDatabase.driver(
        settings.uri, auth=(settings.user, settings.password.get_secret_value())
    ) as d:
        records, _, _ = d.execute_query(
            "MATCH (a)-[r]->(b) WITH a, type(r) AS t, b, count(r) AS c WHERE c > 1 RETURN count(*) AS n"
        )
        ids, _, _ = d.execute_query(
            "MATCH (n) WITH n.id AS id, count(*) AS c WHERE c > 1 RETURN count(*) AS n"
        )
    return int(records[0]["n"]) + int(ids[0]["n"])


# -- connections cut or stalled mid-transaction ------------------------------------------------------


@pytest.mark.timeout(240)
@pytest.mark.parametrize("fault", ["stall", "cut"])
def test_a_load_whose_connection_is_cut_or_stalled_ends_writing_nothing_and_a_rerun_completes(
    server: Any, dataset: tuple[Path, Any], fault: str
) -> None:
    from tcp_proxy import TcpProxy

    data, want = dataset
    with TcpProxy("127.0.0.1", server.port) as proxy:
        store = Neo4jStore(settings_for(server, proxy.port))
        request_close = store.close
        try:
            store.clear()
        except BaseException:
            request_close()
            raise
        outcome: list[BaseException | None] = []

        def load() -> None:
            try:
                load_dataset(data, store, batch_size=25)
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=load, daemon=True)
        worker.start()
        time.sleep(1.0)
        assert worker.is_alive(), "the load finished before the fault"
        getattr(proxy, fault)()
        faulted = time.monotonic()
        # The load runs in one transaction, which a dropped connection ends: a stall is noticed
        # after the server's keep-alive hint (8 s), a cut at once. BOUND is generous for a loaded
        # 2-core machine; the figure is printed.
        worker.join(BOUND)
        waited = time.monotonic() - faulted
        print(
            f"{fault}: the load ended {waited:.1f} s after the fault ({type(outcome[0]).__name__ if outcome else 'hung'})"
        )
        assert not worker.is_alive(), f"the load still hung {waited:.0f} s after the fault ({fault})"
        error = outcome[0]
        assert isinstance(error, BackendUnavailable), repr(error)
        assert "Neo.ClientError" not in error.message and "Traceback" not in error.message
        if fault == "stall":
            assert waited < STALL_BOUND, f"a stalled load took {waited:.1f} s to fail"
        proxy.resume()
        store.close()
    rerun_settings = settings_for(server, timeout=30)
    deadline = time.monotonic() + 30  # the server rolls the abandoned transaction back
    while plain_counts(rerun_settings) != (0, 0):
        assert time.monotonic() < deadline, f"the failed load left {plain_counts(rerun_settings)} behind"
        time.sleep(0.5)
    store = Neo4jStore(rerun_settings)
    try:
        load_dataset(data, store)
        counts = store.counts()
    finally:
        store.close()
    assert counts.nodes == want.nodes
    assert counts.relationships == want.relationships
    assert duplicates(rerun_settings) == 0


@pytest.mark.timeout(240)
def test_a_stalled_read_or_write_fails_within_seconds_and_writes_nothing_twice(
    server: Any, dataset: tuple[Path, Any]
) -> None:
    from tcp_proxy import TcpProxy

    data, want = dataset
    parsed = EmbeddedStore(None)
    load_dataset(data, parsed)
    nodes = list(parsed.iter_nodes())
    direct = settings_for(server, timeout=30)
    with TcpProxy("127.0.0.1", server.port) as proxy:
        store = Neo4jStore(settings_for(server, proxy.port))
        try:
            store.clear()
            store.upsert_nodes(nodes[:100])
            proxy.stall()
            took: dict[str, float] = {}
            for what, call in (  # the write first: it finds the pooled connection, which then stalls
                ("write", lambda: store.upsert_nodes(nodes)),
                ("read", store.counts),
            ):
                began = time.monotonic()
                with pytest.raises(BackendUnavailable) as caught:
                    call()
                took[what] = time.monotonic() - began
                assert "Neo." not in caught.value.message and "Traceback" not in caught.value.message
            print(f"stall: the read failed after {took['read']:.1f} s, the write after {took['write']:.1f} s")
            for what, seconds in took.items():
                assert seconds < STALL_BOUND, f"a stalled {what} took {seconds:.1f} s to fail"
            proxy.resume()
            store.upsert_nodes(nodes)  # the write again, after the network came back
            assert store.counts().nodes == want.nodes
        finally:
            store.close()
    assert duplicates(direct) == 0
    assert plain_counts(direct) == (want.total_nodes, 0)


# -- Neo4j restarted under a running API ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(300)
def test_neo4j_restarted_under_a_running_api_is_a_fast_503_then_serves_again(
    server: Any, tmp_path: Path
) -> None:
    settings = settings_for(server)
    store = Neo4jStore(settings_for(server, timeout=30))
    try:
        store.clear()
        load_dataset(ROOT / "tests" / "data" / "mini", store)
        want = store.counts().total_nodes
    finally:
        store.close()
    port = _free_port()
    env = {
        **os.environ,
        "INNOGRAPH_BACKEND": "neo4j",
        "INNOGRAPH_DATA_DIR": str(tmp_path),
        "NEO4J_URI": settings.uri,
        "NEO4J_USER": settings.user,
        "NEO4J_PASSWORD": settings.password.get_secret_value(),
        "NEO4J_TIMEOUT": str(TIMEOUT),
        "NEO4J_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    }
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
        with httpx.Client(base_url=base, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the API never came up"
                time.sleep(0.2)
            assert client.get("/api/health").json()["nodes"] == want
            server.kill()  # the outage: nothing listens on the port any more
            slowest = 0.0
            for _ in range(10):
                began = time.monotonic()
                response = client.get("/api/health")
                slowest = max(slowest, time.monotonic() - began)
                assert response.status_code == 503, response.text
                body = response.json()["error"]
                assert body["type"] == "BackendUnavailable"
                assert "Neo." not in body["message"] and "Traceback" not in body["message"]
                assert response.headers["retry-after"] == "5"
            # a refused connection is not retried: the first request after the kill finds its pooled
            # connection dead, tries the address, is refused and answers at once
            print(f"outage: slowest of 10 503s took {slowest:.3f} s")
            assert slowest < OUTAGE_BOUND, f"an outage request took {slowest:.2f} s"
            server.start()
            deadline = time.monotonic() + 30
            while (response := client.get("/api/health")).status_code != 200:
                assert time.monotonic() < deadline, response.text
                time.sleep(0.2)
            assert response.json()["nodes"] == want
        assert api.poll() is None, "the API process ended"
    finally:
        api.terminate()
        _, stderr = api.communicate(timeout=30)
    assert "Traceback" not in stderr
