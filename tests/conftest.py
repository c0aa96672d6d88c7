"""Shared fixtures: a store per backend (embedded, and a real Neo4j server), small datasets."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Neo4jSettings
from graph_service.core.store import GraphStore

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(ROOT / "scripts"))

from neo4j_server import Neo4jServer, java_available  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HOW_TO_RUN_NEO4J = (
    "Neo4j tests need Java 17 (the suite then fetches Neo4j 5.26 from Maven Central and starts it), "
    "or a running server given by NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD."
)


@pytest.fixture(autouse=True)
def _long_lived_count_per_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts counting the objects a store keeps from zero (see
    ``graph_service.core.memory.kept``), so whether a test freezes does not depend on the ones before."""
    from graph_service.core import memory

    monkeypatch.setattr(memory, "_kept", 0)


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Neo4jSettings]:
    """Settings of a real Neo4j server: NEO4J_URI's, or one the suite starts and stops."""
    if os.environ.get("NEO4J_URI"):
        yield Neo4jSettings()
        return
    if not java_available():
        if IN_CI:
            pytest.fail("CI=true but Java is missing, so Neo4j cannot start. " + HOW_TO_RUN_NEO4J)
        pytest.skip(HOW_TO_RUN_NEO4J)
    server = Neo4jServer()
    server.start()
    try:
        # a fresh server plans every statement once; on a busy two-core machine the first
        # writes can take tens of seconds, so the suite allows more than the default timeout
        yield Neo4jSettings(uri=server.uri, user=server.user, password=server.password, timeout=180)
    finally:
        server.stop()


@pytest.fixture
def neo4j_store(neo4j_settings: Neo4jSettings) -> Iterator[GraphStore]:
    """An empty Neo4j store on the session's server, emptied again afterwards."""
    from graph_service.backends.neo4j.store import Neo4jStore

    store = Neo4jStore(neo4j_settings)
    store.clear()
    try:
        yield store
    finally:
        store.clear()
        store.close()


@pytest.fixture
def embedded_store(tmp_path: Path) -> EmbeddedStore:
    """An empty embedded store saving to a temporary snapshot."""
    return EmbeddedStore(tmp_path / "graph.json")


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> GraphStore:
    """An empty store of each backend: every test using it runs on both."""
    name = "embedded_store" if request.param == "embedded" else "neo4j_store"
    result: GraphStore = request.getfixturevalue(name)
    return result


@pytest.fixture
def mini_dataset() -> Path:
    """A small hand-made dataset whose answers can be stated by hand."""
    return DATA / "mini"
