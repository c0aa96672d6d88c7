"""Every ``GraphStore`` primitive, on both backends, against the mini dataset with answers worked out by hand.

The mini dataset (tests/data/mini) in short: five national societies (CMES, China SAE,
CSEE, CIE, GSC) are members of CAST; CMES serves the electrical cluster directly and
takes part in the expert panels with China SAE and CSEE; the panels serve electrical,
industrial internet and intelligent auto parts; CIE and Wenzhou are party to an
agreement that covers the digital economy; the academician Zhang Wei, a CSEE member,
advises Yueqing Electric, which operates in electrical and hosts a workstation.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from shared import MINI_NODES, MINI_RELATIONSHIPS

from graph_service.core.errors import InvalidRequest
from graph_service.core.ontology import (
    Basis,
    Industry,
    NodeKind,
    Provenance,
    Relationship,
    RelType,
    Society,
    alive,
)
from graph_service.core.store import Direction, GraphCounts, GraphStore, PathStep, started_of
from loaders.load import load_dataset

PROV = Provenance(source="notes", evidence="test", basis=Basis.STATED)
K = NodeKind
T = RelType


@pytest.fixture
def mini(store: GraphStore, mini_dataset: Path) -> GraphStore:
    """The store of each backend with the mini dataset loaded."""
    load_dataset(mini_dataset, store)
    return store


def society(key: str, name: str, **fields: object) -> Society:
    return Society(id=f"society:{key}", name=name, provenance=PROV, **fields)


def serves(source: str, target: str, **fields: object) -> Relationship:
    return Relationship(source=source, type=T.SERVES, target=target, provenance=PROV, **fields)


def ids(nodes: object) -> list[str]:
    return [n.id for n in nodes]


def hops(neighbors: object) -> list[tuple[str, str, str]]:
    return [(n.relationship.type.value, n.node.id, n.direction) for n in neighbors]


# -- writes -----------------------------------------------------------------------------


def test_upsert_nodes_counts_created_updated_unchanged(store: GraphStore) -> None:
    first = store.upsert_nodes([society("a", "A"), society("b", "B")])
    assert {k: vars(v) for k, v in first.nodes.items()} == {
        "Society": {"created": 2, "updated": 0, "unchanged": 0}
    }
    second = store.upsert_nodes([society("a", "A"), society("b", "B, renamed"), society("c", "C")])
    assert vars(second.nodes["Society"]) == {"created": 1, "updated": 1, "unchanged": 1}
    assert second.changed == 2
    b = store.get_node("society:b")
    assert b is not None
    assert b.name == "B, renamed"
    assert store.counts().nodes == {"Society": 3}


def test_an_update_replaces_the_node_and_its_names(store: GraphStore) -> None:
    store.upsert_nodes([society("a", "Alpha", name_zh="甲", aliases=("AA",), discipline="physics")])
    store.upsert_nodes([society("a", "Alpha")])
    node = store.get_node("society:a")
    assert node == society("a", "Alpha")
    assert store.ids_by_name(["甲", "AA", "alpha"]) == {"甲": [], "aa": [], "alpha": ["society:a"]}


def test_upsert_relationships_counts_created_updated_unchanged(store: GraphStore) -> None:
    store.upsert_nodes(
        [society("a", "A"), Industry(id="industry:x", name="X", taxonomy="local", provenance=PROV)]
    )
    first = store.upsert_relationships([serves("society:a", "industry:x")])
    assert vars(first.relationships["SERVES"]) == {"created": 1, "updated": 0, "unchanged": 0}
    same = store.upsert_relationships([serves("society:a", "industry:x")])
    assert vars(same.relationships["SERVES"]) == {"created": 0, "updated": 0, "unchanged": 1}
    changed = store.upsert_relationships([serves("society:a", "industry:x", since="2021", role="adviser")])
    assert vars(changed.relationships["SERVES"]) == {"created": 0, "updated": 1, "unchanged": 0}
    key = ("society:a", "SERVES", "industry:x")
    rel = store.get_relationships([key])[key]
    assert (rel.since, rel.role) == ("2021", "adviser")
    assert store.counts().relationships == {"SERVES": 1}


def test_relationships_to_missing_nodes_are_refused_and_nothing_is_written(store: GraphStore) -> None:
    store.upsert_nodes(
        [society("a", "A"), Industry(id="industry:x", name="X", taxonomy="local", provenance=PROV)]
    )
    good = serves("society:a", "industry:x")
    with pytest.raises(InvalidRequest) as info:
        store.upsert_relationships([good, serves("society:a", "industry:missing")])
    assert "industry:missing" in info.value.message
    assert "missing" in info.value.message
    assert store.get_relationships([good.key]) == {}
    assert store.counts().relationships == {}


def test_inside_a_load_a_relationship_is_created_once_and_missing_endpoints_are_refused(
    store: GraphStore,
) -> None:
    industry = Industry(id="industry:x", name="X", taxonomy="local", provenance=PROV)
    with store.load_transaction():
        store.upsert_nodes([society("a", "A"), industry])
        first = store.upsert_relationships([serves("society:a", "industry:x")])
        again = store.upsert_relationships([serves("society:a", "industry:x")])
        changed = store.upsert_relationships([serves("society:a", "industry:x", role="adviser")])
    assert [vars(s.relationships["SERVES"]) for s in (first, again, changed)] == [
        {"created": 1, "updated": 0, "unchanged": 0},
        {"created": 0, "updated": 0, "unchanged": 1},
        {"created": 0, "updated": 1, "unchanged": 0},
    ]
    key = ("society:a", "SERVES", "industry:x")
    assert store.get_relationships([key])[key].role == "adviser"
    assert store.counts().relationships == {"SERVES": 1}

    with pytest.raises(InvalidRequest) as info, store.load_transaction():
        store.upsert_nodes([society("b", "B")])
        store.upsert_relationships([serves("society:b", "industry:x"), serves("society:b", "industry:gone")])
    assert "industry:gone" in info.value.message
    assert store.counts().relationships == {"SERVES": 1}


# -- reads ------------------------------------------------------------------------------


def test_counts(mini: GraphStore) -> None:
    counts = mini.counts()
    assert counts.nodes == MINI_NODES
    assert counts.relationships == MINI_RELATIONSHIPS
    assert (counts.total_nodes, counts.total_relationships) == (25, 35)


def test_get_node(mini: GraphStore) -> None:
    cmes = mini.get_node("society:cmes")
    assert cmes is not None
    assert cmes.kind is K.SOCIETY
    assert (cmes.name, cmes.name_zh, cmes.aliases) == (
        "Chinese Mechanical Engineering Society",
        "中国机械工程学会",
        ("CMES",),
    )
    assert cmes.discipline == "engineering (工科)"
    assert cmes.provenance == Provenance(source="notes", evidence="named in the notes", basis=Basis.STATED)
    plan = mini.get_node("program:plan")
    assert plan is not None
    assert plan.targets == {"academician_workstation": 2, "doctoral_station": 3}
    assert (plan.since, plan.until) == ("2021", "2023")
    assert mini.get_node("society:nobody") is None


def test_get_nodes_returns_those_that_exist(mini: GraphStore) -> None:
    found = mini.get_nodes(["society:cmes", "society:nobody", "region:330300"])
    assert sorted(found) == ["region:330300", "society:cmes"]
    assert found["region:330300"].name_zh == "温州市"
    assert mini.get_nodes([]) == {}


def test_find_nodes_by_kind_and_properties(mini: GraphStore) -> None:
    assert ids(mini.find_nodes(K.SOCIETY)) == [
        "society:cie",
        "society:cmes",
        "society:csae",
        "society:csee",
        "society:gsc",
    ]
    assert ids(mini.find_nodes(K.SOCIETY, limit=2)) == ["society:cie", "society:cmes"]
    assert ids(mini.find_nodes(K.INDUSTRY, where={"taxonomy": "wz"})) == [
        "industry:wz:auto-parts",
        "industry:wz:digital",
        "industry:wz:electrical",
        "industry:wz:footwear",
    ]
    assert ids(mini.find_nodes(K.INDUSTRY, where={"taxonomy": "wz", "group": "emerging"})) == [
        "industry:wz:digital"
    ]
    assert ids(mini.find_nodes(where={"basis": "reference"})) == [
        "region:330300",
        "region:330381",
        "region:330382",
    ]
    assert ids(mini.find_nodes(K.PARK, where={"companies": 47})) == ["park:incubator"]
    assert ids(mini.find_nodes(where={"name_zh": "电气"})) == ["industry:wz:electrical"]
    assert mini.find_nodes(K.TALENT, where={"title": "doctor"}) == []
    assert len(mini.find_nodes()) == 25


def test_ids_by_name_folds_width_and_case(mini: GraphStore) -> None:
    assert mini.ids_by_name(["CMES", "中国机械工程学会", "Chinese Mechanical Engineering Society"]) == {
        "cmes": ["society:cmes"],
        "中国机械工程学会": ["society:cmes"],
        "chinese mechanical engineering society": ["society:cmes"],
    }
    assert mini.ids_by_name(["ＣＭＥＳ"]) == {"cmes": ["society:cmes"]}
    assert mini.ids_by_name(["China  SAE", "SAE-China"]) == {
        "china sae": ["society:csae"],
        "sae-china": ["society:csae"],
    }
    assert mini.ids_by_name(["温州科协", "nobody"]) == {"温州科协": ["organization:wast"], "nobody": []}


def test_ids_by_name_lists_every_node_sharing_a_name(store: GraphStore) -> None:
    store.upsert_nodes([society("a", "Hub"), society("b", "Other", aliases=("HUB",))])
    assert store.ids_by_name(["hub"]) == {"hub": ["society:a", "society:b"]}


def test_get_relationships(mini: GraphStore) -> None:
    key = ("society:cmes", "SERVES", "industry:wz:electrical")
    missing = ("society:cmes", "SERVES", "industry:wz:footwear")
    wrong_type = ("society:cmes", "MEMBER_OF", "industry:wz:electrical")
    found = mini.get_relationships([key, missing, wrong_type])
    assert list(found) == [key]
    rel = found[key]
    assert rel.key == key
    assert rel.since == "2018"
    assert rel.provenance == Provenance(
        source="notes", evidence="CMES serves the electrical industry", basis=Basis.STATED
    )


def test_neighbors_in_both_directions(mini: GraphStore) -> None:
    assert hops(mini.neighbors("society:cmes")) == [
        ("MEMBER_OF", "organization:cast", "out"),
        ("PARTICIPATES_IN", "program:panel", "out"),
        ("SERVES", "industry:wz:electrical", "out"),
    ]
    assert hops(mini.neighbors("program:panel")) == [
        ("PARTICIPATES_IN", "society:cmes", "in"),
        ("PARTICIPATES_IN", "society:csae", "in"),
        ("PARTICIPATES_IN", "society:csee", "in"),
        ("SERVES", "industry:local:industrial-internet", "out"),
        ("SERVES", "industry:local:smart-auto-parts", "out"),
        ("SERVES", "industry:wz:electrical", "out"),
    ]


def test_neighbors_by_direction(mini: GraphStore) -> None:
    assert hops(mini.neighbors("industry:wz:electrical", direction="in")) == [
        ("OPERATES_IN", "enterprise:yq-electric", "in"),
        ("SERVES", "program:panel", "in"),
        ("SERVES", "program:ws-1", "in"),
        ("SERVES", "society:cmes", "in"),
    ]
    assert mini.neighbors("industry:wz:electrical", direction="out") == []
    assert hops(mini.neighbors("region:330382", direction="out")) == [("PART_OF", "region:330300", "out")]
    assert hops(mini.neighbors("region:330300", direction="in", types=[T.PART_OF])) == [
        ("PART_OF", "region:330381", "in"),
        ("PART_OF", "region:330382", "in"),
    ]


def test_neighbors_by_type_and_kind(mini: GraphStore) -> None:
    assert hops(mini.neighbors("organization:cast", types=[T.MEMBER_OF])) == [
        ("MEMBER_OF", "organization:wast", "in"),
        ("MEMBER_OF", "society:cie", "in"),
        ("MEMBER_OF", "society:cmes", "in"),
        ("MEMBER_OF", "society:csae", "in"),
        ("MEMBER_OF", "society:csee", "in"),
        ("MEMBER_OF", "society:gsc", "in"),
    ]
    assert hops(mini.neighbors("organization:cast", kinds=[K.ORGANIZATION])) == [
        ("MEMBER_OF", "organization:wast", "in")
    ]
    assert hops(mini.neighbors("industry:wz:electrical", types=[T.SERVES], kinds=[K.SOCIETY])) == [
        ("SERVES", "society:cmes", "in")
    ]
    assert hops(mini.neighbors("enterprise:yq-electric", types=[T.ADVISES, T.LOCATED_IN])) == [
        ("ADVISES", "talent:zhang-wei", "in"),
        ("LOCATED_IN", "region:330382", "out"),
    ]
    assert mini.neighbors("society:gsc", types=[T.SERVES]) == []


def test_neighbors_limit_and_unknown_node(mini: GraphStore) -> None:
    assert len(mini.neighbors("organization:cast", limit=2)) == 2
    assert hops(mini.neighbors("organization:cast", limit=2)) == [
        ("MEMBER_OF", "organization:wast", "in"),
        ("MEMBER_OF", "society:cie", "in"),
    ]
    assert mini.neighbors("society:nobody") == []


def test_neighbor_carries_the_full_relationship_and_node(mini: GraphStore) -> None:
    (hop,) = mini.neighbors("talent:zhang-wei", types=[T.ADVISES])
    assert hop.node.name_zh == "乐清电气有限公司"
    assert hop.relationship.key == ("talent:zhang-wei", "ADVISES", "enterprise:yq-electric")
    assert hop.relationship.since == "2022"
    assert hop.relationship.provenance.evidence == "advises the company"


def chain(path: object) -> list[str]:
    return [n.id for n in path.nodes]


def test_match_paths_program_channel(mini: GraphStore) -> None:
    steps = [
        PathStep(types=(T.PARTICIPATES_IN,), direction="out", kinds=(K.PROGRAM,)),
        PathStep(types=(T.SERVES,), direction="out", kinds=(K.INDUSTRY,)),
    ]
    paths = mini.match_paths("society:csee", steps)
    assert [chain(p) for p in paths] == [
        ["society:csee", "program:panel", "industry:local:industrial-internet"],
        ["society:csee", "program:panel", "industry:local:smart-auto-parts"],
        ["society:csee", "program:panel", "industry:wz:electrical"],
    ]
    assert [[r.type.value for r in p.relationships] for p in paths] == [["PARTICIPATES_IN", "SERVES"]] * 3
    assert len(mini.match_paths("society:csee", steps, limit=1)) == 1


def test_match_paths_talent_channel_against_the_arrows(mini: GraphStore) -> None:
    steps = [
        PathStep(types=(T.MEMBER_OF,), direction="in", kinds=(K.TALENT,)),
        PathStep(types=(T.ADVISES,), direction="out", kinds=(K.ENTERPRISE,)),
        PathStep(types=(T.OPERATES_IN,), direction="out", kinds=(K.INDUSTRY,)),
    ]
    (path,) = mini.match_paths("society:csee", steps)
    assert chain(path) == [
        "society:csee",
        "talent:zhang-wei",
        "enterprise:yq-electric",
        "industry:wz:electrical",
    ]
    assert [r.key for r in path.relationships] == [
        ("talent:zhang-wei", "MEMBER_OF", "society:csee"),
        ("talent:zhang-wei", "ADVISES", "enterprise:yq-electric"),
        ("enterprise:yq-electric", "OPERATES_IN", "industry:wz:electrical"),
    ]
    assert mini.match_paths("society:cmes", steps) == []


def test_match_paths_agreement_channel_and_any_type(mini: GraphStore) -> None:
    steps = [PathStep(types=(T.PARTY_TO,)), PathStep(types=(T.COVERS,))]
    assert [chain(p) for p in mini.match_paths("society:cie", steps)] == [
        ["society:cie", "agreement:cie-wenzhou", "industry:wz:digital"]
    ]
    anything_to_a_region = [PathStep(types=(), direction="both", kinds=(K.REGION,))]
    assert [chain(p) for p in mini.match_paths("enterprise:ra-auto", anything_to_a_region)] == [
        ["enterprise:ra-auto", "region:330381"]
    ]


def test_match_paths_never_visits_a_node_twice(mini: GraphStore) -> None:
    steps = [PathStep(types=(T.PART_OF,), direction="out"), PathStep(types=(T.PART_OF,), direction="in")]
    assert [chain(p) for p in mini.match_paths("region:330382", steps)] == [
        ["region:330382", "region:330300", "region:330381"]
    ]
    assert mini.match_paths("society:nobody", steps) == []


def test_subgraph(mini: GraphStore) -> None:
    sub = mini.subgraph(["society:cmes", "industry:wz:electrical", "program:panel", "society:nobody"])
    assert ids(sub.nodes) == ["industry:wz:electrical", "program:panel", "society:cmes"]
    assert [r.key for r in sub.relationships] == [
        ("program:panel", "SERVES", "industry:wz:electrical"),
        ("society:cmes", "PARTICIPATES_IN", "program:panel"),
        ("society:cmes", "SERVES", "industry:wz:electrical"),
    ]
    lonely = mini.subgraph(["society:gsc"])
    assert ids(lonely.nodes) == ["society:gsc"]
    assert lonely.relationships == []
    assert mini.subgraph([]).nodes == []


def test_iter_nodes_and_relationships_in_order(mini: GraphStore) -> None:
    assert ids(mini.iter_nodes(K.REGION)) == ["region:330300", "region:330381", "region:330382"]
    every = ids(mini.iter_nodes())
    assert len(every) == 25
    assert every == sorted(every)
    assert [r.key for r in mini.iter_relationships([T.PART_OF])] == [
        ("industry:local:industrial-internet", "PART_OF", "industry:wz:digital"),
        ("industry:local:smart-auto-parts", "PART_OF", "industry:wz:auto-parts"),
        ("program:ws-1", "PART_OF", "program:plan"),
        ("region:330381", "PART_OF", "region:330300"),
        ("region:330382", "PART_OF", "region:330300"),
    ]
    keys = [r.key for r in mini.iter_relationships()]
    assert len(keys) == 35
    assert keys == sorted(keys)
    assert len(list(mini.iter_relationships([T.SERVES, T.COVERS]))) == 7


@pytest.mark.parametrize(
    ("start", "end", "limit"),
    [("2021", "2021", 1000), ("2021-09", "2021-12", 1000), ("2021-09", "2021-12", 2), ("2018", "2022-03", 3),
     ("2000", "2099", 0), ("2030", "2031", 10), ("2022-03-01", "2022-03-31", 1000)],
)  # fmt: skip
def test_started_between_is_the_filter_of_every_fact(
    mini: GraphStore, start: str, end: str, limit: int
) -> None:
    """What started in a period, on the server or where it lies, is what filtering every node
    and relationship finds: the same first ones in the same order, and the same totals."""
    want = started_of(mini.iter_nodes(), mini.iter_relationships(), start, end, limit)
    got = mini.started_between(start, end, limit=limit)
    assert (got.total_nodes, got.total_relationships) == (want.total_nodes, want.total_relationships)
    assert got.nodes == want.nodes
    assert got.relationships == want.relationships


def test_started_between_orders_ties_by_source_target_and_type(store: GraphStore) -> None:
    from graph_service.core.ontology import Program

    store.upsert_nodes(
        [
            Industry(id="industry:x:a", name="A", taxonomy="local", provenance=PROV),
            Industry(id="industry:x:b", name="B", taxonomy="local", provenance=PROV),
            Program(id="program:p", name="P", program_kind="expert_panel", provenance=PROV, since="2021-05"),
            Program(id="program:q", name="Q", program_kind="expert_panel", provenance=PROV, since="2021-05"),
        ]
    )
    focus = [
        Relationship(source=p, type=t, target=i, provenance=PROV, since="2021")
        for p in ("program:q", "program:p")
        for i in ("industry:x:b", "industry:x:a")
        for t in (T.SERVES, T.FOCUSES_ON)
    ]
    earlier = Relationship(
        source="industry:x:b", type=T.PART_OF, target="industry:x:a", provenance=PROV, since="2020"
    )
    store.upsert_relationships([*focus, earlier])
    got = store.started_between("2021", "2021", limit=5)
    assert [n.id for n in got.nodes] == ["program:p", "program:q"]
    assert [r.key for r in got.relationships] == [
        ("program:p", "FOCUSES_ON", "industry:x:a"),
        ("program:p", "SERVES", "industry:x:a"),
        ("program:p", "FOCUSES_ON", "industry:x:b"),
        ("program:p", "SERVES", "industry:x:b"),
        ("program:q", "FOCUSES_ON", "industry:x:a"),
    ]
    assert (got.total_nodes, got.total_relationships) == (2, 8)
    assert [r.key for r in store.started_between("2020", "2020-12", limit=5).relationships] == [earlier.key]


def test_clear_empties_the_graph(mini: GraphStore) -> None:
    mini.clear()
    assert mini.counts() == GraphCounts(nodes={}, relationships={})
    assert mini.get_node("society:cmes") is None
    assert mini.ids_by_name(["CMES"]) == {"cmes": []}
    assert list(mini.iter_relationships()) == []
    mini.upsert_nodes([society("a", "A")])
    assert mini.counts().nodes == {"Society": 1}


def test_tally_paths_and_path_ends_group_what_match_paths_finds(mini: GraphStore) -> None:
    from graph_service.core.store import tally_of_paths
    from queries.common import BASIS_WEIGHT
    from queries.serving import CHANNELS

    # the multi-step channels; each pattern is one query text per primitive (planning is what costs)
    patterns = [*CHANNELS["talent"], *CHANNELS["program"], *CHANNELS["agreement"]]
    starts = ("industry:wz:electrical", "industry:wz:digital", "society:csee")
    paths = 0
    for steps in patterns:
        for limit, as_of in ((1000, None), (1, "2021-06")):
            many = mini.path_ends_many(
                [*starts, "industry:nowhere", starts[0]], steps, as_of=as_of, limit=limit
            )
            assert list(many) == [*starts, "industry:nowhere"]
            assert many["industry:nowhere"] == set()
            for start in starts:
                expected = tally_of_paths(mini.match_paths(start, steps, limit), BASIS_WEIGHT, as_of, keep=2)
                tallied = mini.tally_paths(
                    start, steps, weights=BASIS_WEIGHT, as_of=as_of, limit=limit, keep=2
                )
                assert {e: (round(t.weight, 9), t.count, t.examples) for e, t in tallied.items()} == {
                    e: (round(t.weight, 9), t.count, t.examples) for e, t in expected.items()
                }, (start, steps, limit, as_of)
                assert mini.path_ends(start, steps, as_of=as_of, limit=limit) == set(expected)
                assert many[start] == set(expected), (start, steps, limit, as_of)
                paths += sum(t.count for t in tallied.values())
    assert paths >= 4  # the channels do reach societies in the mini dataset


def test_the_generation_changes_when_the_graph_does_and_only_then(
    mini: GraphStore, mini_dataset: Path
) -> None:
    """Answers kept under a generation (the API's cache) stay good across a re-load of the same
    data, and are dropped by any write that changes something."""
    before = mini.generation()
    assert before is not None
    load_dataset(mini_dataset, mini)  # the same rows again: nothing created or changed
    mini.upsert_nodes([mini.get_node("society:cmes")])  # type: ignore[list-item]
    assert mini.generation() == before
    mini.upsert_nodes([society("generation-test", "Generation Test Society")])
    changed = mini.generation()
    assert changed not in (None, before)
    mini.upsert_relationships([serves("society:generation-test", "industry:wz:electrical")])
    assert mini.generation() not in (None, before, changed)


def test_neighbor_hops_are_the_neighbors_by_id_capped_then_dated(mini: GraphStore) -> None:
    electrical = "industry:wz:electrical"
    assert mini.neighbor_hops([electrical, "society:nobody"], as_of="2021-07") == {
        electrical: [
            ("enterprise:yq-electric", T.OPERATES_IN, "in"),
            ("program:panel", T.SERVES, "in"),
            ("society:cmes", T.SERVES, "in"),
        ],
        "society:nobody": [],
    }
    # the cap counts the workstation, not yet there in 2021-07, so CMES is past it
    assert mini.neighbor_hops([electrical], as_of="2021-07", limit=3) == {
        electrical: [("enterprise:yq-electric", T.OPERATES_IN, "in"), ("program:panel", T.SERVES, "in")]
    }
    nodes = [n.id for n in mini.iter_nodes()]
    given = [*nodes, "society:nobody", "malformed", nodes[0]]
    cases: list[tuple[Direction, tuple[RelType, ...], str | None, int | None]] = [
        ("both", (), None, None),
        ("both", (), "2021-06", 2),
        ("in", (T.SERVES,), None, 1),
        ("out", (T.MEMBER_OF, T.PARTICIPATES_IN), "2022", None),
        ("both", (), None, 0),
    ]
    for direction, types, as_of, limit in cases:
        hops = mini.neighbor_hops(given, direction=direction, types=types, as_of=as_of, limit=limit)
        assert list(hops) == list(dict.fromkeys(given))
        for node_id, found in hops.items():
            expected = [
                (nb.node.id, nb.relationship.type, nb.direction)
                for nb in mini.neighbors(node_id, direction=direction, types=types, limit=limit)
                if alive(nb.node, as_of) and alive(nb.relationship, as_of)
            ]
            assert found == expected, (node_id, direction, types, as_of, limit)


def test_degrees_count_what_neighbors_lists_uncapped(mini: GraphStore) -> None:
    assert mini.degrees(["program:panel", "society:nobody", "malformed"]) == {
        "program:panel": 6,
        "society:nobody": 0,
        "malformed": 0,
    }
    given = [n.id for n in mini.iter_nodes()]
    cases: list[tuple[Direction, tuple[RelType, ...]]] = [
        ("both", ()),
        ("in", ()),
        ("out", (T.SERVES, T.MEMBER_OF)),
        ("both", (T.PART_OF,)),
    ]
    for direction, types in cases:
        assert mini.degrees(given, direction=direction, types=types) == {
            node_id: len(mini.neighbors(node_id, direction=direction, types=types, limit=None))
            for node_id in given
        }, (direction, types)
