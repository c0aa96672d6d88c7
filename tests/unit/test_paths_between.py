"""``paths_between`` agrees with its definition, written out plainly here: on random graphs with
hubs, where a small fanout cap makes the walk one-way (a hub's first hops need not include a
node whose hops include the hub), with dates, type filters, and starts or goals not yet alive;
and the chains rank by what they pass through, so a stated chain beats one through a hub."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import (
    Enterprise,
    Industry,
    Node,
    Organization,
    Relationship,
    RelType,
    Society,
    Talent,
    alive,
    provenance,
)
from loaders.load import WENZHOU_DATASET, load_dataset
from queries.common import BASIS_WEIGHT
from queries.explore import paths_between

PROV = provenance("test", "", "synthetic")
BASES = [provenance("test", "", b) for b in ("stated", "reference", "inferred")]
R = RelType
_TYPES_TRIED = [t for t in R if t is not R.EXPERT_IN]
"""The types a filter draws from: fixed, so that the ontology growing leaves the draws alone."""
DATES = [None, None, None, "2019", "2021-06", "2023"]

Chain = tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]


def random_store(seed: int) -> EmbeddedStore:
    """A few hundred nodes; the first societies, organisations and industries are hubs."""
    rng = random.Random(seed)

    def skewed(ids: list[str]) -> str:  # low positions far more often: hubs
        return ids[min(int(rng.expovariate(0.35)), len(ids) - 1)]

    def dated() -> dict[str, str]:
        since = rng.choice(DATES)
        return {"since": since} if since else {}

    def node(cls: type[Node], prefix: str, n: int) -> list[Node]:
        return [
            cls(id=f"{prefix}:{prefix[0]}{i:03d}", name=f"{prefix} {i}", provenance=PROV, **dated())
            for i in range(n)
        ]  # type: ignore[arg-type]

    societies = node(Society, "society", 30)
    orgs = node(Organization, "organization", 5)
    talents = node(Talent, "talent", 90)
    enterprises = node(Enterprise, "enterprise", 70)
    industries = [
        Industry(id=f"industry:t:i{i:03d}", name=f"industry {i}", taxonomy="t", provenance=PROV, **dated())  # type: ignore[arg-type]
        for i in range(15)
    ]
    ids = {
        kind: [n.id for n in nodes]
        for kind, nodes in (
            ("s", societies),
            ("o", orgs),
            ("t", talents),
            ("e", enterprises),
            ("i", industries),
        )
    }
    keys: set[tuple[str, RelType, str]] = set()
    for t in ids["t"]:
        keys |= {(t, R.MEMBER_OF, skewed(ids["s"])) for _ in range(rng.randint(1, 2))}
        keys |= {(t, R.ADVISES, rng.choice(ids["e"])) for _ in range(rng.randint(0, 2))}
    for e in ids["e"]:
        keys.add((e, R.OPERATES_IN, skewed(ids["i"])))
    for s in ids["s"]:
        keys.add((s, R.MEMBER_OF, skewed(ids["o"])))
        keys |= {(s, R.SERVES, skewed(ids["i"])) for _ in range(rng.randint(0, 2))}
    for n, i in enumerate(ids["i"][1:], 1):
        if rng.random() < 0.6:
            keys.add((i, R.PART_OF, ids["i"][rng.randrange(n)]))
    keys |= {(ids["o"][1], R.MEMBER_OF, ids["o"][0]), (ids["o"][0], R.MEMBER_OF, ids["o"][1])}
    rels = [
        Relationship(source=s, type=t, target=o, provenance=rng.choice(BASES), **dated())  # type: ignore[arg-type]
        for s, t, o in sorted(keys)
    ]
    rng.shuffle(rels)  # written out of order, as loads in batches may leave the neighbour lists
    store = EmbeddedStore(None)
    store.upsert_nodes([*societies, *orgs, *talents, *enterprises, *industries])
    for start in range(0, len(rels), 50):
        store.upsert_relationships(rels[start : start + 50])
    return store


def by_definition(
    store: EmbeddedStore,
    source: str,
    target: str,
    k: int,
    max_hops: int,
    types: Sequence[RelType],
    as_of: str | None,
    fanout: int,
) -> list[Chain]:
    """From each node the walk follows its first ``fanout`` hops that are alive; a node's distance
    from the goal is counted walking out from the goal; every simple chain of at most ``max_hops``
    whose every node, i hops before the goal, is within i of it; ranked by score (each step's
    basis weight, times 1 / log2(2 + degree) of the node it leaves but the first, times the same
    of the node's fan where the chain turns there), then fewer hops, ids, types, directions."""

    def hops(node_id: str) -> list[tuple[str, Relationship, str]]:
        return [
            (nb.node.id, nb.relationship, nb.direction)
            for nb in store.neighbors(node_id, types=list(types), limit=fanout)
            if alive(nb.node, as_of) and alive(nb.relationship, as_of)
        ]

    def weight(node_id: str, **fan: object) -> float:
        return 1 / math.log2(2 + len(store.neighbors(node_id, limit=None, **fan)))  # type: ignore[arg-type]

    distance = {target: 0}
    frontier = [target]
    for hop in range(1, max_hops + 1):
        frontier = [o for here in frontier for o, _, _ in hops(here) if o not in distance]
        distance.update((o, hop) for o in frontier)
    ranked: list[tuple[float, int, tuple[str, ...], list[str], list[str], Chain]] = []

    def walk(ids: list[str], steps: list[tuple[Relationship, str]]) -> None:
        if ids[-1] == target:
            n = len(steps)
            if all(distance.get(node, max_hops + 1) <= n - i for i, node in enumerate(ids)):
                score = 1.0
                for i, (rel, way) in enumerate(steps):
                    factor = BASIS_WEIGHT[rel.provenance.basis]
                    if i:
                        factor *= weight(ids[i])
                        before, came = steps[i - 1]
                        if before.type is rel.type and came != way:  # both into the node, or both out
                            factor *= weight(ids[i], direction=way, types=[rel.type])
                    score *= factor
                chain = (tuple(ids), tuple(r.key for r, _ in steps))
                ranked.append(
                    (-score, n, tuple(ids), [r.type.value for r, _ in steps], [w for _, w in steps], chain)
                )
            return
        if len(steps) == max_hops:
            return
        for other, rel, way in hops(ids[-1]):
            if other not in ids:
                walk([*ids, other], [*steps, (rel, way)])

    walk([source], [])
    ranked.sort(key=lambda r: r[:5])
    return [r[5] for r in ranked[:k]]


def test_paths_between_agrees_with_its_definition_under_small_caps() -> None:
    checked = with_chains = 0
    for seed in range(3):
        store = random_store(seed)
        rng = random.Random(100 + seed)
        nodes = [n.id for n in store.iter_nodes()]
        busy = sorted(nodes, key=lambda i: -len(store.neighbors(i, limit=None)))[:12]
        for _ in range(60):
            k, max_hops = rng.randint(1, 5), rng.randint(1, 6)
            source = rng.choice(busy if rng.random() < 0.4 else nodes)
            target = source
            for _ in range(rng.randint(1, max_hops)):  # mostly a target the source reaches
                around = store.neighbors(target, limit=None)
                target = rng.choice(around).node.id if around else target
            if target == source:
                target = rng.choice([n for n in nodes if n != source])
            types = [] if rng.random() < 0.7 else rng.sample(_TYPES_TRIED, rng.randint(2, 6))
            as_of = rng.choice([None, *DATES])
            fanout = rng.choice([1, 2, 3, 4, 6, 500, 500])
            expected = by_definition(store, source, target, k, max_hops, types, as_of, fanout)
            result = paths_between(
                store, source, target, k=k, max_hops=max_hops, types=types, as_of=as_of, fanout=fanout
            )
            got = [
                (tuple(n.id for n in p.nodes), tuple((s.source, s.type.value, s.target) for s in p.steps))
                for p in result.paths
            ]
            assert got == expected, (seed, source, target, k, max_hops, types, as_of, fanout)
            assert result.count == len(expected)
            checked += 1
            with_chains += bool(expected)
    assert with_chains >= checked // 3  # most pairs are joined: the comparison is not vacuous


@pytest.fixture(scope="module")
def wenzhou() -> EmbeddedStore:
    store = EmbeddedStore(None)
    load_dataset(WENZHOU_DATASET, store)
    return store


def test_the_stated_panel_chain_beats_both_being_members_of_cast(wenzhou: EmbeddedStore) -> None:
    result = paths_between(wenzhou, "China SAE", "电气", k=5)
    top = result.paths[0]
    assert [n.id for n in top.nodes] == [
        "society:csae",
        "program:wenzhou-expert-panels",
        "industry:local:wenzhou-electrical",
        "industry:wenzhou-5-5:electrical",
    ]
    assert [s.type for s in top.steps] == [R.PARTICIPATES_IN, R.SERVES, R.PART_OF]
    assert [s.basis.value for s in top.steps[:2]] == ["stated", "stated"]
    through_cast = [i for i, p in enumerate(result.paths) if "organization:cast" in {n.id for n in p.nodes}]
    assert through_cast, "the chains through CAST are still found, further down"
    assert result.scores == sorted(result.scores, reverse=True)
    assert result.scores[0] > result.scores[through_cast[0]]


def test_a_step_through_a_hub_weighs_little(wenzhou: EmbeddedStore) -> None:
    """Two chains alike but for the node they pass: the one through CAST (hundreds of members)
    scores far below the one through the expert panels (a few participants)."""
    result = paths_between(wenzhou, "society:csae", "society:cmes", k=10, max_hops=2)
    by_middle = {p.nodes[1].id: s for p, s in zip(result.paths, result.scores, strict=True)}
    assert by_middle["program:wenzhou-expert-panels"] > 3 * by_middle["organization:cast"]
