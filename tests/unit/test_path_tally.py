"""The embedded store's native tallies agree with their definition: grouping the paths that
``match_paths`` finds, cap, dates and all; and the ends from many starts at once agree with
the ends from each. The serving and gap questions are built on them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from graph_service.backends import embedded
from graph_service.backends.embedded import MASKED_ENDS, EmbeddedStore, _ManyEnds
from graph_service.core.ontology import (
    Industry,
    NodeKind,
    Program,
    Relationship,
    RelType,
    Society,
    provenance,
)
from graph_service.core.store import UNIT_WEIGHTS, PathStep, PathTally, tally_of_paths
from loaders.generate import generate_dataset
from loaders.load import load_dataset
from queries.common import BASIS_WEIGHT
from queries.serving import CHANNELS, _reverse
from tests.unit.test_embedded_order import STEPS as HUB_STEPS
from tests.unit.test_embedded_order import shuffled_store

WENZHOU = Path(__file__).resolve().parents[2] / "loaders" / "datasets" / "wenzhou"
K, R = NodeKind, RelType

PATTERNS: list[tuple[PathStep, ...]] = [
    *(steps for options in CHANNELS.values() for steps in options),
    *(_reverse(steps, K.INDUSTRY) for options in CHANNELS.values() for steps in options),
    # the same kind twice: a path may not come back to the society it started from
    (
        PathStep(types=(R.MEMBER_OF,), direction="in", kinds=(K.TALENT,)),
        PathStep(types=(R.MEMBER_OF,), direction="out", kinds=(K.SOCIETY,)),
    ),
    # industries up and down the hierarchy, where every node is of one kind
    (PathStep(types=(R.PART_OF,), direction="out"), PathStep(types=(R.PART_OF,), direction="in")),
    # a step that wants fewer kinds than the ontology allows there
    (PathStep(types=(R.FOCUSES_ON,), direction="in", kinds=(K.PARK,)),),
    (PathStep(types=(R.SERVES,), direction="in", kinds=(K.SOCIETY, K.TALENT)),),
]


def as_compared(tallies: dict[str, PathTally]) -> dict[str, tuple[float, int, list[object]]]:
    return {
        end: (round(t.weight, 9), t.count, [(p.nodes, p.relationships) for p in t.examples])
        for end, t in tallies.items()
    }


def assert_agrees(
    store: EmbeddedStore, start: str, steps: Sequence[PathStep], limit: int | None, as_of: str | None
) -> None:
    expected = tally_of_paths(store.match_paths(start, steps, limit), BASIS_WEIGHT, as_of, keep=3)
    native = store.tally_paths(start, steps, weights=BASIS_WEIGHT, as_of=as_of, limit=limit, keep=3)
    assert as_compared(native) == as_compared(expected), (start, steps, limit, as_of)
    assert store.path_ends(start, steps, as_of=as_of, limit=limit) == set(expected), (start, limit)


@pytest.fixture(scope="module")
def wenzhou() -> EmbeddedStore:
    store = EmbeddedStore(None)
    load_dataset(WENZHOU, store)
    return store


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    directory = tmp_path_factory.mktemp("xs")
    generate_dataset(directory, scale="XS", seed=3)
    store = EmbeddedStore(None)
    load_dataset(directory, store)
    return store


@pytest.mark.parametrize(
    ("graph", "as_of", "least"),
    [("wenzhou", None, 200), ("wenzhou", "2021-06", 100), ("synthetic", None, 1000)],
)
def test_tallies_equal_the_grouped_paths(
    graph: str, as_of: str | None, least: int, request: pytest.FixtureRequest
) -> None:
    store: EmbeddedStore = request.getfixturevalue(graph)
    starts = [
        *(n.id for n in store.iter_nodes(K.INDUSTRY) if store.neighbors(n.id, direction="in", limit=1)),
        *(n.id for n in store.iter_nodes(K.SOCIETY) if store.neighbors(n.id, limit=1)),
    ]
    found = 0
    for start in starts:
        for steps in PATTERNS:
            for limit in (None, 0, 2):
                assert_agrees(store, start, steps, limit, as_of)
            found += sum(
                t.count for t in store.tally_paths(start, steps, weights=UNIT_WEIGHTS, as_of=as_of).values()
            )
    assert found > least  # the patterns do meet paths: the agreement is not about empty answers


@pytest.mark.parametrize("seed", [1, 2])
def test_a_capped_tally_at_a_hub_counts_the_first_paths_in_order(seed: int) -> None:
    store = shuffled_store(seed)
    for limit in (None, 0, 1, 7, 333, 600, 601):
        assert_agrees(store, "industry:hub", HUB_STEPS, limit, None)
    capped = store.tally_paths("industry:hub", HUB_STEPS, weights=UNIT_WEIGHTS, limit=7)
    assert sorted(capped) == [f"talent:t{i:03d}" for i in range(7)]
    assert store.path_ends("industry:hub", HUB_STEPS[:1], limit=None) == {
        f"enterprise:e{i:03d}" for i in range(300)
    }


def test_unknown_start_has_no_paths(wenzhou: EmbeddedStore) -> None:
    assert wenzhou.tally_paths("industry:nowhere", PATTERNS[0], weights=BASIS_WEIGHT) == {}
    assert wenzhou.path_ends("industry:nowhere", PATTERNS[0]) == set()


MANY_PATTERNS: list[tuple[PathStep, ...]] = [
    *PATTERNS,
    HUB_STEPS,
    # two types at a step: the same program reached both ways is two paths
    (
        PathStep(types=(R.SERVES, R.FOCUSES_ON), direction="in", kinds=(K.PROGRAM,)),
        PathStep(types=(R.PARTICIPATES_IN,), direction="in"),
    ),
    # both directions and any type
    (
        PathStep(types=(R.OPERATES_IN,), direction="both"),
        PathStep(types=(), direction="both", kinds=(K.TALENT,)),
    ),
]


@pytest.mark.parametrize(
    ("graph", "as_of", "backwards", "masked"),
    [
        (graph, as_of, backwards, masked)
        for graph, as_of in (
            ("wenzhou", None),
            ("wenzhou", "2021-06"),
            ("synthetic", None),
            ("synthetic", "2020-06"),
        )
        for backwards, masked in ((False, 0), (True, 0), (True, MASKED_ENDS))
        if not (masked and as_of)  # bit masks only at the present
    ],
)
def test_ends_from_many_starts_are_the_ends_from_each(
    graph: str,
    as_of: str | None,
    backwards: bool,
    masked: int,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the walk from many starts fills its positions forwards or backwards, whichever reads
    # less of the graph, backwards at the present with the ends as bit masks when they are
    # few: each must give what one walk per start gives, cap and dates and all. A walk filled
    # backwards is kept, so the calls after the first (other caps, other starts) read it.
    monkeypatch.setattr(_ManyEnds, "cheaper_backwards", lambda self, starts: backwards)
    monkeypatch.setattr(embedded.ends, "MASKED_ENDS", masked)
    store: EmbeddedStore = request.getfixturevalue(graph)
    store._forget_walks()  # the stores are shared by the module's tests
    starts = [
        *(n.id for n in store.iter_nodes(K.INDUSTRY)),
        *(n.id for n in store.iter_nodes(K.SOCIETY)),
        "industry:nowhere",
    ]
    found = 0
    for steps in MANY_PATTERNS:
        for limit in (None, 0, 2):
            many = store.path_ends_many([*starts, starts[0]], steps, as_of=as_of, limit=limit)
            assert list(many) == starts
            assert many == {s: store.path_ends(s, steps, as_of=as_of, limit=limit) for s in starts}, (
                steps,
                limit,
            )
            found += sum(map(len, many.values()))
        few = starts[1::3]
        assert store.path_ends_many(few, steps, as_of=as_of, limit=2) == {
            s: store.path_ends(s, steps, as_of=as_of, limit=2) for s in few
        }
    assert found > 500
    store._forget_walks()


@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
def test_a_capped_hub_among_many_starts_keeps_the_first_paths(
    backwards: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_ManyEnds, "cheaper_backwards", lambda self, starts: backwards)
    store = shuffled_store(3)
    for limit in (1, 7, 333, 600, 601):
        many = store.path_ends_many(["industry:hub"], HUB_STEPS, limit=limit)
        assert many == {"industry:hub": store.path_ends("industry:hub", HUB_STEPS, limit=limit)}
    assert store.path_ends_many(["industry:hub"], HUB_STEPS, limit=7)["industry:hub"] == {
        f"talent:t{i:03d}" for i in range(7)
    }


@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "backwards"])
def test_a_cap_between_two_relationships_to_one_node_counts_the_dead_one_first(
    backwards: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a program FOCUSES_ON the industry (ended) and SERVES it (alive): by type, the ended path
    # comes first, so one path at 2022 reaches no one and two reach the society
    monkeypatch.setattr(_ManyEnds, "cheaper_backwards", lambda self, starts: backwards)
    store = EmbeddedStore(None)
    prov = provenance("test", "", "synthetic")
    store.upsert_nodes(
        [
            Industry(id="industry:x", name="X", taxonomy="t", provenance=prov),
            Program(id="program:p", name="P", provenance=prov),
            Society(id="society:s", name="S", provenance=prov),
        ]
    )
    store.upsert_relationships(
        [
            Relationship(
                source="program:p", type=R.FOCUSES_ON, target="industry:x", until="2020", provenance=prov
            ),
            Relationship(source="program:p", type=R.SERVES, target="industry:x", provenance=prov),
            Relationship(source="society:s", type=R.PARTICIPATES_IN, target="program:p", provenance=prov),
        ]
    )
    steps = CHANNELS["program"][0]
    for limit, expected in ((1, set()), (2, {"society:s"})):
        assert store.path_ends("industry:x", steps, as_of="2022", limit=limit) == expected
        assert store.path_ends_many(["industry:x"], steps, as_of="2022", limit=limit) == {
            "industry:x": expected
        }


def test_a_write_forgets_the_walks_kept_from_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # a walk filled backwards is kept for the graph's generation: the next write must not
    # leave a question reading it
    monkeypatch.setattr(_ManyEnds, "cheaper_backwards", lambda self, starts: True)
    store = EmbeddedStore(None)
    prov = provenance("test", "", "synthetic")
    store.upsert_nodes(
        [
            Industry(id="industry:x", name="X", taxonomy="t", provenance=prov),
            Program(id="program:p", name="P", provenance=prov),
            Society(id="society:s", name="S", provenance=prov),
            Society(id="society:t", name="T", provenance=prov),
        ]
    )
    store.upsert_relationships(
        [
            Relationship(source="program:p", type=R.SERVES, target="industry:x", provenance=prov),
            Relationship(source="society:s", type=R.PARTICIPATES_IN, target="program:p", provenance=prov),
        ]
    )
    steps = CHANNELS["program"][0]
    assert store.path_ends_many(["industry:x"], steps, limit=10) == {"industry:x": {"society:s"}}
    assert len(store._walks) == 1
    store.upsert_relationships(
        [Relationship(source="society:t", type=R.PARTICIPATES_IN, target="program:p", provenance=prov)]
    )
    assert not store._walks
    assert store.path_ends_many(["industry:x"], steps, limit=10) == {"industry:x": {"society:s", "society:t"}}
    # a write that changes nothing keeps them; so does a copy, which starts with none of its own
    store.upsert_nodes([Society(id="society:t", name="T", provenance=prov)])
    assert len(store._walks) == 1
    twin = store.clone()
    assert not twin._walks
    twin.clear()
    assert twin.path_ends_many(["industry:x"], steps, limit=10) == {"industry:x": set()}
    assert store.path_ends_many(["industry:x"], steps, limit=10) == {"industry:x": {"society:s", "society:t"}}


def test_the_walks_kept_are_bounded(monkeypatch: pytest.MonkeyPatch, wenzhou: EmbeddedStore) -> None:
    monkeypatch.setattr(_ManyEnds, "cheaper_backwards", lambda self, starts: True)
    monkeypatch.setattr(embedded.walks, "KEPT_WALKS", 3)
    wenzhou._forget_walks()
    industries = [n.id for n in wenzhou.iter_nodes(K.INDUSTRY)]
    for as_of in (None, "2019", "2020", "2021", "2022"):
        wenzhou.path_ends_many(industries, CHANNELS["agreement"][0], as_of=as_of)
    assert [key[2] for key in wenzhou._walks] == ["2020", "2021", "2022"]
    wenzhou._forget_walks()
