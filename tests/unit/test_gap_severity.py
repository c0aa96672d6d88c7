"""Severity a planner can rank by: properties of gap analysis over graphs built at random.

Two industries side by side, each with some enterprises, parks, production-base titles and
serving societies; whatever the numbers:

- more demand with the same supply ranks higher;
- more supply with the same demand ranks lower;
- an uncovered industry never ranks below a served one of equal demand.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import (
    Basis,
    Enterprise,
    Industry,
    Node,
    Park,
    Program,
    Provenance,
    Relationship,
    RelType,
    Society,
)
from queries.gaps import Scope, gap_analysis

P = Provenance(source="test", evidence="built by the test", basis=Basis.STATED)
Demand = st.tuples(st.integers(0, 6), st.integers(0, 3), st.integers(0, 2))
"""Enterprises, parks and production-base titles of one industry."""
Supply = st.tuples(st.integers(0, 4), st.integers(0, 3))
"""Societies serving an industry directly, and through a program."""


def build(demand: dict[str, tuple[int, int, int]], supply: dict[str, tuple[int, int]]) -> EmbeddedStore:
    store = EmbeddedStore(None)
    nodes: list[Node] = []
    rels: list[Relationship] = []
    for key in ("a", "b"):
        industry = f"industry:t:{key}"
        nodes.append(
            Industry(id=industry, name=f"Industry {key}", taxonomy="t", level="cluster", provenance=P)
        )
        enterprises, parks, bases = demand[key]
        for i in range(enterprises):
            nodes.append(Enterprise(id=f"enterprise:{key}{i}", name=f"E {key}{i}", provenance=P))
            rels.append(
                Relationship(
                    source=f"enterprise:{key}{i}", type=RelType.OPERATES_IN, target=industry, provenance=P
                )
            )
        for i in range(parks):
            nodes.append(Park(id=f"park:{key}{i}", name=f"P {key}{i}", provenance=P))
            rels.append(
                Relationship(source=f"park:{key}{i}", type=RelType.FOCUSES_ON, target=industry, provenance=P)
            )
        for i in range(bases):
            base = f"program:{key}-base{i}"
            nodes.append(
                Program(id=base, name=f"Base {key}{i}", program_kind="production_base", provenance=P)
            )
            rels.append(Relationship(source=base, type=RelType.FOCUSES_ON, target=industry, provenance=P))
        direct, through_program = supply[key]
        for i in range(direct):
            nodes.append(Society(id=f"society:{key}d{i}", name=f"S {key}d{i}", provenance=P))
            rels.append(
                Relationship(source=f"society:{key}d{i}", type=RelType.SERVES, target=industry, provenance=P)
            )
        if through_program:
            panel = f"program:{key}-panel"
            nodes.append(Program(id=panel, name=f"Panel {key}", program_kind="expert_panel", provenance=P))
            rels.append(Relationship(source=panel, type=RelType.SERVES, target=industry, provenance=P))
            for i in range(through_program):
                society = f"society:{key}p{i}"
                nodes.append(Society(id=society, name=f"S {key}p{i}", provenance=P))
                rels.append(
                    Relationship(source=society, type=RelType.PARTICIPATES_IN, target=panel, provenance=P)
                )
    store.upsert_nodes(nodes)
    store.upsert_relationships(rels)
    return store


def severities(
    demand: dict[str, tuple[int, int, int]], supply: dict[str, tuple[int, int]]
) -> dict[str, float]:
    analysis = gap_analysis(build(demand, supply), Scope(taxonomy="t"))
    order = [r.industry.id[-1] for r in analysis.rows]
    found = {r.industry.id[-1]: r.severity for r in analysis.rows}
    # the rows come most severe first: the order a planner reads agrees with the numbers
    assert [found[k] for k in order] == sorted(found.values(), reverse=True)
    return found


def more(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """``a`` has at least as much of everything as ``b``, and more of something."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and a != b


@settings(max_examples=60, deadline=None)
@given(Demand, Demand, Supply)
def test_more_demand_with_the_same_supply_ranks_higher(
    first: tuple[int, int, int], second: tuple[int, int, int], supply: tuple[int, int]
) -> None:
    found = severities({"a": first, "b": second}, {"a": supply, "b": supply})
    if more(first, second):
        assert found["a"] > found["b"]
    elif first == second:
        assert found["a"] == found["b"]


@settings(max_examples=60, deadline=None)
@given(Demand, Supply, Supply)
def test_more_supply_with_the_same_demand_ranks_lower(
    demand: tuple[int, int, int], first: tuple[int, int], second: tuple[int, int]
) -> None:
    found = severities({"a": demand, "b": demand}, {"a": first, "b": second})
    if more(first, second):
        assert found["a"] < found["b"]


@settings(max_examples=60, deadline=None)
@given(Demand, Supply)
def test_an_uncovered_industry_never_ranks_below_a_served_one_of_equal_demand(
    demand: tuple[int, int, int], supply: tuple[int, int]
) -> None:
    analysis = gap_analysis(
        build({"a": demand, "b": demand}, {"a": (0, 0), "b": supply}), Scope(taxonomy="t")
    )
    rows = {r.industry.id[-1]: r for r in analysis.rows}
    assert rows["a"].status == "uncovered"
    if supply != (0, 0):
        assert rows["b"].status != "uncovered"
        assert rows["a"].severity > rows["b"].severity
        assert [r.industry.id[-1] for r in analysis.rows] == ["a", "b"]
