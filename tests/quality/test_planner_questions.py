"""The planner-question suite: every question of ``questions.QUESTIONS`` on the bundled Wenzhou
data, on both backends, each a test of its own; the score table is printed at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.settings import Neo4jSettings
from graph_service.core.store import GraphStore
from loaders.load import WENZHOU_DATASET, load_dataset
from tests.quality.questions import QUESTIONS, SCORES, Question


@pytest.fixture(scope="module")
def embedded_wenzhou() -> GraphStore:
    store = EmbeddedStore(None)
    load_dataset(WENZHOU_DATASET, store)
    return store


@pytest.fixture(scope="module")
def neo4j_wenzhou(neo4j_settings: Neo4jSettings) -> Iterator[GraphStore]:
    from graph_service.backends.neo4j.store import Neo4jStore

    store = Neo4jStore(neo4j_settings)
    store.clear()
    load_dataset(WENZHOU_DATASET, store)
    try:
        yield store
    finally:
        store.clear()
        store.close()


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)], scope="module")
def wenzhou(request: pytest.FixtureRequest) -> tuple[str, GraphStore]:
    name = "embedded_wenzhou" if request.param == "embedded" else "neo4j_wenzhou"
    return request.param, request.getfixturevalue(name)


def test_there_are_forty_questions_each_with_its_source() -> None:
    assert len(QUESTIONS) >= 40
    assert len({q.qid for q in QUESTIONS}) == len(QUESTIONS)
    assert all(q.source and q.text and q.text_zh for q in QUESTIONS)


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.qid for q in QUESTIONS])
def test_planner_question(wenzhou: tuple[str, GraphStore], question: Question) -> None:
    backend, store = wenzhou
    try:
        wrong = question.check(question.ask(store))
    except Exception as exc:
        wrong = f"{type(exc).__name__}: {exc}"
    SCORES.setdefault(backend, {})[question.qid] = wrong
    assert wrong is None, f"{question.text} ({question.source}): {wrong}"
