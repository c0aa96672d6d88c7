"""The demand layer of the bundled Wenzhou data: production bases and leading enterprises, sourced."""

from __future__ import annotations

from typing import Literal

import pytest

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import Industry, Node, NodeKind, Program, Relationship, RelType
from loaders.load import WENZHOU_DATASET, load_dataset
from loaders.manifest import read_manifest
from queries.gaps import Scope, gap_analysis

FIVE_PLUS_FIVE = "wenzhou-5+5"
WENZHOU = "region:330300"
BUNDLED_ARTICLE = "wenzhou-2021-09-27"
DEMAND_TYPES = (RelType.LOCATED_IN, RelType.OPERATES_IN, RelType.FOCUSES_ON, RelType.SERVES)


@pytest.fixture(scope="module")
def wenzhou(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path_factory.mktemp("wenzhou") / "graph.json")
    report = load_dataset(WENZHOU_DATASET, store)
    assert report.rejected == []
    return store


def ends(
    store: EmbeddedStore, node_id: str, rel_type: RelType, direction: Literal["out", "in"] = "out"
) -> list[str]:
    return [n.node.id for n in store.neighbors(node_id, direction=direction, types=[rel_type])]


def priority_industries(store: EmbeddedStore) -> list[Industry]:
    """The ten 5+5 industries."""
    return [
        n
        for n in store.iter_nodes(NodeKind.INDUSTRY)
        if isinstance(n, Industry) and n.taxonomy == FIVE_PLUS_FIVE
    ]


def production_bases(store: EmbeddedStore) -> list[Program]:
    """Programs that are national production-base titles."""
    return [
        p
        for p in store.iter_nodes(NodeKind.PROGRAM)
        if isinstance(p, Program) and p.program_kind == "production_base"
    ]


def is_base(node: Node | None) -> bool:
    return isinstance(node, Program) and node.program_kind == "production_base"


def counties(store: EmbeddedStore) -> set[str]:
    """Wenzhou's county-level regions: those PART_OF the city."""
    return set(ends(store, WENZHOU, RelType.PART_OF, direction="in"))


def test_wenzhou_has_its_twelve_county_level_regions(wenzhou: EmbeddedStore) -> None:
    assert len(counties(wenzhou)) == 12


def test_every_priority_industry_has_five_enterprises_located_in_a_county(wenzhou: EmbeddedStore) -> None:
    industries = priority_industries(wenzhou)
    assert len(industries) == 10
    in_county = counties(wenzhou)
    for industry in industries:
        enterprises = ends(wenzhou, industry.id, RelType.OPERATES_IN, direction="in")
        located = [e for e in enterprises if set(ends(wenzhou, e, RelType.LOCATED_IN)) & in_county]
        assert len(located) >= 5, industry.id


def test_every_enterprise_is_located_in_wenzhou(wenzhou: EmbeddedStore) -> None:
    in_wenzhou = counties(wenzhou) | {WENZHOU}
    for enterprise in wenzhou.iter_nodes(NodeKind.ENTERPRISE):
        assert set(ends(wenzhou, enterprise.id, RelType.LOCATED_IN)) & in_wenzhou, enterprise.id


def test_every_enterprise_names_itself_in_both_languages(wenzhou: EmbeddedStore) -> None:
    enterprises = list(wenzhou.iter_nodes(NodeKind.ENTERPRISE))
    assert len(enterprises) >= 50
    for enterprise in enterprises:
        assert enterprise.name.strip() and (enterprise.name_zh or "").strip(), enterprise.id


def test_every_production_base_is_located_and_focused(wenzhou: EmbeddedStore) -> None:
    bases = production_bases(wenzhou)
    assert len(bases) >= 10
    for base in bases:
        assert ends(wenzhou, base.id, RelType.LOCATED_IN), base.id
        assert ends(wenzhou, base.id, RelType.FOCUSES_ON), base.id
        assert (base.name_zh or "").strip(), base.id


def test_each_traditional_priority_industry_has_a_production_base(wenzhou: EmbeddedStore) -> None:
    traditional = [n for n in priority_industries(wenzhou) if n.group == "traditional"]
    assert len(traditional) == 5
    for industry in traditional:
        programs = ends(wenzhou, industry.id, RelType.FOCUSES_ON, "in")
        assert any(is_base(wenzhou.get_node(p)) for p in programs), industry.id


def test_gap_analysis_sees_the_demand_of_every_priority_industry(wenzhou: EmbeddedStore) -> None:
    analysis = gap_analysis(wenzhou, Scope(taxonomy=FIVE_PLUS_FIVE))
    assert analysis.count == 10
    traditional = {n.id for n in priority_industries(wenzhou) if n.group == "traditional"}
    for row in analysis.rows:
        assert row.demand.enterprises >= 5, row.industry.id
        if row.industry.id in traditional:  # each has a national production base
            assert row.demand.production_bases >= 1, row.industry.id


def demand_facts(store: EmbeddedStore) -> list[tuple[str, str]]:
    """(fact, source key) of every enterprise, talent and production base and their relationships."""
    nodes = [
        *store.iter_nodes(NodeKind.ENTERPRISE),
        *store.iter_nodes(NodeKind.TALENT),
        *production_bases(store),
    ]
    ids = {n.id for n in nodes}
    rels: list[Relationship] = [r for r in store.iter_relationships(DEMAND_TYPES) if r.source in ids]
    return [(n.id, n.provenance.source) for n in nodes] + [
        (f"{r.source} {r.type} {r.target}", r.provenance.source) for r in rels
    ]


def test_every_demand_fact_cites_a_web_source(wenzhou: EmbeddedStore) -> None:
    manifest, _ = read_manifest(WENZHOU_DATASET)
    facts = demand_facts(wenzhou)
    assert len(facts) > 200
    for fact, key in facts:
        source = manifest.sources.get(key)
        assert source is not None, f"{fact}: unknown source {key}"
        assert source.title and source.location, f"{fact}: source {key} lacks a title or location"
        if key == BUNDLED_ARTICLE:  # the original article's one enterprise, shipped with the data
            assert (WENZHOU_DATASET / source.location).is_file()
            continue
        assert all(part.strip().startswith(("http://", "https://")) for part in source.location.split(";")), (
            f"{fact}: source {key} has no web address"
        )


def test_demand_evidence_is_short_and_says_how_it_is_known(wenzhou: EmbeddedStore) -> None:
    nodes = [*wenzhou.iter_nodes(NodeKind.ENTERPRISE), *production_bases(wenzhou)]
    for node in nodes:
        assert node.provenance.evidence.strip(), node.id
        assert len(node.provenance.evidence) <= 400, node.id
        assert node.provenance.basis.value in ("stated", "inferred"), node.id
