"""The embedded store answers in the documented order however its relationships were written,
and a capped read returns the first items of the uncapped one."""

from __future__ import annotations

import random
from pathlib import Path

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import (
    Enterprise,
    Industry,
    NodeKind,
    Relationship,
    RelType,
    Talent,
    provenance,
)
from graph_service.core.store import PathStep

PROV = provenance("test", "", "synthetic")


def shuffled_store(seed: int) -> EmbeddedStore:
    """A hub industry with 300 enterprises, each advised by two talents, written in random order."""
    rng = random.Random(seed)
    store = EmbeddedStore(None)
    store.upsert_nodes([Industry(id="industry:hub", name="Hub", taxonomy="t", provenance=PROV)])
    enterprises = [Enterprise(id=f"enterprise:e{i:03d}", name=f"E{i}", provenance=PROV) for i in range(300)]
    talents = [Talent(id=f"talent:t{i:03d}", name=f"T{i}", provenance=PROV) for i in range(600)]
    store.upsert_nodes(enterprises + talents)
    rels = [
        Relationship(source=e.id, type=RelType.OPERATES_IN, target="industry:hub", provenance=PROV)
        for e in enterprises
    ]
    rels += [
        Relationship(source=talents[2 * i + j].id, type=RelType.ADVISES, target=e.id, provenance=PROV)
        for i, e in enumerate(enterprises)
        for j in range(2)
    ]
    rng.shuffle(rels)
    for start in range(0, len(rels), 37):
        store.upsert_relationships(rels[start : start + 37])
    return store


STEPS = (
    PathStep(types=(RelType.OPERATES_IN,), direction="in", kinds=(NodeKind.ENTERPRISE,)),
    PathStep(types=(RelType.ADVISES,), direction="in", kinds=(NodeKind.TALENT,)),
)


def test_neighbours_come_in_id_order_whatever_the_write_order() -> None:
    for seed in range(3):
        store = shuffled_store(seed)
        everything = store.neighbors("industry:hub", direction="in", limit=None)
        ids = [n.node.id for n in everything]
        assert ids == sorted(ids) and len(ids) == 300
        assert store.neighbors("industry:hub", direction="in", limit=25) == everything[:25]
        both = store.neighbors("enterprise:e007", direction="both", limit=None)
        assert [(n.relationship.type.value, n.node.id, n.direction) for n in both] == sorted(
            (n.relationship.type.value, n.node.id, n.direction) for n in both
        )


def test_capped_paths_are_the_first_of_all_paths() -> None:
    store = shuffled_store(4)
    every = store.match_paths("industry:hub", STEPS, limit=None)
    assert len(every) == 600
    keys = [[n.id for n in p.nodes] for p in every]
    assert keys == sorted(keys)
    assert store.match_paths("industry:hub", STEPS, limit=50) == every[:50]


def test_order_survives_a_snapshot_and_later_writes(tmp_path: Path) -> None:
    store = shuffled_store(5)
    store.save(tmp_path / "g.json")
    again = EmbeddedStore(tmp_path / "g.json")
    assert again.neighbors("industry:hub", direction="in", limit=None) == store.neighbors(
        "industry:hub", direction="in", limit=None
    )
    again.upsert_nodes([Enterprise(id="enterprise:a000", name="First", provenance=PROV)])
    again.upsert_relationships(
        [
            Relationship(
                source="enterprise:a000", type=RelType.OPERATES_IN, target="industry:hub", provenance=PROV
            )
        ]
    )
    first = again.neighbors("industry:hub", direction="in", limit=1)
    assert first[0].node.id == "enterprise:a000"
    twin = again.clone()
    assert twin.neighbors("industry:hub", direction="in", limit=3) == again.neighbors(
        "industry:hub", direction="in", limit=3
    )
