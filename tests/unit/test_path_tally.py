"""The embedded store's native tallies agree with their definition: grouping the paths that
``match_paths`` finds, cap, dates and all. The serving and gap questions are built on them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from graph_service.embedded import EmbeddedStore
from graph_service.ontology import NodeKind, RelType
from graph_service.store import UNIT_WEIGHTS, PathStep, PathTally, tally_of_paths
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
