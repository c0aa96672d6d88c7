"""The expertise layer of the bundled Wenzhou data: which GB/T 4754 divisions each CAST society's
field covers (EXPERT_IN), as a planner relies on it when an industry has no society serving it."""

from __future__ import annotations

from collections import defaultdict

import pytest

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import Industry, NodeKind, Relationship, RelType, Society
from loaders.load import WENZHOU_DATASET, load_dataset
from loaders.manifest import read_manifest

EXPERT_IN = RelType.EXPERT_IN


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    """The bundled Wenzhou dataset, loaded once into an embedded store."""
    loaded = EmbeddedStore(tmp_path_factory.mktemp("expertise") / "graph.json")
    report = load_dataset(WENZHOU_DATASET, loaded)
    assert report.rejected == []
    return loaded


@pytest.fixture(scope="module")
def expertise(store: EmbeddedStore) -> list[Relationship]:
    return list(store.iter_relationships([EXPERT_IN]))


@pytest.fixture(scope="module")
def divisions_of(expertise: list[Relationship]) -> dict[str, set[str]]:
    """Society id -> the industry ids its field covers."""
    covered: dict[str, set[str]] = defaultdict(set)
    for rel in expertise:
        covered[rel.source].add(rel.target)
    return covered


def society(store: EmbeddedStore, name_zh: str) -> str:
    """The id of the one society with this Chinese name."""
    ids = store.ids_by_name([name_zh])[name_zh]
    assert len(ids) == 1, f"{name_zh}: {ids}"
    return ids[0]


def division(code: str) -> str:
    return f"industry:gbt4754:{code.lower()}"


def test_every_engineering_and_interdisciplinary_society_has_expertise(
    store: EmbeddedStore, divisions_of: dict[str, set[str]]
) -> None:
    societies = [s for s in store.iter_nodes(NodeKind.SOCIETY) if isinstance(s, Society)]
    groups = {"engineering (工科)", "interdisciplinary (交叉学科)"}
    bound = [s for s in societies if s.discipline in groups]
    assert len(bound) > 100  # the two groups are most of CAST's list
    assert [s.name_zh for s in bound if not divisions_of[s.id]] == []


def test_expertise_points_only_at_gbt4754_divisions(
    store: EmbeddedStore, expertise: list[Relationship]
) -> None:
    assert expertise
    for rel in expertise:
        target = store.get_node(rel.target)
        assert isinstance(target, Industry), rel.key
        assert (target.taxonomy, target.level) == ("gbt4754", "division"), rel.key
        assert isinstance(store.get_node(rel.source), Society), rel.key


def test_each_reason_names_its_division_and_each_society_stays_precise(
    store: EmbeddedStore, expertise: list[Relationship], divisions_of: dict[str, set[str]]
) -> None:
    for rel in expertise:
        target = store.get_node(rel.target)
        assert target is not None and target.name_zh, rel.key
        assert target.name_zh in rel.provenance.evidence, rel.key
    assert max(len(covered) for covered in divisions_of.values()) <= 4


def test_every_published_scope_has_an_address_and_a_quoted_clause(
    expertise: list[Relationship],
) -> None:
    sources = read_manifest(WENZHOU_DATASET)[0].sources
    by_basis: dict[str, list[Relationship]] = defaultdict(list)
    for rel in expertise:
        by_basis[rel.provenance.basis.value].append(rel)
    assert set(by_basis) == {"reference", "inferred"}
    for rel in by_basis["reference"]:
        location = sources[rel.provenance.source].location or ""
        assert location.startswith(("https://", "http://")), rel.key
        assert rel.provenance.evidence.count('"') >= 2, rel.key
    for rel in by_basis["inferred"]:
        assert rel.provenance.source == "cast-societies-2018", rel.key
        assert "inference" in rel.provenance.evidence, rel.key


@pytest.mark.parametrize(
    ("name_zh", "codes"),
    [
        ("中国电工技术学会", {"C38"}),
        ("中国机械工程学会", {"C34"}),
        ("中国汽车工程学会", {"C36"}),
        ("中国纺织工程学会", {"C17", "C18"}),
        ("中国药学会", {"C27"}),
        ("中国化学会", {"C26"}),
        ("中国作物学会", {"A01"}),
        ("中国电子学会", {"C39"}),
        ("中国计算机学会", {"I65"}),
    ],
)
def test_anchor_societies_cover_their_divisions(
    store: EmbeddedStore, divisions_of: dict[str, set[str]], name_zh: str, codes: set[str]
) -> None:
    covered = divisions_of[society(store, name_zh)]
    assert covered & {division(code) for code in codes}


def test_fields_are_not_stretched(store: EmbeddedStore, divisions_of: dict[str, set[str]]) -> None:
    # electronics is division 39, not the electrical machinery of 38; pure mathematics serves none
    assert division("C38") not in divisions_of[society(store, "中国电子学会")]
    assert divisions_of[society(store, "中国数学会")] == set()
    assert divisions_of[society(store, "中国天文学会")] == set()


def test_every_division_of_a_priority_industry_has_a_society_with_expertise(
    store: EmbeddedStore, expertise: list[Relationship]
) -> None:
    clusters = [i for i in store.iter_nodes(NodeKind.INDUSTRY) if isinstance(i, Industry)]
    priority = [i.id for i in clusters if i.taxonomy == "wenzhou-5+5"]
    assert len(priority) == 10
    wanted = {
        n.node.id
        for cluster in priority
        for n in store.neighbors(cluster, direction="out", types=[RelType.PART_OF])
        if isinstance(n.node, Industry) and n.node.taxonomy == "gbt4754"
    }
    assert division("C38") in wanted and division("C19") in wanted
    experts: dict[str, set[str]] = defaultdict(set)
    for rel in expertise:
        experts[rel.target].add(rel.source)
    assert sorted(d for d in wanted if not experts[d]) == []
