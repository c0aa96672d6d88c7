"""Repeated questions come from memory, and never after the graph has changed.

Each write path is followed by the same question on both backends: an upload through the
API, a write by another writer (the embedded store written in place; a second Neo4j
connection, as another process would), and a clear.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from graph_service.app.api.answers import AnswerCache
from graph_service.app.api.app import create_app
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import Relationship, RelType, provenance
from graph_service.core.settings import Settings
from graph_service.core.store import GraphStore, PathStep, PathTally
from graph_service.core.store import Path as GraphPath
from loaders.load import load_dataset

MINI = Path(__file__).resolve().parent.parent / "data" / "mini"
KEY = "answers-key"
ASK = "/api/industries/电气/societies"

NEW_SOCIETY = """id,name,name_zh,aliases,discipline,level,source,evidence,basis
society:cses,Chinese Society of Electrostatics,中国静电学会,CSES,engineering (工科),national,notes,named,stated
"""
NEW_SERVES = """from,type,to,role,since,source,evidence,basis
society:cses,SERVES,industry:wz:electrical,,,notes,serves the cluster,stated
"""


def _zipped(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for file in sorted(directory.iterdir()):
            zf.write(file, f"{directory.name}/{file.name}")
    return buffer.getvalue()


def _zipped_update() -> bytes:
    """One more society, serving the electrical cluster."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.write(MINI / "dataset.toml", "update/dataset.toml")
        zf.writestr("update/societies.csv", NEW_SOCIETY)
        zf.writestr("update/relationships.csv", NEW_SERVES)
    return buffer.getvalue()


def _societies(client: TestClient) -> list[str]:
    response = client.get(ASK)
    assert response.status_code == 200, response.text
    return [r["society"]["id"] for r in response.json()["results"]]


def _upload(client: TestClient, content: bytes) -> None:
    loaded = client.post(
        "/api/datasets", files={"file": ("data.zip", content, "application/zip")}, headers={"X-API-Key": KEY}
    )
    assert loaded.status_code == 200, loaded.text


def test_every_write_path_gives_a_new_answer(store: GraphStore, tmp_path: Path, request: Any) -> None:
    if store.name == "neo4j":  # the API opens a connection of its own: the fixture's is another writer
        neo4j = request.getfixturevalue("neo4j_settings")
        app = create_app(Settings(data_dir=tmp_path, api_key=KEY, backend="neo4j", neo4j=neo4j))
    else:
        app = create_app(Settings(data_dir=tmp_path, api_key=KEY), store)
    with TestClient(app) as client:
        assert client.get(ASK).status_code == 404  # an empty graph
        _upload(client, _zipped(MINI))
        before = _societies(client)
        assert before == ["society:cmes", "society:csee", "society:csae"]
        assert _societies(client) == before  # asked again: the same answer

        _upload(client, _zipped_update())
        assert sorted(_societies(client)) == sorted([*before, "society:cses"])

        # the embedded upload swapped in a new store: write that one in place, beside the API
        writer = store if store.name == "neo4j" else app.state.holder.get()
        writer.upsert_relationships(
            [
                Relationship(
                    source="society:cie",
                    type=RelType.SERVES,
                    target="industry:wz:electrical",
                    provenance=provenance("notes", "serves the cluster", "stated"),
                )
            ]
        )
        assert "society:cie" in _societies(client)

        writer.clear()
        gone = client.get(ASK)
        assert gone.status_code == 404, gone.text


class CountingStore(EmbeddedStore):
    """An embedded store counting the path walks that answering a question takes (each taking
    ``delay`` seconds more)."""

    walks = 0
    delay = 0.0

    def match_paths(
        self, start_id: str, steps: Sequence[PathStep], limit: int | None = 1000
    ) -> list[GraphPath]:
        self._count()
        return super().match_paths(start_id, steps, limit)

    def tally_paths(self, start_id: str, steps: Sequence[PathStep], **options: Any) -> dict[str, PathTally]:
        self._count()
        return super().tally_paths(start_id, steps, **options)

    def _count(self) -> None:
        CountingStore.walks += 1
        time.sleep(self.delay)


def test_a_repeated_question_is_answered_without_asking_the_store(tmp_path: Path) -> None:
    store = CountingStore(None)
    load_dataset(MINI, store)
    with TestClient(create_app(Settings(data_dir=tmp_path, api_key=KEY), store)) as client:
        first = client.get(ASK, params={"limit": 2, "channels": ["direct", "program"]})
        walks = CountingStore.walks
        assert walks > 0
        again = client.get(ASK + "?channels=direct&channels=program&limit=2")  # the same, reordered
        assert (again.status_code, again.content) == (200, first.content)
        assert again.headers["x-content-type-options"] == "nosniff"
        assert CountingStore.walks == walks
        client.get(ASK, params={"limit": 2, "channels": ["direct", "program"]}, headers={"X-API-Key": KEY})
        assert CountingStore.walks > walks, "a key holder's question is asked of the store"
        assert client.get("/api/health").json()["nodes"] == 25


def test_a_question_asked_by_many_at_once_is_answered_once(tmp_path: Path) -> None:
    store = CountingStore(None)
    load_dataset(MINI, store)
    with TestClient(create_app(Settings(data_dir=tmp_path), store)) as client:
        start = CountingStore.walks
        assert client.get(ASK).status_code == 200
        per_answer = CountingStore.walks - start
        store.upsert_relationships(  # a new generation: the next answer is worked out again
            [
                Relationship(
                    source="society:cie",
                    type=RelType.SERVES,
                    target="industry:wz:electrical",
                    provenance=provenance("notes", "serves the cluster", "stated"),
                )
            ]
        )
        store.delay = 0.05
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: client.get(ASK), range(8)))
        assert {(a.status_code, a.content) for a in answers} == {(200, answers[0].content)}
        assert b"society:cie" in answers[0].content
        assert CountingStore.walks - start == 2 * per_answer, "eight askers, one answer worked out"


def test_the_answer_cache_stays_within_its_bounds() -> None:
    cache = AnswerCache(max_bytes=40_000, max_entries=5)
    for i in range(20):
        cache.put(("g1", f"/api/q/{i}", ()), [(b"content-type", b"application/json")], b"x" * 5_000)
        assert cache.bytes <= 40_000 and len(cache) <= 5
    assert cache.get(("g1", "/api/q/19", ())) is not None
    assert cache.get(("g1", "/api/q/0", ())) is None  # the least recently used went first
    cache.put(("g1", "/api/big", ()), [], b"x" * 20_000)  # over a quarter of the budget: not kept
    assert cache.get(("g1", "/api/big", ())) is None
