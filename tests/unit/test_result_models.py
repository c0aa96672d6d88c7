"""Results made from values already checked (``ResultModel.trusted``) are the same results
as validation makes: equal, dumped alike, with the same fields reported as set."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import NodeKind
from loaders.load import load_dataset
from queries.common import EvidenceWords
from queries.models import EvidencePath, EvidenceStep, NodeRef, ResultModel
from queries.serving import CHANNELS

WENZHOU = Path(__file__).resolve().parents[2] / "loaders" / "datasets" / "wenzhou"


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    store = EmbeddedStore(None)
    load_dataset(WENZHOU, store)
    return store


def assert_same(made: ResultModel, model: type[ResultModel]) -> None:
    checked = model.model_validate(made.model_dump())
    constructed = model.model_construct(**dict(made))
    for other in (checked, constructed):
        assert made == other
        assert made.model_dump_json() == other.model_dump_json()
        assert made.model_fields_set == other.model_fields_set
    assert made.__pydantic_extra__ is None and made.__pydantic_private__ is None


def test_trusted_results_equal_validated_ones(store: EmbeddedStore) -> None:
    paths = [
        path
        for industry in store.iter_nodes(NodeKind.INDUSTRY)
        for options in CHANNELS.values()
        for steps in options
        for path in store.match_paths(industry.id, steps, limit=None)
    ]
    assert len(paths) >= 10, "Wenzhou's industries have evidence paths"
    words = EvidenceWords()
    for path in paths:
        evidence = words.path(path, "talent", reverse=True)
        assert_same(evidence, EvidencePath)
        for ref in evidence.nodes:
            assert_same(ref, NodeRef)
        for step in evidence.steps:
            assert_same(step, EvidenceStep)


def test_trusted_results_are_separate_objects() -> None:
    first = NodeRef.trusted(id="society:cast", kind=NodeKind.SOCIETY, name="CAST", name_zh=None)
    second = NodeRef.trusted(id="society:cast", kind=NodeKind.SOCIETY, name="CAST", name_zh=None)
    second.name = "changed"
    assert first.name == "CAST"
    assert first.model_fields_set is not second.model_fields_set
