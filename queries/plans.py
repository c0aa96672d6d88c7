"""Plans and time: a plan's numeric targets against what the graph holds, and what changed between dates.

A plan is a Program of kind ``plan`` whose ``targets`` map a program kind to a number
(``{"doctoral_station": 100}``). Progress counts the programs of that kind that
belong to the plan (PART_OF it, directly or through other programs) or that started
within its period (``since`` to ``until``).
"""

from __future__ import annotations

from pydantic import Field

from graph_service.core.errors import InvalidRequest
from graph_service.core.ontology import NodeKind, Program, starts_within
from graph_service.core.store import GraphStore
from queries.common import alive, parts_below, resolve_entity
from queries.models import EvidenceStep, NodeRef, ResultModel

__all__ = ["Changes", "PlanProgress", "changes", "plan_progress"]


class TargetProgress(ResultModel):
    """One target of a plan and how far the graph shows it met."""

    program_kind: str
    target: int
    achieved: int
    ratio: float = Field(description="achieved / target, 0 when the target is 0.")
    programs: list[NodeRef]


class PlanProgress(ResultModel):
    """A plan's targets against what exists."""

    plan: NodeRef
    since: str | None
    until: str | None
    as_of: str | None
    targets: list[TargetProgress]


class ChangedNode(ResultModel):
    """An entity that appeared in the window."""

    node: NodeRef
    since: str


class ChangedRelationship(ResultModel):
    """A relationship that appeared in the window."""

    relationship: EvidenceStep


class Changes(ResultModel):
    """What appeared from ``start`` up to ``end``, both included: the first ``limit`` of each by
    date, and how many there are in all."""

    start: str
    end: str
    nodes: list[ChangedNode]
    relationships: list[ChangedRelationship]
    total_nodes: int = Field(
        description="Entities that appeared in the window; `nodes` holds the first `limit`."
    )
    total_relationships: int = Field(
        description="Relationships that appeared in the window; `relationships` holds the first `limit`."
    )


def plan_progress(store: GraphStore, plan: str, *, as_of: str | None = None) -> PlanProgress:
    """Each numeric target of a plan beside the programs that meet it.

    Raises:
        NotFound: no such program.
        InvalidRequest: the program is not a plan with targets.
    """
    node = resolve_entity(store, plan, NodeKind.PROGRAM)
    if not isinstance(node, Program) or not node.targets:
        raise InvalidRequest(
            f"{node.id} has no numeric targets; choose a program of kind 'plan' with targets"
        )
    members = _members(store, node.id, as_of)
    rows = []
    for kind, target in sorted(node.targets.items()):
        met = {}
        for program in store.find_nodes(NodeKind.PROGRAM, {"program_kind": kind}, limit=None):
            if not alive(program, as_of):
                continue
            in_period = starts_within(program.since, node.since, node.until)
            if program.id in members or in_period:
                met[program.id] = program
        rows.append(
            TargetProgress(
                program_kind=kind,
                target=target,
                achieved=len(met),
                ratio=round(len(met) / target, 4) if target else 0.0,
                programs=[NodeRef.of(met[i]) for i in sorted(met)],
            )
        )
    return PlanProgress(plan=NodeRef.of(node), since=node.since, until=node.until, as_of=as_of, targets=rows)


def changes(store: GraphStore, start: str, end: str, *, limit: int = 1000) -> Changes:
    """Entities and relationships whose start date falls from ``start`` up to ``end``, both included.

    Dates compare at their common precision: with ``start='2021'`` a fact of ``2021-05`` counts.

    Raises:
        InvalidRequest: ``end`` before ``start``.
    """
    if end < start:
        raise InvalidRequest("the end date is before the start date")
    # only the first ``limit`` of each, in date order, become result models: a year at
    # national scale holds tens of thousands of facts
    started = store.started_between(start, end, limit=limit)
    return Changes(
        start=start,
        end=end,
        nodes=[ChangedNode(node=NodeRef.of(n), since=n.since) for n in started.nodes if n.since],
        relationships=[ChangedRelationship(relationship=EvidenceStep.of(r)) for r in started.relationships],
        total_nodes=started.total_nodes,
        total_relationships=started.total_relationships,
    )


def _members(store: GraphStore, plan_id: str, as_of: str | None) -> set[str]:
    """The programs below a plan (PART_OF, at any depth) that exist at ``as_of``: one
    ``neighbor_hops`` and one ``get_nodes`` per level, however many programs it holds."""
    found: set[str] = set()
    frontier = [plan_id]
    while frontier:
        below = parts_below(store, frontier, NodeKind.PROGRAM, found)
        nodes = store.get_nodes(below)
        frontier = [i for i in below if alive(nodes[i], as_of)]
        found.update(frontier)
    return found
